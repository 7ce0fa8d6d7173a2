"""The kinds of claim ``Expect`` records, declared once: ``expect`` emits them, the records
carry them, the report decides from them which claims are SLA latencies.

They were strings once, and drifted: the report listed ``once_per_group`` as "not a latency"
while ``Expect`` emitted ``per_group``, so per-group, routed and routing-table claims landed in
the notify/escalate rows of the SLA table.
"""

from __future__ import annotations

import enum


class ClaimKind(enum.StrEnum):
    """What a ``claim`` event on the timeline claims (its ``claim`` field)."""

    ALERT_STATE = "alert_state"
    SUPPRESSED = "suppressed"
    ROUTED = "routed"
    NOTIFIED = "notified"
    NOTIFIED_NOT_BEFORE = "notified_not_before"
    NOTIFIED_AT_LEAST = "notified_at_least"
    NEVER_NOTIFIED = "never_notified"
    NOTIFIED_EXACTLY = "notified_exactly"
    ONLY_RECEIVERS = "only_receivers"
    ROUTING_TABLE = "routing_table"
    DELIVERY_TABLE = "delivery_table"
    INHIBITION_TABLE = "inhibition_table"
    PER_GROUP = "per_group"
    REPEATS = "repeats"
    EVENTUALLY = "eventually"
    #: A field a human reads (Slack title, e-mail subject, PagerDuty summary) holds a text.
    NOTIFICATION_FIELD = "notification_field"
    #: A structured notification holds exactly the alerts stated (labels, status, times).
    NOTIFICATION_ALERTS = "notification_alerts"

    @property
    def is_latency(self) -> bool:
        """Whether the claim measures how long something took (a row of the SLA table: time to
        detect, notify, escalate, suppress, resolve), rather than a count, an absence, a
        bound or a routing decision (shown in the claims table only). The content claims are
        not latencies either: they wait for a notification, but what they decide is what it
        says — its time is already the row of the notified claim before it."""
        return self in _LATENCIES


_LATENCIES = frozenset({ClaimKind.ALERT_STATE, ClaimKind.SUPPRESSED, ClaimKind.NOTIFIED,
                        ClaimKind.NOTIFIED_EXACTLY})
