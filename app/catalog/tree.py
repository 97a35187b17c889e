"""The category tree: every category by id and slug, with its children, kept per worker.

The bottom of the catalog query layer (it imports only the models): filters resolve category
slugs through it, the facet counts walk it, pages draw breadcrumbs from it.

``tree = await load_category_tree(session)``
    The categories (one small query); pass it to the query layer's calls to resolve slugs once.

The tree also carries the search synonyms (``search_synonyms``, migration 0007), which change as
rarely and renew the same version: a search expands its words without a query of its own.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

from sqlalchemy import Select, column, select, table
from sqlalchemy.ext.asyncio import AsyncSession

from ..data.catalog_version import known_tree_version
from ..data.models import Category, SearchSynonym
from ..data.synonyms import synonym_map

__all__ = ["CategoryNode", "CategoryTree", "follow_changes", "load_category_tree", "name_words"]

_WORD = re.compile(r"[^\W_]+")


def _singular(word: str) -> str:
    word = word.lower()
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


@lru_cache(maxsize=4096)
def name_words(text: str) -> frozenset[str]:
    """The words that identify a name or a query (lower case, singular, three letters or
    more): "Floor Lamps" is {"floor", "lamp"}, "Kestrel & Co" is {"kestrel"}.

    Kept per text: every search asks it of its query, of every category name and of the
    brands listed (a few hundred calls a search, for a few hundred distinct texts)."""
    return frozenset(_singular(w) for w in _WORD.findall(text) if len(w) >= 3)

@dataclass
class CategoryNode:
    id: int
    name: str
    slug: str
    parent_id: int | None
    children: list[CategoryNode] = field(default_factory=list)


@dataclass
class CategoryTree:
    """All categories, by id and slug, with children lists (ordered by name).

    Read-only once built: a worker shares one tree between its requests (see
    :func:`load_category_tree`)."""

    nodes: dict[int, CategoryNode]
    #: a word or phrase (lower case, words separated by one space) -> every word or phrase of
    #: its synonym groups (see :func:`synonym_map`)
    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._descendants: dict[int, frozenset[int]] = {}
        self.by_slug = {node.slug: node for node in self.nodes.values()}
        for node in sorted(self.nodes.values(), key=lambda n: (n.name.lower(), n.id)):
            parent = self.nodes.get(node.parent_id) if node.parent_id is not None else None
            if parent is not None:
                parent.children.append(node)
        self.roots = sorted((n for n in self.nodes.values()
                             if n.parent_id is None or n.parent_id not in self.nodes),
                            key=lambda n: (n.name.lower(), n.id))

    def descendant_ids(self, node: CategoryNode) -> frozenset[int]:
        """``node`` and everything below it (cycle-safe; worked out once per node)."""
        known = self._descendants.get(node.id)
        if known is not None:
            return known
        seen: set[int] = set()
        stack = [node]
        while stack:
            current = stack.pop()
            if current.id in seen:
                continue
            seen.add(current.id)
            stack.extend(current.children)
        self._descendants[node.id] = frozen = frozenset(seen)
        return frozen

    def expand(self, slugs: Iterable[str]) -> set[int]:
        """Ids matched by selecting these slugs (unknown slugs match nothing)."""
        ids: set[int] = set()
        for slug in slugs:
            node = self.by_slug.get(slug)
            if node is not None:
                ids |= self.descendant_ids(node)
        return ids

    def named_by(self, q: str) -> list[CategoryNode]:
        """Categories whose every name word is among the words of ``q`` ("floor lamps" names
        Floor Lamps; "lamp" names nothing)."""
        asked = name_words(q)
        if not asked:
            return []
        return [node for node, words in self._named if words and words <= asked]

    @cached_property
    def _named(self) -> list[tuple[CategoryNode, frozenset[str]]]:
        """Every node with its name's words, worked out once per tree (every search asks)."""
        return [(node, name_words(node.name)) for node in self.nodes.values()]

    def ancestors(self, node: CategoryNode) -> list[CategoryNode]:
        """Root first, ``node`` excluded (for breadcrumbs)."""
        chain: list[CategoryNode] = []
        seen = {node.id}
        current = self.nodes.get(node.parent_id) if node.parent_id is not None else None
        while current is not None and current.id not in seen:
            chain.append(current)
            seen.add(current.id)
            current = self.nodes.get(current.parent_id) if current.parent_id is not None else None
        return list(reversed(chain))


async def load_category_tree(session: AsyncSession, *, read_only: bool = False) -> CategoryTree:
    """The category tree as this session's transaction sees it.

    A worker keeps the tree it last read, per engine (one database, one event loop), with the
    ``category_tree_version`` it was read at (migration 0004: a trigger gives the version a new
    random value at every change of ``categories`` or ``search_synonyms``). By default each call
    asks for the version only - one row - and reads and builds the tree again only when it
    differs. A transaction that changed categories sees its own new version, so it never gets a
    tree without its own changes.

    ``read_only=True`` (the caller's transaction has changed no category: shopper reads) lets the
    kept tree be answered **without any statement**, in one of two ways:

    * the request already read the tree version together with the catalog version (the response
      cache's one autocommit statement, :func:`~app.data.catalog_version.known_tree_version`):
      the kept tree is checked against it - exactly as fresh as the version read, so a response
      kept under a catalog version is always built from that version's tree;
    * otherwise, while the worker's change feed is caught up (:func:`follow_changes`), the kept
      tree stays valid until the feed delivers a ``category`` or ``synonyms`` event or
      reconnects. A change then reaches this worker's tree when its listener reads the event -
      milliseconds after the commit - rather than at the commit itself.

    Without either (the CLI, the test client, a replica's engine, the feed down) it polls the
    version as above.
    """
    engine = session.get_bind()
    kept = _KEPT_TREES.get(engine)
    feed = _FEEDS.get(engine)
    # Only a read-only transaction may vouch for the feed: a tree read in a transaction with
    # changes of its own (kept under its uncommitted version) must not be trusted by the next
    # shopper on the feed's word - it may yet be rolled back.
    stamp = feed() if feed is not None and read_only else None
    if read_only and kept is not None:
        known = known_tree_version()
        if known is not None:
            if kept.version == known:
                return kept.tree
        elif stamp is not None and kept.stamp == stamp:
            return kept.tree
    found = await session.scalar(_TREE_VERSION)
    version = None if found is None else str(found)
    if kept is not None and version is not None and kept.version == version:
        # (The stamp was taken before the version was read: a change announced since makes the
        # next call check again.)
        kept.stamp = stamp
        return kept.tree
    rows = (await session.execute(_CATEGORY_ROWS)).all()
    groups = (await session.scalars(_SYNONYM_ROWS)).all()
    tree = CategoryTree({r.id: CategoryNode(r.id, r.name, r.slug, r.parent_id) for r in rows},
                        synonym_map(groups))
    if version is not None:
        # (If the categories changed between the two reads, the tree is newer than the version
        # it is kept under: the next call sees another version and reads it again.)
        _KEPT_TREES[engine] = _Kept(version, stamp, tree)
    return tree


def follow_changes(engine: Any, stamp: Callable[[], Hashable | None]) -> None:
    """Let ``engine``'s kept tree be trusted while ``stamp()`` is unchanged and not None (see
    :func:`load_category_tree`). ``stamp`` is the worker's change feed: it must change whenever
    a category or synonym change has been delivered or the feed reconnected, and be None while
    the feed is not caught up. ``engine`` is the primary's (sync) engine: the feed announces the
    primary's commits, which a replica may not have replayed yet, so a replica's tree is always
    checked by its version."""
    _FEEDS[engine] = stamp


@dataclass
class _Kept:
    version: str
    #: the feed's stamp when the version was last confirmed (None: no feed then)
    stamp: Hashable | None
    tree: CategoryTree


_TREE_VERSION: Select[Any] = select(column("version")).select_from(table("category_tree_version"))
_CATEGORY_ROWS = select(Category.id, Category.name, Category.slug, Category.parent_id)
_SYNONYM_ROWS = select(SearchSynonym.words).order_by(SearchSynonym.id)
#: engine -> the tree last read, with its category_tree_version
_KEPT_TREES: weakref.WeakKeyDictionary[Any, _Kept] = weakref.WeakKeyDictionary()
#: engine -> its change feed's stamp (:func:`follow_changes`)
_FEEDS: weakref.WeakKeyDictionary[Any, Callable[[], Hashable | None]] = (
    weakref.WeakKeyDictionary())
