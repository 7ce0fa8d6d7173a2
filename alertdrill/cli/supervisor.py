"""The GameDay supervisor: one detached process that owns a running stack until ``down``.

``alertdrill up`` starts it (``python -m alertdrill.cli.supervisor``) in a session of its own, so
it outlives the terminal that typed ``up``; the stack's processes stay tied to *it*
(PR_SET_PDEATHSIG, see alertdrill.backends.process), so if it dies they die. It owns a
:class:`~alertdrill.engine.drill.Drill` — the observer polling Prometheus, every Alertmanager peer and
the sink onto one timeline — and serves a small control API on 127.0.0.1:

=================  ==============================================================
``GET /state``      stack, URLs, settings, every injection and whether it is active
``GET /events``     timeline events in recording order from ``?since=N``; ``next``
``POST /inject``    ``{"words": ["stop", "web"]}`` → the injection (see gameday.py)
``POST /revert``    ``{"id": 3}``, ``{"all": true}`` or ``{}`` (the latest active)
``POST /down``      revert everything, write the GameDay record, stop, exit
=================  ==============================================================

Every request carries the token of the state file (``X-Alertdrill-Token``), which only its owner
can read. Every action runs on the supervisor's **main thread** (the HTTP threads queue them):
PR_SET_PDEATHSIG fires when the *thread* that spawned a child ends, so a service restarted
from a short-lived request thread would be killed as soon as that request ended.

The state file (``$ALERTDRILL_STATE_DIR/gameday.json``, default ``~/.alertdrill``) says where
the API is; it exists from start-up until the supervisor has stopped the stack.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import queue
import secrets
import sys
import threading
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from alertdrill.backends import process
from alertdrill.errors import AlertdrillError
from alertdrill.kinds.capabilities import CertificateHolder

logger = logging.getLogger("alertdrill.cli.supervisor")

STATE_SCHEMA = "alertdrill.engine.gameday/1"
STATE_FILE = "gameday.json"
LOG_FILE = "gameday.log"
TOKEN_HEADER = "X-Alertdrill-Token"


def state_dir() -> Path:
    """Where the GameDay state file and the supervisor's log live."""
    return Path(os.environ.get("ALERTDRILL_STATE_DIR") or Path.home() / ".alertdrill").expanduser()


def state_path() -> Path:
    """The state file of the (one) GameDay of this state directory."""
    return state_dir() / STATE_FILE


def write_state(path: Path, state: dict[str, Any]) -> None:
    """Atomically, readable by its owner only (it holds the API token)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(state, out, indent=1)
    tmp.replace(path)


def read_state(path: Path) -> dict[str, Any] | None:
    """The state file's content, or None when there is none (or it is unreadable)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("schema") == STATE_SCHEMA else None


class _Call:
    """An action queued for the main thread, and its answer."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.fn = fn
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None


class Supervisor:
    """Starts the stack, serves the API, and on ``down`` (or a signal) cleans everything up."""

    def __init__(self, stack_dir: Path, settings: Any, report_dir: Path, state: Path) -> None:
        self.stack_dir = stack_dir
        self.settings = settings
        self.report_dir = report_dir
        self.state_file = state
        self.token = secrets.token_urlsafe(24)
        self.calls: queue.Queue[_Call] = queue.Queue()
        self.stopping = threading.Event()
        self.drill: Any = None
        self.injections: Any = None
        self.operations: list[tuple[str, float]] = []
        self.started_wall = time.time()
        self.started_monotonic = time.monotonic()
        self.state: dict[str, Any] = {}
        self.server: ThreadingHTTPServer | None = None
        self.record_path: Path | None = None
        self.answered = threading.Event()
        self._closed = False
        self._redactor: Any = None

    # -- lifecycle --------------------------------------------------------------------------
    def run(self) -> int:
        """Serve until ``down`` or a terminating signal; 0 when it ended as asked."""
        process.install_signal_handlers()
        rid = process.run_id()
        self.state = {"schema": STATE_SCHEMA, "status": "starting", "pid": os.getpid(),
                      "run_id": rid, "stack": self.stack_dir.name, "stack_dir": str(self.stack_dir),
                      "report_dir": str(self.report_dir), "time_scale": self.settings.time_scale,
                      "tolerance": self.settings.tolerance,
                      "started": datetime.fromtimestamp(self.started_wall, UTC).isoformat(),
                      "log": str(self.state_file.with_name(LOG_FILE))}
        write_state(self.state_file, self.state)
        status = 0
        try:
            self._start()
            self._serve()
            self.answered.wait(5)  # let the /down request's answer go out before exiting
        except KeyboardInterrupt as exc:
            logger.info("interrupted (%s): cleaning up", exc)
            status = 0 if self.stopping.is_set() else 1
        except AlertdrillError as exc:
            logger.error("%s", exc)
            self._fail(f"{type(exc).__name__}: {exc}")
            status = 1
        except Exception as exc:
            logger.exception("the supervisor failed")
            self._fail(f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}")
            status = 1
        finally:
            self._shutdown()
        return status

    def _fail(self, message: str) -> None:
        self.state.update(status="error", error=message)
        write_state(self.state_file, self.state)

    def _start(self) -> None:
        from alertdrill.backends import StackOptions, start_stack
        from alertdrill.engine.drill import Drill
        from alertdrill.engine.gameday import Injections
        from alertdrill.engine.stackspec import StackSpec
        from alertdrill.report.redact import Redactor, secrets_of_files

        spec = StackSpec.load(self.stack_dir)
        self.state["stack"] = spec.name
        self._redactor = Redactor(secrets_of_files([spec.alertmanager_config,
                                                    spec.prometheus_config]))
        stack = start_stack(self.settings.backend, spec, StackOptions.of(self.settings))
        self.drill = Drill(stack, self.settings).begin()
        self.injections = Injections()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, name="gameday-api",
                         daemon=True).start()
        port = self.server.server_address[1]
        self.state.update(status="up", api=f"http://127.0.0.1:{port}", token=self.token,
                          workdir=str(stack.workdir), urls=_urls(stack),
                          warnings=list(stack.warnings), services=stack.service_names())
        write_state(self.state_file, self.state)
        logger.info("GameDay up: %s, API on port %d", self.stack_dir, port)

    def _serve(self) -> None:
        """Run queued actions on this (the main) thread until asked to stop."""
        while not self.stopping.is_set():
            try:
                call = self.calls.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                call.result = call.fn()
            except BaseException as exc:  # answered to the caller, the GameDay goes on
                call.error = exc
                if isinstance(exc, KeyboardInterrupt):
                    raise
            finally:
                call.done.set()

    def _shutdown(self) -> None:
        """Revert every fault, write the record, stop the stack, remove the state file."""
        try:
            if self.drill is not None:
                self._close_drill()
        finally:
            try:
                if self.drill is not None:
                    self.drill.stack.close()
            finally:
                if self.server is not None:
                    self.server.shutdown()
                    self.server.server_close()
                if self.state.get("status") != "error":
                    self.state_file.unlink(missing_ok=True)
                process.cleanup_all()
                logger.info("GameDay ended")

    def _close_drill(self) -> list[dict[str, Any]]:
        if self._closed:
            return []
        self._closed = True
        reverted = []
        if self.injections is not None:
            try:
                reverted = [i.to_json() for i in self.injections.revert(every=True)]
            except Exception:
                logger.exception("reverting the GameDay's injections failed")
        for item in reverted:
            self.operations.append((f"revert #{item['id']} ({item['name']}) at down",
                                    self.drill.timeline.now()))
        self.drill.close()
        try:
            self.record_path = self._write_record()
        except Exception:
            logger.exception("writing the GameDay record failed")
        return reverted

    def _write_record(self) -> Path:
        from alertdrill.report.records import ScenarioInfo, StepInfo, build_record, write_record

        base = self.drill.timeline.base
        steps = [StepInfo("When", text, 0, outcome="passed", started=base + t, ended=base + t)
                 for text, t in self.operations]
        day = datetime.fromtimestamp(self.started_wall, UTC).strftime("%Y-%m-%d %H:%M UTC")
        name = str(self.state["stack"])
        info = ScenarioInfo(
            nodeid=f"gameday::{self.state['run_id']}", feature_name="GameDay",
            feature_file=f"gameday/{name}",
            scenario_name=f"GameDay on {name}, {day}", tags=["gameday"],
            outcome="passed", steps=steps, started_wall=self.started_wall,
            started_monotonic=self.started_monotonic,
            duration=time.monotonic() - self.started_monotonic)
        record = build_record(info, self.settings, [self.drill])
        return write_record(record, self.report_dir)

    # -- what the API does (on the main thread) ----------------------------------------------
    def call(self, fn: Callable[[], Any], timeout: float = 120.0) -> Any:
        """Run ``fn`` on the main thread and return its result (or raise its error)."""
        pending = _Call(fn)
        self.calls.put(pending)
        if not pending.done.wait(timeout):
            raise TimeoutError(f"the supervisor did not finish the action in {timeout:.0f} s")
        if pending.error is not None:
            raise pending.error
        return pending.result

    def inject(self, words: list[str]) -> dict[str, Any]:
        injection = self.injections.apply(self.drill, words)
        self.operations.append((f"inject #{injection.id}: {' '.join(words)}", injection.t))
        return dict(injection.to_json())

    def revert(self, ident: int | None, every: bool) -> list[dict[str, Any]]:
        done = self.injections.revert(ident, every)
        for item in done:
            self.operations.append((f"revert #{item.id} ({item.name})", self.drill.timeline.now()))
        return [i.to_json() for i in done]

    def down(self) -> dict[str, Any]:
        reverted = self._close_drill()
        self.drill.stack.close()
        self.stopping.set()
        return {"reverted": reverted,
                "record": str(self.record_path) if self.record_path else None,
                "report_dir": str(self.report_dir)}

    def snapshot(self) -> dict[str, Any]:
        """The state file's content (without the token) and live facts."""
        state = {k: v for k, v in self.state.items() if k != "token"}
        state["t"] = round(self.drill.timeline.now(), 3)
        state["injections"] = self.injections.to_json()
        state["observer_errors"] = self.drill.observer.errors
        state["running"] = {name: self.drill.stack.service(name).running()
                            for name in self.drill.stack.service_names()}
        return state

    def events(self, since: int) -> dict[str, Any]:
        found, following = self.drill.timeline.since(since)
        return {"events": self._redactor.scrub([e.to_json() for e in found]), "next": following}


def _urls(stack: Any) -> dict[str, str]:
    """Every address a GameDay operator may open, by service name."""
    urls = {"prometheus": stack.prometheus_url}
    for index, url in enumerate(stack.alertmanager_urls):
        urls[f"alertmanager-{index}"] = url
    urls["sink"] = stack.sink_url
    smtp = getattr(stack, "smtp_port", 0)
    if smtp:
        urls["sink (smtp)"] = f"smtp://127.0.0.1:{smtp}"
    for name in stack.service_names():
        if name in urls or name == "prometheus":
            continue
        service = stack.service(name)
        if getattr(service, "port", 0):
            tls = service.capability(CertificateHolder) is not None
            urls[name] = service.url.replace("http://", "https://") if tls else service.url
        elif getattr(service, "ready_check", None) is not None:
            urls[name] = "(unix socket in the workdir)"
    return urls


def _handler(sup: Supervisor) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "alertdrill-gameday/1"

        def log_message(self, fmt: str, *args: Any) -> None:
            logger.debug("api: " + fmt, *args)

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body, default=str).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _authorised(self) -> bool:
            if secrets.compare_digest(self.headers.get(TOKEN_HEADER, ""), sup.token):
                return True
            self._send(403, {"error": "missing or wrong token",
                             "hint": "the token is in the GameDay's state file"})
            return False

        def do_GET(self) -> None:
            if not self._authorised():
                return
            url = urlparse(self.path)
            try:
                if url.path == "/state":
                    self._send(200, sup.snapshot())
                elif url.path == "/events":
                    since = int((parse_qs(url.query).get("since") or ["0"])[0])
                    self._send(200, sup.events(since))
                else:
                    self._send(404, {"error": f"no such endpoint {url.path}"})
            except Exception as exc:
                self._send(500, {"error": f"{type(exc).__name__}: {exc}"})

        def do_POST(self) -> None:
            if not self._authorised():
                return
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                self._send(400, {"error": "the body is not JSON"})
                return
            path = urlparse(self.path).path
            try:
                if path == "/inject":
                    words = [str(w) for w in body.get("words") or []]
                    self._send(200, {"injection": sup.call(lambda: sup.inject(words))})
                elif path == "/revert":
                    ident = body.get("id")
                    every = bool(body.get("all"))
                    result = sup.call(lambda: sup.revert(None if ident is None else int(ident),
                                                         every))
                    self._send(200, {"reverted": result})
                elif path == "/down":
                    try:
                        self._send(200, sup.call(sup.down))
                    finally:
                        sup.answered.set()
                else:
                    self._send(404, {"error": f"no such endpoint {path}"})
            except AlertdrillError as exc:
                self._send(400, {"error": str(exc).split("\n  → ")[0], "hint": exc.hint,
                                 "kind": type(exc).__name__})
            except Exception as exc:
                logger.exception("action failed")
                self._send(500, {"error": f"{type(exc).__name__}: {exc}"})

    return Handler


class NotUp(AlertdrillError):
    """No GameDay is up in this state directory (or its supervisor is gone)."""


class Client:
    """The CLI's side of the control API, found through the state file."""

    def __init__(self, state: dict[str, Any], timeout: float = 120.0) -> None:
        self.state = state
        self.timeout = timeout

    @classmethod
    def connect(cls, path: Path | None = None) -> Client:
        """The running GameDay, or NotUp saying what to do."""
        path = path or state_path()
        state = read_state(path)
        if state is None:
            raise NotUp(f"no GameDay is up (no state file {path})",
                        "start one with: alertdrill up [--stack DIR]")
        if not supervisor_alive(state):
            raise NotUp(f"the GameDay supervisor (pid {state.get('pid')}) is gone",
                        "clean up what it left with: alertdrill down")
        if state.get("status") != "up":
            raise NotUp(f"the GameDay is {state.get('status')}, not up",
                        "wait for `alertdrill up` to finish, or see its log: "
                        f"{state.get('log')}")
        return cls(state)

    def request(self, method: str, path: str, body: dict[str, Any] | None = None,
                timeout: float | None = None) -> Any:
        """One API call; an AlertdrillError carrying the supervisor's own message on refusal."""
        import requests

        try:
            response = requests.request(method, self.state["api"] + path, json=body,
                                        headers={TOKEN_HEADER: self.state["token"]},
                                        timeout=timeout or self.timeout)
        except requests.RequestException as exc:
            raise NotUp(f"the GameDay supervisor does not answer: {exc}",
                        f"its log: {self.state.get('log')}") from None
        try:
            data = response.json()
        except ValueError:
            data = {"error": response.text[:300]}
        if not response.ok:
            raise _refusal(data)
        return data


def _refusal(data: dict[str, Any]) -> AlertdrillError:
    """The supervisor's error as the class it raised (a bad fault argument stays a usage
    error, for the CLI's exit status)."""
    from alertdrill import errors
    kind = getattr(errors, str(data.get("kind")), None)
    if not (isinstance(kind, type) and issubclass(kind, AlertdrillError)):
        kind = AlertdrillError
    return kind(str(data.get("error")), str(data.get("hint") or ""))


def supervisor_alive(state: dict[str, Any]) -> bool:
    """True when the state file's supervisor process still runs (not a reused pid)."""
    import psutil

    pid = state.get("pid")
    if not isinstance(pid, int):
        return False
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return "alertdrill.cli.supervisor" in " ".join(proc.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def main(argv: list[str] | None = None) -> int:
    """``python -m alertdrill.cli.supervisor``: what ``alertdrill up`` starts in the background."""
    from alertdrill.settingoptions import STACK_SETTINGS, add_options, given
    from alertdrill.settings import Settings

    parser = argparse.ArgumentParser(prog="alertdrill-supervisor")
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--stack", type=Path, required=True)
    parser.add_argument("--report-dir", type=Path, required=True)
    add_options(parser.add_argument, STACK_SETTINGS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env(**given(args, STACK_SETTINGS))
    except AlertdrillError as exc:
        write_state(args.state, {"schema": STATE_SCHEMA, "status": "error", "pid": os.getpid(),
                                 "error": str(exc)})
        return 1
    return Supervisor(args.stack.resolve(), settings, args.report_dir.resolve(), args.state).run()


if __name__ == "__main__":
    sys.exit(main())
