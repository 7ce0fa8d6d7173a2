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

``--ci-shards N`` splits the run across N parallel jobs (``alertdrill run --shard I/N``) and
adds one job that merges their reports (``alertdrill report --from …``). Both CIs see the same
shell: the shard's number comes from ``$CI_NODE_INDEX``/``$CI_NODE_TOTAL``, which GitLab's
``parallel:`` sets itself and the GitHub workflow sets from its matrix. Each shard writes into
``reports/shard-I/``, so the artifacts of all shards unpack side by side in the merge job.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from alertdrill.engine.stackspec import StackSpec
from alertdrill.kinds import kind

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


#: Most shards ``--ci-shards`` writes (a matrix wider than this is a typo, not a plan).
MAX_SHARDS = 32
SHARD_DIR = "reports/shard-$CI_NODE_INDEX"


def _venv_bin(root: Path, project: Path) -> str:
    project_rel = _rel(project, root) or "."
    back = os.path.relpath(root, project.resolve()) if project_rel != "." else "."
    return f"{back}/{VENV}/bin" if back != "." else f"{VENV}/bin"


def _install_alertdrill() -> tuple[str, str, str]:
    return ("Install alertdrill", ".",
            f"python3 -m venv {VENV}\n"
            "# unquoted on purpose: the spec may be `alertdrill==0.3.1`, a wheel, or `-e DIR`\n"
            f"{VENV}/bin/pip install --quiet $ALERTDRILL_PIP_SPEC")


def commands(root: Path, project: Path, stack_dir: Path,
             shards: int = 1) -> list[tuple[str, str, str]]:
    """(name, working directory relative to the repository, shell command) of the job (of
    each shard's job, when ``shards`` > 1)."""
    run = f"{_venv_bin(root, project)}/alertdrill run"
    if shards > 1:
        run += f' --shard "$CI_NODE_INDEX/$CI_NODE_TOTAL" --report-dir "{SHARD_DIR}"'
    return [
        ("Install the Debian packages", ".",
         "apt-get update -qq\n"
         f"apt-get install -y -qq --no-install-recommends {' '.join(packages(stack_dir))}"),
        _install_alertdrill(),
        ("Run the drill", _rel(project, root) or ".", run),
    ]


def merge_commands(root: Path, project: Path) -> list[tuple[str, str, str]]:
    """The merge job of a sharded run: one drill report (and JUnit, Allure) from every shard's
    report directory — which shards ran comes from what unpacked, not from N, so a shard that
    died before writing anything shows as missing scenarios rather than breaking the merge."""
    merge = (f"{_venv_bin(root, project)}/alertdrill report --out reports "
             "$(for d in reports/shard-*/; do printf -- '--from %s ' \"$d\"; done)")
    return [("Install python3", ".",
             "apt-get update -qq\n"
             "apt-get install -y -qq --no-install-recommends python3 python3-venv "
             "ca-certificates"),
            _install_alertdrill(),
            ("Merge the shards' reports", _rel(project, root) or ".", merge)]


def _reports(project_rel: str, merged: bool = True) -> list[str]:
    prefix = "" if project_rel == "." else f"{project_rel}/"
    if not merged:
        return [f"{prefix}reports/"]
    return [f"{prefix}reports/junit.xml", f"{prefix}reports/allure-results/",
            f"{prefix}reports/drill-report.html", f"{prefix}reports/drill-report.md",
            f"{prefix}reports/drill/"]


def _block(text: str, indent: str) -> list[str]:
    return [f"{indent}{line}" if line else "" for line in text.splitlines()]


def _steps(steps: list[tuple[str, str, str]], indent: str) -> list[str]:
    lines = []
    for name, workdir, command in steps:
        lines.append(f"{indent}- name: {name}")
        if workdir != ".":
            lines.append(f"{indent}  working-directory: {workdir}")
        lines.append(f"{indent}  run: |")
        lines += _block(command, f"{indent}    ")
    return lines


def _upload(name: str, paths: list[str], indent: str) -> list[str]:
    return [f"{indent}- name: Keep the reports",
            f"{indent}  if: always()",
            f"{indent}  uses: actions/upload-artifact@v4",
            f"{indent}  with:",
            f"{indent}    name: {name}",
            f"{indent}    path: |",
            *(f"{indent}      {p}" for p in paths)]


def github(root: Path, project: Path, stack_dir: Path, paths: Sequence[str],
           generated: str, shards: int = 1) -> str:
    """The GitHub Actions workflow (a matrix of ``shards`` jobs and a merge job, when > 1)."""
    q = json.dumps
    project_rel = _rel(project, root) or "."
    prefix = "" if project_rel == "." else f"{project_rel}/"
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
    ]
    env = ["    env:",
           "      ALERTDRILL_PIP_SPEC: ${{ inputs.alertdrill_spec || vars.ALERTDRILL_PIP_SPEC"
           " || 'alertdrill' }}"]
    lines += ["jobs:", "  drill:", "    runs-on: ubuntu-latest", f"    container: {IMAGE}",
              "    timeout-minutes: 60"]
    if shards > 1:
        lines += ["    strategy:", "      fail-fast: false", "      matrix:",
                  f"        shard: [{', '.join(str(i) for i in range(1, shards + 1))}]"]
        env += ["      CI_NODE_INDEX: ${{ matrix.shard }}", f'      CI_NODE_TOTAL: "{shards}"']
    lines += [*env, "    steps:", "      - uses: actions/checkout@v4",
              *_steps(commands(root, project, stack_dir, shards), "      ")]
    if shards == 1:
        lines += _upload("alertdrill-reports", _reports(project_rel), "      ")
        return "\n".join(lines) + "\n"
    lines += _upload("alertdrill-shard-${{ matrix.shard }}", _reports(project_rel, False),
                     "      ")
    lines += ["  report:", "    needs: drill", "    if: always()", "    runs-on: ubuntu-latest",
              f"    container: {IMAGE}", *env[:2], "    steps:",
              "      - uses: actions/checkout@v4",
              "      - name: Fetch the shards' reports",
              "        uses: actions/download-artifact@v4",
              "        with:",
              "          pattern: alertdrill-shard-*",
              "          merge-multiple: true",
              f"          path: {prefix}reports/",
              *_steps(merge_commands(root, project), "      "),
              *_upload("alertdrill-reports", _reports(project_rel), "      ")]
    return "\n".join(lines) + "\n"


def _script(steps: list[tuple[str, str, str]]) -> list[str]:
    lines = []
    for _name, workdir, command in steps:
        body = command if workdir == "." else f"(\n  cd {workdir}\n  {command}\n)"
        lines.append("    - |")
        lines += _block(body, "      ")
    return lines


def gitlab(root: Path, project: Path, stack_dir: Path, paths: Sequence[str],
           generated: str, shards: int = 1) -> str:
    """The GitLab CI file: one job (``parallel: shards`` and a merge job, when > 1); include
    it from an existing .gitlab-ci.yml."""
    q = json.dumps
    project_rel = _rel(project, root) or "."
    prefix = "" if project_rel == "." else f"{project_rel}/"
    rules = ["  rules:",
             '    - if: $CI_PIPELINE_SOURCE == "schedule"',
             '    - if: $CI_PIPELINE_SOURCE == "web"',
             "    - changes:",
             *(f"        - {q(p)}" for p in paths)]
    head = [f"  image: {IMAGE}", "  variables:", '    ALERTDRILL_PIP_SPEC: "alertdrill"', *rules]
    lines = [
        f"# Written by `alertdrill init --ci gitlab` on {generated}: the alerting drill on",
        "# changes to the configs, and nightly through a pipeline schedule (CI/CD → Schedules:",
        "# GitLab keeps cron out of this file). Already have a .gitlab-ci.yml? Move this job into",
        "# it, or `include: local: alertdrill.gitlab-ci.yml` after renaming this file.",
        "# ALERTDRILL_PIP_SPEC (a CI/CD variable) pins alertdrill: alertdrill==X.Y, or a wheel.",
        "alertdrill:", *head]
    if shards > 1:
        lines.append(f"  parallel: {shards}")
    lines += ["  script:", *_script(commands(root, project, stack_dir, shards)),
              "  artifacts:", "    when: always", "    expire_in: 30 days", "    paths:"]
    if shards == 1:
        lines += [*(f"      - {p}" for p in _reports(project_rel)),
                  "    reports:", f"      junit: {_reports(project_rel)[0]}"]
        return "\n".join(lines) + "\n"
    lines += [f"      - {prefix}reports/", "    reports:",
              f"      junit: {prefix}reports/shard-*/junit.xml",
              "alertdrill-report:", *head, "  needs: [alertdrill]", "  when: always",
              "  script:", *_script(merge_commands(root, project)),
              "  artifacts:", "    when: always", "    expire_in: 30 days", "    paths:",
              *(f"      - {p}" for p in _reports(project_rel))]
    return "\n".join(lines) + "\n"


def write(kind: str, project: Path, stack_dir: Path, sources: Iterable[Path],
          generated: str, force: bool = False, shards: int = 1) -> Path:
    """Write the CI file for ``kind`` at the repository root; returns its path."""
    from alertdrill.errors import ConfigError

    sources = list(sources)
    root = repository_root(project, sources)
    paths = watched_paths(root, project, sources)
    if kind == "github":
        path, text = root / GITHUB_FILE, github(root, project, stack_dir, paths, generated, shards)
    elif kind == "gitlab":
        path, text = root / GITLAB_FILE, gitlab(root, project, stack_dir, paths, generated, shards)
    else:
        raise ConfigError(f"--ci {kind}: unknown CI", "use --ci github or --ci gitlab")
    if path.exists() and not force and "alertdrill init --ci" not in path.read_text():
        raise ConfigError(f"{path} exists and was not written by alertdrill",
                          "add the job to it by hand (print it with --force into a copy), or "
                          "pass --force to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
