"""The ``alertdrill`` command. Subcommands arrive with the issues that need them."""

from __future__ import annotations

import argparse
import sys

from alertdrill import __version__


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
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "steps":
        return _steps(markdown=args.markdown)
    parser.print_help()
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
