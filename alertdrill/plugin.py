"""The pytest plugin: options, the settings fixture, and hooks that keep failures clear.

Registered through the ``pytest11`` entry point, so any project that installs alertdrill gets
``--time-scale``, ``--stack`` … and the ``alertdrill_settings`` fixture (session scope). The
per-scenario ``stacks`` fixture lives in the suite's fixtures/ package.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from alertdrill.backends import process
from alertdrill.engine.claimnames import (
    ParsedStep,
    StackNames,
    introduced_by,
    problems,
    refusal,
    stack_argument,
    stack_names,
    step_actions,
    table_arguments,
)
from alertdrill.engine.nesting import inner_step, nested_argument
from alertdrill.engine.vocabulary import loaded_steps, suggest
from alertdrill.errors import AlertdrillError
from alertdrill.settingoptions import RUN_SETTINGS, add_options, given
from alertdrill.settings import Settings

logger = logging.getLogger(__name__)


def _dest(name: str) -> str:
    return f"alertdrill_{name}"


def pytest_addoption(parser: pytest.Parser) -> None:
    """Options mirror the ``ALERTDRILL_*`` variables; an option wins over its variable."""
    group = parser.getgroup("alertdrill", "alertdrill: alerting drills on real stacks")
    add_options(group.addoption, RUN_SETTINGS, _dest)
    group.addoption("--stack", dest="alertdrill_stack",
                    help='stack directory for "Given the stack is running" (default: sample)')
    group.addoption("--shard", dest="alertdrill_shard", metavar="I/N",
                    help="run shard I of N: a deterministic, duration-balanced part of the "
                    "scenarios (durations from the records in --report-dir, when there are)")
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
    """Keep only this shard's scenarios (``--shard I/N``); skip ``@docker-only`` scenarios
    unless the run's backend is docker."""
    shard = config.getoption("alertdrill_shard")
    if shard:
        from alertdrill.engine.shards import durations_from, select

        keep = select([item.nodeid for item in items], shard,
                      durations_from([report_dir(config)]))
        dropped = [item for item in items if item.nodeid not in keep]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = [item for item in items if item.nodeid in keep]
    try:
        backend = _settings(config).backend
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


#: The suite fixtures, shipped inside the package (``fixtures/`` of the repository).
BUNDLED_FIXTURES = ("alertdrill.fixtures.stacks",)


def bundled_step_modules() -> list[str]:
    """Every module of ``alertdrill.steps`` whose name ends in ``_steps``, sorted: a new step
    module (``steps/<kind>_steps.py`` in the repository) is loaded with no registration; the
    package's other modules (``patterns``) are helpers the step modules import."""
    import pkgutil

    import alertdrill.steps

    return sorted(f"alertdrill.steps.{m.name}" for m in pkgutil.iter_modules(alertdrill.steps.__path__)
                  if m.name.endswith("_steps") and not m.ispkg)


def bundled_plugins() -> list[str]:
    """The modules the plugin registers with pytest: the suite fixtures, then every step module."""
    return [*BUNDLED_FIXTURES, *bundled_step_modules()]


def pytest_configure(config: pytest.Config) -> None:
    """Make SIGTERM/SIGHUP unwind like Ctrl-C, and load the bundled step vocabulary.

    The vocabulary is loaded here rather than only from the repository's conftest.py, so that
    feature files anywhere (a team's own directory) get the same steps and fixtures.
    """
    global _CONFIG
    _CONFIG = config
    _check_options(config)
    process.install_signal_handlers()
    # Fixed before pytest-xdist starts its workers, so that they all inherit one run id.
    process.run_id()
    if os.environ.get("ALERTDRILL_NO_BUNDLED_STEPS"):
        return
    for name in bundled_plugins():
        config.pluginmanager.import_plugin(name)


def _check_options(config: pytest.Config) -> None:
    """Bad settings (``--peers 10``, ``ALERTDRILL_TIME_SCALE=0``) are a usage error of the
    whole run — pytest's exit status 4 and one message — not an error of every scenario."""
    try:
        _settings(config)
        shard = config.getoption("alertdrill_shard")
        if shard:
            from alertdrill.engine.shards import parse_shard

            parse_shard(shard)
    except AlertdrillError as exc:
        raise pytest.UsageError(f"alertdrill: {exc}") from None


@pytest.fixture(scope="session")
def alertdrill_settings(pytestconfig: pytest.Config) -> Settings:
    """The run's settings (session scope): defaults < ALERTDRILL_* < command-line options."""
    return _settings(pytestconfig)


def _settings(config: pytest.Config) -> Settings:
    return Settings.from_env(**given(config.option, RUN_SETTINGS, _dest),
                             stack=config.getoption("alertdrill_stack"),
                             report_dir=config.getoption("alertdrill_report_dir"))


def report_dir(config: pytest.Config) -> Path:
    """The directory scenario records go to (option > ALERTDRILL_REPORT_DIR > default)."""
    from alertdrill.report.records import resolve_report_dir

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
    from alertdrill.report.records import build_record, scenario_info, write_record

    try:
        info = scenario_info(item)
        if info is None:
            return
        settings = Settings.from_env(report_dir=item.config.getoption("alertdrill_report_dir"))
        write_record(build_record(info, settings), report_dir(item.config))
        item._alertdrill_record_written = True  # type: ignore[attr-defined]
    except Exception:
        logger.exception("writing the scenario record of %s failed", item.nodeid)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Remember which scenario runs after this one in this worker: the warm pool starts its
    stack while this one runs (``alertdrill.backends.pool``)."""
    item._alertdrill_nextitem = nextitem  # type: ignore[attr-defined]


def next_stack(item: pytest.Item) -> tuple[str, list[Path]] | None:
    """The stack the scenario after ``item`` starts first — its name ("" for the run's default)
    and where that name resolves — or None: no next scenario, not a scenario, or a stack step
    whose name only an example row fills in."""
    nextitem = getattr(item, "_alertdrill_nextitem", None)
    if nextitem is None:
        return None
    from pytest_bdd.scenario import scenario_wrapper_template_registry
    from pytest_bdd.steps import step_function_context_registry

    from alertdrill.cli.featurecheck import matching_step
    from alertdrill.engine.scenario import search_paths

    function = getattr(nextitem, "obj", None)
    template = scenario_wrapper_template_registry.get(function) if callable(function) else None
    if template is None:
        return None
    callspec = getattr(nextitem, "callspec", None)
    example = callspec.params.get("_pytest_bdd_example", {}) if callspec is not None else {}
    contexts = list(step_function_context_registry.values())
    for step in template.render(example).steps:
        context = matching_step(contexts, step)
        if context is None:
            return None
        parsed = parse_step(step, context)
        if parsed.starts_stack is not None:
            search = search_paths(Path(str(nextitem.config.rootpath)), Path(str(nextitem.path)),
                                  template.feature.filename, [])
            return parsed.starts_stack, search
    return None


def scenario_search(node: pytest.Item) -> list[Path]:
    """Where the stack names of this scenario's steps resolve (see ``scenario.search_paths``)."""
    from alertdrill.engine.scenario import search_paths

    bdd = getattr(node, "_alertdrill_bdd", None)
    feature_file = getattr(bdd[0], "filename", None) if bdd is not None else None
    # then the bundled stacks: resolve_stack_dir falls back to them
    return search_paths(Path(str(node.config.rootpath)), Path(str(node.path)), feature_file, [])


def pytest_bdd_before_scenario(request: pytest.FixtureRequest, feature: Any, scenario: Any) -> None:
    """Refuse a scenario with an undefined step, or with a name its stack does not have,
    *before* starting any stack for it."""
    request.node._alertdrill_bdd = (feature, scenario)
    request.node._alertdrill_started = (time.time(), time.monotonic())
    try:
        from pytest_bdd.scenario import get_step_function
    except ImportError:  # pragma: no cover - older/newer pytest-bdd: fall back to lazy lookup
        return
    parsed = []
    for step in scenario.steps:
        context = get_step_function(request=request, step=step)
        if context is None:
            close = suggest(step.name, loaded_steps())
            hint = ("did you mean:\n      " + "\n      ".join(close)) if close else \
                "see README › Step vocabulary for every step"
            raise AlertdrillError(
                f'no step definition matches "{step.keyword} {step.name}" '
                f"({feature.rel_filename}:{step.line_number})",
                hint,
            )
        parsed.append(parse_step(step, context))
        carried = nested_argument(context.step_func)
        if carried is not None:  # "At 5 minutes, <step>": its step is checked like any other
            text = str(parsed[-1].arguments.get(carried) or "")
            inner = inner_step(text, step.line_number)
            inner_context = get_step_function(request=request, step=inner)
            if inner_context is None:
                raise AlertdrillError(f'no When-step matches "{text}" ({feature.rel_filename}:'
                                      f"{step.line_number})", "see README › Step vocabulary")
            parsed.append(parse_step(inner, inner_context))
    where = f"{feature.rel_filename}: {scenario.name}"
    from alertdrill.engine.argcheck import syntax_problems

    malformed = syntax_problems(parsed)
    if malformed:
        raise AlertdrillError(f"{where}: a step argument cannot be read:\n    "
                              + "\n    ".join(malformed), "fix the step's text")
    _refuse_unknown_names(request, parsed, where)


def parse_step(step: Any, context: Any) -> ParsedStep:
    """A pytest-bdd step's named arguments and marks, as the name check reads them."""
    func = context.step_func
    arguments = context.parser.parse_arguments(step.name) or {}
    table = getattr(step, "datatable", None)
    if table is not None:
        arguments = {**arguments, **table_arguments(
            [[str(cell.value) for cell in row.cells] for row in table.rows])}
    stack_arg = stack_argument(func)
    starts = None if stack_arg is None else str(arguments.get(stack_arg) or "") if stack_arg else ""
    return ParsedStep(f"{step.keyword} {step.name}", step.line_number, arguments,
                      introduced_by(func), starts, step_actions(func, arguments))


def _refuse_unknown_names(request: pytest.FixtureRequest, steps: list[ParsedStep],
                          where: str) -> None:
    settings: Settings = request.getfixturevalue("alertdrill_settings")
    from alertdrill.engine.scenario import Stacks

    stacks = Stacks(settings, scenario_search(request.node))

    def resolve(name: str) -> StackNames:
        return stack_names(stacks.resolve(name or None), settings.peers or None)

    found = problems(steps, resolve)
    if found:
        raise refusal(found, where)
    from alertdrill.backends import refuse_steps

    refuse_steps(settings.backend, steps, lambda name: stacks.resolve(name or None), where)
