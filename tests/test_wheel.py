"""The package is the product: the wheel, installed in a fresh venv, drills a team's own stack
from a directory that is not the checkout.

The slow test builds the wheel with ``pip wheel --no-deps`` from a copy of the tree's files
(tracked and new, as a clean clone would have them), installs it into a new venv (no system
site-packages; pip's own cache makes the second run fast), and runs ``alertdrill steps``,
``check``, ``run`` and ``report`` there on a one-service stack written here. The fast tests
keep pyproject's explicit package list in step with the directories it must ship.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
import venv
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


# -- the package list (fast) -------------------------------------------------------------------
def _source_dir(package: str) -> Path:
    """Where pyproject's package-dir puts ``package`` in the repository."""
    mapping: dict[str, str] = PYPROJECT.get("package-dir", {})
    parts = package.split(".")
    for n in range(len(parts), 0, -1):
        prefix = ".".join(parts[:n])
        if prefix in mapping:
            return ROOT / mapping[prefix] / Path(*parts[n:])
    return ROOT / Path(*parts)


def test_every_package_and_bundled_feature_directory_is_in_pyproject() -> None:
    """A new sub-package of alertdrill/, steps/ or fixtures/, or a new features/<dir>, that
    pyproject does not list would be silently missing from the wheel."""
    listed = set(PYPROJECT["packages"])
    wanted = {".".join(("alertdrill", *p.parent.relative_to(ROOT / "alertdrill").parts))
              for p in (ROOT / "alertdrill").rglob("__init__.py")}
    for top in ("steps", "fixtures"):
        wanted |= {".".join(("alertdrill", top, *p.parent.relative_to(ROOT / top).parts))
                   for p in (ROOT / top).rglob("__init__.py")}
    wanted |= {f"alertdrill._bundled.features.{d.name}" for d in (ROOT / "features").iterdir()
               if d.is_dir() and any(d.glob("**/*.feature"))}
    wanted.add("alertdrill._bundled.stack")
    assert wanted - listed == set(), "add these to [tool.setuptools] packages (and package-dir)"
    for package in listed:
        assert _source_dir(package).is_dir(), f"{package} maps to no directory"


def test_step_modules_are_found_without_registration() -> None:
    """Every steps/*_steps.py is loaded by the plugin: no list to keep up to date."""
    from alertdrill.plugin import bundled_plugins, bundled_step_modules

    files = sorted(p.stem for p in (ROOT / "steps").glob("*_steps.py"))
    assert bundled_step_modules() == [f"alertdrill.steps.{name}" for name in files]
    assert "alertdrill.steps.patterns" not in bundled_plugins()
    assert bundled_plugins()[0] == "alertdrill.fixtures.stacks"


# -- messages a pip user can act on (fast) -----------------------------------------------------
def _message_strings(path: Path) -> list[tuple[int, str]]:
    """String literals of a module that are not docstrings (what it prints or raises)."""
    import ast

    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docstrings]


def test_no_message_tells_a_pip_user_to_run_make() -> None:
    found = [f"{path.relative_to(ROOT)}:{line}: {text!r}"
             for top in ("alertdrill", "steps", "fixtures")
             for path in sorted((ROOT / top).rglob("*.py"))
             for line, text in _message_strings(path)
             if re.search(r"\bmake (drill|setup|images|test)\b|`make\b", text)]
    assert found == []


def test_a_missing_binary_names_apt_get_the_override_and_where_docker_helps(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from alertdrill.backends.binaries import find_binary
    from alertdrill.errors import MissingBinaryError

    monkeypatch.setenv("PATH", "/nonexistent")
    for name in ("ALERTDRILL_MTAIL", "ALERTDRILL_PROMTOOL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(MissingBinaryError) as mtail:
        find_binary("mtail")
    assert "sudo apt-get install -y mtail" in mtail.value.hint
    assert "ALERTDRILL_MTAIL=/path/to/mtail" in mtail.value.hint
    assert "--backend docker with ALERTDRILL_IMAGES=official" in mtail.value.hint
    with pytest.raises(MissingBinaryError) as promtool:
        find_binary("promtool")  # checks configs on the host on every backend
    assert "sudo apt-get install -y prometheus" in promtool.value.hint
    assert "docker" not in promtool.value.hint


# -- the wheel in a fresh venv (slow) ----------------------------------------------------------
PROMETHEUS_YML = """\
global:
  scrape_interval: 15s
  evaluation_interval: 15s
rule_files: [rules.yml]
scrape_configs:
  - job_name: api
    static_configs:
      - targets: ["api.example.internal:9100"]
        labels: {team: api}
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["alertmanager:9093"]
"""
RULES_YML = """\
groups:
  - name: availability
    rules:
      - alert: ApiDown
        expr: up{job="api"} == 0
        for: 30s
        labels: {severity: critical}
        annotations: {summary: "{{ $labels.instance }} is down"}
"""
ALERTMANAGER_YML = """\
route:
  receiver: fallback
  group_by: [alertname]
  group_wait: 15s
  group_interval: 1m
  repeat_interval: 4h
  routes:
    - matchers: ['team="api"']
      receiver: api-team
receivers:
  - name: fallback
  - name: api-team
    webhook_configs:
      - url: https://hooks.example.invalid/api
        send_resolved: true
"""
MANIFEST_YML = """\
services:
  api:
    kind: sample-target
    address: api.example.internal:9100
"""
FEATURE = """\
Feature: the api team's alert
  Scenario: api stops, ApiDown pages the api team, and resolves when api is back
    Given the stack is running
    When the service "api" is stopped
    Then the alert "ApiDown" fires within 2 minutes
    And "api-team" is notified of "ApiDown" within 3 minutes
    And "fallback" is never notified of "ApiDown" within 3 minutes
    When the service "api" is started again
    Then the alert "ApiDown" resolves within 2 minutes
    And "api-team" is notified that "ApiDown" resolved within 3 minutes
"""


def _tree_copy(dest: Path) -> Path:
    """The files a clean clone of the tree has (tracked, and new ones not ignored)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, check=False)
    if listed.returncode != 0:
        pytest.skip(f"{ROOT} is not a git work tree: {listed.stderr.decode().strip()}")
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    return dest


def _user_env(venv_dir: Path, home: Path) -> dict[str, str]:
    """A pip user's environment: the venv's bin first, no ALERTDRILL_* of this run, no
    PYTHONPATH that could reach the checkout; pip's cache stays the user's, so a second run
    downloads nothing."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("ALERTDRILL_") and k not in ("PYTHONPATH", "VIRTUAL_ENV",
                                                            "PIP_NO_CACHE_DIR", "PYTHONHOME")}
    env["PIP_CACHE_DIR"] = os.environ.get("PIP_CACHE_DIR") or str(Path.home() / ".cache" / "pip")
    env["PATH"] = f"{venv_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv_dir)
    for name in ("ALERTDRILL_STATE_DIR", "ALERTDRILL_TMPDIR"):
        (home / name.lower()).mkdir(exist_ok=True)
        env[name] = str(home / name.lower())
    return env


def _run(argv: list[str], env: dict[str, str], cwd: Path, timeout: float = 180,
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    out = result.stdout + result.stderr
    assert result.returncode == 0, f"{result.args}: exit {result.returncode}\n{out[-4000:]}"
    assert "Traceback" not in out, out[-4000:]
    return result.stdout


@dataclass(frozen=True)
class Installed:
    """The wheel, and a fresh venv it is installed in (no system site-packages)."""

    wheel: Path
    venv: Path
    home: Path

    @property
    def python(self) -> str:
        """The venv's interpreter."""
        return str(self.venv / "bin" / "python")

    def env(self) -> dict[str, str]:
        """A pip user's environment with this venv first."""
        return _user_env(self.venv, self.home)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Build the wheel from a clean-clone copy of the tree and install it in a new venv, once
    for this module's tests (each then works in a directory of its own)."""
    root = tmp_path_factory.mktemp("wheel")
    source = _tree_copy(root / "src")
    dist = root / "dist"
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), "."],
                 {**os.environ, "PIP_CACHE_DIR": os.environ.get("PIP_CACHE_DIR")
                  or str(Path.home() / ".cache" / "pip")}, cwd=source, timeout=300)
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = dist.glob("alertdrill-*.whl")
    venv_dir = root / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False, symlinks=True).create(venv_dir)
    done = Installed(wheel, venv_dir, root)
    _ok(_run([done.python, "-m", "pip", "install", "-q", str(wheel)], done.env(), cwd=root,
             timeout=600))
    return done


@pytest.mark.slow
def test_the_wheel_in_a_fresh_venv_drills_a_users_own_stack(installed: Installed,
                                                            tmp_path: Path) -> None:
    wheel, venv_dir = installed.wheel, installed.venv
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"alertdrill", wheel.name.split("-py3")[0] + ".dist-info"}, tops
    for expected in ("alertdrill/steps/__init__.py", "alertdrill/steps/stack_steps.py",
                     "alertdrill/steps/patterns.py", "alertdrill/fixtures/stacks.py",
                     "alertdrill/_bundled/stack/sample/alertdrill.yml",
                     "alertdrill/_bundled/stack/sample/rules/availability.yml",
                     "alertdrill/_bundled/stack/sample/templates/sample.tmpl",
                     "alertdrill/_bundled/stack/reference/mtail/api.mtail",
                     "alertdrill/_bundled/stack/seed-001-routing/alertmanager.yml",
                     "alertdrill/_bundled/stack/docker/python.Dockerfile",
                     "alertdrill/_bundled/features/sample/target_down.feature",
                     "alertdrill/_bundled/features/reference/routing.feature"):
        assert expected in names, f"{expected} is not in {wheel.name}"
    for top in ("steps", "fixtures", "stack", "features"):
        shipped = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / top).rglob("*")
                         if p.suffix in (".py", ".yml", ".tmpl", ".mtail", ".feature", ".Dockerfile")
                         and "__pycache__" not in p.parts and p.name != "test_bundled.py")
        prefix = {"steps": "alertdrill/", "fixtures": "alertdrill/"}.get(top, "alertdrill/_bundled/")
        missing = [p for p in shipped if prefix + p not in names]
        assert missing == [], f"not in the wheel: {missing}"
    assert not any(n.endswith("test_bundled.py") for n in names)

    py = installed.python
    env = installed.env()

    work = tmp_path / "team"  # the user's directory: their stack and one feature, nothing else
    (work / "stack").mkdir(parents=True)
    (work / "features").mkdir()
    for name, text in (("prometheus.yml", PROMETHEUS_YML), ("rules.yml", RULES_YML),
                       ("alertmanager.yml", ALERTMANAGER_YML), ("alertdrill.yml", MANIFEST_YML)):
        (work / "stack" / name).write_text(text)
    (work / "features" / "api.feature").write_text(FEATURE)

    # The installed package, not the checkout: no top-level steps/fixtures, data in the venv.
    where = _ok(_run([py, "-c", "import importlib.util as u, alertdrill, alertdrill.bundled as b, "
                      "alertdrill.steps as s; print(alertdrill.__file__); print(s.__file__); "
                      "print(b.stacks_dir()); print(u.find_spec('steps'), u.find_spec('fixtures'))"],
                     env, cwd=work))
    lines = where.splitlines()
    assert all(line.startswith(str(venv_dir)) for line in lines[:3]), where
    assert lines[3] == "None None", where

    steps = _ok(_run(["alertdrill", "steps"], env, cwd=work))
    assert "Given the stack is running" in steps and 'When the service "' in steps

    check = _ok(_run(["alertdrill", "check", "--stack", "stack"], env, cwd=work))
    assert "stack: 0 errors, 0 warnings" in check, check
    bundled = _ok(_run(["alertdrill", "check", "--stack", "sample"], env, cwd=work))
    assert f"{venv_dir}" in bundled and "0 errors" in bundled, bundled

    run = _run(["alertdrill", "run", "--stack", "stack", "--features", "features"], env,
               cwd=work, timeout=300)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    assert "1 passed" in run.stdout, run.stdout[-4000:]
    assert "ERROR" not in run.stdout and "Traceback" not in run.stdout + run.stderr
    for output in ("junit.xml", "drill", "drill-report.html", "drill-report.md"):
        assert (work / "reports" / output).exists(), f"{output} is not in {work / 'reports'}"
    (work / "reports" / "drill-report.html").unlink()

    _ok(_run(["alertdrill", "report"], env, cwd=work))
    report = (work / "reports" / "drill-report.md").read_text()
    assert "ApiDown" in report
    assert (work / "reports" / "drill-report.html").is_file()
    assert sorted(p.name for p in work.iterdir()) == ["features", "reports", "stack"]


@pytest.mark.slow
def test_the_wheel_inits_a_drill_from_a_stack_it_has_never_seen(installed: Installed,
                                                                tmp_path: Path) -> None:
    """The adoption path as a team walks it: their monitoring directory (three teams, a
    `continue`, a nested route, inhibitions, an absent() rule, a Kubernetes job), `alertdrill
    init`, `alertdrill run` — every generated scenario passes; one route's receiver changed in
    the copy, the generated suite fails and names that route's alerts."""
    from tests.initdata import write_team_configs

    env = installed.env()
    write_team_configs(tmp_path / "team")
    init = _ok(_run(["alertdrill", "init", "--from", "team", "--out", "drill"], env,
                    cwd=tmp_path))
    assert "wrote drill/" in init and "features/fire_and_resolve.feature" in init, init
    drill = tmp_path / "drill"
    run = _run(["alertdrill", "run", "--parallel", "3"], env, cwd=drill, timeout=600)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-6000:]
    summary = [line for line in run.stdout.splitlines() if " passed" in line][-1]
    assert "failed" not in summary and "error" not in summary, summary
    assert int(summary.split(" passed")[0].split()[-1]) >= 9, summary
    assert (drill / "reports" / "drill-report.html").is_file()

    am = drill / "stack" / "alertmanager" / "alertmanager.yml"
    am.write_text(am.read_text().replace("      receiver: cache-slack",
                                         "      receiver: platform-slack", 1))
    failed = _run(["alertdrill", "run", "--tags", "routing"], env, cwd=drill, timeout=300)
    assert failed.returncode == 1, failed.stdout[-4000:] + failed.stderr[-4000:]
    wrong = [line for line in failed.stdout.splitlines() if "expected ['cache-slack'" in line]
    assert wrong, failed.stdout[-4000:]
    assert all(("RedisDown" in line or "RedisMemoryHigh" in line) and "platform-slack" in line
               for line in wrong), wrong
