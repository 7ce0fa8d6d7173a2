"""The pytest plugin: options, the settings fixture, and hooks that keep failures clear.

Registered through the ``pytest11`` entry point, so any project that installs alertdrill gets
``--time-scale``, ``--stack`` … and the ``alertdrill_settings`` fixture (session scope). The
per-scenario ``stacks`` fixture lives in the suite's fixtures/ package.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from alertdrill import process
from alertdrill.errors import AlertdrillError
from alertdrill.settings import Settings
from alertdrill.vocabulary import loaded_steps, suggest

logger = logging.getLogger(__name__)

def pytest_addoption(parser: pytest.Parser) -> None:
    """Options mirror the ``ALERTDRILL_*`` variables; an option wins over its variable."""
    group = parser.getgroup("alertdrill", "alertdrill: alerting drills on real stacks")
    group.addoption("--backend", dest="alertdrill_backend",
                    help="where stacks run: local (processes, default) or docker (containers)")
    group.addoption("--time-scale", dest="alertdrill_time_scale", type=float,
                    help="real-world seconds per measured second (default 60; 1 = as written)")
    group.addoption("--floor", dest="alertdrill_floor", type=float,
                    help="smallest interval a scaled config may use, seconds (default 0.25)")
    group.addoption("--tolerance", dest="alertdrill_tolerance", type=float,
                    help="seconds added to every deadline (default 0.5)")
    group.addoption("--stack", dest="alertdrill_stack",
                    help='stack directory for "Given the stack is running" (default: sample)')
    group.addoption("--peers", dest="alertdrill_peers", type=int,
                    help="override the number of Alertmanager peers")
    group.addoption("--keep-workdir", dest="alertdrill_keep_workdir", action="store_true",
                    default=None, help="keep each stack's temp dir (logs, rendered configs)")
    group.addoption("--report-dir", dest="alertdrill_report_dir",
                    help="where each scenario's result record goes (default: reports/drill "
                    "under the rootdir); `alertdrill report` builds the drill report from it")


_CONFIG: pytest.Config | None = None


@pytest.hookimpl(tryfirst=True)
def pytest_bdd_apply_tag(tag: str, function: Any) -> None:
    """Register each Gherkin tag as a marker before pytest-bdd applies it, so that
    ``--strict-markers`` accepts ``@nightly`` and ``-m nightly`` selects it; the tags then reach
    the scenario records and Allure."""
    if _CONFIG is not None and tag not in _registered_markers(_CONFIG):
        _CONFIG.addinivalue_line("markers", f"{tag}: Gherkin tag")


#: Gherkin tag of scenarios that only the Docker backend can run (network partitions): they
#: are skipped, saying so, on any other backend.
DOCKER_ONLY = "docker-only"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip ``@docker-only`` scenarios unless the run's backend is docker."""
    try:
        backend = Settings.from_env(backend=config.getoption("alertdrill_backend")).backend
    except AlertdrillError:
        return  # the settings fixture reports the bad value
    if backend == "docker":
        return
    skip = pytest.mark.skip(reason=f"@{DOCKER_ONLY}: needs --backend docker (this run's backend "
                                   f"is {backend}; see README › Backends)")
    for item in items:
        if item.get_closest_marker(DOCKER_ONLY) is not None:
            item.add_marker(skip)


def _registered_markers(config: pytest.Config) -> set[str]:
    return {line.split(":")[0].split("(")[0].strip() for line in config.getini("markers")}


#: The bundled step vocabulary and suite fixtures, shipped beside the engine in a checkout.
BUNDLED_PLUGINS = (
    "fixtures.stacks",
    "steps.stack_steps",
    "steps.fault_steps",
    "steps.series_steps",
    "steps.alert_steps",
    "steps.notification_steps",
    "steps.silence_steps",
    "steps.ticket_steps",
)


def pytest_configure(config: pytest.Config) -> None:
    """Make SIGTERM/SIGHUP unwind like Ctrl-C, and load the bundled step vocabulary.

    The vocabulary is loaded here rather than only from the repository's conftest.py, so that
    feature files anywhere (a team's own directory) get the same steps and fixtures.
    """
    global _CONFIG
    _CONFIG = config
    process.install_signal_handlers()
    # Fixed before pytest-xdist starts its workers, so that they all inherit one run id.
    process.run_id()
    if os.environ.get("ALERTDRILL_NO_BUNDLED_STEPS"):
        return
    checkout = Path(__file__).resolve().parents[1]
    if not (checkout / "steps" / "__init__.py").is_file():
        return
    if str(checkout) not in sys.path:
        sys.path.insert(0, str(checkout))
    for name in BUNDLED_PLUGINS:
        config.pluginmanager.import_plugin(name)


@pytest.fixture(scope="session")
def alertdrill_settings(pytestconfig: pytest.Config) -> Settings:
    """The run's settings (session scope): defaults < ALERTDRILL_* < command-line options."""
    opt = pytestconfig.getoption
    return Settings.from_env(
        backend=opt("alertdrill_backend"),
        time_scale=opt("alertdrill_time_scale"),
        tolerance=opt("alertdrill_tolerance"),
        floor=opt("alertdrill_floor"),
        stack=opt("alertdrill_stack"),
        peers=opt("alertdrill_peers"),
        keep_workdir=opt("alertdrill_keep_workdir"),
        report_dir=opt("alertdrill_report_dir"),
    )


def report_dir(config: pytest.Config) -> Path:
    """The directory scenario records go to (option > ALERTDRILL_REPORT_DIR > default)."""
    from alertdrill.records import resolve_report_dir

    settings = Settings.from_env(report_dir=config.getoption("alertdrill_report_dir"))
    return resolve_report_dir(settings, Path(str(config.rootpath)))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    """Show harness errors as their message only: the user needs the next action, not a stack."""
    outcome: Any = yield
    report = outcome.get_result()
    item.__dict__.setdefault("_alertdrill_reports", {})[report.when] = report
    bdd = getattr(item, "_alertdrill_bdd", None)
    if bdd is not None:  # for progress displays; a plain string travels to xdist's controller
        report.alertdrill_scenario = f"{bdd[0].rel_filename}: {bdd[1].name}"
    if report.failed and call.excinfo is not None and report.when != "teardown":
        item._alertdrill_excinfo = call.excinfo  # type: ignore[attr-defined]
    if report.when == "call":
        item._alertdrill_call_report = report  # type: ignore[attr-defined]
    if report.when == "teardown":
        _record_unstarted(item)
    if call.excinfo is None or not report.failed:
        return
    exc = call.excinfo.value
    if isinstance(exc, AlertdrillError) or type(exc).__name__ == "StepDefinitionNotFoundError":
        step = getattr(item, "_alertdrill_failed_step", None)
        where = f"step: {step}\n" if step else ""
        report.longrepr = f"{where}{type(exc).__name__}: {exc}"


def pytest_bdd_step_error(request: pytest.FixtureRequest, step: Any, **_: Any) -> None:
    """Remember which step failed, for the short report and the scenario's record."""
    request.node._alertdrill_failed_step = f"{step.keyword} {step.name} (line {step.line_number})"
    _step_ended(request, "failed")


def pytest_bdd_before_step(request: pytest.FixtureRequest, step: Any, **_: Any) -> None:
    """Note when each step starts (the record puts steps on the scenario's timeline)."""
    steps = request.node.__dict__.setdefault("_alertdrill_steps", [])
    steps.append({"name": step.name, "outcome": "running", "started": time.monotonic()})


def pytest_bdd_after_step(request: pytest.FixtureRequest, **_: Any) -> None:
    """Note when a step passed."""
    _step_ended(request, "passed")


def _step_ended(request: pytest.FixtureRequest, outcome: str) -> None:
    steps = request.node.__dict__.get("_alertdrill_steps") or []
    if steps and steps[-1]["outcome"] == "running":
        steps[-1].update(outcome=outcome, ended=time.monotonic())


def _record_unstarted(item: pytest.Item) -> None:
    """A scenario that never reached the ``stacks`` fixture (e.g. refused for an undefined step)
    still gets its record, so the drill report lists every scenario of the run."""
    if getattr(item, "_alertdrill_record_written", False):
        return
    from alertdrill.records import build_record, scenario_info, write_record

    try:
        info = scenario_info(item)
        if info is None:
            return
        settings = Settings.from_env(report_dir=item.config.getoption("alertdrill_report_dir"))
        write_record(build_record(info, settings), report_dir(item.config))
        item._alertdrill_record_written = True  # type: ignore[attr-defined]
    except Exception:
        logger.exception("writing the scenario record of %s failed", item.nodeid)


def pytest_bdd_before_scenario(request: pytest.FixtureRequest, feature: Any, scenario: Any) -> None:
    """Refuse a scenario with an undefined step *before* starting any stack for it."""
    request.node._alertdrill_bdd = (feature, scenario)
    request.node._alertdrill_started = (time.time(), time.monotonic())
    try:
        from pytest_bdd.scenario import get_step_function
    except ImportError:  # pragma: no cover - older/newer pytest-bdd: fall back to lazy lookup
        return
    for step in scenario.steps:
        if get_step_function(request=request, step=step) is None:
            close = suggest(step.name, loaded_steps())
            hint = ("did you mean:\n      " + "\n      ".join(close)) if close else \
                "see README › Step vocabulary for every step"
            raise AlertdrillError(
                f'no step definition matches "{step.keyword} {step.name}" '
                f"({feature.rel_filename}:{step.line_number})",
                hint,
            )
