"""Field-level three-way merge of a product's tracked fields: the rules, with no I/O.

A change is made against the *base*: the state the editor saw (the version their form, their
history page or their row was opened at). Meanwhile others may have moved the product to
*current*. Comparing each field of both with the base:

* *mine* - the fields whose value the editor's change makes different from the base;
* *theirs* - the fields others changed since the base (their values as they are now);
* a field in both is a **conflict** only if the two values differ; the same value on both
  sides is simply agreed;
* everything else merges: the result is *current* with *mine* applied, so a colleague's
  field is never reverted, and what the editor did not touch never appears as their change.

Restores and bulk changes are changes like any other: a restore's *mine* is the restored
values that differ from the base, a bulk change is one field of one revision and is *theirs*
to anyone saving a row opened before it.

States are the flat mappings of :func:`app.data.revisions.snapshot` (``name``, ``price`` as
text, ``attributes.<key>`` ...). When the base cannot be rebuilt (history missing),
:func:`without_base` treats every field the editor sends that differs from current as a
conflict, which is the safe answer.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

State = Mapping[str, Any]


@dataclass(frozen=True)
class FieldConflict:
    """One field both sides changed, to different values (``base`` is None when unknown)."""

    field: str
    base: Any
    mine: Any
    theirs: Any


@dataclass(frozen=True)
class Merge:
    """The outcome of comparing one change with what happened meanwhile."""

    current: dict[str, Any]
    mine: dict[str, Any]
    theirs: dict[str, Any]
    conflicts: dict[str, FieldConflict] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        """True when nothing conflicts, so the change merges by itself."""
        return not self.conflicts

    @property
    def theirs_kept(self) -> list[str]:
        """Fields others changed that this change leaves as they are (what "merged" means)."""
        return [name for name in self.theirs if name not in self.mine]

    def result(self, keep_mine: Collection[str] = ()) -> dict[str, Any]:
        """``current`` with my changes applied; a conflicting field takes my value only if it
        is in ``keep_mine``, otherwise it stays as they left it."""
        merged = dict(self.current)
        for name, value in self.mine.items():
            if name not in self.conflicts or name in keep_mine:
                merged[name] = value
        return merged


def changed(base: State, state: State) -> dict[str, Any]:
    """The fields of ``state`` whose value differs from ``base`` (a field missing from one side
    counts as None there)."""
    return {name: state.get(name) for name in dict.fromkeys([*base, *state])
            if state.get(name) != base.get(name)}


def three_way(base: State, mine: State, current: State) -> Merge:
    """Merge ``mine`` (the base with the editor's change applied) with ``current``."""
    my_changes = changed(base, mine)
    their_changes = changed(base, current)
    conflicts = {
        name: FieldConflict(name, base.get(name), value, their_changes[name])
        for name, value in my_changes.items()
        if name in their_changes and their_changes[name] != value
    }
    return Merge(current=dict(current), mine=my_changes, theirs=their_changes,
                 conflicts=conflicts)


def without_base(sent: State, current: State) -> Merge:
    """No base to compare with: every sent field that differs from current is a conflict."""
    mine = {name: value for name, value in sent.items() if current.get(name) != value}
    conflicts = {name: FieldConflict(name, None, value, current.get(name))
                 for name, value in mine.items()}
    return Merge(current=dict(current), mine=mine,
                 theirs={name: current.get(name) for name in mine}, conflicts=conflicts)


__all__ = ["FieldConflict", "Merge", "changed", "three_way", "without_base"]
