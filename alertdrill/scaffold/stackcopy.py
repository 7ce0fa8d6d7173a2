"""Copy a team's files into the drill project's stack directory, and write its manifest.

The stack is a *copy*, not a reference: a drill must be reproducible from the project alone (a
CI job, a colleague's checkout, next month's run after production moved on), and
``alertdrill init --update`` is the one way the copy follows the originals — showing what
changed. Layout::

    stack/alertdrill.yml                    the manifest (services: stand-ins for the targets)
    stack/prometheus/prometheus.yml         as written, except rule_files entries that pointed
    stack/prometheus/<rule files>           outside (rewritten to imported-rules-N/…)
    stack/alertmanager/alertmanager.yml     as written, except templates entries likewise
    stack/alertmanager/<templates>

Each file is copied byte for byte unless an entry had to be rewritten (then only that string
changes: comments and layout stay).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from alertdrill.backends.binaries import find_binary
from alertdrill.errors import ConfigError
from alertdrill.scaffold.discover import Pattern, Sources
from alertdrill.text import plural

PROMETHEUS_DIR = "prometheus"
ALERTMANAGER_DIR = "alertmanager"
#: The service kind of every generated service: the metric stand-in (branch ``series``).
STANDIN_KIND = "series"


@dataclass
class Layout:
    """Where every source file goes in the stack directory, and the two configs' texts."""

    copies: list[tuple[Path, str]] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)

    def origins(self, sources: Sources) -> dict[str, Path]:
        """Stack-relative path → the original file it copies."""
        found = {dest: source for source, dest in self.copies}
        found[f"{PROMETHEUS_DIR}/prometheus.yml"] = sources.prometheus
        found[f"{ALERTMANAGER_DIR}/alertmanager.yml"] = sources.alertmanager
        return found


def plan_layout(sources: Sources) -> Layout:
    """Destinations (relative to the stack directory) and the rewritten config texts."""
    layout = Layout()
    prom_text = sources.prometheus.read_text()
    prom_text = _place(sources.rule_patterns, sources.prometheus.parent, PROMETHEUS_DIR,
                       "imported-rules", prom_text, "rule_files", layout)
    layout.texts[f"{PROMETHEUS_DIR}/prometheus.yml"] = prom_text
    am_text = sources.alertmanager.read_text()
    am_text = _place(sources.template_patterns, sources.alertmanager.parent, ALERTMANAGER_DIR,
                     "imported-templates", am_text, "templates", layout)
    layout.texts[f"{ALERTMANAGER_DIR}/alertmanager.yml"] = am_text
    return layout


def _place(patterns: Sequence[Pattern], base: Path, folder: str, imported: str, text: str,
           key: str, layout: Layout) -> str:
    wanted: list[str] = []
    for index, pattern in enumerate(patterns, start=1):
        if pattern.in_place:
            for path in pattern.files:
                _add(layout, path, f"{folder}/{path.relative_to(base.resolve()).as_posix()}")
            wanted.append(pattern.pattern)
            continue
        assert pattern.folder is not None
        target = f"{imported}-{index}"
        for path in pattern.files:
            _add(layout, path, f"{folder}/{target}/{path.relative_to(pattern.folder).as_posix()}")
        new = f"{target}/{pattern.tail}"
        text = _replace_entry(text, pattern.pattern, new)
        wanted.append(new)
    data = yaml.safe_load(text) or {}
    if [str(p) for p in data.get(key) or []] != wanted:
        raise ConfigError(f"could not rewrite the {key} entries of the copy (they read "
                          f"{data.get(key)!r}, wanted {wanted!r})",
                          f"write the {key} entries relative to the config file")
    return text


def _add(layout: Layout, path: Path, dest: str) -> None:
    for source, existing in layout.copies:
        if existing == dest and source != path:
            raise ConfigError(f"{source} and {path} would both be copied to stack/{dest}")
    if (path, dest) not in layout.copies:
        layout.copies.append((path, dest))


def _replace_entry(text: str, old: str, new: str) -> str:
    """Replace one list entry (quoted or not) as a whole string, leaving the rest as written."""
    token = re.compile(rf"""(?P<q>["']?){re.escape(old)}(?P=q)(?=\s*(?:,|\]|#|$))""", re.M)
    return token.sub(lambda m: f"{m.group('q')}{new}{m.group('q')}", text)


def write_stack(layout: Layout, manifest: str, stack_dir: Path) -> list[Path]:
    """Write the copies, the configs and the manifest into ``stack_dir``; returns the paths."""
    written = []
    for source, dest in layout.copies:
        path = stack_dir / dest
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, path)
        written.append(path)
    for dest, text in layout.texts.items():
        path = stack_dir / dest
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    (stack_dir / "alertdrill.yml").write_text(manifest)
    written.append(stack_dir / "alertdrill.yml")
    return written


# --- validation -------------------------------------------------------------------------------

def validate(stack_dir: Path, origins: Mapping[str, Path] | None = None) -> None:
    """promtool on prometheus.yml and every rule file, amtool on alertmanager.yml, of the copy.

    One ConfigError with the tool's own words (naming the original files, ``origins``: stack
    path → original): init refuses before writing anything.
    """
    prom = stack_dir / PROMETHEUS_DIR / "prometheus.yml"
    am = stack_dir / ALERTMANAGER_DIR / "alertmanager.yml"
    promtool, amtool = find_binary("promtool"), find_binary("amtool")
    # What the drill runs: service discovery is removed (a drill reaches no other host), and
    # a packaged promtool may lack some SD mechanisms (Debian's has no Kubernetes SD).
    checked = prom.with_name(".alertdrill-check-prometheus.yml")
    checked.write_text(yaml.safe_dump(_without_discovery(yaml.safe_load(prom.read_text()) or {})))
    checks: list[tuple[list[str], Path]] = [
        ([promtool, "check", "config", "--syntax-only", str(checked)], prom)]
    rule_dir = stack_dir / PROMETHEUS_DIR
    rules = sorted(p for p in rule_dir.rglob("*") if p.is_file() and p not in (prom, checked))
    if rules:
        checks.append(([promtool, "check", "rules", *map(str, rules)], rules[0]))
    checks.append(([amtool, "check-config", str(am)], am))
    paths = {stack_dir / k: v for k, v in (origins or {}).items()}
    if prom in paths:
        paths[checked] = paths[prom]
    try:
        for argv, _path in checks:
            _check(argv, paths)
    finally:
        checked.unlink(missing_ok=True)


def _without_discovery(config: dict[str, Any]) -> dict[str, Any]:
    jobs = []
    for job in config.get("scrape_configs") or []:
        if isinstance(job, dict):
            job = {k: v for k, v in job.items() if not k.endswith("_sd_configs")}
        jobs.append(job)
    return {**config, "scrape_configs": jobs} if "scrape_configs" in config else config


def _check(argv: list[str], origins: Mapping[Path, Path]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode == 0:
        return
    words = done.stderr.strip() or done.stdout.strip()
    for staged, original in sorted(origins.items(), key=lambda kv: -len(str(kv[0]))):
        words = words.replace(str(staged), str(original))
    raise ConfigError(f"{Path(argv[0]).name} rejects the configs:\n{_indent(words)}",
                      f"reproduce with: {Path(argv[0]).name} {' '.join(argv[1:3])} FILE on the "
                      "original; nothing was written")


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines()[-20:])


# --- the manifest -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Service:
    """A generated service: a stand-in for one scrape address."""

    name: str
    address: str
    jobs: tuple[str, ...]


@dataclass
class Services:
    """The services of the manifest, and the jobs left out (with why)."""

    services: list[Service] = field(default_factory=list)
    left_out: list[tuple[str, str]] = field(default_factory=list)


def plan_services(prometheus: Mapping[str, Any]) -> Services:
    """One stand-in per static scrape address of every job; discovered jobs are left out."""
    by_address: dict[str, list[str]] = {}
    per_job: dict[str, list[str]] = {}
    result = Services()
    for job in prometheus.get("scrape_configs") or []:
        if not isinstance(job, Mapping) or not job.get("job_name"):
            continue
        name = str(job["job_name"])
        discovery = sorted(k for k in job if k.endswith("_sd_configs") and job.get(k))
        addresses = [str(t) for group in job.get("static_configs") or []
                     for t in (group or {}).get("targets") or []]
        rewritten = _constant_address(job.get("relabel_configs") or [])
        if rewritten and addresses:
            addresses = [rewritten]  # a probe job: every target is scraped through one exporter
        if discovery:
            why = (f"its targets come from {', '.join(discovery)}, which cannot be known without "
                   "the real environment")
            if addresses:
                why += (f" (its {plural(len(addresses), 'static target')} "
                        f"{'is' if len(addresses) == 1 else 'are'} served)")
            result.left_out.append((name, why))
        elif not addresses:
            result.left_out.append((name, "it has no static targets"))
        for address in addresses:
            by_address.setdefault(address, [])
            if name not in by_address[address]:
                by_address[address].append(name)
            per_job.setdefault(name, [])
            if address not in per_job[name]:
                per_job[name].append(address)
    taken: set[str] = set()
    for address, jobs in by_address.items():
        service = _service_name(address, jobs, per_job, taken)
        taken.add(service)
        result.services.append(Service(service, address, tuple(jobs)))
    return result


def _constant_address(configs: Sequence[Mapping[str, Any]]) -> str | None:
    for config in configs:
        if (config.get("target_label") == "__address__" and not config.get("source_labels")
                and "$" not in str(config.get("replacement", "$1"))):
            return str(config.get("replacement"))
    return None


def _service_name(address: str, jobs: list[str], per_job: dict[str, list[str]],
                  taken: set[str]) -> str:
    job = jobs[0]
    host = re.sub(r"[^a-zA-Z0-9-]+", "-", address.rsplit(":", 1)[0].split(".")[0]).strip("-")
    candidates = [job] if len(per_job[job]) == 1 else []
    candidates += [f"{job}-{host}", f"{job}-{address.replace(':', '-')}"]
    for candidate in candidates:
        if candidate and candidate not in taken:
            return candidate
    n = 2
    while f"{job}-{n}" in taken:
        n += 1
    return f"{job}-{n}"


def manifest_text(name: str, plan: Services, sources: Sources, generated: str) -> str:
    """The ``alertdrill.yml`` of the stack, commented (what was generated, what was left out)."""
    q = json.dumps
    lines = [
        f"# Written by `alertdrill init` on {generated} from {sources.prometheus} and",
        f"# {sources.alertmanager}. The configs in this directory are copies (a drill must be",
        "# reproducible); `alertdrill init --update` shows what changed in the originals.",
        f"# Every static scrape target has a `{STANDIN_KIND}` stand-in: a real process serving every",
        "# metric family the rules select for its job, at a healthy baseline; the series steps",
        "# drive it. Replace a stand-in by a real kind (node-exporter, postgres-exporter, …) at will.",
        f"name: {q(name)}",
        "alertmanager:",
        "  peers: 3",
    ]
    if plan.services:
        lines.append("services:")
        for service in plan.services:
            lines += [f"  {q(service.name)}:",
                      f"    kind: {STANDIN_KIND}",
                      f"    address: {q(service.address)}",
                      f"    jobs: [{', '.join(q(j) for j in service.jobs)}]"]
    else:
        lines.append("services: {}")
    if plan.left_out:
        lines.append("# Left out (no service runs for them; their rules' alerts are still in the")
        lines.append("# routing table, with the labels known statically):")
        for job, why in plan.left_out:
            lines.append(f"#   job {job}: {why}")
    for note in sources.notes:
        lines.append(f"# note: {note}")
    return "\n".join(lines) + "\n"
