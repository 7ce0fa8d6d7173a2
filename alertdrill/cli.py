"""The ``alertdrill`` command. Subcommands arrive with the issues that need them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from alertdrill import __version__
from alertdrill.errors import AlertdrillError


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


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "steps":
            return _steps(markdown=args.markdown)
        if args.command == "scale":
            return _scale(args.files, args.time_scale, args.floor, args.output)
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
