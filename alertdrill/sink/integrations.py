"""Every notification integration the harness knows, declared once.

An integration appears in many places: the alertmanager.yml key instrumentation rewrites and
the field holding its URL, the sink's delivery addresses, the step words (`via slack`,
`the pagerduty integration of "R" fails …`), the GameDay's fault vocabulary, the name check of
claims, the scaffold's resolved-notification expectations, the report's colours. They are all
derived from :data:`INTEGRATIONS`; adding an integration is one entry here (plus the sink's
wire format in ``alertdrill.sink.formats`` when it speaks a new one). What a human reads in each
integration's message (a Slack title, an e-mail subject, a PagerDuty summary) is its ``fields``:
paths into the payload the sink recorded, read by ``alertdrill.engine.readable``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alertdrill.sink.protocol import Destination


@dataclass(frozen=True)
class Integration:
    """One kind of notification integration."""

    #: The word steps, records and reports use (``slack``).
    name: str
    #: Its key in an alertmanager.yml receiver (``slack_configs``); None for the harness's own.
    config_key: str | None
    #: The field instrumentation points at the sink (None: e-mail goes through SMTP).
    url_field: str | None
    #: Whether Alertmanager sends resolved notifications when ``send_resolved`` is not written
    #: (its config/notifiers.go defaults).
    send_resolved_default: bool
    #: Colour of its lane and marks in the drill report's chart.
    colour: str
    #: What a human reads in its messages: step word → path into the recorded payload
    #: (``a.b[0].c``; ``x|y`` takes the first that is not empty). See ``alertdrill.engine.readable``.
    fields: tuple[tuple[str, str], ...] = ()

    @property
    def in_receivers(self) -> bool:
        """Whether a team's receiver can have it (not the harness's own probe or Jira calls)."""
        return self.config_key is not None


#: Webhook (and probe) fields: Alertmanager's webhook payload, version 4.
_WEBHOOK_FIELDS = (
    ("status", "status"), ("receiver", "receiver"), ("group labels", "groupLabels"),
    ("common labels", "commonLabels"), ("common annotations", "commonAnnotations"),
    ("external URL", "externalURL"),
)

INTEGRATIONS: tuple[Integration, ...] = (
    Integration("webhook", "webhook_configs", "url", True, "#0284c7", _WEBHOOK_FIELDS),
    Integration("slack", "slack_configs", "api_url", False, "#7c3aed", (
        ("title", "attachments[0].title"), ("text", "attachments[0].text|text"),
        ("pretext", "attachments[0].pretext"), ("channel", "channel"),
        ("fallback", "attachments[0].fallback"))),
    Integration("pagerduty", "pagerduty_configs", "url", True, "#059669", (
        ("summary", "payload.summary|description"), ("severity", "payload.severity"),
        ("details", "payload.custom_details|details"), ("links", "links"),
        ("source", "payload.source"), ("component", "payload.component"),
        ("group", "payload.group"), ("class", "payload.class"))),
    Integration("email", "email_configs", None, False, "#d97706", (
        ("subject", "subject"), ("body", "text|html"),
        ("recipients", "headers.X-Alertdrill-Original-To"))),
    Integration("opsgenie", "opsgenie_configs", "api_url", True, "#db2777", (
        ("message", "message"), ("description", "description"), ("priority", "priority"),
        ("details", "details"), ("tags", "tags"))),
    Integration("victorops", "victorops_configs", "api_url", True, "#ea580c", (
        ("message type", "message_type"), ("display name", "entity_display_name"),
        ("state message", "state_message"))),
    # The harness's own: the probe webhook added to every receiver (structured routing
    # decisions), and the Jira REST calls of the ticket service.
    Integration("probe", None, None, True, "#64748b", _WEBHOOK_FIELDS),
    Integration("jira", None, None, False, "#0f766e", (
        ("summary", "fields.summary"), ("description", "fields.description"),
        ("project", "fields.project.key"), ("labels", "fields.labels"))),
)

BY_NAME: dict[str, Integration] = {i.name: i for i in INTEGRATIONS}
#: The integrations a receiver of alertmanager.yml can have, in declaration order.
RECEIVER_INTEGRATIONS: tuple[Integration, ...] = tuple(i for i in INTEGRATIONS if i.in_receivers)
#: Their step words, for the step patterns (``via slack``) and the GameDay vocabulary.
RECEIVER_WORDS: tuple[str, ...] = tuple(i.name for i in RECEIVER_INTEGRATIONS)
#: alertmanager.yml key → integration, for the receivers' integrations.
BY_CONFIG_KEY: dict[str, Integration] = {i.config_key: i for i in RECEIVER_INTEGRATIONS
                                         if i.config_key is not None}


#: One integration of a receiver: its word and its position among the receiver's integrations
#: of that word (``("webhook", 1)`` is the second webhook_configs entry).
IntegrationRef = tuple[str, int]


def label(integration: IntegrationRef) -> str:
    """("webhook", 1) → "webhook[1]", ("slack", 0) → "slack" (as steps write them)."""
    word, index = integration
    return f"{word}[{index}]" if index else word


def receiver_integrations(alertmanager: Mapping[str, object]) -> dict[str, frozenset[IntegrationRef]]:
    """receiver → its integrations, as an alertmanager.yml's data writes them.

    The one reading of "which integrations does a receiver have" before a stack runs: the
    name check of claims, the delivery table's check, the external backend's destinations and
    the GameDay's receiver breaks all ask it, so they cannot disagree."""
    found: dict[str, frozenset[IntegrationRef]] = {}
    receivers = alertmanager.get("receivers") or []
    for receiver in receivers if isinstance(receivers, list) else []:
        if not isinstance(receiver, Mapping) or receiver.get("name") is None:
            continue
        have = set()
        for integration in RECEIVER_INTEGRATIONS:
            configs = receiver.get(str(integration.config_key))
            have |= {(integration.name, i)
                     for i in range(len(configs) if isinstance(configs, list) else 0)}
        found[str(receiver["name"])] = frozenset(have)
    return found


def delivering_integrations(destinations: Iterable[Destination]
                            ) -> dict[str, frozenset[IntegrationRef]]:
    """receiver → its integrations, as a running stack delivers them (the harness's probe and
    Jira calls left out): the same view as :func:`receiver_integrations`, read off the
    instrumented config's destinations."""
    found: dict[str, set[IntegrationRef]] = {}
    for dest in destinations:
        have = found.setdefault(dest.receiver, set())
        if dest.integration in RECEIVER_WORDS:
            have.add((dest.integration, dest.index))
    return {receiver: frozenset(have) for receiver, have in found.items()}


def has_integration(have: Iterable[IntegrationRef], word: str | None,
                    index: int | None = None) -> bool:
    """Whether ``have`` holds integration ``word`` (None: any) at ``index`` (None: any)."""
    return any(word in (None, kind) and index in (None, at) for kind, at in have)


def step_pattern(group: str = "integration", indexed: bool = False) -> str:
    """A regex alternative of the receiver integrations' words, captured as ``group``.

    ``indexed`` also accepts one integration of a receiver by its position among the
    receiver's integrations of that kind (``webhook[1]``), captured as ``index``: two webhooks
    of one receiver are told apart that way.
    """
    words = rf"(?P<{group}>{'|'.join(RECEIVER_WORDS)})"
    return words + r"(?:\[(?P<index>\d+)\])?" if indexed else words


#: Every field word any integration has, longest first (a step pattern's alternative).
FIELD_WORDS: tuple[str, ...] = tuple(sorted({word for i in INTEGRATIONS for word, _ in i.fields},
                                            key=lambda w: (-len(w), w)))


def fields_of(integration: str) -> dict[str, str]:
    """The integration's field words → payload paths (``{}`` for an unknown integration)."""
    known = BY_NAME.get(integration)
    return dict(known.fields) if known is not None else {}
