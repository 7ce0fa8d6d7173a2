"""What a human reads in a notification: one named field of what the sink recorded.

The sinks keep every payload whole; which part of it is the Slack title, the e-mail subject or
the PagerDuty summary is declared once per integration, as paths, in
:data:`alertdrill.sink.integrations.INTEGRATIONS` (``fields``). This module only walks such a path
and renders what it finds as the text a person would see: a string as is, an HTML e-mail body
as its visible text, a map (PagerDuty details, webhook labels) as ``key: value`` lines, a list
(PagerDuty links) one item per line. Adding an integration adds no code here.
"""

from __future__ import annotations

import json
import re
from typing import Any

from alertdrill.errors import StepError
from alertdrill.sink.integrations import fields_of

_STEP_RE = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
#: A body that starts like markup is read as its visible text (an HTML e-mail).
_HTML_START = re.compile(r"\s*<(?:!doctype|html|body|div|p|h\d|table)\b", re.IGNORECASE)


def field_path(integration: str, field: str) -> str:
    """The payload path of ``field`` for ``integration``; StepError names the fields it has."""
    fields = fields_of(integration)
    if field not in fields:
        raise StepError(f"{integration} notifications have no field {field!r}",
                        f"{integration} fields: {', '.join(fields) or 'none'}")
    return fields[field]


def read_path(payload: Any, path: str) -> Any:
    """The value at ``path`` (``a.b[0].c``; ``x|y``: the first alternative not empty), or None."""
    for alternative in path.split("|"):
        value = payload
        for name, index in _STEP_RE.findall(alternative):
            if name:
                value = value.get(name) if isinstance(value, dict) else None
            else:
                position = int(index)
                value = value[position] if isinstance(value, list) and position < len(value) \
                    else None
            if value is None:
                break
        if value not in (None, "", [], {}):
            return value
    return None


def render(value: Any) -> str:
    """The text a person sees of a payload value."""
    if value is None:
        return ""
    if isinstance(value, str):
        return visible_text(value) if _HTML_START.match(value) else value
    if isinstance(value, dict):
        if set(value) <= {"href", "text"}:  # a link: what is shown, then where it goes
            return " ".join(str(value[k]) for k in ("text", "href") if value.get(k))
        return "\n".join(f"{k}: {render(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "\n".join(render(v) for v in value)
    return json.dumps(value) if isinstance(value, bool) else str(value)


def visible_text(markup: str) -> str:
    """The readable text of HTML (the sink's own reader: one line per visual line)."""
    from alertdrill.sink.server import html_text

    return html_text(markup)


def read_field(integration: str, payload: dict[str, Any], field: str) -> str:
    """The rendered text of ``field`` of a notification ``integration`` delivered."""
    return render(read_path(payload, field_path(integration, field)))
