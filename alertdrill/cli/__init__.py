"""The ``alertdrill`` command: parsing only; each subcommand calls an engine module.

run (alertdrill.cli.runner) · up/down/inject/revert/watch (alertdrill.cli.supervisor, gameday, watch,
leftovers) · report · steps · check · scale · diff · init · mutate (alertdrill.mutate) ·
record/backtest (alertdrill.backtest, whose parsers live beside their commands).

Size (~600 lines): the argument parsers of a dozen subcommands, mostly their help texts and
examples (what ``--help`` prints); no subcommand does its work here. record and backtest keep
their parsers in ``alertdrill.backtest.commands``: the pattern for moving the others out.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from alertdrill import __version__
from alertdrill.backtest import commands as backtest_commands
from alertdrill.cli import gamedayctl
from alertdrill.errors import (
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    AlertdrillError,
    ConfigError,
    MissingBinaryError,
    exit_status,
)
from alertdrill.settingoptions import STACK_SETTINGS, add_options
from alertdrill.text import plural


class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors on the documented exit status 4 (argparse's own is 2,
    which ``alertdrill run`` reports as "interrupted", as pytest does)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n  → {self.prog} --help\n")


def _count(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number ≥ ``minimum`` (``--parallel``), ≤ ``maximum``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be {minimum} or more, not {value}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"must be {maximum} or less, not {value}")
        return value
    return parse


def _seconds(text: str) -> float:
    """An argparse type: a finite number of seconds above 0 (``--interval``, ``--timeout``)."""
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be above 0 s, not {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and for --help)."""
    parser: argparse.ArgumentParser = _Parser(  # its subcommands' parsers are _Parsers too
        prog="alertdrill",
        description="Prove, against real Prometheus and Alertmanager, that your alerting works.",
    )
    parser.add_argument("--version", action="version", version=f"alertdrill {__version__}")
    sub = parser.add_subparsers(dest="command")
    _add_run(sub)
    _add_gameday(sub)
    steps = sub.add_parser("steps", help="list the step vocabulary with an example of each step")
    steps.add_argument("--markdown", action="store_true", help="print the README's table")
    scale = sub.add_parser(
        "scale", help="print (or write) the time-scaled copy of config files, as the stack runs them",
        description="Print the copy of each rule file, prometheus.yml, alertmanager.yml or "
        "promtool test file that a run at --time-scale K executes. Warnings (clamps to the "
        "floor, constructs that cannot be scaled) go to stderr.")
    scale.add_argument("files", nargs="+", type=Path, metavar="FILE")
    add_options(scale.add_argument, ("time_scale", "floor"), aliases={"time_scale": ("-k",)})
    scale.add_argument("-o", "--output", type=Path, help="write the copies into this directory")
    _add_check(sub)
    _add_diff(sub)
    backtest_commands.add_commands(sub)
    _add_init(sub)
    _add_mutate(sub)
    report = sub.add_parser(
        "report", help="build the drill report (HTML and Markdown) from the last run's records",
        description="Read the per-scenario records a run wrote (default: $ALERTDRILL_REPORT_DIR "
        "or reports/drill) and write drill-report.html (self-contained) and drill-report.md.")
    report.add_argument("--from", dest="sources", type=Path, action="append", default=[],
                        metavar="DIR",
                        help="directory of scenario records (default: $ALERTDRILL_REPORT_DIR "
                        "or reports/drill); repeat it, or give each shard's report dir "
                        "(its drill/, junit.xml, allure-results/), to merge shards into one run")
    report.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="where drill-report.html/.md go (default: the parent of --from, "
                        "i.e. reports/; with several --from, the merged junit.xml, "
                        "allure-results/ and drill/ go there too)")
    _results_options(report)
    return parser


def _results_options(cmd: argparse.ArgumentParser) -> None:
    """What ``run`` and ``report`` do with a run's results beyond the report (README › Results
    as metrics)."""
    cmd.add_argument("--history", type=Path, default=None, metavar="DIR",
                     help="earlier runs' records (anywhere under DIR, e.g. a CI cache of "
                     "reports/drill directories): adds a trend section — per alert, the last "
                     "runs' time to notify as a small chart, and which runs broke")
    cmd.add_argument("--runs", type=_count(1), default=10, metavar="N",
                     help="how many runs the trend shows (default 10)")
    cmd.add_argument("--pushgateway", default=None, metavar="URL",
                     help="also push the run's metrics (alertdrill.prom) to this Pushgateway, "
                     "as job alertdrill")


_Sub = argparse._SubParsersAction


def _stack_settings(cmd: argparse.ArgumentParser) -> None:
    add_options(cmd.add_argument, STACK_SETTINGS)


def _add_run(sub: _Sub[argparse.ArgumentParser]) -> None:
    run = sub.add_parser(
        "run", help="run scenarios (feature files) against real stacks; exit status for CI",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run Gherkin scenarios, each against a stack of its own, with a progress "
        "line per scenario. Writes, under --report-dir: junit.xml, allure-results/, one record "
        "per scenario in drill/, and the drill report (drill-report.html, .md) — also when "
        "scenarios fail. Feature files need no Python binding.\n\n"
        "Exit status: 0 every scenario passed, 1 some failed, 2 interrupted, 4 usage error, "
        "5 no scenario selected, 3 scenarios passed but the report could not be built.",
        epilog="examples:\n"
        "  alertdrill run                                  # the bundled features\n"
        "  alertdrill run features/sample/target_down.feature --time-scale 30\n"
        "  alertdrill run --stack examples/shop/stack --features examples/shop/features\n"
        "  alertdrill run --stack examples/shop/stack --features examples/shop/features --tags routing\n"
        "  alertdrill run features/sample --parallel 2\n"
        "  alertdrill run features/sample -- --maxfail=2   # after --: pytest's own options")
    run.add_argument("paths", nargs="*", type=Path, metavar="FEATURES",
                     help="feature files or directories (default: the bundled features/)")
    run.add_argument("--features", action="append", type=Path, default=[], metavar="DIR",
                     help="a directory (or file) of .feature files; may repeat")
    run.add_argument("--stack", default=None, metavar="DIR",
                     help='the stack of "Given the stack is running": your own directory with '
                     "prometheus.yml, rules, alertmanager.yml (default: $ALERTDRILL_STACK or "
                     "sample)")
    _stack_settings(run)
    run.add_argument("--tags", "-m", default=None, metavar="EXPR",
                     help="select scenarios by Gherkin tags: 'nightly', 'routing and not slow'")
    run.add_argument("--keyword", "-k", dest="keyword", default=None, metavar="EXPR",
                     help="select scenarios by name (pytest -k)")
    run.add_argument("--parallel", "-n", type=_count(1), default=1, metavar="N",
                     help="run N scenarios at once (pytest-xdist; each has its own stack — "
                     "mind timing on small machines)")
    add_options(run.add_argument, ("pool",))
    run.add_argument("--shard", default=None, metavar="I/N",
                     help="run shard I of N: a deterministic, duration-balanced part of the "
                     "scenarios (durations from earlier records in --report-dir); merge the "
                     "shards with alertdrill report --from DIR1 --from DIR2 …")
    run.add_argument("--report-dir", type=Path, default=Path("reports"), metavar="DIR",
                     help="where junit.xml, allure-results/, drill/ and the drill report go "
                     "(default: reports)")
    _results_options(run)
    run.add_argument("--fail-fast", "-x", action="store_true", help="stop at the first failure")
    run.add_argument("--verbose", "-v", action="store_true",
                     help="pytest's own output instead of the compact progress display")


def _add_gameday(sub: _Sub[argparse.ArgumentParser]) -> None:
    from alertdrill.engine.gameday import listing

    where = ("The GameDay's state file is $ALERTDRILL_STATE_DIR/gameday.json (default "
             "~/.alertdrill/gameday.json); one GameDay per state directory.")
    up = sub.add_parser(
        "up", help="start a stack for a GameDay and leave it running; print every URL",
        description="Start the stack in a background supervisor that owns it until "
        "`alertdrill down`, print every URL (Prometheus, each Alertmanager peer, the sink, "
        "the services) and how to break and stop it. " + where)
    up.add_argument("--stack", default="reference", metavar="DIR",
                    help="a stack directory, or a name under stack/ (default: reference)")
    _stack_settings(up)
    up.add_argument("--report-dir", type=Path, default=None, metavar="DIR",
                    help="where `down` writes the GameDay's record (default: "
                    "$ALERTDRILL_REPORT_DIR or reports/gameday)")
    up.add_argument("--timeout", type=_seconds, default=120.0, metavar="S",
                    help="how long to wait for the stack to be usable (default 120)")
    down = sub.add_parser(
        "down", help="revert every fault, write the GameDay record, stop the stack",
        description="Tell the GameDay supervisor to revert every active fault, write the "
        "GameDay's record (then `alertdrill report --from DIR` builds the debrief), stop every "
        "process and remove its temp dirs. A supervisor that died is cleaned up after. "
        + where)
    down.add_argument("--all", action="store_true",
                      help="also remove leftovers of crashed runs: processes of dead "
                      "harnesses, their temp dirs and tmpfs mounts (only the harness's own), and "
                      "the Docker backend's containers when it is installed")
    inject = sub.add_parser(
        "inject", help="apply a named fault to the running GameDay stack (on its timeline)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Apply a fault to the GameDay stack; it lands on the stack's timeline as a "
        "scenario step's would, and `alertdrill revert ID` undoes it.\n\nfaults:\n"
        + listing())
    inject.add_argument("--list", action="store_true", help="list the faults and exit")
    inject.add_argument("fault", nargs=argparse.REMAINDER, metavar="FAULT ARGS",
                        help="a fault of the list and its arguments")
    revert = sub.add_parser(
        "revert", help="undo an injected fault (by id; the latest active one by default)")
    revert.add_argument("id", nargs="?", type=int, default=None, metavar="ID",
                        help="the injection's id, as inject printed it")
    revert.add_argument("--all", action="store_true", help="every active fault, newest first")
    watch = sub.add_parser(
        "watch", help="live view of the GameDay: alerts by state, notifications, faults",
        description="Redraw every --interval seconds: Prometheus's pending and firing alerts, "
        "what each Alertmanager peer holds (active, suppressed: inhibited or silenced), the "
        "notifications in arrival order, the faults applied and reverted. Ctrl-C leaves.")
    watch.add_argument("--once", action="store_true",
                       help="print one snapshot (no colours, no redraw) and exit")
    watch.add_argument("--interval", type=_seconds, default=0.5, metavar="S",
                       help="seconds between redraws (default 0.5)")


def _add_diff(sub: _Sub[argparse.ArgumentParser]) -> None:
    from alertdrill.analysis.configdiff import KINDS

    diff = sub.add_parser(
        "diff", help="what a config change does: receivers gained/lost, timing, inhibitions, rules",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Compare two stack directories (or two git revisions of one) without "
        "starting anything: every alert the rules of either side can produce, routed through "
        "both trees; receivers gained and lost, timing and grouping of the routes that deliver "
        "it, inhibitions gained and lost, alerting rules and time intervals added, removed or "
        f"changed.\n\nKinds of change (for --fail-on): {', '.join(KINDS)}.\n\n"
        "Exit status: 0 nothing changed (of the --fail-on kinds, when given), 1 something did, "
        "4 a usage error.",
        epilog="examples:\n"
        "  alertdrill diff stack-before stack-after\n"
        "  alertdrill diff --git main..HEAD --stack monitoring --format markdown\n"
        "  alertdrill diff --git v1.4.. --stack monitoring --fail-on lost-receiver,inhibition-lost")
    diff.add_argument("old", nargs="?", type=Path, help="the stack directory before")
    diff.add_argument("new", nargs="?", type=Path, help="the stack directory after")
    diff.add_argument("--git", metavar="REV1..REV2", default=None,
                      help="two revisions of --stack (REV2 empty: the work tree)")
    diff.add_argument("--stack", type=Path, default=None, metavar="DIR",
                      help="the stack directory, with --git")
    diff.add_argument("--format", choices=("table", "markdown", "json"), default="table")
    diff.add_argument("--fail-on", default="", metavar="KINDS",
                      help="exit 1 only for these kinds of change (comma-separated)")


def _add_check(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from alertdrill.analysis.lint import CHECKS

    codes = "\n".join(f"  {code:<26} {meaning}" for code, meaning in CHECKS.items())
    check = sub.add_parser(
        "check", help="validate a stack's configs with promtool/amtool and the harness's own lint",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Check a stack directory's prometheus.yml, rule files and alertmanager.yml "
        "without starting anything: the real tools (promtool check config / check rules, amtool "
        "check-config) and the harness's own lint for configs the tools accept but that cannot "
        "work as meant. Prints `file:line: severity code: message` lines and a summary.\n\n"
        f"Findings (code, meaning):\n{codes}\n\n"
        "The rule-aware checks (route-unreachable, inhibit-*) reason on the labels each alerting "
        "rule's alerts can carry: its own labels, alertname, external_labels and the static "
        "scrape-target labels of prometheus.yml; what cannot be known statically counts as "
        "anything, so they stay silent rather than guess.\n\n"
        "Exit status: 0 no error (warnings allowed), 1 at least one error, 3 the check could "
        "not run (a missing tool), 4 usage error (no such stack, a bad option).")
    check.add_argument("stack_dir", nargs="?", default=None, metavar="STACK",
                       help="stack directory, or a name under stack/ (the same as --stack; "
                       "default: $ALERTDRILL_STACK or sample)")
    check.add_argument("--stack", default=None, metavar="DIR",
                       help="stack directory, or a name under stack/ "
                       "(default: $ALERTDRILL_STACK or sample)")
    check.add_argument("--format", choices=("text", "json"), default="text",
                       help="output format (default: text)")
    check.add_argument("--no-tools", action="store_true",
                       help="skip promtool and amtool: only the harness's own lint")
    check.add_argument("--features", action="append", type=Path, default=[], metavar="PATH",
                       help="check these feature files/directories instead (repeatable): every "
                       "step defined, every receiver, alert, integration and service a step "
                       "names present in its stack (the stack --stack names is the default "
                       "one); nothing starts")


def _add_init(sub: _Sub[argparse.ArgumentParser]) -> None:
    from alertdrill.scaffold.ci import MAX_SHARDS

    init = sub.add_parser(
        "init", help="a ready drill project from your prometheus.yml, rules and alertmanager.yml",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Copy your configs into DIR/stack (with an alertdrill.yml giving every static "
        "scrape target a series stand-in), generate baseline features in DIR/features (where "
        "every rule's alert is routed today, every inhibit rule, fire-and-resolve per rule) and "
        "DIR/alertdrill-project.yml; then `alertdrill run` in DIR runs them.\n\n"
        "Exit status: 0 done, 1 (--update) the expectations changed and were not written, "
        "2 bad input (nothing written).",
        epilog="examples:\n"
        "  alertdrill init --from monitoring/ --out drill\n"
        "  alertdrill init --prometheus-config prom.yml --alertmanager-config am.yml --out drill\n"
        "  alertdrill init --update --out drill          # show what a config change did\n"
        "  alertdrill init --update --write --out drill  # accept it\n"
        "  alertdrill init --ci github --out drill       # .github/workflows/alertdrill.yml\n"
        "  alertdrill init --ci gitlab --ci-shards 4 --out drill  # 4 parallel jobs + a merge")
    init.add_argument("--from", dest="source", type=Path, default=None, metavar="CONFIG_DIR",
                      help="a directory holding prometheus.yml, its rule files and "
                      "alertmanager.yml, anywhere in it")
    init.add_argument("--prometheus-config", type=Path, default=None, metavar="FILE")
    init.add_argument("--alertmanager-config", type=Path, default=None, metavar="FILE")
    init.add_argument("--out", type=Path, default=None, metavar="DIR",
                      help="the drill project's directory (default: the working directory)")
    init.add_argument("--name", default=None, help="the stack's name (default: DIR's name)")
    init.add_argument("--force", action="store_true", help="write into a non-empty DIR")
    init.add_argument("--update", action="store_true",
                      help="re-read the sources of DIR's project and show what changed")
    init.add_argument("--write", action="store_true",
                      help="with --update: write the new copies and features")
    init.add_argument("--ci", choices=("github", "gitlab"), default=None,
                      help="also write the CI workflow at the repository's root")
    init.add_argument("--ci-shards", type=_count(1, maximum=MAX_SHARDS), default=1, metavar="N",
                      help="with --ci: split the drill across N parallel CI jobs (alertdrill "
                      "run --shard I/N) and merge their reports in one more job (default: 1)")


def _add_mutate(sub: _Sub[argparse.ArgumentParser]) -> None:
    from alertdrill.mutate.operators import OPERATORS

    ops = "\n".join(f"  {op.name:<24} {op.summary}" for op in OPERATORS)
    mutate = sub.add_parser(
        "mutate", help="the mutation score of your scenarios: would they notice a broken config?",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Make one-change mutants of the stack's configs (a receiver swapped, a "
        "matcher misspelt, a for removed, …), set aside those the static routing proves "
        "equivalent, validate the rest with amtool/promtool, and run the scenarios that could "
        "see each one (stopping at the first failed claim). Reports the score — killed / "
        "(total − equivalent − invalid) — who killed each mutant, and every survivor's diff "
        "with a claim that would catch it: terminal, mutation-report.md/.html/.json.\n\n"
        f"Operators:\n{ops}\n\n"
        "Exit status: 0 done (and at or above --min-score), 1 below --min-score (or nothing "
        "to score), 2 interrupted, 3 a tool is missing, 4 usage error.",
        epilog="examples:\n"
        "  alertdrill mutate --stack examples/shop/stack --features examples/shop/features --list\n"
        "  alertdrill mutate --stack examples/shop/stack --features examples/shop/features \\\n"
        "      --operators receiver-swapped,for-removed --min-score 0.8")
    mutate.add_argument("--stack", required=True, metavar="DIR",
                        help="the stack directory to mutate (or a name under stack/)")
    mutate.add_argument("--features", action="append", type=Path, required=True, metavar="DIR",
                        help="the suite to score: feature files or directories (repeatable)")
    mutate.add_argument("--operators", default=None, metavar="A,B",
                        help="only these operators (comma-separated; default: all)")
    mutate.add_argument("--mutants", default=None, metavar="M001,M002",
                        help="only these mutants (ids as --list prints them)")
    mutate.add_argument("--parallel", "-n", type=_count(1), default=1, metavar="N",
                        help="run N mutants at once (each starts its own stacks; default 1)")
    mutate.add_argument("--min-score", type=float, default=None, metavar="S",
                        help="exit 1 when the score is below S (0…1)")
    mutate.add_argument("--list", action="store_true",
                        help="print the mutants (and which are equivalent) without running")
    mutate.add_argument("--report-dir", type=Path, default=Path("reports") / "mutate",
                        metavar="DIR", help="where mutation-report.md/.html/.json go "
                        "(default: reports/mutate)")
    mutate.add_argument("--records", action="append", type=Path, default=[], metavar="DIR",
                        help="earlier scenario records to order scenarios fastest-first "
                        "(default: reports/drill when it exists)")
    mutate.add_argument("--timeout", type=_seconds, default=1800.0, metavar="S",
                        help="seconds one mutant's run may take (default 1800)")
    mutate.add_argument("--baseline", action="store_true",
                        help="first run the stack's scenarios on an unmutated copy and leave "
                        "out those that fail (they would kill every mutant); scenarios whose "
                        "latest --records entry failed are left out in any case")


def _mutate(args: argparse.Namespace) -> int:
    from alertdrill.backends.process import install_signal_handlers
    from alertdrill.mutate.runner import MutateOptions, run

    install_signal_handlers()  # SIGTERM/SIGHUP unwind like Ctrl-C: the children are stopped

    records = args.records or [p for p in (Path("reports") / "drill",) if p.is_dir()]
    options = MutateOptions(stack=args.stack, features=args.features, operators=args.operators,
                            mutants=args.mutants, parallel=args.parallel,
                            min_score=args.min_score, list_only=args.list,
                            report_dir=args.report_dir, records=records, timeout=args.timeout,
                            baseline=args.baseline)
    status, _result = run(options)
    return status


def _init(args: argparse.Namespace) -> int:
    from alertdrill.scaffold.project import run_init

    return run_init(args)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    passthrough: list[str] = []
    if argv[:1] == ["run"] and "--" in argv:
        cut = argv.index("--")
        argv, passthrough = argv[:cut], argv[cut + 1:]
    args = parser.parse_args(argv)
    args.pytest_args = passthrough
    try:
        if args.command == "run":
            return _run(args)
        if args.command == "up":
            return gamedayctl.up(args)
        if args.command == "down":
            return gamedayctl.down(every=args.all)
        if args.command == "inject":
            return gamedayctl.inject(args.fault, args.list)
        if args.command == "revert":
            return gamedayctl.revert(args.id, args.all)
        if args.command == "watch":
            return gamedayctl.watch(args.once, args.interval)
        if args.command == "steps":
            return _steps(markdown=args.markdown)
        if args.command == "scale":
            return _scale(args.files, args.time_scale, args.floor, args.output)
        if args.command == "diff":
            from alertdrill.analysis import configdiff
            status, text = configdiff.run(
                args.old, args.new, args.git, args.stack, args.format,
                [k.strip() for k in args.fail_on.split(",") if k.strip()])
            print(text)
            return status
        if args.command == "record":
            return backtest_commands.run_record(args)
        if args.command == "backtest":
            return backtest_commands.run_backtest_command(args)
        if args.command == "check":
            if args.stack_dir and args.stack and args.stack_dir != args.stack:
                raise ConfigError(f"two stacks given: {args.stack_dir} and --stack {args.stack}",
                                  "give the stack once: alertdrill check STACK")
            from alertdrill.cli.runner import project_stack

            stack = project_stack(args.stack_dir or args.stack)
            if args.features:
                return _check_features(args.features, stack)
            return _check(stack, args.format, tools=not args.no_tools)
        if args.command == "report":
            return _report(args.sources, args.out, args.history, args.runs, args.pushgateway)
        if args.command == "init":
            return _init(args)
        if args.command == "mutate":
            return _mutate(args)
    except AlertdrillError as exc:
        print(f"alertdrill: {exc}", file=sys.stderr)
        return exit_status(exc)
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM/SIGHUP made to unwind like it
        print("\nalertdrill: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `alertdrill watch --once | head`: the reader left, not an error
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - nothing may be written at exit
        return 0
    parser.print_help()
    return 0


# -- run ----------------------------------------------------------------------------------------
def _run(args: argparse.Namespace) -> int:
    from alertdrill.cli.runner import RunOptions, run

    options = RunOptions(
        features=[*args.paths, *args.features], stack=args.stack, backend=args.backend,
        time_scale=args.time_scale, tolerance=args.tolerance, floor=args.floor, peers=args.peers,
        pool=args.pool, tags=args.tags, keyword=args.keyword, parallel=args.parallel,
        report_dir=args.report_dir,
        keep_workdir=bool(args.keep_workdir), shard=args.shard, fail_fast=args.fail_fast,
        history=args.history, runs=args.runs, pushgateway=args.pushgateway,
        verbose=args.verbose,
        pytest_args=args.pytest_args)
    return run(options)


def _scale(files: list[Path], factor: float | None, floor: float | None,
           output: Path | None) -> int:
    from alertdrill.engine.timescale import TimeScale, scale_file
    from alertdrill.settings import Settings

    settings = Settings.from_env(time_scale=factor, floor=floor)
    scale = TimeScale(settings.time_scale, settings.floor)
    if output:
        output.mkdir(parents=True, exist_ok=True)
    for path in files:
        text, result = scale_file(path, scale)
        for warning in result.warnings:
            print(f"{path}: warning: {warning}", file=sys.stderr)
        if output:
            (output / path.name).write_text(text)
            print(f"{path} → {output / path.name} ({plural(len(result.changes), 'duration')} "
                  "scaled)",
                  file=sys.stderr)
        else:
            if len(files) > 1:
                print(f"# --- {path} ---")
            print(text, end="")
    return 0


def _check(stack: str | None, output_format: str, tools: bool) -> int:
    from alertdrill.analysis.lint import check_stack, findings_json
    from alertdrill.settings import Settings, resolve_stack_dir

    name = stack or Settings.from_env().stack
    root = resolve_stack_dir(name, [Path.cwd()])
    try:
        findings = check_stack(root, tools=tools)
    except MissingBinaryError as exc:
        raise MissingBinaryError(str(exc).split("\n  → ")[0], f"{exc.hint}; or skip the tools "
                                 "with `alertdrill check --no-tools`") from None
    shown_from = Path.cwd()
    errors = sum(f.severity == "error" for f in findings)
    if output_format == "json":
        print(findings_json(findings, shown_from))
    else:
        for finding in findings:
            print(finding.render(shown_from))
        print(f"{_display_root(root, shown_from)}: {plural(errors, 'error')}, "
              f"{plural(len(findings) - errors, 'warning')}"
              + ("" if tools else " (promtool/amtool skipped)"))
    return 1 if errors else 0


def _check_features(paths: list[Path], stack: str | None) -> int:
    from alertdrill.cli.featurecheck import check_features, feature_files
    from alertdrill.settings import Settings, resolve_stack_dir

    settings = Settings.from_env(stack=stack)

    def resolve(name: str, feature_dir: Path) -> Path:
        return resolve_stack_dir(name or settings.stack,
                                 [feature_dir, Path.cwd()])

    files = feature_files(paths)
    found = check_features(files, resolve, settings.peers or None)
    for problem in found:
        print(problem.render(Path.cwd()))
    print(f"{plural(len(files), 'feature file')}: {plural(len(found), 'problem')}")
    return 1 if found else 0


def _display_root(root: Path, base: Path) -> str:
    try:
        return str(root.relative_to(base))
    except ValueError:
        return str(root)
def _report(sources: list[Path], out: Path | None, history: Path | None = None, runs: int = 10,
            pushgateway: str | None = None) -> int:
    from alertdrill.report import build
    from alertdrill.report.metrics import METRICS_FILE, push_metrics
    from alertdrill.report.records import load_records
    from alertdrill.settings import Settings

    if len(sources) > 1:
        from alertdrill.engine.shards import merge_runs

        out = out or Path("reports")
        source = merge_runs(sources, out)
    else:
        source = sources[0] if sources else Path(Settings.from_env().report_dir
                                                 or Path("reports") / "drill")
        if (source / "drill").is_dir() and not any(source.glob("*.json")):
            source = source / "drill"  # a run's report dir: its records are in drill/
        if out is None:
            out = source.resolve().parent
    html_path, md_path = build(source, out, history, runs)
    print(html_path)
    print(md_path)
    print(out / METRICS_FILE)
    if pushgateway:
        push_metrics(load_records(source), pushgateway)
        print(f"pushed to {pushgateway}")
    return 0


def _steps(markdown: bool) -> int:
    from alertdrill.engine.vocabulary import import_bundled, markdown_table

    vocabulary = import_bundled()
    if markdown:
        print(markdown_table(vocabulary))
        return 0
    for step in vocabulary:
        print(f"{step.kind.upper():<6}{step.example}")
        print(f"      {step.summary}")
        print(f"      pattern: {step.pattern}")
    return 0

