"""A mutant: one small change to one config file of a stack, kept as exact text edits.

Why text edits and not "load the YAML, change the data, dump it": a dump rewrites the whole
file (comments, quoting, key order), so the diff a reviewer reads would not be the one change,
and a template or a PromQL expression is not YAML data at all. Each operator therefore finds
its site through PyYAML's node marks and replaces exactly that span; the mutant's diff is
``difflib``'s unified diff of the two texts, and what runs is byte for byte that text.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field

#: What part of the stack a mutant changes: decides how equivalence is judged and which
#: scenarios can see it (see equivalence.py and selection.py).
SCOPES = ("routing", "inhibition", "receiver", "template", "rule", "time-interval")


@dataclass(frozen=True)
class Edit:
    """Replace ``text[start:end]`` with ``new``."""

    start: int
    end: int
    new: str


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """The text with every edit applied (edits must not overlap)."""
    ordered = sorted(edits, key=lambda e: e.start, reverse=True)
    for earlier, later in zip(ordered[1:], ordered, strict=False):
        if earlier.end > later.start:
            raise ValueError(f"overlapping edits at {earlier.start}…{earlier.end} and {later.start}")
    for edit in ordered:
        text = text[:edit.start] + edit.new + text[edit.end:]
    return text


def unified_diff(before: str, after: str, path: str) -> str:
    """``git diff``-style text of one file's change, 2 lines of context."""
    lines = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                 fromfile=f"a/{path}", tofile=f"b/{path}", n=2)
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                   for line in lines)


@dataclass(frozen=True)
class Site:
    """Where a mutant applies, and what it is about — what an operator yields."""

    operator: str
    #: The file, relative to the stack directory (posix).
    file: str
    line: int
    description: str
    edits: tuple[Edit, ...]
    scope: str
    #: Alert names the change is directly about (a rule's own name; empty for routes).
    alerts: frozenset[str] = frozenset()
    #: Receivers the change is directly about (a route's old and new receiver, …).
    receivers: frozenset[str] = frozenset()
    #: A claim that would catch the change, should it survive.
    suggestion: str = ""


@dataclass
class Mutant:
    """A site applied to its file: the new text and the exact diff."""

    id: str
    site: Site
    before: str
    after: str
    diff: str = ""
    #: Set by the equivalence check: why it is (or cannot be proven) equivalent.
    equivalent: bool = False
    equivalence_note: str = ""
    #: Alert names whose behaviour the static view says changes (None: unknown, assume any).
    affected_alerts: frozenset[str] | None = None
    affected_receivers: frozenset[str] = field(default_factory=frozenset)

    @property
    def operator(self) -> str:
        """The operator's name."""
        return self.site.operator

    @property
    def file(self) -> str:
        """The mutated file, relative to the stack directory."""
        return self.site.file

    @property
    def description(self) -> str:
        """One line saying what changed."""
        return self.site.description

    @classmethod
    def of(cls, ident: str, site: Site, before: str) -> Mutant:
        """Apply ``site`` to ``before`` (the file's text)."""
        after = apply_edits(before, site.edits)
        return cls(ident, site, before, after, unified_diff(before, after, site.file))
