"""Which series a stack's rules read: every vector selector of every rule, by the real parser.

``record`` queries each selector as written (its matchers, without ``offset``/``@``), so the
recording holds exactly the series the rules can see, and starts early enough that the first
evaluation of the range already has full windows (:func:`history_needed`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from alertdrill.analysis.promql import _parser
from alertdrill.errors import ConfigError
from alertdrill.yamlio import load_yaml

#: Prometheus's default lookback delta: an instant selector sees a sample up to 5 m old.
LOOKBACK = 300.0

_OPS = {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}


def rules_of(rule_files: Iterable[Path]) -> list[dict[str, Any]]:
    """Every rule of the files, each with its group's ``name`` and ``interval`` (may be None)."""
    found = []
    for path in rule_files:
        doc = load_yaml(path, path.name)
        for group in doc.get("groups") or []:
            for rule in (group or {}).get("rules") or []:
                if isinstance(rule, dict) and "expr" in rule:
                    found.append({**rule, "_group": group.get("name", "?"),
                                  "_interval": group.get("interval")})
    return found


def _matcher_text(matcher: Any) -> str:
    op = str(matcher.op).rsplit(".", 1)[-1]
    value = str(matcher.value).replace("\\", "\\\\").replace('"', '\\"')
    return f'{matcher.name}{_OPS[op]}"{value}"'


def selectors_of(expr: str) -> list[str]:
    """The vector selectors of one expression as query strings, offsets and ``@`` dropped."""
    pp = _parser()
    found: list[str] = []

    def visit(node: object) -> bool:
        if type(node).__name__ == "VectorSelector":
            matchers = [_matcher_text(m) for m in node.matchers.matchers]  # type: ignore[attr-defined]
            name = node.name or ""  # type: ignore[attr-defined]
            if not name and not matchers:
                return True
            found.append(f"{name}{{{','.join(matchers)}}}")
        return True

    try:
        pp.walk(pp.parse(expr), visit, None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"cannot parse the rule expression {expr!r}: {exc}",
                          "promtool check rules says where") from None
    return found


def rule_selectors(rule_files: Iterable[Path]) -> list[str]:
    """Every distinct selector of every rule (alerting and recording), in first-seen order."""
    seen: dict[str, None] = {}
    for rule in rules_of(rule_files):
        for selector in selectors_of(str(rule["expr"])):
            seen.setdefault(selector, None)
    return list(seen)


def history_needed(rule_files: Iterable[Path]) -> float:
    """Seconds of data before the first evaluation that its windows read: the longest range +
    offset of any rule, plus the lookback delta."""
    from alertdrill.analysis.promql import durations_of

    longest = 0.0
    for rule in rules_of(rule_files):
        try:
            found = durations_of(str(rule["expr"]))
        except (ValueError, TypeError):
            continue
        ranges = [s for kind, s in found if kind == "range"]
        offsets = [s for kind, s in found if kind == "offset"]
        longest = max(longest, max(ranges, default=0.0) + max(offsets, default=0.0))
    return longest + LOOKBACK
