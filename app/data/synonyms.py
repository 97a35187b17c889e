"""Search synonyms: groups of words a shopper may use for one another ("sofa, couch, settee").

A group is stored as the editor wrote it, comma-separated; :func:`synonym_group` reads it as
its distinct entries, each lower-cased to its letters and digits ("T-shirt" is "t shirt", a
phrase). A search for any entry of a group also matches every other entry (see
:func:`app.catalog.filters.text_query`). Changes renew ``category_tree_version`` (migration
0007), so every worker reads the groups again with its category tree.

The rules: a group has 2-:data:`MAX_ENTRIES` distinct entries, each at most :data:`MAX_ENTRY`
characters, and the whole text at most :data:`MAX_TEXT` (the column's check). These functions
flush but never commit: the caller owns the transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy import text as sa_text
from sqlalchemy.ext.asyncio import AsyncSession

from .models import SearchSynonym

__all__ = ["MAX_ENTRIES", "MAX_ENTRY", "MAX_TEXT", "SynonymInvalid", "add_synonyms",
           "delete_synonyms", "list_synonyms", "synonym_group", "synonym_map"]

MAX_TEXT = 300
MAX_ENTRIES = 10
MAX_ENTRY = 40
_RUN = re.compile(r"[^\W_]+")


class SynonymInvalid(ValueError):
    """A group that cannot be stored; ``str(error)`` says why, for people."""


def synonym_group(words: str) -> tuple[str, ...]:
    """The distinct entries of a group as written ("Sofa, couch , T-shirt" -> ``("sofa",
    "couch", "t shirt")``)."""
    entries = (" ".join(_RUN.findall(part.lower())) for part in words.split(","))
    return tuple(dict.fromkeys(e for e in entries if e))


def synonym_map(groups: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Each entry of every group -> all entries of its groups (itself included)."""
    found: dict[str, dict[str, None]] = {}
    for group in groups:
        entries = synonym_group(group)
        if len(entries) < 2:
            continue
        for entry in entries:
            found.setdefault(entry, {}).update(dict.fromkeys(entries))
    return {entry: tuple(others) for entry, others in found.items()}


async def list_synonyms(session: AsyncSession) -> list[SearchSynonym]:
    return list((await session.scalars(select(SearchSynonym).order_by(SearchSynonym.id))).all())


def _clean(words: str | None) -> str:
    text = " ".join((words or "").split())
    if len(text) > MAX_TEXT:
        raise SynonymInvalid(f"A group can be at most {MAX_TEXT} characters.")
    entries = synonym_group(text)
    if len(entries) < 2:
        raise SynonymInvalid("Enter at least two different words, separated by commas.")
    if len(entries) > MAX_ENTRIES:
        raise SynonymInvalid(f"A group can hold at most {MAX_ENTRIES} words.")
    if any(len(entry) > MAX_ENTRY for entry in entries):
        raise SynonymInvalid(f"Each word can be at most {MAX_ENTRY} characters.")
    return ", ".join(entries)


async def add_synonyms(session: AsyncSession, words: str | None) -> SearchSynonym:
    """Store a new group (as its cleaned entries: "sofa, couch"); refuses a group that holds
    nothing new (every entry already means the others)."""
    text = _clean(words)
    entries = synonym_group(text)
    known = synonym_map(s.words for s in await list_synonyms(session))
    if all(set(entries) <= set(known.get(entry, ())) for entry in entries):
        raise SynonymInvalid("Those words are already synonyms.")
    synonym = SearchSynonym(words=text)
    session.add(synonym)
    await session.flush()
    await _announce(session)
    return synonym


async def delete_synonyms(session: AsyncSession, synonym: SearchSynonym) -> None:
    await session.delete(synonym)
    await session.flush()
    await _announce(session)


#: A ``synonyms`` event in the change feed (migration 0010's outbox, delivered at commit): each
#: worker's kept category tree, which carries the synonyms, is read again when it arrives
#: (``catalog/tree.py``). An internal kind: no browser stream forwards it.
_ANNOUNCE = sa_text("SELECT live_announce('synonyms', '{}'::bigint[], '{}'::jsonb)")


async def _announce(session: AsyncSession) -> None:
    await session.execute(_ANNOUNCE)
