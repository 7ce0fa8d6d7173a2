"""Rewrite a user's alertmanager.yml and prometheus.yml so that the stack under test is sealed.

Alertmanager: only *delivery* changes. Every integration of every receiver is pointed at the
sink under an attributable address (peer, receiver, integration, index); routing, grouping,
inhibition, time intervals and templates stay exactly as written. Secrets are replaced by short
stable fingerprints, so they never reach a payload, a log or a report. Each receiver also gets one
``probe`` webhook: Slack and e-mail carry only rendered text, and the probe records, with
structured labels, which alerts Alertmanager decided to send to that receiver and when.

Prometheus: scrape targets are mapped to the services the harness runs (keeping the ``instance``
label the user wrote, so rules and inhibitions see the same labels as in production), the
Alertmanager list is replaced by the cluster under test, and anything that would reach another
host (service discovery, remote write, unmapped targets) is removed with a warning.
"""

from __future__ import annotations

import copy
import glob
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from alertdrill.errors import ConfigError
from alertdrill.sink.forward import forward_key
from alertdrill.sink.integrations import BY_CONFIG_KEY
from alertdrill.sink.protocol import Destination
from alertdrill.yamlio import dump_yaml

#: Integrations redirected to the sink, by their config key, with the field holding their URL.
_URL_FIELDS: dict[str, tuple[str, str]] = {
    key: (i.name, i.url_field) for key, i in BY_CONFIG_KEY.items() if i.url_field is not None}
#: Fields that may hold credentials; replaced by a fingerprint (kept, because some are required).
_SECRET_FIELDS = ("routing_key", "service_key", "api_key")
#: Fields dropped from every redirected integration: file-borne secrets, auth, proxies, TLS.
_DROPPED_FIELDS = (
    "url_file",
    "api_url_file",
    "routing_key_file",
    "service_key_file",
    "api_key_file",
    "http_config",
    "auth_username",
    "auth_password",
    "auth_password_file",
    "auth_secret",
    "auth_identity",
    "tls_config",
)
_GLOBAL_DROPPED = (
    "smtp_auth_username",
    "smtp_auth_password",
    "smtp_auth_password_file",
    "smtp_auth_secret",
    "smtp_auth_identity",
    "slack_api_url",
    "slack_api_url_file",
    "pagerduty_url",
    "opsgenie_api_url",
    "opsgenie_api_key",
    "opsgenie_api_key_file",
    "victorops_api_url",
    "victorops_api_key",
    "victorops_api_key_file",
    "wechat_api_url",
    "wechat_api_secret",
    "telegram_api_url",
    "webex_api_url",
    "http_config",
)
PROBE_KEY = "webhook_configs"


@dataclass
class Instrumented:
    """A rewritten config, the destinations it delivers to, and what the rewrite had to drop."""

    config: dict[str, Any]
    destinations: list[Destination] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: Webhooks that name a service of the stack: forward key → (service, path and query).
    forwards: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: Scrape targets the sealed prometheus.yml keeps (what "usable" waits for).
    scrape_targets: int = 0

    def dump(self, path: Path) -> Path:
        """Write the config as YAML and return the path."""
        path.write_text(dump_yaml(self.config))
        return path


def fingerprint_secret(value: str) -> str:
    """A short stable stand-in for a secret: comparable across runs, useless to an attacker."""
    return "alertdrill-" + hashlib.sha256(value.encode()).hexdigest()[:8]


def instrument_alertmanager(
    original: Mapping[str, Any],
    *,
    config_dir: Path,
    sink_url: str,
    smtp_address: str,
    peer: int,
    services: Mapping[str, str] | None = None,
) -> Instrumented:
    """Return a copy of ``original`` whose every delivery goes to the sink, attributed to ``peer``.

    ``services`` maps the host:port of each service of the stack to its name: a webhook to one
    of them is recorded by the sink *and* forwarded to the service (``result.forwards``).
    """
    config = copy.deepcopy(dict(original))
    result = Instrumented(config)
    glob_cfg = config.setdefault("global", {}) or {}
    config["global"] = glob_cfg
    for key in _GLOBAL_DROPPED:
        glob_cfg.pop(key, None)
    glob_cfg["smtp_smarthost"] = smtp_address
    glob_cfg["smtp_require_tls"] = False
    glob_cfg.setdefault("smtp_from", "alertdrill@alertdrill.invalid")

    config["templates"] = [
        _absolute_glob(pattern, config_dir) for pattern in config.get("templates") or []
    ]
    receivers = config.get("receivers") or []
    if not isinstance(receivers, list):
        raise ConfigError("alertmanager.yml: `receivers` must be a list")
    for receiver in receivers:
        name = str(receiver.get("name", ""))
        for key, items in list(receiver.items()):
            if key == "name":
                continue
            if not key.endswith("_configs"):
                continue
            if key == "email_configs":
                for index, item in enumerate(items or []):
                    _redirect_email(item, Destination(peer, name, "email", index), smtp_address)
                    result.destinations.append(Destination(peer, name, "email", index))
                continue
            if key not in _URL_FIELDS:
                raise ConfigError(
                    f"receiver {name!r} uses {key}, which alertdrill cannot redirect to its sink; "
                    "run as is, it would notify a real service on the internet",
                    f"remove {key} from {name!r} for the drill, or replace it by a webhook",
                )
            integration, url_field = _URL_FIELDS[key]
            for index, item in enumerate(items or []):
                dest = Destination(peer, name, integration, index)
                service = _stack_service(str(item.get(url_field) or ""), services or {})
                if service is not None:
                    result.forwards[forward_key(dest)] = service
                _redirect_http(item, url_field, sink_url + dest.http_path())
                result.destinations.append(dest)
        probe = Destination(peer, name, "probe", 0)
        receiver.setdefault(PROBE_KEY, [])
        receiver[PROBE_KEY] = list(receiver[PROBE_KEY] or [])
        receiver[PROBE_KEY].append({"url": sink_url + probe.http_path(), "send_resolved": True})
        result.destinations.append(probe)
    return result


def _stack_service(url: str, services: Mapping[str, str]) -> tuple[str, str] | None:
    """(service, path) when ``url`` names a service of the stack by its configured address."""
    parsed = urlsplit(url)
    if parsed.scheme not in ("http", "https") or parsed.netloc not in services:
        return None
    path = parsed.path or "/"
    return services[parsed.netloc], path + (f"?{parsed.query}" if parsed.query else "")


def _redirect_http(item: dict[str, Any], url_field: str, url: str) -> None:
    for key in _DROPPED_FIELDS:
        item.pop(key, None)
    for key in _SECRET_FIELDS:
        if item.get(key):
            item[key] = fingerprint_secret(str(item[key]))
    item[url_field] = url


def _redirect_email(item: dict[str, Any], dest: Destination, smtp_address: str) -> None:
    for key in _DROPPED_FIELDS:
        item.pop(key, None)
    original_to = item.get("to")
    item["to"] = dest.email_address()
    item["smarthost"] = smtp_address
    item["require_tls"] = False
    headers = dict(item.get("headers") or {})
    # Alertmanager sets To from `to`; keep the human recipient visible for content assertions.
    if original_to:
        headers["X-Alertdrill-Original-To"] = str(original_to)
    item["headers"] = headers


def _absolute_glob(pattern: str, base: Path) -> str:
    path = Path(pattern)
    if path.is_absolute():
        if not glob.glob(pattern):
            raise ConfigError(
                f"alertmanager.yml: template path {pattern!r} is absolute and matches nothing here",
                "use a path relative to alertmanager.yml (Alertmanager resolves those against the "
                "config's directory)",
            )
        return pattern
    return str((base / path).resolve())


@dataclass(frozen=True)
class TargetMap:
    """How one address written in prometheus.yml maps to a service the harness runs."""

    written: str
    real: str
    service: str


def _map_target(address: str, by_written: dict[str, TargetMap]) -> str | None:
    """Where a written target really is: a host:port, or a URL whose host:port is a service."""
    if address in by_written:
        return by_written[address].real
    parsed = urlsplit(address)
    if parsed.scheme and parsed.netloc in by_written:
        return address.replace(parsed.netloc, by_written[parsed.netloc].real, 1)
    return None


def _relabel_for_stack(rules: list[dict[str, Any]], by_written: dict[str, TargetMap],
                       restore: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Relabelling that reaches the stack's services and still shows the written addresses.

    A probe job (blackbox exporter) moves the target into ``__param_target`` and ``instance``
    and sets ``__address__`` to the exporter by a ``replacement``: that replacement is mapped
    like a target, and a last rule maps each ``instance`` back to the address as written, so
    rules and inhibitions see the production labels.
    """
    mapped = []
    for rule in rules:
        rule = dict(rule)
        replacement = rule.get("replacement")
        if isinstance(replacement, str) and replacement in by_written:
            rule["replacement"] = by_written[replacement].real
        mapped.append(rule)
    for real, written in restore:
        mapped.append({"source_labels": ["instance"], "regex": re.escape(real),
                       "target_label": "instance", "replacement": written})
    return mapped


def instrument_prometheus(
    original: Mapping[str, Any],
    *,
    targets: list[TargetMap],
    alertmanagers: list[str],
    rule_files: list[Path],
    alertmanager_timeout: str = "1s",
) -> Instrumented:
    """Return a sealed copy of a prometheus.yml: known targets only, the cluster under test."""
    config = copy.deepcopy(dict(original))
    result = Instrumented(config)
    by_written = {t.written: t for t in targets}
    for key in ("remote_write", "remote_read", "storage", "tracing"):
        if config.pop(key, None) is not None:
            result.warnings.append(f"prometheus.yml: `{key}` removed (it reaches other hosts)")
    config["rule_files"] = [str(p) for p in rule_files]
    scrape_configs = []
    for job in config.get("scrape_configs") or []:
        job = dict(job)
        name = job.get("job_name", "?")
        for key in [k for k in job if k.endswith("_sd_configs")]:
            job.pop(key)
            result.warnings.append(
                f"job {name!r}: {key} removed (service discovery would reach other hosts)"
            )
        groups = []
        restore = []
        for group in job.get("static_configs") or []:
            for address in group.get("targets") or []:
                real = _map_target(str(address), by_written)
                if real is None:
                    result.warnings.append(
                        f"job {name!r}: target {address!r} dropped: no service of the stack "
                        "answers for it (declare it under `services:` in alertdrill.yml)"
                    )
                    continue
                labels = dict(group.get("labels") or {})
                labels.setdefault("instance", str(address))
                groups.append({"targets": [real], "labels": labels})
                restore.append((real, str(address)))
        if not groups:
            result.warnings.append(f"job {name!r} removed: none of its targets runs in the stack")
            continue
        job["static_configs"] = groups
        if job.get("relabel_configs"):
            job["relabel_configs"] = _relabel_for_stack(job["relabel_configs"], by_written,
                                                        restore)
        result.scrape_targets += len(groups)
        scrape_configs.append(job)
    config["scrape_configs"] = scrape_configs
    alerting = dict(config.get("alerting") or {})
    alerting["alertmanagers"] = [
        {
            "api_version": "v2",
            "timeout": alertmanager_timeout,
            "static_configs": [{"targets": list(alertmanagers)}],
        }
    ]
    config["alerting"] = alerting
    return result
