"""The delivery table: through which integrations of which receivers a set of alerts is
notified, as firing or as resolved — every receiver and integration at once.

Why a table and not one claim per receiver: ``send_resolved`` is set per integration, and a
receiver with e-mail, Slack and two webhooks can lose its resolved message on any one of them;
"dev-critical is notified that X resolved" holds as soon as the first integration delivers. The
table names, for every receiver, exactly the integrations that must deliver, and every other
integration of every receiver must stay silent — so a flipped ``send_resolved``, a receiver
swapped or a lengthened ``group_interval`` shows as the one row that differs.

An integration is written by its word (``slack``, ``email``, ``pagerduty``, ``webhook``…) and,
where a receiver has several of a kind, its position (``webhook[1]``; the bare word is
position 0). The harness's own probe webhook and the ticket service's Jira calls are not
integrations of the receiver and are not counted.

Status: the probe and webhooks carry it; e-mail and Slack with a custom text may not, so a
delivery whose status cannot be read counts for either table — the resolved table belongs right
after every alert was resolved, where nothing else can be sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from alertdrill.engine import timeline as tl
from alertdrill.engine.matches import Window
from alertdrill.engine.stepsyntax import cell_names
from alertdrill.engine.timeline import Event
from alertdrill.errors import StepError
from alertdrill.sink.integrations import IntegrationRef, label

_TOKEN = re.compile(r"^([a-z]+)(?:\[(\d+)\])?$")
#: Deliveries at the sink that are not one of a receiver's own integrations.
_NOT_INTEGRATIONS = ("probe", "jira")
NONE_WORDS = ("", "none", "-", "nothing")


def parse_integrations(cell: str) -> frozenset[IntegrationRef]:
    """``"slack, webhook[1]"`` → {("slack", 0), ("webhook", 1)}; "none" (or an empty cell) → {}."""
    text = cell.strip()
    if text.lower() in NONE_WORDS:
        return frozenset()
    found = set()
    for part in cell_names(text):
        matched = _TOKEN.match(part)
        if not matched:
            raise StepError(f"cannot read the integration {part!r}",
                            "write integrations as slack, email, pagerduty, webhook[1] … "
                            "(comma-separated; none for no delivery)")
        found.add((matched.group(1), int(matched.group(2) or 0)))
    return frozenset(found)


@dataclass(frozen=True)
class DeliveryTable:
    """What a table step claims: status, and receiver → the integrations that deliver."""

    status: str
    rows: Mapping[str, frozenset[IntegrationRef]]

    def check_names(self, integrations_of: Mapping[str, frozenset[IntegrationRef]]) -> None:
        """Every receiver of the table is one of the stack's, and every integration one of the
        receiver's (``integrations_of``, from alertmanager.yml): a typo would otherwise be a
        row that can only fail, or a silence that cannot."""
        import difflib

        for receiver, wanted in self.rows.items():
            if receiver not in integrations_of:
                close = difflib.get_close_matches(receiver, list(integrations_of), n=2)
                guess = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
                raise StepError(f"the delivery table names no receiver {receiver!r} of "
                                f"alertmanager.yml{guess}")
            unknown = wanted - integrations_of[receiver]
            if unknown:
                has = ", ".join(sorted(map(label, integrations_of[receiver]))) or "none"
                raise StepError(f"receiver {receiver!r} has no integration "
                                f"{', '.join(sorted(map(label, unknown)))} (it has: {has})")


def delivered(events: Iterable[Event], status: str,
              window: Window) -> dict[str, set[IntegrationRef]]:
    """receiver → the integrations that delivered a notification with ``status`` (or an
    unreadable status) inside ``window``; failed attempts do not count."""
    got: dict[str, set[IntegrationRef]] = {}
    for event in events:
        if event.kind != tl.NOTIFICATION or not window.contains(event.t):
            continue
        integration = event.detail.get("integration")
        if not integration or integration in _NOT_INTEGRATIONS:
            continue
        if not 200 <= int(event.detail.get("response_code") or 0) < 300:
            continue
        seen = event.detail.get("status")
        if seen is not None and seen != status:
            continue
        index = int(event.detail.get("index") or 0)
        got.setdefault(event.subject, set()).add((str(integration), index))
    return got


def differences(table: DeliveryTable, got: Mapping[str, set[IntegrationRef]]) -> list[str]:
    """One line per receiver whose deliveries differ from its row (a receiver without a row
    must have none)."""
    lines = []
    for receiver in sorted(set(table.rows) | set(got)):
        want = table.rows.get(receiver, frozenset())
        have = frozenset(got.get(receiver, set()))
        if want == have:
            continue
        missing = ", ".join(sorted(map(label, want - have)))
        extra = ", ".join(sorted(map(label, have - want)))
        parts = [f"missing {missing}"] if missing else []
        if extra:
            parts.append(f"unexpected {extra}" + ("" if receiver in table.rows
                                                  else " (no row for this receiver)"))
        lines.append(f"    {receiver}: expected {', '.join(sorted(map(label, want))) or 'none'}"
                     f", delivered {', '.join(sorted(map(label, have))) or 'none'} — "
                     + "; ".join(parts))
    return lines
