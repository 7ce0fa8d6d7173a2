"""Find a team's Prometheus and Alertmanager files, wherever in their config directory they are.

A repository rarely has the layout a stack directory wants: prometheus.yml may sit in
``monitoring/prometheus/``, its ``rule_files`` may name the production path
(``/etc/prometheus/rules/*.yml``) while the files live in ``monitoring/rules/``, and
alertmanager.yml's ``templates`` the same. So discovery reads the YAML files of the directory and
tells them apart by content (a ``scrape_configs`` mapping is a prometheus.yml, ``route`` +
``receivers`` an alertmanager.yml), and resolves every ``rule_files`` / ``templates`` pattern
first where it points, then — when it points nowhere — by the longest tail of the pattern that
matches files under the directory. Anything ambiguous (two prometheus.yml, a pattern whose tail
matches in two places) is an error that names the candidates, never a guess.
"""

from __future__ import annotations

import glob
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from alertdrill.errors import ConfigError
from alertdrill.text import plural
from alertdrill.yamlio import load_yaml

_SKIPPED_DIRS = {"node_modules", "__pycache__", "venv", ".venv", "reports"}
_MAX_BYTES = 2_000_000


@dataclass(frozen=True)
class Pattern:
    """One ``rule_files`` or ``templates`` entry and the files it stands for.

    ``in_place``: the pattern matches those files where it points (relative to its config's
    directory), so the copy can keep it as written; otherwise the files were found by searching
    and the copy rewrites the entry.
    """

    pattern: str
    files: tuple[Path, ...]
    in_place: bool
    #: For a pattern that is not in place: the directory the files were found in, and the
    #: pattern relative to it that matches exactly them (what the copy's entry becomes).
    folder: Path | None = None
    tail: str = ""


@dataclass
class Sources:
    """A team's files, found and resolved (not yet validated or copied)."""

    prometheus: Path
    alertmanager: Path
    rule_patterns: list[Pattern]
    template_patterns: list[Pattern]
    #: What discovery decided that the user should know (a pattern resolved by searching, …).
    notes: list[str] = field(default_factory=list)

    @property
    def rule_files(self) -> list[Path]:
        """Every rule file, in the order prometheus.yml names them (each once)."""
        return _unique(f for p in self.rule_patterns for f in p.files)

    @property
    def templates(self) -> list[Path]:
        """Every template file alertmanager.yml names."""
        return _unique(f for p in self.template_patterns for f in p.files)

    def files(self) -> list[Path]:
        """Every file the drill copies."""
        return [self.prometheus, *self.rule_files, self.alertmanager, *self.templates]


def _unique(paths: Iterator[Path] | list[Path]) -> list[Path]:
    seen: list[Path] = []
    for path in paths:
        if path not in seen:
            seen.append(path)
    return seen


def discover(config_dir: Path | None = None, prometheus: Path | None = None,
             alertmanager: Path | None = None) -> Sources:
    """Find and resolve the files; ``config_dir`` is searched for whatever is not given.

    Raises ConfigError (naming the candidates, with the option that settles it) when a file is
    missing or ambiguous, or a pattern matches nothing.
    """
    if config_dir is not None:
        config_dir = config_dir.expanduser().resolve()
        if not config_dir.is_dir():
            raise ConfigError(f"--from {config_dir}: no such directory")
    for given, flag in ((prometheus, "--prometheus-config"), (alertmanager, "--alertmanager-config")):
        if given is not None and not given.expanduser().is_file():
            raise ConfigError(f"{flag} {given}: no such file")
    if config_dir is None and (prometheus is None or alertmanager is None):
        raise ConfigError("init needs the configs: --from CONFIG_DIR, or both "
                          "--prometheus-config FILE and --alertmanager-config FILE")
    prom = (prometheus.expanduser().resolve() if prometheus else
            _one(config_dir, _is_prometheus, "prometheus.yml", "--prometheus-config"))
    am = (alertmanager.expanduser().resolve() if alertmanager else
          _one(config_dir, _is_alertmanager, "alertmanager.yml", "--alertmanager-config"))
    prom_config = load_yaml(prom, "prometheus.yml")
    am_config = load_yaml(am, "alertmanager.yml")
    notes: list[str] = []
    rules = [_resolve(str(p), prom.parent, config_dir or prom.parent, _is_rule_file,
                      "rule_files", prom, notes)
             for p in prom_config.get("rule_files") or []]
    templates = [_resolve(str(p), am.parent, config_dir or am.parent, lambda _p: True,
                          "templates", am, notes)
                 for p in am_config.get("templates") or []]
    return Sources(prom, am, rules, templates, notes)


def _one(root: Path | None, test: Callable[[dict[str, Any]], bool], what: str, flag: str) -> Path:
    assert root is not None
    found = [path for path, data in _yaml_files(root) if test(data)]
    if not found:
        raise ConfigError(f"no {what} under {root} (searched every .yml/.yaml file for one)",
                          f"give it with {flag} FILE")
    if len(found) > 1:
        listed = "\n".join(f"    {p.relative_to(root)}" for p in found)
        raise ConfigError(f"{len(found)} files under {root} look like {what}:\n{listed}",
                          f"say which one with {flag} FILE")
    return found[0]


def _yaml_files(root: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".yml", ".yaml") or not path.is_file():
            continue
        parts = path.relative_to(root).parts[:-1]
        if any(p.startswith(".") or p in _SKIPPED_DIRS for p in parts):
            continue
        data = _read(path)
        if data is not None:
            yield path, data


def _read(path: Path) -> dict[str, Any] | None:
    try:
        if path.stat().st_size > _MAX_BYTES:
            return None
        data = yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    return data if isinstance(data, dict) else None


def _is_prometheus(data: dict[str, Any]) -> bool:
    return isinstance(data.get("scrape_configs"), list) or (
        "rule_files" in data and isinstance(data.get("global"), dict))


def _is_alertmanager(data: dict[str, Any]) -> bool:
    return isinstance(data.get("route"), dict) and "receivers" in data


def _is_rule_file(path: Path) -> bool:
    data = _read(path)
    return data is not None and isinstance(data.get("groups"), list)


def _resolve(pattern: str, base: Path, search_root: Path, test: Callable[[Path], bool],
             field_name: str, config: Path, notes: list[str]) -> Pattern:
    """Where a pattern points (relative to ``base``), else the longest tail found under the
    search root, else a ConfigError."""
    here = sorted(Path(m) for m in glob.glob(str(base / pattern)) if Path(m).is_file())
    if here:
        files = tuple(p.resolve() for p in here)
        if not PurePosixPath(pattern).is_absolute() and _within(here, base):
            return Pattern(pattern, files, True)
        parents = sorted({f.parent for f in files})
        if len(parents) > 1:
            raise ConfigError(f"{config}: {field_name} entry {pattern!r} points outside "
                              f"{base} into {len(parents)} directories; alertdrill cannot "
                              "copy that layout", "give a config directory that holds them "
                              "all (--from), with entries relative to the config")
        return Pattern(pattern, files, False, parents[0], PurePosixPath(pattern).name)
    parts = PurePosixPath(pattern).parts
    parts = parts[1:] if parts and parts[0] == "/" else parts
    for start in range(len(parts)):
        tail = "/".join(parts[start:])
        hits = sorted(Path(m).resolve() for m in glob.glob(str(search_root / "**" / tail),
                                                           recursive=True)
                      if Path(m).is_file() and test(Path(m)))
        if not hits:
            continue
        folders = sorted({_folder_of(h, len(parts) - start) for h in hits})
        if len(folders) > 1:
            listed = "\n".join(f"    {f}" for f in folders)
            raise ConfigError(f"{config}: {field_name} entry {pattern!r} does not exist there, and "
                              f"its tail {tail!r} matches files in {len(folders)} places:\n"
                              f"{listed}", "give a config directory holding only one of them "
                              "(--from), or fix the entry")
        notes.append(f"{field_name} entry {pattern!r} of {config.name} points nowhere here; "
                     f"used the {plural(len(hits), 'file')} matching {tail!r} in {folders[0]}")
        return Pattern(pattern, tuple(hits), False, folders[0], tail)
    raise ConfigError(f"{config}: {field_name} entry {pattern!r} matches no file (neither "
                      f"relative to {base} nor anywhere under {search_root})",
                      "put the files in the config directory, or fix the entry")


def _within(paths: list[Path], base: Path) -> bool:
    root = base.resolve()
    return all(p.resolve().is_relative_to(root) for p in paths)


def _folder_of(path: Path, components: int) -> Path:
    """The directory a tail of ``components`` path components was matched from."""
    folder = path
    for _ in range(components):
        folder = folder.parent
    return folder
