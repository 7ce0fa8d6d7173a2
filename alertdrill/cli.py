"""The ``alertdrill`` command. Subcommands arrive with the issues that need them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from alertdrill import __version__
from alertdrill.errors import AlertdrillError, MissingBinaryError


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and for --help)."""
    parser = argparse.ArgumentParser(
        prog="alertdrill",
        description="Prove, against real Prometheus and Alertmanager, that your alerting works.",
    )
    parser.add_argument("--version", action="version", version=f"alertdrill {__version__}")
    sub = parser.add_subparsers(dest="command")
    steps = sub.add_parser("steps", help="list the step vocabulary with an example of each step")
    steps.add_argument("--markdown", action="store_true", help="print the README's table")
    scale = sub.add_parser(
        "scale", help="print (or write) the time-scaled copy of config files, as the stack runs them",
        description="Print the copy of each rule file, prometheus.yml, alertmanager.yml or "
        "promtool test file that a run at --time-scale K executes. Warnings (clamps to the "
        "floor, constructs that cannot be scaled) go to stderr.")
    scale.add_argument("files", nargs="+", type=Path, metavar="FILE")
    scale.add_argument("--time-scale", "-k", type=float, default=None,
                       help="real-world seconds per measured second (default: $ALERTDRILL_TIME_SCALE or 60)")
    scale.add_argument("--floor", type=float, default=None,
                       help="smallest interval, seconds (default: $ALERTDRILL_FLOOR or 0.25)")
    scale.add_argument("-o", "--output", type=Path, help="write the copies into this directory")
    _add_check(sub)
    report = sub.add_parser(
        "report", help="build the drill report (HTML and Markdown) from the last run's records",
        description="Read the per-scenario records a run wrote (default: $ALERTDRILL_REPORT_DIR "
        "or reports/drill) and write drill-report.html (self-contained) and drill-report.md.")
    report.add_argument("--from", dest="source", type=Path, default=None, metavar="DIR",
                        help="directory of scenario records (default: $ALERTDRILL_REPORT_DIR "
                        "or reports/drill)")
    report.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="where drill-report.html/.md go (default: the parent of --from, "
                        "i.e. reports/)")
    return parser


def _add_check(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from alertdrill.lint import CHECKS

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
        "Exit status: 0 no error (warnings allowed), 1 at least one error, 2 the check could "
        "not run (no such stack, a missing tool).")
    check.add_argument("--stack", default=None, metavar="DIR",
                       help="stack directory, or a name under stack/ "
                       "(default: $ALERTDRILL_STACK or sample)")
    check.add_argument("--format", choices=("text", "json"), default="text",
                       help="output format (default: text)")
    check.add_argument("--no-tools", action="store_true",
                       help="skip promtool and amtool: only the harness's own lint")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "steps":
            return _steps(markdown=args.markdown)
        if args.command == "scale":
            return _scale(args.files, args.time_scale, args.floor, args.output)
        if args.command == "check":
            return _check(args.stack, args.format, tools=not args.no_tools)
        if args.command == "report":
            return _report(args.source, args.out)
    except AlertdrillError as exc:
        print(f"alertdrill: {exc}", file=sys.stderr)
        return 2
    parser.print_help()
    return 0


def _scale(files: list[Path], factor: float | None, floor: float | None,
           output: Path | None) -> int:
    from alertdrill.settings import Settings
    from alertdrill.timescale import TimeScale, scale_file

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
            print(f"{path} → {output / path.name} ({len(result.changes)} durations scaled)",
                  file=sys.stderr)
        else:
            if len(files) > 1:
                print(f"# --- {path} ---")
            print(text, end="")
    return 0


def _check(stack: str | None, output_format: str, tools: bool) -> int:
    from alertdrill.lint import check_stack, findings_json
    from alertdrill.settings import Settings, resolve_stack_dir

    name = stack or Settings.from_env().stack
    root = resolve_stack_dir(name, [Path.cwd(), Path(__file__).resolve().parents[1]])
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
        print(f"{_display_root(root, shown_from)}: {errors} error(s), "
              f"{len(findings) - errors} warning(s)"
              + ("" if tools else " (promtool/amtool skipped)"))
    return 1 if errors else 0


def _display_root(root: Path, base: Path) -> str:
    try:
        return str(root.relative_to(base))
    except ValueError:
        return str(root)
def _report(source: Path | None, out: Path | None) -> int:
    from alertdrill.report import build
    from alertdrill.settings import Settings

    if source is None:
        source = Path(Settings.from_env().report_dir or Path("reports") / "drill")
    if out is None:
        out = source.resolve().parent
    html_path, md_path = build(source, out)
    print(html_path)
    print(md_path)
    return 0


def _steps(markdown: bool) -> int:
    from alertdrill.vocabulary import import_bundled, markdown_table

    vocabulary = import_bundled()
    if markdown:
        print(markdown_table(vocabulary))
        return 0
    for step in vocabulary:
        print(f"{step.kind.upper():<6}{step.example}")
        print(f"      {step.summary}")
        print(f"      pattern: {step.pattern}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
