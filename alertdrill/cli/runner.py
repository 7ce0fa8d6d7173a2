"""``alertdrill run``: scenarios through pytest, with a compact progress display and reports.

Feature files need no Python: the runner writes a throw-away pytest binding
(``scenarios(<path>, …)``) and a minimal ini file into a temp dir, and runs pytest *in this
process* with the alertdrill plugin (registered through the ``pytest11`` entry point), which
brings the step vocabulary and the per-scenario stacks. Outputs, under ``--report-dir``
(default ``reports``): ``junit.xml``, ``allure-results/``, one record per scenario in
``drill/``, and the drill report ``drill-report.html``/``.md`` built from them at the end —
also when scenarios failed. The exit status is pytest's (0 all passed, 1 some failed,
2 interrupted, 4 usage error, 5 nothing selected), or 3 if only the report could not be built.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import pytest

from alertdrill import bundled
from alertdrill.backends.process import KEPT_PROPERTY
from alertdrill.errors import AlertdrillError, ConfigError
from alertdrill.settingoptions import RUN_SETTINGS, as_flags, given
from alertdrill.text import plural

_INI = """\
# Written by `alertdrill run` for one run; removed afterwards.
[pytest]
addopts = -p no:cacheprovider --strict-markers
filterwarnings =
    ignore::DeprecationWarning:testcontainers.*
"""


@dataclass
class RunOptions:
    """Everything ``alertdrill run`` was told."""

    features: list[Path] = field(default_factory=list)
    stack: str | None = None
    backend: str | None = None
    time_scale: float | None = None
    tolerance: float | None = None
    floor: float | None = None
    peers: int | None = None
    #: Warm stacks per worker (alertdrill.backends.pool); None: ALERTDRILL_POOL or the default.
    pool: int | None = None
    tags: str | None = None
    keyword: str | None = None
    parallel: int = 1
    report_dir: Path = Path("reports")
    keep_workdir: bool = False
    #: ``I/N``: run shard I of N (see alertdrill.engine.shards).
    shard: str | None = None
    #: Earlier runs' records for the report's trend section, and how many runs it shows.
    history: Path | None = None
    runs: int = 10
    #: A Pushgateway the run's metrics are pushed to (alertdrill.report.metrics).
    pushgateway: str | None = None
    fail_fast: bool = False
    verbose: bool = False
    pytest_args: list[str] = field(default_factory=list)


def default_features() -> list[Path]:
    """The bundled features (``alertdrill.bundled``)."""
    features = bundled.features_dir()
    if not any(features.glob("**/*.feature")):
        raise ConfigError(f"no bundled features in {features}",
                          "give feature files or directories: alertdrill run DIR…")
    return [features]


def project_defaults(options: RunOptions, directory: Path | None = None) -> None:
    """In a drill project (``alertdrill init`` wrote ``alertdrill-project.yml`` there), what
    ``run`` is not told comes from the project: its ``features/`` when no feature is given, its
    ``stack/`` when no ``--stack`` is (``$ALERTDRILL_STACK``, when set, still names the stack) —
    so ``alertdrill run features/routing.feature`` there runs against the project's stack, not
    the bundled sample."""
    from alertdrill.scaffold.project import find_project

    project = find_project(directory or Path.cwd())
    if project is None:
        return
    if not options.features:
        options.features = [project.features]
    options.stack = project_stack(options.stack, directory)


def project_stack(given: str | None, directory: Path | None = None) -> str | None:
    """The stack a command means when none is given: in a drill project its ``stack/`` (unless
    ``$ALERTDRILL_STACK`` names one) — for ``run`` and for ``check`` alike."""
    from alertdrill.scaffold.project import find_project

    if given is not None or os.environ.get("ALERTDRILL_STACK"):
        return given
    project = find_project(directory or Path.cwd())
    return str(project.stack) if project is not None else None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "features"


def write_binding(directory: Path, features: list[Path]) -> list[Path]:
    """Pytest modules binding every scenario of ``features`` (files or directories), written
    into ``directory`` with the run's pytest.ini.

    ``directory`` becomes pytest's rootdir; each feature directory (a file's parent) is linked
    into it under its own name, so that node ids read ``test_<name>.py::test_<scenario>``,
    Allure (which wants features under the rootdir) names them ``<dir>/<feature>``, and records
    keep ``<dir>/<file>.feature`` as pytest-bdd names them anyway.
    """
    paths: list[tuple[Path, str]] = []
    links: dict[Path, Path] = {}
    for path in features:
        path = path.expanduser().resolve()
        if not path.exists():
            raise ConfigError(f"no such feature file or directory: {path}")
        if path.is_dir() and not any(path.glob("**/*.feature")):
            raise ConfigError(f"{path} holds no .feature file")
        if path.is_file() and path.suffix != ".feature":
            raise ConfigError(f"{path} is not a .feature file")
        folder = path if path.is_dir() else path.parent
        if folder not in links:
            name, n = folder.name or "features", 1
            while (directory / name).exists():
                n += 1
                name = f"{folder.name}-{n}"
            (directory / name).symlink_to(folder, target_is_directory=True)
            links[folder] = directory / name
        paths.append((path, str(links[folder] if path.is_dir() else links[folder] / path.name)))
    modules = []
    for path, linked in paths:  # one module per path: JUnit's classname names it
        stem = _slug(path.stem if path.is_file() else path.name)
        module, n = directory / f"test_{stem}.py", 1
        while module.exists():
            n += 1
            module = directory / f"test_{stem}_{n}.py"
        module.write_text(
            '"""Written by `alertdrill run`: binds feature files to pytest."""\n'
            "from pytest_bdd import scenarios\n\n"
            f"scenarios({linked!r})\n")
        modules.append(module)
    (directory / "pytest.ini").write_text(_INI)
    return modules


def pytest_args(options: RunOptions, modules: list[Path], out: Path) -> list[str]:
    """The pytest command line for a run (without the progress plugin)."""
    binding = modules[0].parent
    args = [*map(str, modules), "-c", str(binding / "pytest.ini"), "--rootdir",
            str(binding), "-p", "no:cacheprovider",
            f"--junitxml={out / 'junit.xml'}", f"--alluredir={out / 'allure-results'}",
            "--clean-alluredir", f"--report-dir={out / 'drill'}"]
    if not options.verbose:
        args += ["-p", "no:terminal"]
    else:
        args += ["-v"]
    args += as_flags(given(options, RUN_SETTINGS))
    args += [f"{flag}={value}" for flag, value in (("--stack", options.stack),
                                                   ("--shard", options.shard)) if value is not None]
    if options.tags:
        args += ["-m", options.tags]
    if options.keyword:
        args += ["-k", options.keyword]
    if options.fail_fast:
        args.append("-x")
    if options.parallel > 1:
        try:
            import xdist  # noqa: F401
        except ImportError:
            raise ConfigError("--parallel needs pytest-xdist",
                              "pip install pytest-xdist (a dependency of alertdrill ≥ 0.2)") from None
        args += ["-n", str(options.parallel)]
    return args + list(options.pytest_args)


class Progress:
    """A pytest plugin printing one line per scenario as it ends (name, result, duration)."""

    def __init__(self, out: TextIO, tty: bool) -> None:
        self.out = out
        self.tty = tty
        self.total = 0
        self.done = 0
        self.counts: dict[str, int] = {}
        self.results: dict[str, dict[str, Any]] = {}
        self.failures: list[tuple[str, str]] = []
        self.started = time.monotonic()
        self.collect_errors: list[str] = []
        self.running: set[str] = set()
        self._status = False

    def _print(self, text: str) -> None:
        if self._status:
            self.out.write("\r\x1b[K")
            self._status = False
        self.out.write(text + "\n")
        self.out.flush()

    # -- pytest hooks -----------------------------------------------------------------------
    def pytest_collectreport(self, report: Any) -> None:
        if report.failed:
            text = str(report.longreprtext or report.longrepr)
            self.collect_errors.append(text)
            self._print(f"collection error in {report.nodeid or 'the features'}:\n"
                        + _indent(_tail(text, 25)))

    def pytest_collection_finish(self, session: Any) -> None:
        self.total = len(session.items)
        self._print(plural(self.total, "scenario"))

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        if not self.total:
            self.total = len(ids)
            workers = getattr(node.config.option, "numprocesses", None)
            self._print(f"{plural(self.total, 'scenario')} on "
                        + (plural(int(workers), "worker") if workers else "? workers"))

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        self.running.add(nodeid)
        if self.tty and not self._status:
            self.out.write(f"  … {_short(nodeid)}")
            self.out.flush()
            self._status = True

    def pytest_runtest_logreport(self, report: Any) -> None:
        entry = self.results.setdefault(report.nodeid, {"outcome": "passed", "duration": 0.0,
                                                       "message": ""})
        entry["duration"] += float(getattr(report, "duration", 0.0) or 0.0)
        scenario = getattr(report, "alertdrill_scenario", None)
        if scenario:
            entry["name"] = str(scenario)
        if report.failed:
            entry["outcome"] = "error" if report.when != "call" else "failed"
            if not entry["message"]:
                entry["message"] = str(report.longreprtext or "")
        elif report.skipped and entry["outcome"] == "passed":
            entry["outcome"] = "skipped"
        if report.when == "teardown":
            entry["kept"] = [str(value) for name, value in getattr(report, "user_properties", ())
                             if name == KEPT_PROPERTY]
            self._finish(report.nodeid, entry)

    def _finish(self, nodeid: str, entry: dict[str, Any]) -> None:
        self.running.discard(nodeid)
        self.done += 1
        outcome = entry["outcome"]
        # As the records say it: a claim that did not hold failed; anything else is an error.
        if outcome in ("failed", "error"):
            outcome = "failed" if _is_claim(entry["message"]) else "error"
        self.counts[outcome] = self.counts.get(outcome, 0) + 1
        mark = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "skipped": "SKIP"}[outcome]
        if self.tty:
            colour = {"PASS": "32", "FAIL": "31;1", "ERROR": "31;1", "SKIP": "33"}[mark]
            mark_text = f"\x1b[{colour}m{mark:<5}\x1b[0m"
        else:
            mark_text = f"{mark:<5}"
        width = len(str(self.total or self.done))
        name = entry.get("name") or _short(nodeid)
        self._print(f"[{self.done:>{width}}/{self.total or '?'}] {mark_text} {name}  "
                    f"({entry['duration']:.1f} s)")
        if outcome in ("failed", "error") and entry["message"]:
            self.failures.append((name, entry["message"]))
            self._print(_indent(_tail(_head(entry["message"], 14), 14), "        "))
        for path in entry.get("kept") or []:
            self._print(f"        kept workdir: {path}")

    def summary(self) -> str:
        """``3 passed, 1 failed in 40.2 s`` (``, interrupted in …`` when stopped)."""
        parts = [plural(self.counts[k], k, k if k != "error" else None)  # 2 errors, 2 passed
                 for k in ("passed", "failed", "error", "skipped") if self.counts.get(k)]
        if self.running:
            names = ", ".join(sorted(_short(n) for n in self.running))
            parts.append(f"interrupted in {names}")
        return (", ".join(parts) or "no scenario ran") + \
            f" in {time.monotonic() - self.started:.1f} s"


def _is_claim(message: str) -> bool:
    return "ExpectationFailed" in message or "AssertionError" in message


def _short(nodeid: str) -> str:
    return nodeid.split("::", 1)[-1]


def _head(text: str, lines: int) -> str:
    parts = text.strip("\n").splitlines()
    return "\n".join(parts[:lines] + (["…"] if len(parts) > lines else []))


def _tail(text: str, lines: int) -> str:
    return "\n".join(text.strip("\n").splitlines()[-lines:])


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def run(options: RunOptions, out: TextIO = sys.stdout) -> int:
    """Run the scenarios, build the drill report, return the exit status."""
    from alertdrill.report import build
    from alertdrill.report.metrics import METRICS_FILE, push_metrics
    from alertdrill.report.records import load_records
    from alertdrill.settings import Settings, resolve_stack_dir

    project_defaults(options)
    options.features = features = options.features or default_features()
    if options.stack:
        options.stack = str(resolve_stack_dir(options.stack, [Path.cwd()]))
    if options.history is not None and not options.history.is_dir():
        raise ConfigError(f"--history {options.history}: no such directory",
                          "give the directory where earlier runs' records are kept")
    if options.parallel < 1:
        raise ConfigError(f"--parallel must be 1 or more, not {options.parallel}")
    if options.shard:
        from alertdrill.engine.shards import parse_shard

        parse_shard(options.shard)
    settings = Settings.from_env(**given(options, RUN_SETTINGS), stack=options.stack)
    report_root = options.report_dir.expanduser().resolve()
    tty = out.isatty()
    with tempfile.TemporaryDirectory(prefix="alertdrill-run-") as tmp:
        binding = write_binding(Path(tmp), features)  # a missing feature: before any output
        report_root.mkdir(parents=True, exist_ok=True)
        args = pytest_args(options, binding, report_root)
        shown = ", ".join(_display(f) for f in features)
        out.write(f"alertdrill run: {shown} · stack {_display_stack(options.stack)} · "
                  f"{settings.backend} backend · K={settings.time_scale:g} · tolerance "
                  f"{settings.tolerance:g} s" + (f" · tags {options.tags}" if options.tags else "")
                  + (f" · {options.parallel} in parallel" if options.parallel > 1 else "") + "\n"
                  + _ignored_note())
        out.flush()
        progress = Progress(out, tty)
        status = int(pytest.main(args, plugins=[progress]))
    if status in (4, 5):  # nothing ran: the previous run's reports are left as they were
        out.write("no scenario selected (check --tags / -k)\n" if status == 5 else
                  "pytest refused the options (its message is above)\n")
        return status
    out.write(progress.summary() + "\n")
    out.write(f"junit:  {_display(report_root / 'junit.xml')}\n")
    out.write(f"allure: {_display(report_root / 'allure-results')}\n")
    try:
        html_path, md_path = build(report_root / "drill", report_root, options.history,
                                   options.runs)
    except Exception as exc:
        out.write(f"drill report: not built ({str(exc).splitlines()[0]})\n")
        return status if status != 0 else 3
    out.write(f"drill report: {_display(html_path)}  {_display(md_path)}\n")
    out.write(f"metrics: {_display(report_root / METRICS_FILE)}\n")
    if options.pushgateway:
        try:
            push_metrics(load_records(report_root / "drill"), options.pushgateway)
        except AlertdrillError as exc:
            out.write(f"metrics: not pushed ({exc})\n")
            return status if status != 0 else 3
        out.write(f"metrics: pushed to {options.pushgateway}\n")
    return status


def _ignored_note() -> str:
    """A run started with SIGINT ignored (a background job of a script) ignores Ctrl-C, as its
    parent asked: say so, and what stops it."""
    from alertdrill.backends.process import ignored_signals

    ignored = ignored_signals()
    if not ignored:
        return ""
    stop = next((s for s in ("SIGTERM", "SIGHUP", "SIGINT") if s not in ignored), "SIGKILL")
    return (f"note: {' and '.join(ignored)} ignored, as this process was started (e.g. a "
            f"background job of a script): stop it with kill -{stop[3:]} {os.getpid()}\n")


def _display(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _display_stack(stack: str | None) -> str:
    if stack is None:
        return os.environ.get("ALERTDRILL_STACK") or "as each feature names it"
    return _display(Path(stack))
