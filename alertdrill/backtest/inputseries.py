"""Import promtool-style ``input_series`` (a rule unit test file) as a recording.

``promtool test rules`` files describe series in the expanding notation: ``a+bxn`` is a then n
more samples growing by b, ``a-bxn`` shrinking, ``axn`` is ``a+0xn``, ``_`` a missed scrape
(``_xn``: n of them), ``stale`` a staleness marker. Sample i of every series is at
``start + i × interval``.

OpenMetrics text cannot carry Prometheus's staleness marker (a special NaN), so ``stale`` is
written as no sample: the series then disappears after the 5-minute lookback instead of at
once. Everything else is exact.
"""

from __future__ import annotations

import re
from pathlib import Path

from alertdrill.analysis.promql import _parser
from alertdrill.backtest.recording import (
    Header,
    RecordingWriter,
    format_timestamp,
    format_value,
    series_text,
)
from alertdrill.durations import parse_duration
from alertdrill.errors import ConfigError
from alertdrill.yamlio import load_yaml

_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|[-+]?Inf|NaN"
_TOKEN = re.compile(rf"^(?:(?P<blank>_)|(?P<stale>stale)|(?P<a>{_NUMBER}))"
                    rf"(?:(?P<op>[-+])(?P<b>{_NUMBER}))?(?:x(?P<n>\d+))?$")


def expand_values(text: str) -> list[float | None]:
    """The samples of a ``values:`` string; None is a missing (or stale) sample."""
    out: list[float | None] = []
    for token in str(text).split():
        match = _TOKEN.match(token)
        if not match:
            raise ConfigError(f"input_series value {token!r} is not in promtool's notation",
                              "e.g. '1 1 0x10 _x3 1+1x5 stale'")
        n = int(match["n"]) if match["n"] is not None else None
        if match["blank"] or match["stale"]:
            if match["op"]:
                raise ConfigError(f"{token!r}: a missing sample cannot grow")
            out.extend([None] * (n if n is not None else 1))
            continue
        start = float(match["a"])
        if n is None:
            if match["op"]:
                raise ConfigError(f"{token!r}: a+b needs xN (how many more samples)")
            out.append(start)
            continue
        step = float(match["b"] or 0) * (-1 if match["op"] == "-" else 1)
        out.extend(start + i * step for i in range(n + 1))
    return out


def series_labels(series: str) -> dict[str, str]:
    """``name{a="b"}`` as a label set (every matcher must be an equality)."""
    pp = _parser()
    try:
        node = pp.parse(series)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"input_series {series!r} is not a series: {exc}") from None
    if type(node).__name__ != "VectorSelector":
        raise ConfigError(f"input_series {series!r} is not a series")
    labels = {}
    for m in node.matchers.matchers:
        if str(m.op).rsplit(".", 1)[-1] != "Equal":
            raise ConfigError(f"input_series {series!r}: only = labels make a series")
        labels[m.name] = m.value
    if node.name:
        labels["__name__"] = node.name
    if "__name__" not in labels:
        raise ConfigError(f"input_series {series!r} has no metric name")
    return labels


def import_input_series(test_file: Path, out: Path, start: float = 0.0, test: int = 0,
                        source: str | None = None) -> Header:
    """Write test ``test`` of ``test_file``'s ``input_series`` as a recording at ``out``.

    The backtested range is the whole series (from ``start`` to its last sample); no history
    is added before it, as promtool adds none.
    """
    start = round(start, 3)  # whole milliseconds, as the TSDB keeps them
    doc = load_yaml(test_file, test_file.name)
    tests = doc.get("tests") or []
    if not 0 <= test < len(tests):
        raise ConfigError(f"{test_file} has {len(tests)} tests; there is no test {test}")
    case = tests[test]
    interval = parse_duration(str(case.get("interval") or doc.get("evaluation_interval") or "1m"))
    series = [(series_labels(str(s["series"])), expand_values(str(s.get("values", ""))))
              for s in case.get("input_series") or []]
    if not series:
        raise ConfigError(f"{test_file} test {test} has no input_series")
    length = max(len(values) for _, values in series)
    header = Header(start, start, start + max(length - 1, 1) * interval, interval,
                    source or f"input_series:{test_file.name}#{test}")
    writer = RecordingWriter(out, header)
    if writer.open():
        raise ConfigError(f"{out} is a partial recording", "delete it and its journal first")
    names = [series_text(labels) for labels, _ in series]

    def lines() -> list[str]:
        found = []
        for i in range(length):
            ts = format_timestamp(start + i * interval)
            for name, (_, values) in zip(names, series, strict=True):
                if i < len(values) and values[i] is not None:
                    value = values[i]
                    assert value is not None
                    found.append(f"{name} {format_value(value)} {ts}")
        return found

    writer.add_chunk(lines())
    writer.finish()
    return header
