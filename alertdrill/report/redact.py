"""The last redaction pass before anything leaves the harness as a report.

Instrumentation already replaces the secrets of alertmanager.yml with fingerprints before
Alertmanager ever sees them (``alertdrill.engine.instrument``), so payloads carry none. Reports are
read by more people than CI logs, so they get a second, independent pass over everything they
contain:

- every string value of the stack's *own* configs that can hold a credential (URLs, keys,
  passwords, tokens) is replaced wherever it appears, verbatim;
- every URL keeps only its scheme and host (paths and queries of webhook URLs carry tokens);
- ``Authorization:``-style headers, ``Bearer``/``Basic`` credentials and ``password=…``-style
  pairs lose their value;
- mapping keys that name a secret, a raw payload or headers lose their whole value.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

import yaml

REDACTED = "[redacted]"

#: Keys of a config whose string values are credentials or may embed them.
_CONFIG_SECRET_KEY = re.compile(
    r"(?i)(url|password|passwd|secret|token|api_key|routing_key|service_key|credentials|"
    r"bearer|authorization|client_id|client_secret|webhook)")
#: Keys of a report record whose whole value must not appear (raw payloads, headers, secrets).
_RECORD_SECRET_KEY = re.compile(
    r"(?i)^(payload|raw|body|headers?|authorization|cookie|password|passwd|secret|token|"
    r"api_key|apikey|routing_key|service_key|credentials|url|api_url|webhook_url|.*_url|"
    r".*_password|.*_secret|.*_token)$")
_URL = re.compile(r"(?i)\b([a-z][a-z0-9+.-]{1,15})://([^\s/\"'<>?#\\]+)([^\s\"'<>]*)")
_AUTH_HEADER = re.compile(r"(?i)\b((?:proxy-)?authorization|x-api-key|api-key|cookie)(\"?\s*[:=]\s*)"
                          r"(\"?)[^\n\"]+")
# "Bearer x" is always a credential; "Basic"/"Token"/"GenieKey" only when the next word looks
# encoded (a digit, +, / or =, or upper case after its first letter), so that "Basic routing" in a
# scenario name stays readable.
_SCHEME_CREDENTIAL = re.compile(r"(?i)\b(bearer|basic|token|geniekey)(\s+)([A-Za-z0-9._~+/=-]{6,})")
_PAIR = re.compile(
    r"(?i)\b([a-z_]*(?:password|passwd|secret|token|api_key|apikey|routing_key|service_key)"
    r"[a-z_]*)([\"']?\s*[:=]\s*[\"']?)(?!\[redacted\])([^\s\"',;}\]]+)")
_SLACK_PATH = re.compile(r"(?i)hooks\.slack\.com/services/[^\s\"'<>]+")
#: Verbatim secrets shorter than this are not replaced (they would hit ordinary words).
MIN_SECRET_LENGTH = 8


class Redactor:
    """Scrubs strings and JSON-like structures; ``secrets`` are replaced verbatim first."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        unique = {s for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET_LENGTH}
        self.secrets = sorted(unique, key=len, reverse=True)

    def text(self, value: str) -> str:
        """One string with every known secret, URL path, credential and header value removed."""
        for secret in self.secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        value = _SLACK_PATH.sub(f"hooks.slack.com/{REDACTED}", value)
        value = _URL.sub(_url_origin, value)
        value = _AUTH_HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3)}{REDACTED}", value)
        value = _SCHEME_CREDENTIAL.sub(_credential, value)
        return _PAIR.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", value)

    def scrub(self, value: Any, keep: Collection[str] = ()) -> Any:
        """A copy of a JSON-like structure with every string redacted (keys included).

        A key naming a secret, a raw payload or headers loses its whole value, except the keys
        in ``keep``, whose values are scrubbed like the rest (e.g. a payload kept for debugging).
        """
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            out: dict[Any, Any] = {}
            for key, item in value.items():
                name = self.text(key) if isinstance(key, str) else key
                if isinstance(key, str) and key not in keep and _RECORD_SECRET_KEY.match(key) \
                        and item not in (None, ""):
                    out[name] = REDACTED
                else:
                    out[name] = self.scrub(item, keep)
            return out
        if isinstance(value, (list, tuple)):
            return [self.scrub(item, keep) for item in value]
        return value


def _credential(match: re.Match[str]) -> str:
    scheme, space, word = match.group(1), match.group(2), match.group(3)
    encoded = any(c.isdigit() or c in "+/=" for c in word) or any(c.isupper() for c in word[1:])
    if scheme.lower() == "bearer" or encoded:
        return f"{scheme}{space}{REDACTED}"
    return match.group(0)


def _url_origin(match: re.Match[str]) -> str:
    scheme, authority, rest = match.group(1), match.group(2), match.group(3)
    host = authority.rsplit("@", 1)[-1]  # user:password@host loses its credentials
    return f"{scheme}://{host}" + (f"/{REDACTED}" if rest.strip("/") else "")


def secrets_in(doc: Any) -> set[str]:
    """String values of a parsed config that are, or may embed, credentials."""
    found: set[str] = set()

    def walk(node: Any, key: str = "") -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, str(k))
        elif isinstance(node, list):
            for item in node:
                walk(item, key)
        elif isinstance(node, str) and (_CONFIG_SECRET_KEY.search(key) or "://" in node):
            found.add(node)

    walk(doc)
    return found


def secrets_of_files(paths: Iterable[Path]) -> set[str]:
    """:func:`secrets_in` over YAML files; unreadable files add nothing (they never started)."""
    found: set[str] = set()
    for path in paths:
        try:
            found |= secrets_in(yaml.safe_load(Path(path).read_text()))
        except (OSError, yaml.YAMLError):
            continue
    return found
