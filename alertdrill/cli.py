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
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = build_parser()
    parser.parse_args(argv)
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
