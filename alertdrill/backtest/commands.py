"""The ``record`` and ``backtest`` subcommands: their arguments, and the calls they make."""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from datetime import datetime
from pathlib import Path

from alertdrill.durations import parse_duration
from alertdrill.errors import ConfigError

_RELATIVE = re.compile(r"^now(?:\s*-\s*(\S+))?$")


def parse_time(text: str, now: float | None = None) -> float:
    """Unix seconds, RFC 3339 (``2026-11-25T00:00:00Z``), ``now`` or ``now-7d``."""
    now = time.time() if now is None else now
    text = text.strip()
    match = _RELATIVE.match(text)
    if match:
        return now - (parse_duration(match.group(1)) if match.group(1) else 0.0)
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise ConfigError(f"not a time: {text!r}",
                          "give Unix seconds, RFC 3339 (2026-11-25T00:00:00Z) or now-7d") from None


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``record`` and ``backtest`` to the ``alertdrill`` parser."""
    record = sub.add_parser(
        "record", help="record the series a stack's rules select from a Prometheus, to a file",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Pull every series the stack's rules select (each selector of each rule) "
        "with /api/v1/query_range over --from…--to at --step, in chunks, into one "
        "gzip-compressed OpenMetrics file (README › Backtesting). A re-run with the same "
        "options resumes after the last complete chunk. Or, with --input-series, import a "
        "promtool rule test file's input_series instead.",
        epilog="examples:\n"
        "  alertdrill record --prometheus https://prom.example:9090 --stack monitoring \\\n"
        "      --from now-7d --to now --step 1m --out last-week.om.gz\n"
        "  alertdrill record --input-series rules/tests/api.test.yml --out api.om.gz")
    record.add_argument("--prometheus", metavar="URL", help="the Prometheus to read")
    record.add_argument("--stack", type=Path, metavar="DIR", help="whose rules' series to record")
    record.add_argument("--from", dest="begin", metavar="T", help="start of the backtested range")
    record.add_argument("--to", dest="end", default="now", metavar="T", help="its end (default now)")
    record.add_argument("--step", default="1m", metavar="D",
                        help="resolution (default 1m; at most the rules' evaluation interval "
                        "for faithful for: clocks)")
    record.add_argument("--chunk", default="6h", metavar="D",
                        help="range per chunk (default 6h; at most 10000 steps)")
    record.add_argument("--out", type=Path, required=True, metavar="FILE")
    record.add_argument("--time-scale", type=float, default=1.0, metavar="K",
                        help="the source ran a drill at scale K: stretch its timestamps back to "
                        "real-world time (default 1)")
    record.add_argument("--user", default=None, help="basic auth user (password: "
                        "$ALERTDRILL_PROM_PASSWORD)")
    record.add_argument("--bearer-token-file", type=Path, default=None, metavar="FILE")
    record.add_argument("--ca-file", default=None, metavar="FILE", help="CA bundle for TLS")
    record.add_argument("--cert", default=None, metavar="FILE", help="client certificate")
    record.add_argument("--key", default=None, metavar="FILE", help="client key")
    record.add_argument("--insecure", action="store_true", help="do not verify TLS")
    record.add_argument("--retries", type=int, default=5, metavar="N")
    record.add_argument("--timeout", type=float, default=30.0, metavar="S")
    record.add_argument("--input-series", type=Path, default=None, metavar="TEST_FILE",
                        help="import a promtool test file's input_series instead")
    record.add_argument("--test", type=int, default=0, metavar="N",
                        help="which test of --input-series (default 0)")
    record.add_argument("--start", default="0", metavar="T",
                        help="with --input-series: the time of the first sample (default 0)")
    backtest = sub.add_parser(
        "backtest", help="would this config have paged? replay a recording through real binaries",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Backfill the recording into a real Prometheus, evaluate every alerting "
        "rule of --stack over its range, build the alerts' pending/firing/resolved timeline, "
        "and replay it through the stack's real Alertmanager cluster at a high time scale; "
        "with --against, the same for the other stack, and what the change adds, removes or "
        "delays.\n\nExit status: 0 (with --against: no difference), 1 the configs differ, "
        "4 usage error.",
        epilog="examples:\n"
        "  alertdrill backtest --recording last-week.om.gz --stack monitoring\n"
        "  alertdrill backtest --recording last-week.om.gz --stack new --against old "
        "--format markdown")
    backtest.add_argument("--recording", type=Path, required=True, metavar="FILE")
    backtest.add_argument("--stack", type=Path, required=True, metavar="NEW")
    backtest.add_argument("--against", type=Path, default=None, metavar="OLD")
    backtest.add_argument("--format", choices=("table", "markdown", "json"), default="table")
    backtest.add_argument("--html", type=Path, default=None, metavar="FILE",
                          help="also write the HTML page (chart of pages over time)")
    backtest.add_argument("--report-dir", type=Path, default=None, metavar="DIR",
                          help="also write DIR/backtest/backtest-section.html and "
                          "backtest-report.md: `alertdrill report --out DIR` then embeds them "
                          "in the drill report")
    backtest.add_argument("--time-scale", type=float, default=None, metavar="K",
                          help="replay scale (default: the largest no duration clamps at)")
    backtest.add_argument("--peers", type=int, default=None, metavar="N",
                          help="Alertmanager peers (default: the stack's)")
    backtest.add_argument("--workers", type=int, default=4, metavar="N",
                          help="Alertmanager clusters replaying episodes side by side (4)")
    backtest.add_argument("--tolerance", default="1m", metavar="D",
                          help="a notification this much later or earlier is delayed (1m)")
    backtest.add_argument("--flap-window", default="10m", metavar="D",
                          help="fired and resolved within this is flapping (10m)")


def run_record(args: argparse.Namespace) -> int:
    """``alertdrill record``."""
    from alertdrill.backtest.inputseries import import_input_series
    from alertdrill.backtest.promapi import HttpOptions
    from alertdrill.backtest.record import plan_for_stack, record

    if args.input_series is not None:
        header = import_input_series(args.input_series, args.out, parse_time(args.start),
                                     args.test)
        print(f"{args.out}: {header.source}, {header.end - header.begin:.0f} s at "
              f"step {header.step:g} s")
        return 0
    if not (args.prometheus and args.stack and args.begin):
        raise ConfigError("record needs --prometheus, --stack and --from (or --input-series)",
                          "alertdrill record --help")
    token = args.bearer_token_file.read_text().strip() if args.bearer_token_file else None
    http = HttpOptions(username=args.user, password=os.environ.get("ALERTDRILL_PROM_PASSWORD"),
                       bearer_token=token, ca_file=args.ca_file, client_cert=args.cert,
                       client_key=args.key, insecure=args.insecure, retries=args.retries,
                       timeout=args.timeout)
    now = time.time()
    plan = plan_for_stack(args.prometheus, args.stack, parse_time(args.begin, now),
                          parse_time(args.end, now), parse_duration(args.step),
                          parse_duration(args.chunk), args.time_scale)
    record(plan, args.out, http)
    return 0


def run_backtest_command(args: argparse.Namespace) -> int:
    """``alertdrill backtest``."""
    from alertdrill.backtest import render
    from alertdrill.backtest.backtest import BacktestOptions, run_backtest

    options = BacktestOptions(args.time_scale, args.peers, parse_duration(args.tolerance),
                              flap_window=parse_duration(args.flap_window),
                              workers=max(1, args.workers))
    result = run_backtest(args.recording, args.stack, args.against, options)
    shown = {"table": render.text, "markdown": render.markdown, "json": render.to_json}
    print(shown[args.format](result))
    if args.html:
        args.html.write_text(render.html_page(result))
        print(f"backtest: wrote {args.html}", file=sys.stderr)
    if args.report_dir:
        written = render.write_report_section(result, args.report_dir)
        print(f"backtest: wrote {written} (embedded by alertdrill report --out "
              f"{args.report_dir})", file=sys.stderr)
    return 1 if result.differences is not None and not result.differences.empty() else 0
