"""Every notification integration the harness knows, declared once.

An integration appears in many places: the alertmanager.yml key instrumentation rewrites and
the field holding its URL, the sink's delivery addresses, the step words (`via slack`,
`the pagerduty integration of "R" fails …`), the GameDay's fault vocabulary, the name check of
claims, the scaffold's resolved-notification expectations, the report's colours. They are all
derived from :data:`INTEGRATIONS`; adding an integration is one entry here (plus the sink's
wire format in ``alertdrill.sink.formats`` when it speaks a new one).
"""

from __future__ import annotations

from dataclasses import dataclass


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

    @property
    def in_receivers(self) -> bool:
        """Whether a team's receiver can have it (not the harness's own probe or Jira calls)."""
        return self.config_key is not None


INTEGRATIONS: tuple[Integration, ...] = (
    Integration("webhook", "webhook_configs", "url", True, "#0284c7"),
    Integration("slack", "slack_configs", "api_url", False, "#7c3aed"),
    Integration("pagerduty", "pagerduty_configs", "url", True, "#059669"),
    Integration("email", "email_configs", None, False, "#d97706"),
    Integration("opsgenie", "opsgenie_configs", "api_url", True, "#db2777"),
    Integration("victorops", "victorops_configs", "api_url", True, "#ea580c"),
    # The harness's own: the probe webhook added to every receiver (structured routing
    # decisions), and the Jira REST calls of the ticket service.
    Integration("probe", None, None, True, "#64748b"),
    Integration("jira", None, None, False, "#0f766e"),
)

BY_NAME: dict[str, Integration] = {i.name: i for i in INTEGRATIONS}
#: The integrations a receiver of alertmanager.yml can have, in declaration order.
RECEIVER_INTEGRATIONS: tuple[Integration, ...] = tuple(i for i in INTEGRATIONS if i.in_receivers)
#: Their step words, for the step patterns (``via slack``) and the GameDay vocabulary.
RECEIVER_WORDS: tuple[str, ...] = tuple(i.name for i in RECEIVER_INTEGRATIONS)
#: alertmanager.yml key → integration, for the receivers' integrations.
BY_CONFIG_KEY: dict[str, Integration] = {i.config_key: i for i in RECEIVER_INTEGRATIONS
                                         if i.config_key is not None}


def step_pattern(group: str = "integration") -> str:
    """A regex alternative of the receiver integrations' words, captured as ``group``."""
    return rf"(?P<{group}>{'|'.join(RECEIVER_WORDS)})"
