"""``alertdrill check``: what is wrong with a stack's configs, before anything runs.

Two kinds of finding, each with the file and the (1-based) line it is about:

- the **real tools' verdicts** — ``promtool check config``, ``promtool check rules`` and
  ``amtool check-config``, in their own words. A config Alertmanager or Prometheus would refuse
  is the first thing to know, and no re-implementation judges it as faithfully;
- the **harness's own lint**, for mistakes the tools accept because they are valid config that
  cannot do what its author meant: ``${VARIABLES}`` nobody expands, receivers no route uses,
  routes an earlier sibling always takes first, inhibitions whose source no rule produces or
  whose ``equal`` labels never agree (see :data:`CHECKS`).

The own lint reads the YAML itself (PyYAML's node marks give the lines), so it still runs when a
tool rejects a file, and a file that does not parse at all is a finding, never a crash: the
other files are still checked. The rule-aware checks reason on the label sets each alerting
rule's alerts can carry (:mod:`alertdrill.analysis.rulelabels`) and on the routing tree as Alertmanager
evaluates it (:mod:`alertdrill.analysis.amroute`); where labels cannot be known statically they count as
"anything", so these checks stay silent rather than guess — a missed bug is cheaper than a lint
people learn to ignore.

Size (~890 lines, over the ~500 of the others): every check reads the same line-numbered YAML
nodes (``_Yaml``) and the same rule shapes, and the CLI lists the checks from one table
(:data:`CHECKS`); it splits by check family (tools, placeholders, routes, inhibitions) once a
new family arrives.
"""

from __future__ import annotations

import glob
import json
import re
import subprocess
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from alertdrill.analysis.amroute import Matcher, MatcherError, Route, implies, matchers_from_config, reach3
from alertdrill.analysis.rulelabels import (
    UNKNOWN,
    ExprLabels,
    RuleAlerts,
    Shape,
    alert_shapes,
    recorded_names,
    target_shapes,
    union,
)
from alertdrill.backends.binaries import find_binary
from alertdrill.engine.stackspec import (
    ALERTMANAGER_CANDIDATES,
    MANIFEST,
    PROMETHEUS_CANDIDATES,
    StackSpec,
)
from alertdrill.errors import ConfigError
from alertdrill.text import plural
from alertdrill.yamlio import SAFE_LOADER

Severity = Literal["error", "warning"]

#: Every finding code, with what it means (``alertdrill check --help`` prints these).
CHECKS: dict[str, str] = {
    "promtool": "promtool check config / check rules rejects the file (its own words)",
    "amtool": "amtool check-config rejects alertmanager.yml (its own words; when ${VARS} hide "
              "further errors, it is re-run on a copy with stand-in values)",
    "yaml": "the file is not valid YAML (reported when no tool already said so)",
    "stack": "the stack directory itself is incomplete (a missing config, a bad manifest)",
    "rule-files": "a rule_files pattern of prometheus.yml matches no file",
    "rules-not-loaded": "a rule file in the stack that prometheus.yml's rule_files does not load",
    "env-placeholder": "a ${VAR} in a value: neither Alertmanager nor Prometheus expands it",
    "deprecated-match": "match / match_re / source_match / target_match…: use matchers",
    "receiver-unused": "a receiver no route sends to",
    "route-shadowed": "a route that can never match: an earlier sibling without `continue` "
                      "matches every alert it would (decided on the matchers alone)",
    "route-unreachable": "a route no alert of the stack's rules reaches: every rule alert that "
                         "could match it is taken first by an earlier sibling",
    "inhibit-source-unproduced": "an inhibit rule whose source matchers no alerting rule "
                                 "(labels + alertname) can satisfy",
    "inhibit-target-unproduced": "an inhibit rule whose target matchers no alerting rule can "
                                 "satisfy",
    "inhibit-equal-never": "an inhibit rule whose `equal` labels never carry the same value on "
                           "a source alert and a target alert of the stack's rules",
    "inhibit-equal-partial": "an inhibit rule that can never hide some of the alerts it targets, "
                             "because their `equal` labels never match a source's",
}

_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")
_TOOL_TIMEOUT = 60


@dataclass(frozen=True)
class Finding:
    """One problem, where it is, and how bad: an ``error`` fails ``alertdrill check``."""

    file: Path
    line: int
    code: str
    severity: Severity
    message: str

    def render(self, relative_to: Path | None = None) -> str:
        """``file:line: severity code: message``, the path relative to ``relative_to`` if inside."""
        return f"{_display(self.file, relative_to)}:{self.line}: {self.severity} {self.code}: " \
               f"{self.message}"

    def as_dict(self, relative_to: Path | None = None) -> dict[str, Any]:
        """The finding as JSON-ready data."""
        data = asdict(self)
        data["file"] = _display(self.file, relative_to)
        return data


def _display(path: Path, relative_to: Path | None) -> str:
    if relative_to is not None:
        try:
            return str(path.relative_to(relative_to))
        except ValueError:
            pass
    return str(path)


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """By file, then line, then code; duplicates removed."""
    return sorted(set(findings), key=lambda f: (str(f.file), f.line, f.code, f.message))


def findings_json(findings: Sequence[Finding], relative_to: Path | None = None) -> str:
    """The ``--format json`` document: the findings and their counts."""
    errors = sum(f.severity == "error" for f in findings)
    return json.dumps({"findings": [f.as_dict(relative_to) for f in findings],
                       "errors": errors, "warnings": len(findings) - errors}, indent=2)


# --- reading files ----------------------------------------------------------------------------

@dataclass
class _Yaml:
    """One config file: its node tree (for lines), its data, or why it could not be read."""

    path: Path
    node: yaml.Node | None = None
    data: Any = None
    error: tuple[int, str] | None = None

    @property
    def mapping(self) -> dict[str, Any] | None:
        """The data when it is a mapping (every config file must be one)."""
        return self.data if isinstance(self.data, dict) else None


def _read_yaml(path: Path) -> _Yaml:
    """Parse keeping the nodes; a syntax error becomes ``error`` (line, problem), never raised."""
    result = _Yaml(path)
    try:
        result.node = yaml.compose(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
        result.data = _construct(result.node) if result.node is not None else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        result.error = ((mark.line + 1) if mark else 1, f"not valid YAML: {problem}")
    except (OSError, UnicodeDecodeError) as exc:
        result.error = (1, f"cannot read the file: {exc}")
    if result.error is None and not isinstance(result.data, dict):
        result.error = (1, f"must be a YAML mapping, not {type(result.data).__name__}")
    return result


def _construct(node: yaml.Node) -> Any:
    """The Python value of a node (and its children), as ``yaml.safe_load`` would give it."""
    return yaml.SafeLoader("").construct_document(node)


def _get(node: yaml.Node | None, key: str) -> yaml.Node | None:
    """The value node of ``key`` in a mapping node (None when absent or not a mapping)."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                return value
    return None


def _key_line(node: yaml.Node | None, key: str) -> int | None:
    """The line of ``key:`` itself in a mapping node."""
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                return int(key_node.start_mark.line) + 1
    return None


def _items(node: yaml.Node | None) -> list[yaml.Node]:
    """The items of a sequence node ([] for anything else)."""
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _scalars(node: yaml.Node | None, keys: tuple[str, ...] = ()
             ) -> Iterator[tuple[yaml.ScalarNode, tuple[str, ...]]]:
    """Every scalar *value* (not key) below ``node``, with the keys leading to it."""
    seen: set[int] = set()

    def visit(current: yaml.Node | None, path: tuple[str, ...]
              ) -> Iterator[tuple[yaml.ScalarNode, tuple[str, ...]]]:
        if current is None or id(current) in seen:
            return  # an alias: its anchor was already visited
        seen.add(id(current))
        if isinstance(current, yaml.ScalarNode):
            yield current, path
        elif isinstance(current, yaml.SequenceNode):
            for item in current.value:
                yield from visit(item, path)
        elif isinstance(current, yaml.MappingNode):
            for key_node, value in current.value:
                yield from visit(value, (*path, str(key_node.value)))

    yield from visit(node, keys)


# --- the stack --------------------------------------------------------------------------------

@dataclass
class _Stack:
    """What the checks work on; None where a file is missing or could not be located."""

    root: Path
    prometheus: _Yaml | None = None
    alertmanager: _Yaml | None = None
    rule_files: list[_Yaml] | None = None
    unloaded_rule_files: list[Path] = field(default_factory=list)

    def files(self) -> list[_Yaml]:
        """Every YAML file the checks read."""
        found = [f for f in (self.prometheus, self.alertmanager) if f is not None]
        return found + list(self.rule_files or [])


def check_stack(stack_dir: Path, *, tools: bool = True) -> list[Finding]:
    """Every finding for the stack directory, sorted by file and line.

    ``tools=False`` skips promtool/amtool (only the harness's own lint). Raises ConfigError when
    ``stack_dir`` is not a directory and MissingBinaryError when a tool is wanted but missing;
    everything wrong *inside* the stack is a finding.
    """
    stack, findings = _load_stack(stack_dir)
    if tools:
        findings += _tool_findings(stack)
    findings += _syntax_findings(stack, findings)
    findings += _placeholder_findings(stack)
    findings += _unloaded_findings(stack)
    if stack.alertmanager is not None and stack.alertmanager.mapping is not None:
        findings += _alertmanager_findings(stack.alertmanager, _rule_alerts(stack))
    return sort_findings(findings)


def _load_stack(stack_dir: Path) -> tuple[_Stack, list[Finding]]:
    """Locate the files with StackSpec; when it refuses the stack, locate what exists anyway."""
    root = stack_dir.resolve()
    if not root.is_dir():
        raise ConfigError(f"stack directory {stack_dir} does not exist")
    findings: list[Finding] = []
    stack = _Stack(root)
    rule_paths: list[Path] | None
    try:
        spec = StackSpec.load(root)
        prom_path: Path | None = spec.prometheus_config
        am_path: Path | None = spec.alertmanager_config
        rule_paths = list(spec.rule_files)
    except ConfigError as exc:
        prom_path = _first_existing(root, PROMETHEUS_CANDIDATES)
        am_path = _first_existing(root, ALERTMANAGER_CANDIDATES)
        rule_paths = None
        if not _reported_by_own_checks(exc):
            where = root / MANIFEST if (root / MANIFEST).is_file() else root
            message = str(exc.args[0]) + (f" ({exc.hint})" if exc.hint else "")
            findings.append(Finding(where, 1, "stack", "error", message))
    stack.prometheus = _read_yaml(prom_path) if prom_path else None
    stack.alertmanager = _read_yaml(am_path) if am_path else None
    if rule_paths is None and stack.prometheus is not None and stack.prometheus.mapping is not None:
        rule_paths, unmatched = _resolve_rule_files(stack.prometheus)
        findings += unmatched
    if rule_paths is not None:
        stack.rule_files = [_read_yaml(path) for path in rule_paths]
    stack.unloaded_rule_files = _unloaded_rule_files(stack)
    return stack, findings


#: Where a stack keeps the files its scenarios deploy mid-run (README › Live config changes).
CHANGES_DIR = "changes"


def _first_existing(root: Path, candidates: Iterable[str]) -> Path | None:
    return next((root / c for c in candidates if (root / c).is_file()), None)


def _reported_by_own_checks(exc: ConfigError) -> bool:
    """StackSpec problems that the own checks report with a line: no need to say them twice."""
    text = str(exc)
    return ("prometheus.yml is not valid YAML" in text
            or ("prometheus.yml " in text and "must be a YAML mapping" in text)
            or "matches no file" in text)


def _resolve_rule_files(prometheus: _Yaml) -> tuple[list[Path], list[Finding]]:
    """rule_files globs, relative to prometheus.yml's directory as Prometheus resolves them."""
    paths: list[Path] = []
    findings: list[Finding] = []
    for item in _items(_get(prometheus.node, "rule_files")):
        pattern = str(item.value)
        matches = sorted(glob.glob(str(prometheus.path.parent / pattern)))
        if not matches:
            findings.append(Finding(prometheus.path, _line(item), "rule-files", "warning",
                                    f"rule_files entry {pattern!r} matches no file: Prometheus "
                                    "silently loads nothing from it"))
        paths.extend(Path(m) for m in matches)
    return paths, findings


def _unloaded_rule_files(stack: _Stack) -> list[Path]:
    """YAML files in the stack that look like rule files but that rule_files does not load.

    A file counts as a rule file when it is a mapping with ``groups``, or, when it does not
    parse, when its text has a top-level ``groups:`` and an ``alert:`` or ``record:`` line.
    Files under ``changes/`` are replacements a scenario deploys mid-run (alertdrill.engine.liveconfig):
    not loaded at start on purpose.
    """
    if stack.rule_files is None:
        return []
    known = {f.path.resolve() for f in stack.files()}
    found = []
    for path in sorted(stack.root.rglob("*.y*ml")):
        relative = path.relative_to(stack.root)
        if path.resolve() in known or path.name == MANIFEST or relative.parts[0] == CHANGES_DIR \
                or any(part.startswith(".") for part in relative.parts):
            continue
        if _looks_like_rule_file(path):
            found.append(path)
    return found


def _looks_like_rule_file(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return bool(re.search(r"^groups:", text, re.M)
                    and re.search(r"^\s*-?\s*(alert|record):", text, re.M))
    return isinstance(data, dict) and isinstance(data.get("groups"), list)


# --- the real tools ---------------------------------------------------------------------------

def _tool_findings(stack: _Stack) -> list[Finding]:
    """promtool on prometheus.yml and every rule file, amtool on alertmanager.yml."""
    promtool, amtool = find_binary("promtool"), find_binary("amtool")
    rule_paths = [f.path for f in stack.rule_files or []] + stack.unloaded_rule_files
    findings: list[Finding] = []
    if stack.prometheus is not None:
        # check config also checks the rule files (resolved next to prometheus.yml); their
        # errors are left to check rules below, which names the file itself.
        findings += _run_tool([promtool, "check", "config", str(stack.prometheus.path)],
                              stack.prometheus, "promtool", skip=rule_paths)
    for path in rule_paths:
        target = next((f for f in stack.files() if f.path == path), None) or _read_yaml(path)
        findings += _run_tool([promtool, "check", "rules", str(path)], target, "promtool")
    if stack.alertmanager is not None:
        findings += _amtool_findings(amtool, stack.alertmanager)
    return findings


def _run_tool(argv: list[str], target: _Yaml, code: str, skip: Sequence[Path] = (),
              shown_as: Path | None = None, note: str = "") -> list[Finding]:
    """Run one check; each message of a failure becomes a finding on ``target``'s lines."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=_TOOL_TIMEOUT,
                              check=False)
    except subprocess.TimeoutExpired:
        return [Finding(target.path, 1, code, "error",
                        f"`{' '.join(argv)}` did not finish within {_TOOL_TIMEOUT} s")]
    if done.returncode == 0:
        return []
    output = done.stdout + "\n" + done.stderr
    messages = _tool_messages(output, shown_as or target.path, skip)
    if not messages and not _tool_messages(output, shown_as or target.path):
        output = (done.stderr or done.stdout).strip() or f"exit status {done.returncode}"
        messages = [(None, output)]
    return [Finding(target.path, line or _locate(target, text), code, "error", note + text)
            for line, text in messages]


_LINE_FIRST = re.compile(r"^(?:yaml: )?line (\d+): ")
_POSITION = re.compile(r"^(\d+):(\d+): ")
_YAML_LINE = re.compile(r"\byaml: line (\d+): ")


def _tool_messages(output: str, path: Path, skip: Sequence[Path] = ()
                   ) -> list[tuple[int | None, str]]:
    """(line, message) pairs from promtool/amtool output, the file path stripped, deduplicated.

    Understands the shapes these tools print: ``FAILED: msg``, ``<file>: yaml: line N: msg``,
    ``<file>: N:M: msg``, a ``yaml: unmarshal errors:`` header followed by ``line N: msg`` lines,
    and amtool's ``Checking '<file>'  FAILED: msg``. Messages about a file in ``skip`` (and the
    lines under them) are left out.
    """
    found: list[tuple[int | None, str]] = []
    header, skipping = "", False
    for raw in output.splitlines():
        text = _strip_noise(raw)
        if not text:
            continue
        if any(text.startswith(f"{other}:") for other in map(str, skip)):
            skipping = True
            continue
        if skipping and _LINE_FIRST.match(text):
            continue
        skipping = False
        text = text.replace(f"{path}: ", "").replace(f"{path}", path.name)
        if text.endswith("unmarshal errors:"):
            header = text[: -len(":")]
            continue
        found.append(_message_line(text, header))
    return list(dict.fromkeys(found))


def _strip_noise(raw: str) -> str:
    text = raw.strip()
    checking = re.match(r"^Checking '[^']*'\s*(.*)$", text)
    if checking:
        text = checking.group(1)
    elif text.startswith("Checking "):
        return ""
    if text.startswith(("SUCCESS", "amtool: error: failed to validate", "Found:", "- ")):
        return ""
    if text.startswith("FAILED:"):
        text = text[len("FAILED:"):].strip()
    return text


def _message_line(text: str, header: str) -> tuple[int | None, str]:
    for pattern in (_LINE_FIRST, _POSITION, _YAML_LINE):
        found = pattern.search(text)
        if found:
            message = f"{header}: {text}" if header and pattern is _LINE_FIRST else text
            return int(found.group(1)), message
    return None, text


def _locate(target: _Yaml, message: str) -> int:
    """The line a tool message without one is about: the first value it quotes, else 1."""
    for quoted in re.findall(r'"([^"]+)"', message):
        for scalar, _ in _scalars(target.node):
            if scalar.value == quoted:
                return _line(scalar)
    return 1


def _amtool_findings(amtool: str, config: _Yaml) -> list[Finding]:
    """amtool on the file; if it fails and ${VARS} are present, again on a stand-in copy.

    amtool stops at its first error, and a ``${SLACK_WEBHOOK}`` in a URL field (reported by the
    own ``env-placeholder`` check anyway) hides every later one, such as unknown fields. The copy
    replaces each such value with a valid stand-in *on the same line* (and makes relative
    ``templates`` globs absolute), so the second run's line numbers are the original file's.
    """
    findings = _run_tool([amtool, "check-config", str(config.path)], config, "amtool")
    if not findings or config.node is None:
        return findings
    replaced = _with_standins(config)
    if replaced is None:
        return findings
    with tempfile.TemporaryDirectory(prefix="alertdrill-check-") as tmp:
        copy = Path(tmp) / config.path.name
        copy.write_text(replaced, encoding="utf-8")
        more = _run_tool([amtool, "check-config", str(copy)], config, "amtool", shown_as=copy,
                         note="with stand-ins for its ${…} values: ")
    first = {f.message for f in findings}
    return findings + [f for f in more if f.message.split(": ", 1)[-1] not in first]


def _with_standins(config: _Yaml) -> str | None:
    """The file's text with ${…} values replaced by valid stand-ins; None if it has none."""
    text = config.path.read_text(encoding="utf-8")
    edits: list[tuple[int, int, str]] = []
    for scalar, keys in _scalars(config.node):
        single_line = scalar.start_mark.line == scalar.end_mark.line
        if not single_line:
            continue
        if _PLACEHOLDER.search(scalar.value):
            edits.append((scalar.start_mark.index, scalar.end_mark.index,
                          json.dumps(_standin(keys[-1] if keys else "", scalar.value))))
        elif keys[:1] == ("templates",) and not Path(scalar.value).is_absolute():
            absolute = str(config.path.parent / scalar.value)
            edits.append((scalar.start_mark.index, scalar.end_mark.index, json.dumps(absolute)))
    if not any(_PLACEHOLDER.search(s.value) for s, _ in _scalars(config.node)):
        return None
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _standin(key: str, value: str) -> str:
    if key.endswith("url"):
        return "http://alertdrill-standin.invalid/"
    if key.endswith("smarthost"):
        return "alertdrill-standin.invalid:25"
    return _PLACEHOLDER.sub("alertdrill-standin", value)


def _syntax_findings(stack: _Stack, so_far: Sequence[Finding]) -> list[Finding]:
    """Files that do not parse, unless a tool already reported that file."""
    by_tool = {f.file for f in so_far if f.code in ("promtool", "amtool")}
    unloaded = [_read_yaml(p) for p in stack.unloaded_rule_files]
    return [Finding(f.path, f.error[0], "yaml", "error", f.error[1])
            for f in stack.files() + unloaded if f.error and f.path not in by_tool]


# --- checks on the text -----------------------------------------------------------------------

def _placeholder_findings(stack: _Stack) -> list[Finding]:
    """${VAR} in values. Prometheus expands them only in external_labels, behind a flag."""
    findings = []
    for config in (stack.prometheus, stack.alertmanager):
        if config is None or config.node is None:
            continue
        for scalar, keys in _scalars(config.node):
            names = _PLACEHOLDER.findall(scalar.value)
            if not names:
                continue
            shown = ", ".join(dict.fromkeys(names))
            if config is stack.prometheus and "external_labels" in keys:
                findings.append(Finding(config.path, _line(scalar), "env-placeholder", "warning",
                                        f"{shown} in external_labels is expanded only when "
                                        "Prometheus runs with --enable-feature=expand-external-labels"))
                continue
            tool = "Prometheus" if config is stack.prometheus else "Alertmanager"
            findings.append(Finding(config.path, _line(scalar), "env-placeholder", "error",
                                    f"{'.'.join(keys[-2:])}: {shown} is used literally — {tool} "
                                    "does not expand environment variables (render the file "
                                    "before deploying, or use a *_file field)"))
    return findings


def _unloaded_findings(stack: _Stack) -> list[Finding]:
    if stack.prometheus is None:
        return []
    patterns = [str(i.value) for i in _items(_get(stack.prometheus.node, "rule_files"))]
    return [Finding(path, 1, "rules-not-loaded", "warning",
                    f"this rule file is not loaded: prometheus.yml's rule_files "
                    f"({', '.join(patterns) or 'none'}) does not name it, so its rules never run")
            for path in stack.unloaded_rule_files]


# --- Alertmanager -----------------------------------------------------------------------------

_DEPRECATED = {
    "match": "matchers", "match_re": "matchers",
    "source_match": "source_matchers", "source_match_re": "source_matchers",
    "target_match": "target_matchers", "target_match_re": "target_matchers",
}


def _alertmanager_findings(config: _Yaml, rules: list[RuleAlerts] | None) -> list[Finding]:
    findings = _deprecated_findings(config)
    try:
        root = _route(_get(config.node, "route"), None)
        inhibits = [_inhibit(node) for node in _items(_get(config.node, "inhibit_rules"))]
    except (MatcherError, TypeError, AttributeError):
        return findings  # a matcher amtool rejects (reported by it): no routing analysis
    if root is not None:
        findings += _unused_receivers(config, root)
        shadowed = _shadowed_routes(config.path, root)
        findings += shadowed
        if rules:
            findings += _unreachable_routes(config.path, root, rules, {f.line for f in shadowed})
    if rules:
        for inhibit in inhibits:
            findings += _inhibit_findings(config.path, inhibit, rules)
    return findings


def _deprecated_findings(config: _Yaml) -> list[Finding]:
    """Legacy match maps in routes and inhibit rules, with the matchers to write instead."""
    findings = []
    sections = list(_route_nodes(_get(config.node, "route")))
    sections += _items(_get(config.node, "inhibit_rules"))
    for section in sections:
        data = _construct(section)
        for old, new in _DEPRECATED.items():
            line = _key_line(section, old)
            if line is None or not isinstance(data.get(old), dict):
                continue
            op = "=~" if old.endswith("_re") else "="
            written = [str(Matcher(str(k), op, _text(v))) for k, v in data[old].items()]
            findings.append(Finding(config.path, line, "deprecated-match", "warning",
                                    f"`{old}:` is deprecated (Alertmanager ≥ 0.22); write "
                                    f"`{new}: {json.dumps(written, ensure_ascii=False)}`"))
    return findings


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _route_nodes(node: yaml.Node | None) -> Iterator[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        yield node
        for child in _items(_get(node, "routes")):
            yield from _route_nodes(child)


def load_route_tree(path: Path) -> Route | None:
    """The routing tree of an alertmanager.yml (None without a ``route``); raises ConfigError."""
    config = _read_yaml(path)
    if config.error:
        raise ConfigError(f"{path}:{config.error[0]}: {config.error[1]}")
    try:
        return _route(_get(config.node, "route"), None)
    except MatcherError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _route(node: yaml.Node | None, parent: Route | None) -> Route | None:
    """The routing tree, each route knowing its line; receivers inherited as Alertmanager does."""
    if not isinstance(node, yaml.MappingNode):
        return None
    data = _construct(node)
    receiver = data.get("receiver") or (parent.receiver if parent else None)
    route = Route(tuple(matchers_from_config(data)), receiver, data.get("continue") is True,
                  line=_line(node), parent=parent)
    for child in _items(_get(node, "routes")):
        built = _route(child, route)
        if built is not None:
            route.routes.append(built)
    return route


def _unused_receivers(config: _Yaml, root: Route) -> list[Finding]:
    used = {route.receiver for route in root.walk()}
    findings = []
    for item in _items(_get(config.node, "receivers")):
        name_node = _get(item, "name")
        if isinstance(name_node, yaml.ScalarNode) and name_node.value not in used:
            findings.append(Finding(config.path, _line(name_node), "receiver-unused", "warning",
                                    f"receiver {name_node.value!r} is defined but no route "
                                    "sends to it"))
    return findings


def _shadowed_routes(path: Path, root: Route) -> list[Finding]:
    """Routes whose matchers imply an earlier sibling's, which has no ``continue``."""
    findings = []
    for parent in root.walk():
        for index, route in enumerate(parent.routes):
            for earlier in parent.routes[:index]:
                if not earlier.continue_ and implies(route.matchers, earlier.matchers):
                    findings.append(Finding(
                        path, route.line, "route-shadowed", "error",
                        f"route {route.describe()} can never match: the earlier sibling at line "
                        f"{earlier.line} ({earlier.describe()}) matches every alert it would, "
                        "and has no `continue: true`"))
                    break
    return findings


def _unreachable_routes(path: Path, root: Route, rules: list[RuleAlerts],
                        skip_lines: set[int]) -> list[Finding]:
    """Routes that rule alerts could match but that earlier siblings always take first.

    Each rule's label shapes are split on the labels the tree matches on, then walked through
    the tree three-valued (:func:`alertdrill.analysis.amroute.reach3`). A route is reported when at least
    one rule's alerts may match it and *all* of them are surely taken by an earlier sibling
    without ``continue``. A route no rule's alerts can match at all is not reported: it may be
    meant for alerts from elsewhere.
    """
    names = {m.name for route in root.walk() for m in route.matchers}
    seen: dict[int, list[tuple[str, Route | None]]] = defaultdict(list)
    for rule in rules:
        for shape in rule.shapes:
            for part in shape.split(names):
                for route, blocker in reach3(root, part):
                    seen[id(route)].append((rule.name, blocker))
    findings = []
    for route in root.walk():
        entries = seen.get(id(route))
        if not entries or route.line in skip_lines or any(b is None for _, b in entries):
            continue
        rule_names = list(dict.fromkeys(name for name, _ in entries))
        blockers = sorted({id(b): b for _, b in entries if b is not None}.values(),
                          key=lambda b: b.line)
        findings.append(Finding(
            path, route.line, "route-unreachable", "warning",
            f"no alert of the stack's rules reaches route {route.describe()}: the "
            f"{_count(rule_names, 'rule')} whose alerts could match it ({_few(rule_names)}) "
            f"are all taken first by earlier sibling routes without `continue` ("
            + "; ".join(f"line {b.line} {b.describe()}" for b in blockers)
            + "); only alerts from elsewhere (pushed, another Prometheus) can reach it"))
    return findings


# --- inhibitions ------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Inhibit:
    line: int
    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    equal: tuple[str, ...]
    source_line: int
    target_line: int
    equal_line: int


def _inhibit(node: yaml.Node) -> _Inhibit:
    data = _construct(node)
    line = _line(node)

    def key_line(*keys: str) -> int:
        return min((k for k in map(lambda key: _key_line(node, key), keys) if k), default=line)

    return _Inhibit(
        line,
        tuple(matchers_from_config(data, "source_")),
        tuple(matchers_from_config(data, "target_")),
        tuple(str(label) for label in data.get("equal") or []),
        key_line("source_matchers", "source_match", "source_match_re"),
        key_line("target_matchers", "target_match", "target_match_re"),
        key_line("equal"),
    )


_Candidate = tuple[RuleAlerts, Shape]


def _candidates(rules: list[RuleAlerts], matchers: Sequence[Matcher],
                names: set[str]) -> list[_Candidate]:
    """(rule, label shape) pairs whose alerts may satisfy ``matchers``, narrowed by them."""
    found = []
    for rule in rules:
        for shape in rule.shapes:
            for part in shape.split(names):
                narrowed = part.narrow(matchers)
                if narrowed is not None:
                    found.append((rule, narrowed))
    return found


def _inhibit_findings(path: Path, inhibit: _Inhibit, rules: list[RuleAlerts]) -> list[Finding]:
    names = {m.name for m in inhibit.source + inhibit.target} | set(inhibit.equal)
    sources = _candidates(rules, inhibit.source, names)
    targets = _candidates(rules, inhibit.target, names)
    findings = []
    for side, found, line, matchers in (("source", sources, inhibit.source_line, inhibit.source),
                                        ("target", targets, inhibit.target_line, inhibit.target)):
        if not found:
            shown = ", ".join(map(str, matchers)) or "no matchers"
            findings.append(Finding(path, line, f"inhibit-{side}-unproduced", "warning",
                                    f"no alerting rule of the stack produces an alert matching "
                                    f"this inhibit rule's {side} ({shown}): it never inhibits "
                                    "anything (unless such alerts come from elsewhere)"))
    if findings or not inhibit.equal:
        return findings
    return _equal_findings(path, inhibit, sources, targets)


def _equal_findings(path: Path, inhibit: _Inhibit, sources: list[_Candidate],
                    targets: list[_Candidate]) -> list[Finding]:
    """Target rules no source alert can agree with on every ``equal`` label.

    ``never``: no target rule can ever be hidden — the inhibit rule is dead for the stack's
    alerts. ``partial``: some target rules can never be hidden (seed A4: NodeDown's
    ``instance`` is the node exporter's, a service alert's is its own). Partial is not reported
    when ``alertname`` is an equal label: such rules pair alerts of one name on purpose (a
    critical and a warning threshold), and every other name failing to pair is the point.
    """
    by_rule: dict[str, list[_Candidate]] = defaultdict(list)
    for target in targets:
        by_rule[target[0].name].append(target)
    never = [name for name, parts in by_rule.items()
             if not any(_can_pair(s, t, inhibit.equal) for s in sources for t in parts)]
    equal = ", ".join(inhibit.equal)
    if len(never) == len(by_rule):
        return [Finding(path, inhibit.equal_line, "inhibit-equal-never", "warning",
                        f"this inhibit rule never applies to the stack's alerts: equal [{equal}] "
                        f"never holds between a source ({_values(sources, inhibit.equal)}) and "
                        f"a target ({_values(targets, inhibit.equal)})")]
    # A source never hides itself, by design: that is no gap worth reporting here.
    never = [name for name in never if not any(
        _can_pair(s, t, inhibit.equal, itself=True) for s in sources for t in by_rule[name])]
    if never and "alertname" not in inhibit.equal:
        hidden = [t for t in targets if t[0].name in never]
        return [Finding(path, inhibit.equal_line, "inhibit-equal-partial", "warning",
                        f"this inhibit rule can never hide {_count(never, 'alert')} its target "
                        f"matches ({_few(never, 20)}): equal [{equal}] never holds between them "
                        f"({_values(hidden, inhibit.equal)}) and a source "
                        f"({_values(sources, inhibit.equal)})")]
    return []


def _can_pair(source: _Candidate, target: _Candidate, equal: Sequence[str],
              itself: bool = False) -> bool:
    """May some source alert and some *other* target alert agree on every ``equal`` label?

    ``itself=True`` also counts the pair of an alert with itself (which Alertmanager skips).
    """
    (source_rule, s), (target_rule, t) = source, target
    if (not itself and source_rule is target_rule and s.singular and t.singular
            and s.labels == t.labels):
        return False  # the one alert this rule can produce; Alertmanager skips self-inhibition
    return all(_may_be_equal(s.get(label), t.get(label)) for label in equal)


def _may_be_equal(a: frozenset[str] | None, b: frozenset[str] | None) -> bool:
    return a is None or b is None or bool(a & b)


def _values(candidates: list[_Candidate], labels: Sequence[str], limit: int = 3) -> str:
    """E.g. ``PostgreSQLDown: instance=postgres-exporter:9187; …`` for messages."""
    labels = [label for label in labels if label != "alertname"] or list(labels)
    per_rule: dict[str, list[Shape]] = defaultdict(list)
    for rule, shape in candidates:
        per_rule[rule.name].append(shape)
    shown = []
    for name, shapes in list(per_rule.items())[:limit]:
        merged = Shape({label: union(s.get(label) for s in shapes) for label in labels}, False)
        shown.append(f"{name}: {merged.show(labels)}")
    more = len(per_rule) - limit
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


def _few(names: Sequence[str], limit: int = 4) -> str:
    more = len(names) - limit
    return ", ".join(names[:limit]) + (f", and {more} more" if more > 0 else "")


def _count(items: Sequence[object], noun: str) -> str:
    return plural(len(items), noun)


# --- rules ------------------------------------------------------------------------------------

def _rule_alerts(stack: _Stack) -> list[RuleAlerts] | None:
    """Every alerting rule prometheus.yml loads, with its label shapes.

    None when the rules cannot be known (prometheus.yml unreadable) or there is no alerting
    rule at all: the rule-aware checks then say nothing. A rule file that does not parse still
    contributes the names of its ``alert:`` lines, with unknown labels.
    """
    prom = stack.prometheus.mapping if stack.prometheus else None
    if prom is None or stack.rule_files is None:
        return None
    docs = [f.mapping for f in stack.rule_files if f.mapping is not None]
    jobs = None if prom.get("remote_read") else target_shapes(prom)
    exprs = ExprLabels(jobs, recorded_names(docs))
    external = {str(k): str(v) for k, v in
                ((prom.get("global") or {}).get("external_labels") or {}).items()}
    alerts: list[RuleAlerts] = []
    for rule_file in stack.rule_files:
        if rule_file.mapping is None:
            alerts += _names_only(rule_file.path)
            continue
        alerts += _alerting_rules(rule_file, exprs, external)
    return alerts or None


def _alerting_rules(rule_file: _Yaml, exprs: ExprLabels,
                    external: Mapping[str, str]) -> list[RuleAlerts]:
    found = []
    for group in _items(_get(rule_file.node, "groups")):
        for node in _items(_get(group, "rules")):
            rule = _construct(node)
            if isinstance(rule, dict) and rule.get("alert"):
                found.append(RuleAlerts(str(rule["alert"]), rule_file.path, _line(node),
                                        alert_shapes(rule, exprs, external)))
    return found


def _names_only(path: Path) -> list[RuleAlerts]:
    """A rule file that does not parse: its alert names, every other label unknown."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = ""
    names = re.findall(r"^\s*-?\s*alert:\s*['\"]?([A-Za-z_:][A-Za-z0-9_:]*)", text, re.M)
    if not names:
        return [RuleAlerts("?", path, 1, (UNKNOWN,))]
    return [RuleAlerts(name, path, 1, (UNKNOWN.set(alertname=frozenset({name})),))
            for name in names]
