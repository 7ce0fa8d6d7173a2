"""``init --update``: what a config change does to the expectations, shown before it is written.

Silently regenerating the baseline after a change would make the drill agree with whatever the
config now does — the very change it exists to catch. So the project file keeps a summary of the
expectations it was generated with (per pushed alert its receivers, the scenario names, a hash
of every copied file), and an update compares the new computation with it: per alert, receivers
gained and lost; alerts and scenarios added and removed; copied files changed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alertdrill.scaffold.expectations import Expectations


def alert_key(labels: dict[str, str]) -> str:
    """``Name{a="b", c="d"}``: one pushed alert, stable across runs while its labels are."""
    rest = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "alertname")
    return f"{labels.get('alertname', '?')}{{{rest}}}"


def summary(expectations: Expectations, scenarios: dict[str, list[str]],
            stack_dir: Path) -> dict[str, Any]:
    """What the project file records of one generation."""
    return {
        "routing": {alert_key(r.labels): list(r.receivers) for r in expectations.routed},
        "scenarios": {name: list(names) for name, names in sorted(scenarios.items())},
        "files": file_hashes(stack_dir),
    }


def file_hashes(stack_dir: Path) -> dict[str, str]:
    """sha256 of every file of the stack directory, by relative path."""
    return {p.relative_to(stack_dir).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()[:16]
            for p in sorted(stack_dir.rglob("*")) if p.is_file()}


@dataclass
class Diff:
    """What changed between two summaries."""

    receivers: list[tuple[str, list[str], list[str]]] = field(default_factory=list)
    alerts_added: list[tuple[str, list[str]]] = field(default_factory=list)
    alerts_removed: list[tuple[str, list[str]]] = field(default_factory=list)
    scenarios_added: list[str] = field(default_factory=list)
    scenarios_removed: list[str] = field(default_factory=list)
    files_changed: list[str] = field(default_factory=list)

    @property
    def expectations_changed(self) -> bool:
        """Whether a claim of the generated features changes (what CI gates on)."""
        return bool(self.receivers or self.alerts_added or self.alerts_removed
                    or self.scenarios_added or self.scenarios_removed)

    def render(self) -> str:
        """The report ``init --update`` prints."""
        lines = []
        if self.files_changed:
            lines.append(f"configs changed: {', '.join(self.files_changed)}")
        for key, gained, lost in self.receivers:
            parts = ([f"gains {', '.join(gained)}"] if gained else []) + \
                ([f"loses {', '.join(lost)}"] if lost else [])
            lines.append(f"  ~ {key}: {'; '.join(parts)}")
        for key, receivers in self.alerts_added:
            lines.append(f"  + {key}: new alert, routed to {', '.join(receivers) or 'nobody'}")
        for key, receivers in self.alerts_removed:
            lines.append(f"  - {key}: no longer pushed (was routed to {', '.join(receivers)})")
        for name in self.scenarios_added:
            lines.append(f"  + scenario {name}")
        for name in self.scenarios_removed:
            lines.append(f"  - scenario {name}")
        if not lines:
            return "nothing changed: the configs and the expectations are as generated"
        if not self.expectations_changed:
            lines.append("the expectations are unchanged")
        return "\n".join(lines)


def compare(old: dict[str, Any], new: dict[str, Any]) -> Diff:
    """The diff of two summaries (``old`` from the project file)."""
    diff = Diff()
    before: dict[str, list[str]] = old.get("routing") or {}
    after: dict[str, list[str]] = new.get("routing") or {}
    for key, receivers in after.items():
        if key not in before:
            diff.alerts_added.append((key, receivers))
            continue
        gained = sorted(set(receivers) - set(before[key]))
        lost = sorted(set(before[key]) - set(receivers))
        if gained or lost:
            diff.receivers.append((key, gained, lost))
    diff.alerts_removed = [(k, v) for k, v in before.items() if k not in after]
    old_names = [f"{f}: {n}" for f, names in (old.get("scenarios") or {}).items() for n in names]
    new_names = [f"{f}: {n}" for f, names in (new.get("scenarios") or {}).items() for n in names]
    diff.scenarios_added = [n for n in new_names if n not in old_names]
    diff.scenarios_removed = [n for n in old_names if n not in new_names]
    old_files: dict[str, str] = old.get("files") or {}
    new_files: dict[str, str] = new.get("files") or {}
    changed = ({k for k in new_files if old_files.get(k) != new_files[k]}
               | {k for k in old_files if k not in new_files})
    diff.files_changed = sorted(changed - {"alertdrill.yml"})  # its header has the date
    return diff
