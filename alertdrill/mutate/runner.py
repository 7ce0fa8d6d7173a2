"""``alertdrill mutate``: make the mutants, set the equivalent ones aside, validate the rest
with the real tools and run the scenarios that could see each one, N at a time.

Each mutant runs in a temp directory of its own (a copy of the stack with the one change,
named as the stack is so that ``Given the stack "NAME" is running`` finds it first, through
``ALERTDRILL_STACK_DIRS``), as a child ``alertdrill run -x`` restricted and ordered by the
:mod:`alertdrill.mutate.order` plugin. The children get a session of their own, so a Ctrl-C
reaches this process only; it forwards one SIGTERM to each child, waits for it to take its
stack down, and removes every temp directory — on every exit path. SIGTERM and SIGHUP
unwind like Ctrl-C (what stops a mutate started in the background of a script, where SIGINT
is ignored), and the children are stopped with SIGTERM for the same reason.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from alertdrill.engine.stackspec import StackSpec
from alertdrill.errors import ConfigError
from alertdrill.mutate import selection
from alertdrill.mutate.equivalence import judge_all
from alertdrill.mutate.model import Mutant
from alertdrill.mutate.operators import counts, generate, parse_operators
from alertdrill.mutate.order import ENV as ORDER_ENV
from alertdrill.mutate.report import Outcome, Result
from alertdrill.text import plural

_TOOL_TIMEOUT = 60
#: How long an interrupted child may take to take its stack down before it is killed.
_STOP_GRACE = 60.0


@dataclass
class MutateOptions:
    """Everything ``alertdrill mutate`` was told."""

    stack: str
    features: list[Path]
    operators: str | None = None
    mutants: str | None = None
    parallel: int = 1
    min_score: float | None = None
    list_only: bool = False
    report_dir: Path = Path("reports") / "mutate"
    #: Earlier records (``alertdrill run``'s ``reports/drill``) to order scenarios by.
    records: list[Path] = field(default_factory=list)
    #: Seconds one mutant's run may take before it is stopped (and counted as an error).
    timeout: float = 1800.0
    #: Run the stack's scenarios on an unmutated copy first and leave out those that fail.
    baseline: bool = False


@dataclass
class Plan:
    """What a mutate run works on, all checked before anything starts."""

    spec: StackSpec
    features: list[Path]
    mutants: list[Mutant]
    scenarios: list[selection.Scenario]
    names: selection.StackNames

    def selected(self, mutant: Mutant) -> list[selection.Scenario]:
        """The scenarios that could see ``mutant``, in file order."""
        return [s for s in self.scenarios
                if selection.sees(s, mutant, self.spec.root.name, self.names)]


def plan(options: MutateOptions) -> Plan:
    """Read and check everything; a bad option is a ConfigError before anything runs."""
    from alertdrill.cli.featurecheck import feature_files
    from alertdrill.settings import resolve_stack_dir

    if options.parallel < 1:
        raise ConfigError(f"--parallel must be 1 or more, not {options.parallel}")
    if options.min_score is not None and not 0 <= options.min_score <= 1:
        raise ConfigError(f"--min-score must be within 0…1, not {options.min_score:g}",
                          "e.g. --min-score 0.8 (80 % of the non-equivalent, valid mutants)")
    if not options.features:
        raise ConfigError("mutate needs the suite to score: --features DIR",
                          "alertdrill mutate --stack monitoring --features features")
    operators = parse_operators(options.operators)
    spec = StackSpec.load(resolve_stack_dir(options.stack, [Path.cwd()]))
    files = feature_files(options.features)
    if not files:
        raise ConfigError(f"no .feature file in {', '.join(map(str, options.features))}")
    mutants = generate(spec, operators)
    if options.mutants:
        wanted = [m.strip() for m in options.mutants.split(",") if m.strip()]
        unknown = [w for w in wanted if w not in {m.id for m in mutants}]
        if unknown:
            raise ConfigError(f"--mutants: no mutant {', '.join(unknown)} (of these operators)",
                              "alertdrill mutate --list shows every mutant's id")
        mutants = [m for m in mutants if m.id in wanted]
    judge_all(spec, mutants)
    return Plan(spec, files, mutants, selection.read_scenarios(files),
                selection.StackNames.of(spec))


def listing(p: Plan) -> str:
    """``--list``: every mutant, what the static view says of it, and the counts."""
    lines = []
    for m in p.mutants:
        state = "equivalent" if m.equivalent else f"{plural(len(p.selected(m)), 'scenario')}"
        lines.append(f"{m.id}  {m.operator:<22} {m.file}:{m.site.line}  {m.description}  "
                     f"[{state}]")
    lines.append("")
    lines.append(f"{'operator':<24}{'mutants':>8}{'equivalent':>12}")
    equivalent = counts(m for m in p.mutants if m.equivalent)
    for name, n in counts(p.mutants).items():
        lines.append(f"{name:<24}{n:>8}{equivalent.get(name, 0):>12}")
    total_eq = sum(equivalent.values())
    lines.append(f"{'total':<24}{len(p.mutants):>8}{total_eq:>12}")
    lines.append(f"{p.spec.root}: {plural(len(p.mutants), 'mutant')}, {total_eq} proven "
                 f"equivalent (not run), {len(p.mutants) - total_eq} to validate and run")
    return "\n".join(lines)


# -- validation -----------------------------------------------------------------------------------
def validate(stack: Path, mutant: Mutant | None, spec: StackSpec) -> str | None:
    """The real tool's complaint about the (mutated) stack copy at ``stack``; None if valid.

    amtool check-config for alertmanager.yml and its templates, promtool check rules for a
    rule file — only the tool of the file that changed (all of them for the original).
    """
    from alertdrill.backends.binaries import find_binary

    checks: list[list[str]] = []
    am = stack / spec.alertmanager_config.relative_to(spec.root)
    rules = [stack / p.relative_to(spec.root) for p in spec.rule_files]
    scope = mutant.site.scope if mutant else None
    if scope in (None, "routing", "inhibition", "receiver", "template"):
        checks.append([find_binary("amtool"), "check-config", str(am)])
    if scope in (None, "rule"):
        targets = rules if mutant is None else [stack / mutant.file]
        checks.append([find_binary("promtool"), "check", "rules", *map(str, targets)])
    for argv in checks:
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=_TOOL_TIMEOUT,
                                  check=False, cwd=stack)
        except subprocess.TimeoutExpired:
            return f"{Path(argv[0]).name} did not answer within {_TOOL_TIMEOUT} s"
        if done.returncode != 0:
            text = f"{done.stdout}\n{done.stderr}".replace(str(stack) + "/", "")
            return f"{Path(argv[0]).name}: {_tool_reason(text)}"
    return None


def _tool_reason(output: str) -> str:
    """The lines of a tool's output that say what is wrong (after its ``FAILED:``)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for index, line in enumerate(lines):
        if line.startswith("FAILED"):
            reason = [line.removeprefix("FAILED:").strip(), *lines[index + 1:index + 3]]
            return " / ".join(r for r in reason if r and not r.startswith("amtool: error"))
    return _last_lines(output, 3)


def _last_lines(text: str, n: int) -> str:
    return " / ".join(line.strip() for line in text.splitlines()[-n:] if line.strip())


# -- running ----------------------------------------------------------------------------------------
class _Runner:
    """Runs mutants in child processes; owns them and their temp dirs."""

    def __init__(self, p: Plan, options: MutateOptions, workdir: Path, out: TextIO) -> None:
        self.plan = p
        self.options = options
        self.workdir = workdir
        self.out = out
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.children: dict[int, subprocess.Popen[bytes]] = {}
        self.known = selection.durations(options.records)
        #: (feature file name, scenario name) → mutants it killed so far in this run.
        self.kills: dict[tuple[str, str], int] = {}

    def run_one(self, mutant: Mutant) -> Outcome:
        started = time.monotonic()
        home = self.workdir / mutant.id
        try:
            return self._run(mutant, home, started)
        finally:
            shutil.rmtree(home, ignore_errors=True)

    def _run(self, mutant: Mutant, home: Path, started: float) -> Outcome:
        spec = self.plan.spec
        if self.stop.is_set():
            return Outcome(mutant, "interrupted")
        stack = home / spec.root.name
        shutil.copytree(spec.root, stack, symlinks=True)
        (stack / mutant.file).write_text(mutant.after, encoding="utf-8")
        complaint = validate(stack, mutant, spec)
        if complaint:
            return Outcome(mutant, "invalid", message=complaint,
                           seconds=time.monotonic() - started)
        chosen = self.plan.selected(mutant)
        if not chosen:
            return Outcome(mutant, "survived", message="no scenario could see it (none starts "
                           "this stack and names what it changes)",
                           seconds=time.monotonic() - started)
        with self.lock:
            chosen = selection.ordered(chosen, self.known, self.kills)
        status, records, log = self._spawn(home, stack, chosen, fail_fast=True)
        outcome = _outcome(mutant, status, records, log, [s.name for s in chosen])
        if outcome.status == "killed" and outcome.by == "claim":
            with self.lock:
                killer = (Path(outcome.feature).name, outcome.scenario)
                self.kills[killer] = self.kills.get(killer, 0) + 1
        outcome.seconds = time.monotonic() - started
        return outcome

    def _spawn(self, home: Path, stack: Path, chosen: Sequence[selection.Scenario],
               fail_fast: bool) -> tuple[int | None, Path, Path]:
        """Run ``chosen`` against the copy ``stack`` in a child ``alertdrill run``:
        (exit status — None when stopped for the timeout —, its records, its log)."""
        listing_file = home / "scenarios.json"
        listing_file.write_text(json.dumps([list(s.key) for s in chosen]))
        reports = home / "reports"
        env = {**os.environ, ORDER_ENV: str(listing_file),
               "ALERTDRILL_STACK_DIRS": os.pathsep.join(
                   p for p in (str(home), os.environ.get("ALERTDRILL_STACK_DIRS", "")) if p)}
        env.pop("ALERTDRILL_REPORT_DIR", None)
        argv = [sys.executable, "-m", "alertdrill.cli", "run", *map(str, self.plan.features),
                "--stack", str(stack), "--report-dir", str(reports),
                *(["-x"] if fail_fast else []), "--", "-p", "alertdrill.mutate.order"]
        log = home / "run.log"
        with log.open("wb") as sink:
            child = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)
            with self.lock:
                self.children[child.pid] = child
            try:
                status = self._wait(child)
            finally:
                with self.lock:
                    self.children.pop(child.pid, None)
        with self.lock:
            self.known.update(selection.durations([reports / "drill"]))
        return status, reports / "drill", log

    def baseline(self) -> tuple[set[tuple[str, str]], int]:
        """Run every scenario of the stack on an unmutated copy: the ones that fail without
        any mutant (they would "kill" every mutant) as (feature file name, scenario name),
        and how many ran."""
        from alertdrill.report.records import load_records

        home = self.workdir / "baseline"
        stack = home / self.plan.spec.root.name
        try:
            shutil.copytree(self.plan.spec.root, stack, symlinks=True)
            chosen = [s for s in self.plan.scenarios
                      if s.stacks & {"", self.plan.spec.root.name}]
            if not chosen:
                return set(), 0
            status, records, _log = self._spawn(home, stack, chosen, fail_fast=False)
            if status == 2 or self.stop.is_set():
                raise KeyboardInterrupt
            found = load_records(records) if records.is_dir() else []
            return ({(Path(str(r.get("feature", {}).get("file", ""))).name,
                      str(r.get("scenario", {}).get("name"))) for r in found
                     if r.get("outcome") in ("failed", "error")}, len(found))
        finally:
            shutil.rmtree(home, ignore_errors=True)

    def _wait(self, child: subprocess.Popen[bytes]) -> int | None:
        """The child's exit status; None when it overran ``--timeout`` and was stopped. An
        interrupt (the stop event, from a worker thread; Ctrl-C, in the main thread) stops it
        with exactly one SIGTERM: a second one could cut its own cleanup short."""
        deadline = time.monotonic() + self.options.timeout
        while True:
            try:
                return child.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                if self.stop.is_set():
                    return _stop(child)
                if time.monotonic() > deadline:
                    _stop(child)
                    return None
            except KeyboardInterrupt:
                self.stop.set()
                _stop(child)
                raise

    def interrupt(self) -> None:
        """Stop starting mutants; every worker stops its running child (one SIGTERM each)."""
        self.stop.set()


def _stop(child: subprocess.Popen[bytes]) -> int:
    """SIGTERM (the child takes its stacks down), then SIGKILL after the grace period.

    SIGTERM, not SIGINT: a mutate started in the background of a script runs with SIGINT
    ignored, its children inherit that, and an ``alertdrill run`` started so keeps ignoring it
    by design — a forwarded SIGINT would be lost and the stacks would run on."""
    if child.poll() is None:
        try:
            child.send_signal(signal.SIGTERM)
            return child.wait(timeout=_STOP_GRACE)
        except subprocess.TimeoutExpired:
            child.kill()
        except ProcessLookupError:
            pass
    return child.wait()


def _outcome(mutant: Mutant, status: int | None, records: Path, log: Path,
             scenarios: Sequence[str]) -> Outcome:
    """Killed (by a failed claim, or by an error), survived, or an error of the run itself."""
    from alertdrill.report.records import load_records

    found = load_records(records) if records.is_dir() else []
    ran = [str(r.get("scenario", {}).get("name")) for r in found]
    failed = [r for r in found if r.get("outcome") in ("failed", "error")]
    if status is None:
        return Outcome(mutant, "error", message="the run took longer than --timeout and was "
                       "stopped", scenarios=ran, selected=len(scenarios))
    if status == 2:
        return Outcome(mutant, "interrupted", scenarios=ran, selected=len(scenarios))
    if failed:
        first = failed[0]
        by = "claim" if first.get("outcome") == "failed" else "error"
        message = str(first.get("message") or "").strip().splitlines()
        return Outcome(mutant, "killed", by=by, scenario=str(first["scenario"]["name"]),
                       feature=str(first.get("feature", {}).get("file", "")),
                       step=str(first.get("failed_step") or ""),
                       message=message[0] if message else "", scenarios=ran,
                       selected=len(scenarios))
    if status == 0:
        return Outcome(mutant, "survived", scenarios=ran, selected=len(scenarios))
    tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
    return Outcome(mutant, "error", message=f"alertdrill run exited {status} without a failed "
                   f"scenario: {_last_lines(tail, 4)}", scenarios=ran, selected=len(scenarios))


def _leave_out_failing(p: Plan, runner: _Runner, options: MutateOptions, out: TextIO) -> None:
    """Scenarios that fail without any mutant would "kill" every mutant they see: leave out
    those whose latest earlier record failed, and with ``--baseline`` those that fail on an
    unmutated copy now."""
    failing = selection.failing(options.records)
    if options.baseline:
        out.write("baseline: the stack's scenarios on an unmutated copy…\n")
        out.flush()
        try:
            found, ran = runner.baseline()
        except KeyboardInterrupt:
            runner.interrupt()
            raise
        out.write(f"baseline: {plural(ran, 'scenario')} ran, {len(found)} failed\n")
        failing |= found
    left_out = [s for s in p.scenarios if (s.feature.name, s.name) in failing]
    if left_out:
        out.write(f"left out (they fail without a mutant, so they would kill every mutant): "
                  f"{'; '.join(s.name for s in left_out)}\n")
        p.scenarios = [s for s in p.scenarios if s not in left_out]


def run(options: MutateOptions, out: TextIO = sys.stdout) -> tuple[int, Result | None]:
    """The ``mutate`` subcommand: (exit status, result — None for ``--list``)."""
    from alertdrill.mutate import report

    p = plan(options)
    if options.list_only:
        out.write(listing(p) + "\n")
        return 0, None
    complaint = validate(p.spec.root, None, p.spec)  # also: amtool/promtool are installed
    if complaint:
        raise ConfigError(f"the unmutated stack does not pass the tools: {complaint}",
                          f"alertdrill check --stack {p.spec.root}")
    result = Result(p.spec.name, str(p.spec.root), [], time.time())
    todo = []
    out.write(f"alertdrill mutate: {p.spec.root} · {plural(len(p.mutants), 'mutant')} "
              f"({sum(m.equivalent for m in p.mutants)} proven equivalent) · "
              f"{options.parallel} at a time\n")
    for m in p.mutants:
        if m.equivalent:
            result.outcomes.append(Outcome(m, "equivalent", message=m.equivalence_note))
            out.write(report.progress_line(result.outcomes[-1], len(result.outcomes),
                                           len(p.mutants)) + "\n")
        else:
            todo.append(m)
    out.flush()
    report_dir = options.report_dir.expanduser().resolve()
    with tempfile.TemporaryDirectory(prefix="alertdrill-mutate-") as tmp:
        runner = _Runner(p, options, Path(tmp), out)
        _leave_out_failing(p, runner, options, out)
        with ThreadPoolExecutor(max_workers=options.parallel) as pool:
            futures: dict[Future[Outcome], Mutant] = {pool.submit(runner.run_one, m): m
                                                      for m in todo}
            pending = set(futures)
            try:
                while pending:
                    done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                    for future in done:
                        outcome = future.result()
                        result.outcomes.append(outcome)
                        out.write(report.progress_line(outcome, len(result.outcomes),
                                                       len(p.mutants)) + "\n")
                        out.flush()
            except KeyboardInterrupt:
                runner.interrupt()
                for future in futures:
                    future.cancel()
                wait(set(futures), timeout=_STOP_GRACE + 10)
                raise
    result.finished = time.time()
    paths = report.write(result, report_dir)
    out.write(report.terminal(result) + "\n")
    out.write("mutation report: " + "  ".join(map(str, paths)) + "\n")
    return report.exit_status(result, options.min_score), result
