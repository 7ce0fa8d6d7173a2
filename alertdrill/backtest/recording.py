"""The recording file: one gzip-compressed OpenMetrics text, written in resumable chunks.

Format (``alertdrill-recording/1``), once decompressed::

    # HELP alertdrill_recording {"format": "alertdrill-recording/1", "from": …, "to": …, …}
    up{instance="web:8080",job="web"} 1 1764633600
    up{instance="web:8080",job="web"} 0 1764633615
    …
    # EOF

The first line is an OpenMetrics ``HELP`` line of a metric family with no samples, whose text
is a JSON object: ``from``/``to`` (the range ``backtest`` evaluates, Unix seconds), ``start``
(the first sample's earliest time: ``from`` minus the rules' longest window), ``step``,
``source``, ``selectors`` and ``time_scale`` (1, or the K of a drill whose compressed timestamps
were stretched back to real-world time). Then samples, one a line, timestamps in seconds, each
series' samples in time order; ``# EOF`` ends a complete recording. It is what
``promtool tsdb create-blocks-from openmetrics`` reads (after decompression), and any
OpenMetrics parser reads it too.

On disk the file is a sequence of gzip members (the header, one per chunk, the EOF), which
``gzip -dc`` and Python's ``gzip`` read as one stream. While a recording is being made, the
journal ``FILE.partial.json`` holds the header, the chunks done and the byte length they end
at: a re-run truncates the file there and goes on with the next chunk.
"""

from __future__ import annotations

import gzip
import json
import math
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from alertdrill.errors import ConfigError

FORMAT = "alertdrill-recording/1"
_HEADER_PREFIX = "# HELP alertdrill_recording "
EOF_LINE = "# EOF"


@dataclass(frozen=True)
class Header:
    """What a recording holds (the JSON of its first line)."""

    start: float
    begin: float
    end: float
    step: float
    source: str
    selectors: tuple[str, ...] = ()
    time_scale: float = 1.0

    def to_json(self) -> dict[str, Any]:
        """The header line's JSON (keys as documented in the module docstring)."""
        return {"format": FORMAT, "from": self.begin, "to": self.end, "start": self.start,
                "step": self.step, "source": self.source, "selectors": list(self.selectors),
                "time_scale": self.time_scale}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Header:
        """Read a header line's JSON; ConfigError for another format."""
        if data.get("format") != FORMAT:
            raise ConfigError(f"not an {FORMAT} recording (format {data.get('format')!r})",
                              "make one with alertdrill record")
        return cls(float(data["start"]), float(data["from"]), float(data["to"]),
                   float(data["step"]), str(data.get("source", "")),
                   tuple(data.get("selectors") or ()), float(data.get("time_scale", 1.0)))

    def line(self) -> str:
        """The first line of the file."""
        return _HEADER_PREFIX + json.dumps(self.to_json(), sort_keys=True)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def format_value(value: float) -> str:
    """A sample value as OpenMetrics writes it (NaN, +Inf, -Inf, or the shortest repr)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value) if value != int(value) or abs(value) >= 1e15 else str(int(value))


def format_timestamp(ts: float) -> str:
    """Seconds, to the millisecond (what the TSDB keeps)."""
    text = f"{round(ts, 3):.3f}".rstrip("0").rstrip(".")
    return text or "0"


def series_text(labels: Mapping[str, str]) -> str:
    """``name{label="value",…}`` with OpenMetrics escaping, labels sorted."""
    name = labels.get("__name__", "")
    if not name:
        raise ValueError(f"a series without a metric name: {dict(labels)}")
    rest = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()) if k != "__name__")
    return f"{name}{{{rest}}}" if rest else name


def journal_path(path: Path) -> Path:
    """The resume journal of a recording being written."""
    return path.with_name(path.name + ".partial.json")


class RecordingWriter:
    """Appends chunks to a recording, each its own gzip member, journalled for resumption."""

    def __init__(self, path: Path, header: Header) -> None:
        self.path = path
        self.header = header
        self.journal = journal_path(path)
        self.chunks_done = 0

    def open(self) -> int:
        """Start the file, or resume it: returns how many chunks are already done."""
        if self.journal.exists():
            state = json.loads(self.journal.read_text())
            if state.get("header") != self.header.to_json():
                raise ConfigError(
                    f"{self.path} is a partial recording of something else "
                    f"(journal {self.journal.name} has other options)",
                    "re-run with the same --prometheus/--stack/--from/--to/--step, or delete "
                    "both files to start over")
            with open(self.path, "r+b") as f:
                f.truncate(int(state["offset"]))
            self.chunks_done = int(state["chunks"])
            return self.chunks_done
        if self.path.exists():
            raise ConfigError(f"{self.path} exists and is not a partial recording",
                              "choose another --out or delete it")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_bytes(b"")
        self._member([self.header.line()])
        self._save()
        return 0

    def _member(self, lines: Iterable[str]) -> None:
        with open(self.path, "ab") as raw:
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=6) as gz:
                buffer: list[str] = []
                for line in lines:
                    buffer.append(line)
                    if len(buffer) >= 4096:
                        gz.write(("\n".join(buffer) + "\n").encode())
                        buffer.clear()
                if buffer:
                    gz.write(("\n".join(buffer) + "\n").encode())
            raw.flush()
            os.fsync(raw.fileno())

    def _save(self) -> None:
        state = {"header": self.header.to_json(), "chunks": self.chunks_done,
                 "offset": self.path.stat().st_size}
        tmp = self.journal.with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        tmp.replace(self.journal)

    def add_chunk(self, lines: Iterable[str]) -> None:
        """Append one chunk's sample lines; done (journalled) when this returns."""
        self._member(lines)
        self.chunks_done += 1
        self._save()

    def finish(self) -> None:
        """Write ``# EOF`` and drop the journal: the recording is complete."""
        self._member([EOF_LINE])
        self.journal.unlink()


def _open_text(path: Path) -> IO[str]:
    try:
        return gzip.open(path, "rt", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the recording {path}: {exc}") from None


def read_header(path: Path) -> Header:
    """The header of a complete recording; ConfigError for a partial or foreign file."""
    if not path.is_file():
        raise ConfigError(f"no recording at {path}", "make one with alertdrill record")
    if journal_path(path).exists():
        raise ConfigError(f"{path} is a partial recording (its journal is beside it)",
                          "run the same alertdrill record again to finish it")
    try:
        with _open_text(path) as f:
            first = f.readline().rstrip("\n")
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not a gzip-compressed recording: {exc}") from None
    if not first.startswith(_HEADER_PREFIX):
        raise ConfigError(f"{path} does not start with an alertdrill_recording header",
                          "make one with alertdrill record")
    return Header.from_json(json.loads(first[len(_HEADER_PREFIX):]))


def sample_lines(path: Path) -> Iterator[str]:
    """Every sample line of a complete recording, streamed; ConfigError if ``# EOF`` is
    missing (a truncated file)."""
    with _open_text(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line == EOF_LINE:
                return
            if line and not line.startswith("#"):
                yield line
    raise ConfigError(f"{path} ends without # EOF: the recording is truncated",
                      "run alertdrill record again to finish it")


def line_timestamp(line: str) -> float:
    """The timestamp (last field) of a sample line."""
    return float(line.rsplit(" ", 1)[1])
