"""How long does ``alertdrill backtest`` take on a week of data for the reference stack?

Generates 7 days of synthetic recorded data (a 1-minute step, as ``alertdrill record`` writes
by default) for every selector of the reference stack's rules — healthy baselines, plus
incidents that fire: the API down for 25 minutes four times, PostgreSQL down twice, the web
app flapping three times, the node down once (its inhibition hides the rest), the disk low
for 2 hours, critical log lines twice, an error-rate spike — then runs the backtest (and, with
``--against``, the seed's configs as the old side) and prints where the time went.

    .venv/bin/python bench/backtest.py                 # NEW = stack/reference
    .venv/bin/python bench/backtest.py --against-alertmanager stack/seed-001-routing/alertmanager.yml
    .venv/bin/python bench/backtest.py --days 1        # a smaller run
"""

from __future__ import annotations

import argparse
import math
import re
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alertdrill.backtest import render  # noqa: E402
from alertdrill.backtest.backtest import run_backtest  # noqa: E402
from alertdrill.backtest.recording import Header, RecordingWriter, format_value, series_text  # noqa: E402
from alertdrill.backtest.selectors import history_needed, rule_selectors  # noqa: E402
from alertdrill.engine.stackspec import StackSpec  # noqa: E402
from alertdrill.yamlio import load_yaml  # noqa: E402

STEP = 60.0
DAY = 86400.0
BEGIN = 1795564800.0  # 2026-11-25T00:00:00Z
_EQ = re.compile(r'([a-zA-Z_]+)(=~|=|!=|!~)"([^"]*)"')


def target_labels(prom: dict) -> dict[str, dict[str, str]]:
    """job → the labels its (single) target's series carry."""
    found = {}
    for job in prom.get("scrape_configs") or []:
        group = job["static_configs"][0]
        found[job["job_name"]] = {"job": job["job_name"], "instance": str(group["targets"][0]),
                                  **{k: str(v) for k, v in (group.get("labels") or {}).items()}}
    return found


def series_of(selector: str, targets: dict[str, dict[str, str]]) -> list[dict[str, str]]:
    """The label sets a healthy stack has for a selector."""
    name = selector.split("{", 1)[0]
    labels: dict[str, str] = {"__name__": name}
    for key, op, value in _EQ.findall(selector):
        if op == "=":
            labels[key] = value
        elif op == "=~":
            labels[key] = "500"
    labels.update({k: v for k, v in targets.get(labels.get("job", ""), {}).items()
                   if k not in labels})
    if name.endswith("_bucket"):
        return [{**labels, "le": le} for le in ("0.1", "0.5", "1", "2", "5", "+Inf")]
    if name == "node_cpu_seconds_total":
        return [{**labels, "cpu": str(c)} for c in range(4)]
    if name == "nginx_http_requests_total" and "status" not in labels:
        return [{**labels, "status": "200"}, {**labels, "status": "500"}]
    return [labels]


def _in(t: float, day: int, hour: float, minutes: float) -> bool:
    start = BEGIN + day * DAY + hour * 3600
    return start <= t < start + minutes * 60


def value_fn(labels: dict[str, str]) -> Callable[[float], float]:
    """Healthy values, with this week's incidents."""
    name, job = labels["__name__"], labels.get("job", "")
    if name == "up":
        downs = {"api-service": [(d, 10, 25) for d in (0, 2, 4, 6)],
                 "web-app": [(3, 14 + m / 60, 2) for m in (0, 10, 20)],
                 "node-exporter": [(5, 22, 15)]}.get(job, [])
        return lambda t: 0.0 if any(_in(t, *w) for w in downs) else 1.0
    if name == "pg_up":
        return lambda t: 0.0 if _in(t, 1, 3, 8) or _in(t, 5, 3, 8) else 1.0
    if name == "node_filesystem_size_bytes":
        return lambda t: 100e9
    if name == "node_filesystem_avail_bytes":
        return lambda t: 5e9 if _in(t, 2, 12, 120) and "role" not in labels else 60e9
    if name == "api_log_lines_total":
        return lambda t: float((t >= BEGIN + DAY + 9 * 3600) + (t >= BEGIN + 4 * DAY + 16 * 3600))
    if name == "flask_http_request_exceptions_total":
        spike = BEGIN + 3 * DAY + 8 * 3600
        return lambda t: (t - BEGIN) * 0.05 + max(0.0, min(t, spike + 1800) - spike) * 10
    if name == "flask_http_request_total":
        return lambda t: (t - BEGIN) * 20
    if name == "probe_ssl_earliest_cert_expiry":
        return lambda t: t + 90 * DAY
    constant = {"probe_duration_seconds": 0.1, "flask_db_connection_pool_active": 2,
                "flask_db_connection_pool_size": 10, "pg_stat_database_numbackends": 5,
                "pg_settings_max_connections": 100, "node_memory_MemAvailable_bytes": 6e9,
                "node_memory_MemTotal_bytes": 8e9, "container_memory_usage_bytes": 1e8,
                "container_spec_memory_limit_bytes": 1e9}
    if name in constant:
        return lambda t: float(constant[name])
    if name.endswith("_bucket"):
        le = float(labels["le"])
        return lambda t: (t - BEGIN) * 20 * (0.97 if le < 0.5 else 1.0)
    if name == "nginx_http_requests_total":
        return lambda t: (t - BEGIN) * (30 if labels.get("status") == "200" else 0.01)
    if name == "node_cpu_seconds_total":
        return lambda t: (t - BEGIN) * 0.9
    return lambda t: 0.0  # other counters (payment errors, failed logins…): none this week


def generate(stack: Path, out: Path, days: float) -> tuple[int, int]:
    """Write the synthetic recording; returns (series, samples)."""
    spec = StackSpec.load(stack)
    targets = target_labels(load_yaml(spec.prometheus_config, "prometheus.yml"))
    seen: dict[str, dict[str, str]] = {}
    for selector in rule_selectors(spec.rule_files):
        for labels in series_of(selector, targets):
            seen.setdefault(series_text(labels), labels)
    history = math.ceil(history_needed(spec.rule_files) / STEP) * STEP
    start, end = BEGIN - history, BEGIN + days * DAY
    writer = RecordingWriter(out, Header(start, BEGIN, end, STEP, "bench/backtest.py",
                                         tuple(rule_selectors(spec.rule_files))))
    writer.open()
    functions = [(text, value_fn(labels)) for text, labels in seen.items()]
    samples = 0
    chunk = 6 * 3600.0
    t0 = start
    while t0 <= end:
        def lines(first: float = t0) -> Iterator[str]:
            nonlocal samples
            for text, fn in functions:
                t = first
                while t < first + chunk and t <= end:
                    samples += 1
                    yield f"{text} {format_value(fn(t))} {t:.0f}"
                    t += STEP
        writer.add_chunk(lines())
        t0 += chunk
    writer.finish()
    return len(functions), samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", type=Path, default=ROOT / "stack" / "reference")
    parser.add_argument("--against", type=Path, default=None, help="the old stack")
    parser.add_argument("--against-alertmanager", type=Path, default=None, metavar="FILE",
                        help="the old side: --stack with this alertmanager.yml instead")
    parser.add_argument("--days", type=float, default=7.0)
    parser.add_argument("--peers", type=int, default=None)
    parser.add_argument("--time-scale", type=float, default=None)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--keep", type=Path, default=None, help="keep the recording here")
    parser.add_argument("--json", type=Path, default=None, help="write the result's JSON here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="alertdrill-bench-") as tmp:
        out = args.keep or Path(tmp) / "week.om.gz"
        t0 = time.monotonic()
        series, samples = generate(args.stack, out, args.days)
        generated = time.monotonic() - t0
        print(f"generated {out.name}: {series} series, {samples} samples, "
              f"{out.stat().st_size / 1e6:.1f} MB gzip, in {generated:.1f} s", flush=True)
        from alertdrill.backtest.backtest import BacktestOptions

        t0 = time.monotonic()
        against = args.against
        if args.against_alertmanager:
            against = Path(tmp) / "old"
            shutil.copytree(args.stack, against)
            spec = StackSpec.load(against)
            shutil.copyfile(args.against_alertmanager, spec.alertmanager_config)
        options = BacktestOptions(args.time_scale, args.peers, workers=args.workers)
        result = run_backtest(out, args.stack, against, options)
        total = time.monotonic() - t0
    print(render.text(result))
    if args.json:
        args.json.write_text(render.to_json(result))
    print("\ntimings (s): " + ", ".join(f"{k}={v:.1f}" for k, v in result.timings.items()))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"backtest wall time {total:.1f} s; peak RSS: this process {rss:.0f} MB, "
          f"largest child {children:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
