"""The GameDay from the command line: ``alertdrill up`` starts the supervisor (a process of its
own, so the stack outlives the command), ``down`` stops it (or cleans up after a dead one),
``inject``/``revert`` talk to its control API, ``watch`` draws its timeline.

Process handling lives here, not in the CLI's parser module: cli.py parses and dispatches.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from alertdrill.text import plural


def up(args: argparse.Namespace) -> int:
    import subprocess
    import time

    from alertdrill.cli.supervisor import LOG_FILE, read_state, state_path, supervisor_alive
    from alertdrill.settingoptions import STACK_SETTINGS, as_flags, given
    from alertdrill.settings import Settings, resolve_stack_dir

    # Bad input is refused before anything is touched (a dead GameDay's leftovers included).
    stack = resolve_stack_dir(args.stack, [Path.cwd()])
    overrides = given(args, STACK_SETTINGS)
    settings = Settings.from_env(**overrides)
    path = state_path()
    state = read_state(path)
    if state is not None and supervisor_alive(state):
        print(f"alertdrill: a GameDay is already up (stack {state.get('stack')}, supervisor pid "
              f"{state.get('pid')})\n  → alertdrill down  stops it (state file {path})",
              file=sys.stderr)
        return 1
    if state is not None:
        print(f"a previous GameDay's supervisor (pid {state.get('pid')}) is gone; cleaning up "
              "after it first")
        clean_dead(state, path)
    report_dir = (args.report_dir or Path(Settings.from_env().report_dir or "reports/gameday"))
    report_dir = report_dir.expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    log_path = path.with_name(LOG_FILE)
    argv = [sys.executable, "-m", "alertdrill.cli.supervisor", "--state", str(path),
            "--stack", str(stack), "--report-dir", str(report_dir)]
    argv += as_flags(overrides)
    print(f"starting stack {stack.name} ({stack}) at K={settings.time_scale:g} …", flush=True)
    with open(log_path, "ab") as log:
        child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                 stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        state = read_state(path)
        if state is not None and state.get("status") == "up":
            print_up(state, path)
            return 0
        if (state is not None and state.get("status") == "error") or child.poll() is not None:
            time.sleep(0.2)
            state = read_state(path) or {}
            error = state.get("error") or log_tail(log_path)
            print(f"alertdrill: the stack did not come up:\n{error}", file=sys.stderr)
            if child.poll() is None:
                child.wait(30)
            path.unlink(missing_ok=True)
            return 1
        time.sleep(0.1)
    print(f"alertdrill: the stack was not usable within {args.timeout:g} s; stopping it "
          f"(log: {log_path})", file=sys.stderr)
    child.terminate()
    try:
        child.wait(30)
    except subprocess.TimeoutExpired:
        child.kill()
    path.unlink(missing_ok=True)
    return 1


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def print_up(state: dict, path: Path) -> None:
    urls: dict[str, str] = state.get("urls") or {}
    width = max((len(k) for k in urls), default=10)
    print(f"GameDay up: stack {state['stack']} · K={state['time_scale']:g} (one real-world "
          f"minute = {60 / float(state['time_scale']):g} s) · run {state['run_id']}")
    for name, url in urls.items():
        print(f"  {name:<{width}}  {url}")
    warnings = state.get("warnings") or []
    if warnings:
        print(f"{plural(len(warnings), 'start-up warning')} (on the timeline; `alertdrill watch` "
              "counts them):")
        for warning in warnings[:5]:
            print(f"  ! {warning}")
    print(f"supervisor pid {state['pid']} · control API {state['api']} (token in {path}) · "
          f"log {state.get('log')}")
    print("next:")
    print("  alertdrill watch               live view: alerts, notifications, faults")
    print("  alertdrill inject --list       the faults; e.g. alertdrill inject stop <service>")
    print("  alertdrill revert [ID|--all]   undo a fault")
    print(f"  alertdrill down                revert everything, write the record to "
          f"{state['report_dir']}, stop the stack")
    print(f"  alertdrill report --from {state['report_dir']} --out {state['report_dir']}"
          "   the debrief, after down")


def clean_dead(state: dict, path: Path) -> list[str]:
    """What a dead supervisor left: its run's processes and temp dirs; then its state file."""
    from alertdrill.backends import leftovers
    done: list[str] = []
    rid = state.get("run_id")
    if rid:
        done = leftovers.remove(leftovers.find(str(rid)))
    workdir = state.get("workdir")
    if workdir and Path(workdir).is_dir():
        found = leftovers.Found(tempdirs=[Path(workdir)])
        found.mounts = leftovers._mounts_inside(found.tempdirs)
        done += leftovers.remove(found)
    path.unlink(missing_ok=True)
    return done


def down(every: bool) -> int:
    import time

    from alertdrill.backends import leftovers
    from alertdrill.cli.supervisor import Client, read_state, state_path, supervisor_alive

    path = state_path()
    state = read_state(path)
    status = 0
    if state is None:
        print(f"no GameDay is up (no state file {path}); nothing to stop")
    elif not supervisor_alive(state):
        done = clean_dead(state, path)
        print(f"the GameDay supervisor (pid {state.get('pid')}) had died: no record was written "
              "(its timeline died with it); cleaned up after it:")
        for line in done or ["nothing was left"]:
            print(f"  {line}")
    else:
        client = Client(state)
        result = client.request("POST", "/down", {}, timeout=180)
        for item in result.get("reverted") or []:
            print(f"reverted #{item['id']}: {item['name']}")
        pid = int(state["pid"])
        deadline = time.monotonic() + 30
        while supervisor_alive(state) and time.monotonic() < deadline:
            time.sleep(0.1)
        if supervisor_alive(state):
            import signal

            print(f"the supervisor (pid {pid}) did not exit; sending SIGTERM", file=sys.stderr)
            os.kill(pid, signal.SIGTERM)
            status = 1
        path.unlink(missing_ok=True)
        print(f"GameDay on {state.get('stack')} is down: every process stopped, temp dirs removed")
        if result.get("record"):
            print(f"record: {result['record']}")
            print(f"debrief: alertdrill report --from {result['report_dir']} --out "
                  f"{result['report_dir']}")
        else:
            print("the GameDay record could not be written (see the supervisor's log: "
                  f"{state.get('log')})")
            status = 1
    if every:
        found = leftovers.find()
        done = leftovers.remove(found)
        try:
            done += leftovers.docker_leftovers()
        except Exception as exc:  # the Docker backend's own cleanup: report, go on
            done.append(f"Docker leftovers not removed: {exc}")
        print("leftovers of crashed runs:" if done else "no leftovers of crashed runs")
        for line in done + found.notes:
            print(f"  {line}")
    return status


def inject(words: list[str], show_list: bool) -> int:
    from alertdrill.cli.supervisor import Client
    from alertdrill.engine.gameday import listing, parse

    if show_list or not words:
        print("faults (alertdrill inject FAULT ARGS…):")
        print(listing())
        return 0
    parse(words)  # a typo fails here, before anything is sent
    client = Client.connect()
    item = client.request("POST", "/inject", {"words": words})["injection"]
    how = (f"revert with: alertdrill revert {item['id']}" if item["revertible"]
           else "nothing to revert")
    print(f"#{item['id']} applied at t=+{item['t']:.3f}s: {item['name']}  ({how})")
    return 0


def revert(ident: int | None, every: bool) -> int:
    from alertdrill.cli.supervisor import Client

    client = Client.connect()
    done = client.request("POST", "/revert", {"id": ident, "all": every})["reverted"]
    if not done:
        print("nothing was active")
    for item in done:
        print(f"reverted #{item['id']}: {item['name']}")
    return 0


def watch(once: bool, interval: float) -> int:
    import shutil
    import time

    from alertdrill.cli.supervisor import Client, NotUp
    from alertdrill.cli.watch import View, render

    client = Client.connect()
    view = View()
    position = 0
    tty = sys.stdout.isatty() and not once
    try:
        while True:
            try:
                state = client.request("GET", "/state", timeout=5)
                while True:
                    page = client.request("GET", f"/events?since={position}", timeout=5)
                    view.fold(page["events"])
                    if page["next"] == position or not page["events"]:
                        position = page["next"]
                        break
                    position = page["next"]
            except NotUp:
                print("\nthe GameDay has ended (alertdrill down); the debrief: alertdrill report "
                      f"--from {client.state.get('report_dir')}")
                return 0
            width = shutil.get_terminal_size((100, 40)).columns
            text = render(view, state, colour=tty, width=width)
            if once:
                print(text)
                return 0
            sys.stdout.write("\x1b[H\x1b[2J" + text + "\n\n(Ctrl-C to leave; the stack keeps "
                             "running)\n")
            sys.stdout.flush()
            time.sleep(interval)
    except KeyboardInterrupt:
        print()
        return 0
