"""``init --ci github|gitlab``: the drill as a CI job, in one file.

The job runs in a Debian container (as root, where the Debian packages come from and the
stand-in stack runs as it does locally), installs the packages the stack's services need,
installs alertdrill with pip from ``$ALERTDRILL_PIP_SPEC`` (default ``alertdrill``: a team pins
a version with ``alertdrill==0.3.1``, or points at a wheel), runs ``alertdrill run`` in the
project directory and keeps the JUnit file, the Allure results and the drill report.

GitHub: nightly by ``schedule`` and on pushes / pull requests touching the configs or the
project. GitLab has no cron in the file (a pipeline schedule is set in the project's CI/CD
settings): the job runs for schedules and for changes to the same paths.

The commands are plain shell with no CI expressions in them (those stay in ``env:``), so the
tests run them as they are, in a fresh venv in a temp directory.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from alertdrill.kinds import kind
from alertdrill.stackspec import StackSpec

BASE_PACKAGES = ("prometheus", "prometheus-alertmanager", "python3", "python3-venv",
                 "ca-certificates")
IMAGE = "debian:bookworm"
VENV = ".alertdrill-venv"
GITHUB_FILE = ".github/workflows/alertdrill.yml"
GITLAB_FILE = ".gitlab-ci.yml"


def repository_root(start: Path, sources: Iterable[Path] = ()) -> Path:
    """The git work tree holding ``start`` (where CI files live); outside git, the deepest
    directory holding the project and the original configs."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return Path(os.path.commonpath([start, *(Path(s).resolve().parent for s in sources)]))


def packages(stack_dir: Path) -> list[str]:
    """The Debian packages a run of this stack needs: the base set and what its kinds declare."""
    kinds = {s.kind for s in StackSpec.load(stack_dir).services.values()}
    return [*BASE_PACKAGES, *sorted({p for k in kinds for p in kind(k).packages})]


def _rel(path: Path, root: Path) -> str | None:
    try:
        return path.resolve().relative_to(root).as_posix() or "."
    except ValueError:
        return None


def watched_paths(root: Path, project: Path, sources: Iterable[Path]) -> list[str]:
    """The paths whose change triggers the job: the project, and the directories of the
    original configs (a rule file next to prometheus.yml changes too)."""
    found: list[str] = []
    for folder in (project, *(s if s.is_dir() else s.parent for s in sources)):
        rel = _rel(folder, root)
        if rel is None:
            continue  # outside the repository: CI cannot see it change
        pattern = "**" if rel == "." else f"{rel}/**"
        if pattern not in found and not any(
                p == "**" or pattern.startswith(p[:-2]) for p in found):
            found.append(pattern)
    return found


def commands(root: Path, project: Path, stack_dir: Path) -> list[tuple[str, str, str]]:
    """(name, working directory relative to the repository, shell command) of the job."""
    project_rel = _rel(project, root) or "."
    back = os.path.relpath(root, project.resolve()) if project_rel != "." else "."
    venv_bin = f"{back}/{VENV}/bin" if back != "." else f"{VENV}/bin"
    return [
        ("Install the Debian packages", ".",
         "apt-get update -qq\n"
         f"apt-get install -y -qq --no-install-recommends {' '.join(packages(stack_dir))}"),
        ("Install alertdrill", ".",
         f"python3 -m venv {VENV}\n"
         "# unquoted on purpose: the spec may be `alertdrill==0.3.1`, a wheel, or `-e DIR`\n"
         f"{VENV}/bin/pip install --quiet $ALERTDRILL_PIP_SPEC"),
        ("Run the drill", project_rel, f"{venv_bin}/alertdrill run"),
    ]


def _reports(project_rel: str) -> list[str]:
    prefix = "" if project_rel == "." else f"{project_rel}/"
    return [f"{prefix}reports/junit.xml", f"{prefix}reports/allure-results/",
            f"{prefix}reports/drill-report.html", f"{prefix}reports/drill-report.md",
            f"{prefix}reports/drill/"]


def _block(text: str, indent: str) -> list[str]:
    return [f"{indent}{line}" if line else "" for line in text.splitlines()]


def github(root: Path, project: Path, stack_dir: Path, paths: Sequence[str],
           generated: str) -> str:
    """The GitHub Actions workflow."""
    q = json.dumps
    project_rel = _rel(project, root) or "."
    lines = [
        f"# Written by `alertdrill init --ci github` on {generated}: the alerting drill, nightly",
        "# and on changes to the configs. Set the repository variable ALERTDRILL_PIP_SPEC (or the",
        "# manual run's input) to pin alertdrill: alertdrill==X.Y, or a wheel's URL.",
        "name: alertdrill",
        "on:",
        "  schedule:",
        '    - cron: "17 3 * * *"   # nightly, 03:17 UTC',
        "  push:",
        "    paths:",
        *(f"      - {q(p)}" for p in paths),
        "  pull_request:",
        "    paths:",
        *(f"      - {q(p)}" for p in paths),
        "  workflow_dispatch:",
        "    inputs:",
        "      alertdrill_spec:",
        '        description: "pip requirement for alertdrill (default: alertdrill)"',
        "        required: false",
        '        default: ""',
        "jobs:",
        "  drill:",
        "    runs-on: ubuntu-latest",
        f"    container: {IMAGE}",
        "    timeout-minutes: 60",
        "    env:",
        "      ALERTDRILL_PIP_SPEC: ${{ inputs.alertdrill_spec || vars.ALERTDRILL_PIP_SPEC"
        " || 'alertdrill' }}",
        "    steps:",
        "      - uses: actions/checkout@v4",
    ]
    for name, workdir, command in commands(root, project, stack_dir):
        lines.append(f"      - name: {name}")
        if workdir != ".":
            lines.append(f"        working-directory: {workdir}")
        lines.append("        run: |")
        lines += _block(command, "          ")
    lines += [
        "      - name: Keep the reports",
        "        if: always()",
        "        uses: actions/upload-artifact@v4",
        "        with:",
        "          name: alertdrill-reports",
        "          path: |",
        *(f"            {p}" for p in _reports(project_rel)),
    ]
    return "\n".join(lines) + "\n"


def gitlab(root: Path, project: Path, stack_dir: Path, paths: Sequence[str],
           generated: str) -> str:
    """The GitLab CI file (a single job; include it from an existing .gitlab-ci.yml)."""
    q = json.dumps
    project_rel = _rel(project, root) or "."
    lines = [
        f"# Written by `alertdrill init --ci gitlab` on {generated}: the alerting drill on",
        "# changes to the configs, and nightly through a pipeline schedule (CI/CD → Schedules:",
        "# GitLab keeps cron out of this file). Already have a .gitlab-ci.yml? Move this job into",
        "# it, or `include: local: alertdrill.gitlab-ci.yml` after renaming this file.",
        "# ALERTDRILL_PIP_SPEC (a CI/CD variable) pins alertdrill: alertdrill==X.Y, or a wheel.",
        "alertdrill:",
        f"  image: {IMAGE}",
        "  variables:",
        '    ALERTDRILL_PIP_SPEC: "alertdrill"',
        "  rules:",
        '    - if: $CI_PIPELINE_SOURCE == "schedule"',
        '    - if: $CI_PIPELINE_SOURCE == "web"',
        "    - changes:",
        *(f"        - {q(p)}" for p in paths),
        "  script:",
    ]
    for _name, workdir, command in commands(root, project, stack_dir):
        body = command if workdir == "." else f"(\n  cd {workdir}\n  {command}\n)"
        lines.append("    - |")
        lines += _block(body, "      ")
    lines += [
        "  artifacts:",
        "    when: always",
        "    expire_in: 30 days",
        "    paths:",
        *(f"      - {p}" for p in _reports(project_rel)),
        "    reports:",
        f"      junit: {_reports(project_rel)[0]}",
    ]
    return "\n".join(lines) + "\n"


def write(kind: str, project: Path, stack_dir: Path, sources: Iterable[Path],
          generated: str, force: bool = False) -> Path:
    """Write the CI file for ``kind`` at the repository root; returns its path."""
    from alertdrill.errors import ConfigError

    sources = list(sources)
    root = repository_root(project, sources)
    paths = watched_paths(root, project, sources)
    if kind == "github":
        path, text = root / GITHUB_FILE, github(root, project, stack_dir, paths, generated)
    elif kind == "gitlab":
        path, text = root / GITLAB_FILE, gitlab(root, project, stack_dir, paths, generated)
    else:
        raise ConfigError(f"--ci {kind}: unknown CI", "use --ci github or --ci gitlab")
    if path.exists() and not force and "alertdrill init --ci" not in path.read_text():
        raise ConfigError(f"{path} exists and was not written by alertdrill",
                          "add the job to it by hand (print it with --force into a copy), or "
                          "pass --force to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
