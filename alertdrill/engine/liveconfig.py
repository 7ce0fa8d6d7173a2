"""Live configuration changes: replace alertmanager.yml or a rule file mid-scenario and reload.

What happens to active alerts and groups under a config change is what a pre-deploy check is
for, so the change runs as a deploy would: the new file (a path relative to the stack
directory) goes through the same time scaling and instrumentation as the configs at start
(and the scenario's time-of-day shift, alertdrill.engine.timeofday), is written where the running
tools read their configs, and each tool is told to reload (``POST /-/reload``). The step passes
only when each tool says, in its own metrics, that it took it:

* every Alertmanager peer: ``alertmanager_config_last_reload_successful`` is 1 and
  ``alertmanager_config_hash`` changed;
* Prometheus: ``prometheus_config_last_reload_successful`` is 1, its last successful reload is
  newer than before, and ``/api/v1/rules`` holds the new file's groups and alerting rules
  with their (scaled) ``for``.

A refused reload fails the step with the tool's own message, and the previous files are put
back (a peer restarted later must find a config it can run).

A Prometheus reload restarts its notifier's discovery: for about 5 s (measured, not scaled:
the discovery manager's fixed tick) it has no Alertmanager to send to, and alerts that fire
then wait in its queue. The step waits until Prometheus lists every peer again before it
returns (the measured gap is on the timeline), so the scenario's next claims count from a
stack that can deliver again; the gap itself is what a real deploy costs too, but 5 s is
5 real-world minutes at K=60 — claims spanning a rule reload must allow for it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from alertdrill.durations import parse_duration
from alertdrill.engine import timeline as tl
from alertdrill.engine import timeofday
from alertdrill.engine.health import metric_samples
from alertdrill.engine.timescale import TimeScale, detect_kind, scale_alertmanager_config, scale_rule_file
from alertdrill.errors import AlertdrillError, StepError
from alertdrill.yamlio import dump_yaml, load_yaml

#: Measured seconds to wait for Prometheus to list its Alertmanagers again after a reload
#: (its discovery publishes every 5 s; a loaded 2-core machine adds a little).
DISCOVERY_TIMEOUT = 15.0
#: Each tool's reload request: it answers when the reload is done (or refused).
RELOAD_TIMEOUT = 15.0


_WHAT = {"rules": "a rule file", "alertmanager": "an alertmanager.yml",
         "prometheus": "a prometheus.yml", "promtool-test": "a promtool test file"}


@dataclass(frozen=True)
class Reloaded:
    """What a live change did, for the timeline's note."""

    what: str
    details: str
    #: Measured seconds Prometheus had no Alertmanager after its reload (0 for Alertmanager).
    gap: float = 0.0


def change_file(root: Path, relative: str, kind: str) -> tuple[Path, dict[str, Any]]:
    """The replacement file (relative to the stack directory), read and of the right kind."""
    path = (root / relative).resolve()
    if not path.is_file():
        raise StepError(f"no file {relative!r} in the stack directory {root}",
                        "name the replacement relative to the stack directory, e.g. "
                        '"changes/alertmanager.yml"')
    try:
        doc = load_yaml(path, relative)
        found = detect_kind(doc)
    except AlertdrillError as exc:
        raise StepError(f"{relative}: {exc.args[0]}", exc.hint) from None
    if found != kind:
        raise StepError(f"{relative} is not {_WHAT[kind]}: it reads as {_WHAT[found]}")
    return path, doc


def metric(text: str, name: str) -> float | None:
    """The value of an unlabelled metric on a /metrics page (None when absent)."""
    for sample, _, value in metric_samples(text):
        if sample == name:
            return value
    return None


def _get(url: str) -> str:
    """A tool's /metrics page; a tool that does not answer (stopped by a fault) cannot reload."""
    try:
        response = requests.get(url + "/metrics", timeout=2)
        response.raise_for_status()
    except requests.RequestException as exc:
        raise StepError(f"{url} does not answer, so it cannot reload: {exc}",
                        "start it again before the config change") from None
    return response.text


def _post_reload(url: str) -> requests.Response:
    try:
        return requests.post(url + "/-/reload", timeout=RELOAD_TIMEOUT)
    except requests.RequestException as exc:
        raise StepError(f"the reload request to {url} failed: {exc}") from None


def reload_alertmanagers(stack: Any, config: dict[str, Any], label: str) -> Reloaded:
    """Write a scaled alertmanager.yml for every peer, reload each, check each took it."""
    urls: list[str] = list(stack.alertmanager_urls)
    before = [metric(_get(url), "alertmanager_config_hash") for url in urls]
    old_source = stack.alertmanager_source
    try:
        previous = stack.write_alertmanager_config(config)
    except AlertdrillError as exc:
        raise StepError(f"{label} cannot be run by the harness: {exc.args[0]}", exc.hint) from None
    hashes = []
    for peer, url in enumerate(urls):
        answer = _post_reload(url)
        page = _get(url)
        ok = metric(page, "alertmanager_config_last_reload_successful")
        digest = metric(page, "alertmanager_config_hash")
        if answer.status_code != 200 or ok != 1:
            stack.restore_alertmanager_config(previous, old_source)
            raise StepError(
                f"alertmanager-{peer} refused the reload of {label} (HTTP {answer.status_code}, "
                f"alertmanager_config_last_reload_successful {ok}): "
                f"{answer.text.strip() or '(no message)'}",
                "the peers keep running the previous config (its files are put back); check "
                "the file with amtool check-config")
        if digest == before[peer]:
            raise StepError(f"alertmanager-{peer} reloaded, but its config hash did not change: "
                            f"{label} is the config it already ran",
                            "a live change must change something the tool runs")
        hashes.append(digest)
    return Reloaded("alertmanager.yml", f"{len(urls)} peer(s) reloaded, config hash "
                                        f"{_hex(before[0])} → {_hex(hashes[0])}")


def _hex(value: float | None) -> str:
    return "?" if value is None else f"{int(value):x}"[:8]


def reload_rules(stack: Any, rule_file: Path, doc: dict[str, Any], scale: TimeScale,
                 label: str, clock: Callable[[], float] = time.monotonic) -> Reloaded:
    """Write the scaled copy of ``doc`` in place of ``rule_file``'s, reload Prometheus, check
    it runs the new rules and lists every Alertmanager again."""
    url = str(stack.prometheus_url)
    copy: Path = stack.rule_copy(rule_file)
    scaled = doc if scale.factor == 1 else scale_rule_file(doc, scale).doc
    previous = copy.read_text()
    before = metric(_get(url), "prometheus_config_last_reload_success_timestamp_seconds") or 0.0
    _write(copy, dump_yaml(scaled))
    answer = _post_reload(url)
    page = _get(url)
    ok = metric(page, "prometheus_config_last_reload_successful")
    after = metric(page, "prometheus_config_last_reload_success_timestamp_seconds") or 0.0
    if answer.status_code != 200 or ok != 1 or after <= before:
        _write(copy, previous)
        raise StepError(
            f"Prometheus refused the reload of {label} (HTTP {answer.status_code}, "
            f"prometheus_config_last_reload_successful {ok}): "
            f"{answer.text.strip() or '(no message)'}",
            "it keeps running the previous rules; check the file with promtool check rules")
    reloaded_at = clock()
    missing = missing_rules(_rules_api(url), copy.name, scaled)
    if missing:
        raise StepError(f"Prometheus reloaded, but does not run {label} as written: "
                        + "; ".join(missing))
    gap = wait_for_alertmanagers(url, len(stack.alertmanager_urls), clock) - reloaded_at
    return Reloaded(rule_file.name, f"Prometheus reloaded; it listed its Alertmanagers again "
                                    f"after {gap:.2f} s measured", gap)


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.chmod(0o644)
    tmp.replace(path)


def _rules_api(url: str) -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = requests.get(url + "/api/v1/rules", timeout=2).json()["data"][
        "groups"]
    return groups


def missing_rules(groups: list[dict[str, Any]], file_name: str, doc: dict[str, Any]) -> list[str]:
    """What of ``doc`` (a scaled rule file) the rules API's ``groups`` do not show loaded from
    the file named ``file_name``: a group, an alerting rule, or a rule's ``for``."""
    loaded = {g.get("name"): g for g in groups if Path(str(g.get("file", ""))).name == file_name}
    missing = []
    for group in doc.get("groups") or []:
        name = group.get("name")
        got = loaded.get(name)
        if got is None:
            missing.append(f"group {name!r} is not loaded")
            continue
        rules = {r.get("name"): r for r in got.get("rules") or [] if r.get("type") == "alerting"}
        for rule in group.get("rules") or []:
            alert = rule.get("alert")
            if not alert:
                continue
            if alert not in rules:
                missing.append(f"alert {alert!r} of group {name!r} is not loaded")
                continue
            wanted = parse_duration(str(rule.get("for", "0s")))
            if abs(float(rules[alert].get("duration", 0)) - wanted) > 1e-3:
                missing.append(f"alert {alert!r} runs with for {rules[alert].get('duration')} s, "
                               f"not {wanted:g} s")
    return missing


def wait_for_alertmanagers(url: str, peers: int, clock: Callable[[], float] = time.monotonic,
                           timeout: float = DISCOVERY_TIMEOUT) -> float:
    """Block until Prometheus lists ``peers`` Alertmanagers; returns when (``clock``)."""
    deadline = clock() + timeout
    seen = -1
    while clock() < deadline:
        try:
            seen = len(requests.get(url + "/api/v1/alertmanagers", timeout=1).json()["data"][
                "activeAlertmanagers"])
        except (requests.RequestException, ValueError, KeyError):
            seen = -1
        if seen >= peers:
            return clock()
        time.sleep(0.05)
    raise StepError(f"after its reload, Prometheus listed {max(seen, 0)} of {peers} "
                    f"Alertmanagers within {timeout:g} s",
                    "see prometheus.log in the stack's workdir (ALERTDRILL_KEEP_WORKDIR=1)")


def scaled_alertmanager(doc: dict[str, Any], scale: TimeScale) -> tuple[dict[str, Any], list[str]]:
    """A replacement alertmanager.yml scaled as at start, and the scaling's warnings."""
    if scale.factor == 1:
        return doc, []
    result = scale_alertmanager_config(doc, scale)
    return result.doc, result.warnings


class LiveConfig:
    """A scenario's live changes to its stack's configuration, and its time of day.

    Holds the scaled alertmanager.yml the scenario runs *before* its time-of-day shift, so that
    a config replaced later is shifted to the same moment, on the same virtual clock.
    """

    def __init__(self, stack: Any, scale: TimeScale, timeline: tl.Timeline) -> None:
        self.stack = stack
        self.scale = scale
        self.timeline = timeline
        #: The moment the time intervals see, and the real instant it was set at.
        self.time_of_day: tuple[timeofday.Moment, datetime] | None = None
        #: The scaled, unshifted alertmanager.yml (None: the stack's own, as started).
        self._am_config: dict[str, Any] | None = None

    def alertmanager_view(self, config: dict[str, Any]) -> dict[str, Any]:
        """A scaled alertmanager.yml as this scenario runs it: with its time-of-day shift."""
        if self.time_of_day is None:
            return config
        moment, since = self.time_of_day
        return timeofday.shift_config(config, moment.at, since)

    def replace_alertmanager_config(self, relative: str) -> None:
        """Replace alertmanager.yml by ``relative`` (in the stack directory) and reload."""
        _, doc = change_file(self.stack.spec.root, relative, "alertmanager")
        config, warnings = scaled_alertmanager(doc, self.scale)
        for warning in warnings:
            self.timeline.add(tl.STACK_WARNING, "stack", note=f"{relative}: {warning}")
        started = self.timeline.now()  # the first peer runs it from its reload on
        done = reload_alertmanagers(self.stack, self.alertmanager_view(config), relative)
        self._am_config = config
        self.timeline.add(tl.ACTION, "config", t=started, anchor=True,
                          note=f"alertmanager.yml replaced by {relative}: {done.details} "
                               f"(took {self.timeline.now() - started:.3f} s)")

    def replace_rule_file(self, rule_file: str, relative: str) -> None:
        """Replace one rule file by ``relative`` (both in the stack directory) and reload."""
        root = self.stack.spec.root
        _, doc = change_file(root, relative, "rules")
        done = reload_rules(self.stack, (root / rule_file).resolve(), doc, self.scale, relative)
        self.timeline.add(tl.ACTION, "config", anchor=True,
                          note=f"{rule_file} replaced by {relative}: {done.details}",
                          discovery_gap=round(done.gap, 3))

    def set_time_of_day(self, moment: timeofday.Moment) -> None:
        """Every time interval of the running alertmanager.yml sees ``moment`` now, for the
        rest of the scenario: rewritten (alertdrill.engine.timeofday) and reloaded on every peer."""
        config = self._am_config if self._am_config is not None else self.stack.alertmanager_source
        names = timeofday.interval_names(config)
        if not names:
            raise StepError("the stack's alertmanager.yml has no time intervals, so the time of "
                            "day changes nothing it does",
                            "time of day matters to routes with mute_time_intervals or "
                            "active_time_intervals (defined under time_intervals:)")
        started = self.timeline.now()
        self.time_of_day = (moment, datetime.now(UTC))
        done = reload_alertmanagers(self.stack, self.alertmanager_view(config),
                                    f"the time intervals for {moment.text}")
        self._am_config = config
        self.timeline.add(tl.ACTION, "clock", t=started, anchor=True,
                          note=f"it is {moment.describe()} for the time intervals "
                               f"{', '.join(names)}: {done.details}")
