"""Small wording helpers shared by every message the CLI and the reports print."""

from __future__ import annotations

#: Nouns whose plural is not the noun plus "s".
_IRREGULAR = {"process": "processes", "match": "matches", "address": "addresses"}


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``1 scenario``, ``2 scenarios``, ``0 errors``: a count and its noun, agreeing.

    ``many`` is the plural when it is not ``noun + "s"`` (and not a known irregular one).
    """
    if count == 1:
        return f"{count} {noun}"
    return f"{count} {many or _IRREGULAR.get(noun) or noun + 's'}"
