"""GameDay: the named fault vocabulary of ``alertdrill inject``, parsed and applied to a Drill.

One table (:data:`ACTIONS`) says, for every command a GameDay operator can type — ``stop web``,
``latency api-service 2``, ``break-receiver team-web slack "http 500"`` — its parameters, what it
does, and which :class:`~alertdrill.engine.drill.Drill` method does it. The CLI only splits words; this
module parses and checks them (:func:`parse`, usable without a stack, so a typo fails before
anything is sent), and the GameDay supervisor applies them (:func:`apply`) to its Drill, where
every action lands on the stack's timeline exactly as a scenario step's would.

An applied command becomes an :class:`Injection` with an id; ``alertdrill revert ID`` undoes
it (a stop is started again, a silence expired, a pushed alert resolved). Commands that undo
something themselves (``start``, ``resume``, ``heal`` …) leave nothing to revert.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from alertdrill.durations import parse_duration, parse_human
from alertdrill.engine.faults import RECEIVER_FAILURES, Fault
from alertdrill.engine.stepsyntax import parse_labels
from alertdrill.errors import StepError
from alertdrill.sink.integrations import RECEIVER_WORDS, step_pattern

#: Integrations a receiver may have (as the steps name them); ``any`` breaks all of them.
INTEGRATIONS = (*RECEIVER_WORDS, "any")


@dataclass(frozen=True)
class Param:
    """One parameter of a command: its placeholder, how it is read, what it means."""

    name: str
    kind: str
    help: str
    optional: bool = False

    def read(self, word: str) -> Any:
        """The typed value of ``word``; StepError naming the parameter otherwise."""
        reader = _READERS[self.kind]
        try:
            return reader(word)
        except (ValueError, StepError) as exc:
            detail = str(exc).split("\n")[0]
            raise StepError(f"{self.name}: cannot read {word!r} ({detail})",
                            f"{self.name} is {self.help}") from None


def _percent(word: str) -> float:
    value = float(word.rstrip("%").strip())
    if not 0 <= value <= 100:
        raise ValueError("a percentage is 0…100")
    return value


def _positive(word: str) -> float:
    value = float(word)
    if value <= 0:
        raise ValueError("must be above 0")
    return value


def _days(word: str) -> float:
    return float(word)


def _duration(word: str) -> float:
    """``15m``, ``1h30m`` (Prometheus) or ``15 minutes`` (as in steps): real-world seconds."""
    try:
        return parse_duration(word)
    except ValueError:
        return parse_human(word)


def _name(word: str) -> str:
    if not word.strip():
        raise ValueError("empty")
    return word.strip()


def _choice(options: tuple[str, ...]) -> Callable[[str], str]:
    def read(word: str) -> str:
        value = word.strip().lower()
        if value not in options:
            raise ValueError(f"one of: {', '.join(options)}")
        return value
    return read


def _integration_word(word: str) -> tuple[str | None, int | None]:
    """``slack`` → every slack integration of the receiver; ``webhook[1]`` → its second webhook
    only, read by the steps' own pattern (``the webhook[1] integration of "R" fails``); ``any``
    → every integration."""
    value = word.strip().lower()
    if value == "any":
        return None, None
    match = _INTEGRATION_WORD.fullmatch(value)
    if match is None:
        raise ValueError(f"one of: {', '.join(INTEGRATIONS)}, or KIND[i] for the i-th (from 0)")
    return match["integration"], (int(match["index"]) if match["index"] is not None else None)


_INTEGRATION_WORD = re.compile(step_pattern(indexed=True))


def _level(word: str) -> str:
    if not word.isalpha():
        raise ValueError("a log level is a word, e.g. CRITICAL")
    return word.upper()


def _labels(word: str) -> dict[str, str]:
    return parse_labels(word)


_READERS: dict[str, Callable[[str], Any]] = {
    "name": _name,
    "percent": _percent,
    "positive": _positive,
    "days": _days,
    "duration": _duration,
    "text": str,
    "level": _level,
    "labels": _labels,
    "integration": _integration_word,
    "failure": _choice(tuple(RECEIVER_FAILURES)),
}

SERVICE = Param("SERVICE", "name", "a service of the stack (see `alertdrill up`'s list)")
RECEIVER = Param("RECEIVER", "name", "a receiver of alertmanager.yml")
LABELS = Param("LABELS", "labels",
               'labels or matchers: alertname=X or \'alertname=X, team="web ops"\' '
               "(several words are joined with commas)")


@dataclass
class Injection:
    """One applied command: what was typed, when, and how to undo it (if it can be)."""

    id: int
    action: str
    words: list[str]
    t: float
    name: str
    fault: Fault | None = None
    undo: Callable[[], None] | None = None
    _undone: bool = field(default=False, repr=False)

    @property
    def active(self) -> bool:
        """Still in force (a fault not reverted, a silence not expired, an alert not resolved)."""
        if self.fault is not None:
            return self.fault.active
        return self.undo is not None and not self._undone

    @property
    def revertible(self) -> bool:
        """Whether ``alertdrill revert`` can undo it."""
        return self.fault is not None or self.undo is not None

    def revert(self) -> None:
        """Undo it (idempotent)."""
        if self.fault is not None:
            self.fault.revert()
        elif self.undo is not None and not self._undone:
            self.undo()
            self._undone = True

    def to_json(self) -> dict[str, Any]:
        """What the control API and ``watch`` show."""
        return {"id": self.id, "action": self.action, "words": self.words, "t": round(self.t, 3),
                "name": self.name, "active": self.active, "revertible": self.revertible}


#: An action's effect: a Fault to keep, an undo function, or nothing to revert.
Outcome = Fault | Callable[[], None] | None


@dataclass(frozen=True)
class Action:
    """A command of the vocabulary."""

    name: str
    params: tuple[Param, ...]
    summary: str
    example: str
    run: Callable[[Any, dict[str, Any]], Outcome]
    #: The last parameter takes every remaining word (labels, a message).
    rest: bool = False

    @property
    def usage(self) -> str:
        """``fill-disk SERVICE PCT``."""
        parts = [self.name]
        for index, param in enumerate(self.params):
            text = param.name + ("…" if self.rest and index == len(self.params) - 1 else "")
            parts.append(f"[{text}]" if param.optional else text)
        return " ".join(parts)

    def parse(self, words: list[str]) -> dict[str, Any]:
        """Check and type the words after the command's name."""
        required = sum(not p.optional for p in self.params)
        too_many = len(words) > len(self.params) and not self.rest
        if len(words) < required or too_many:
            raise StepError(f"`{self.name}` takes {self.usage.split(' ', 1)[1] if self.params else 'nothing'}"
                            f", not {len(words)} argument(s): {' '.join(words) or '(none)'}",
                            f"e.g. alertdrill inject {self.example}")
        values: dict[str, Any] = {}
        for index, param in enumerate(self.params):
            if self.rest and index == len(self.params) - 1:
                chunk = words[index:]
                if not chunk:
                    continue
                word = ", ".join(chunk) if param.kind == "labels" else " ".join(chunk)
            elif index < len(words):
                word = words[index]
            else:
                continue
            values[param.name] = param.read(word)
        return values


def _silence(drill: Any, v: dict[str, Any]) -> Outcome:
    from alertdrill.engine.silences import Matcher

    matchers = [Matcher(name, "=", value) for name, value in v["LABELS"].items()]
    drill.create_silence(matchers, v["DURATION"], v["AUTHOR"], v["COMMENT"])
    return lambda: drill.remove_silence(matchers)


def _push(drill: Any, v: dict[str, Any]) -> Outcome:
    name, labels = v["ALERT"], v.get("LABELS", {})
    drill.push_alert(name, labels)
    return lambda: drill.push_alert(name, labels, resolved=True)


ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action("stop", (SERVICE,), "stop a service (SIGTERM) until started again", "stop web",
           lambda d, v: d.stop_service(v["SERVICE"], how="stop")),
    Action("kill", (SERVICE,), "kill a service (SIGKILL) until started again", "kill alertmanager-1",
           lambda d, v: d.stop_service(v["SERVICE"], how="kill")),
    Action("start", (SERVICE,), "start a service this GameDay stopped or killed", "start web",
           lambda d, v: d.start_service(v["SERVICE"])),
    Action("pause", (SERVICE,), "freeze a service (SIGSTOP): connections hang", "pause web",
           lambda d, v: d.pause_service(v["SERVICE"])),
    Action("resume", (SERVICE,), "unfreeze a paused service (SIGCONT)", "resume web",
           lambda d, v: d.resume_service(v["SERVICE"])),
    Action("restart", (SERVICE,), "stop and start a service at once", "restart alertmanager-0",
           lambda d, v: d.restart_service(v["SERVICE"])),
    Action("fill-disk", (SERVICE, Param("PCT", "percent", "a percentage, 1…100")),
           "fill the stack's own small filesystem of a node-exporter service", "fill-disk node-exporter 95",
           lambda d, v: d.fill_disk(v["SERVICE"], v["PCT"])),
    Action("free-disk", (SERVICE,), "delete what fill-disk wrote", "free-disk node-exporter",
           lambda d, v: d.free_disk(v["SERVICE"])),
    Action("flood-log", (SERVICE, Param("RATE", "positive", "lines per measured second"),
                         Param("LEVEL", "level", "a log level word, e.g. CRITICAL"),
                         Param("DURATION", "duration", "a real-world duration: 1m, 30s, '2 minutes'"),
                         Param("MESSAGE", "text", "the log line's text", optional=True)),
           "append real lines to an app's log (mtail counts them)",
           "flood-log api-service 50 CRITICAL 1m payment failed",
           lambda d, v: d.flood_log(v["SERVICE"], v["LEVEL"], v["RATE"], v["DURATION"],
                                    v.get("MESSAGE")), rest=True),
    Action("latency", (SERVICE, Param("SECONDS", "positive", "literal seconds per request")),
           "every request of an app takes this long", "latency api-service 2",
           lambda d, v: d.control_target(v["SERVICE"], latency=v["SECONDS"])),
    Action("5xx", (SERVICE, Param("PCT", "percent", "the share of requests that fail, 0…100")),
           "that share of an app's requests fail with HTTP 500", "5xx api-service 50",
           lambda d, v: d.control_target(v["SERVICE"], error_rate=v["PCT"] / 100)),
    Action("pool", (SERVICE, Param("PCT", "percent", "the share of the app's pool checked out")),
           "leak connections from an app's pool", "pool api-service 95",
           lambda d, v: d.use_pool(v["SERVICE"], v["PCT"])),
    Action("restore", (SERVICE,), "an app behaves normally again (latency, 5xx, pool)",
           "restore api-service", lambda d, v: d.restore_target(v["SERVICE"])),
    Action("certificate", (SERVICE, Param("DAYS", "days", "calendar days until expiry (negative: expired)")),
           "a TLS endpoint serves a certificate expiring in DAYS", "certificate cartorio-tls 10",
           lambda d, v: d.issue_certificate(v["SERVICE"], v["DAYS"])),
    Action("restore-certificate", (SERVICE,), "the TLS endpoint serves its previous certificate",
           "restore-certificate cartorio-tls", lambda d, v: d.restore_certificate(v["SERVICE"])),
    Action("break-receiver", (RECEIVER,
                              Param("INTEGRATION", "integration", f"one of {', '.join(INTEGRATIONS)}, or "
                                    "KIND[i] for one of them (webhook[1]: the second webhook)"),
                              Param("FAILURE", "failure", f"one of {', '.join(RECEIVER_FAILURES)}")),
           "one integration of a receiver fails at the sink", 'break-receiver team-web slack "http 500"',
           lambda d, v: d.break_receiver(v["RECEIVER"], v["INTEGRATION"][0], v["FAILURE"],
                                          index=v["INTEGRATION"][1]),
           rest=True),
    Action("heal", (RECEIVER,), "every broken integration of the receiver answers again",
           "heal team-web", lambda d, v: d.heal_receiver(v["RECEIVER"])),
    Action("silence", (Param("AUTHOR", "name", "who creates it"),
                       Param("DURATION", "duration", "its real-world length: 15m, '2 hours'"),
                       Param("COMMENT", "text", "why (the on-call guide requires one)"), LABELS),
           "create a silence (author, length, comment, matchers) until reverted",
           'silence ana 15m "INC-42 deploy" alertname=TargetDown', _silence, rest=True),
    Action("push", (Param("ALERT", "name", "the alertname"),
                    Param(LABELS.name, LABELS.kind, LABELS.help, optional=True)),
           "send an alert to every Alertmanager peer, as Prometheus would; revert resolves it",
           "push DiskFull severity=critical team=ops", _push, rest=True),
)}

def parse(words: list[str]) -> tuple[Action, dict[str, Any]]:
    """``["stop", "web"]`` → (the action, its typed values); StepError with a hint otherwise."""
    if not words:
        raise StepError("no fault named", "see `alertdrill inject --list`")
    name, args = words[0], list(words[1:])
    action = ACTIONS.get(name)
    if action is None:
        from difflib import get_close_matches

        close = get_close_matches(name, list(ACTIONS), n=3)
        raise StepError(f"unknown fault {name!r}",
                        (f"did you mean: {', '.join(close)}? " if close else "")
                        + "see `alertdrill inject --list`")
    return action, action.parse(args)


def listing() -> str:
    """The vocabulary, one command a line with its meaning and an example."""
    width = max(len(a.usage) for a in ACTIONS.values())
    lines = []
    for action in ACTIONS.values():
        lines.append(f"  {action.usage:<{width}}  {action.summary}")
    lines.append("")
    lines.append("examples:")
    lines += [f"  alertdrill inject {a.example}" for a in ACTIONS.values()]
    return "\n".join(lines)


class Injections:
    """The commands applied to one GameDay's drill, by id (thread-safe reads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[Injection] = []

    def apply(self, drill: Any, words: list[str]) -> Injection:
        """Parse and apply a command to ``drill``; call from the thread that owns the stack."""
        action, values = parse(words)
        outcome = action.run(drill, values)
        fault = outcome if isinstance(outcome, Fault) else None
        undo = None if isinstance(outcome, Fault) else outcome
        with self._lock:
            injection = Injection(id=len(self._items) + 1, action=action.name, words=list(words),
                                  t=drill.timeline.now(), name=fault.name if fault else
                                  " ".join(words), fault=fault, undo=undo)
            self._items.append(injection)
        return injection

    def revert(self, ident: int | None = None, every: bool = False) -> list[Injection]:
        """Revert injection ``ident``, every active one (newest first), or the latest active."""
        with self._lock:
            active = [i for i in reversed(self._items) if i.active]
            by_id = {i.id: i for i in self._items}
        if every:
            chosen = active
        elif ident is not None:
            if ident not in by_id:
                raise StepError(f"no injection #{ident}",
                                f"injections: {', '.join(str(i) for i in sorted(by_id)) or 'none'}")
            if not by_id[ident].revertible:
                raise StepError(f"#{ident} ({by_id[ident].name}) leaves nothing to revert")
            if not by_id[ident].active:
                raise StepError(f"#{ident} ({by_id[ident].name}) is already reverted")
            chosen = [by_id[ident]]
        else:
            if not active:
                raise StepError("nothing to revert: no fault is active")
            chosen = active[:1]
        for injection in chosen:
            injection.revert()
        return chosen

    def to_json(self) -> list[dict[str, Any]]:
        """Every injection, oldest first."""
        with self._lock:
            return [i.to_json() for i in self._items]

    def steps(self) -> list[tuple[str, float]]:
        """(text, monotonic-ish time) pairs for the GameDay's record: what the operator did."""
        with self._lock:
            return [(" ".join(i.words), i.t) for i in self._items]
