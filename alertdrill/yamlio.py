"""Reading and writing the YAML configs a stack is made of, with errors that name the file.

One place for it: the stack loader, the backends, the analysis tools and the scaffold all read
a team's YAML, and all must turn a syntax error into the same clear message (file, line,
column) rather than a parser traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from alertdrill.errors import ConfigError


class _BlockDumper(yaml.SafeDumper):
    """Writes multi-line strings (descriptions, templates) as readable ``|`` blocks."""


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value and not any(c in value for c in "\t\r") else None
    if style and any(line != line.rstrip() for line in value.splitlines()):
        style = None  # trailing spaces cannot be kept in a block scalar
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str_representer)


#: libyaml's safe loader when PyYAML was built with it (Debian's and the wheels are): the same
#: safe schema, parsed in C — a config of a few hundred routes reads in milliseconds, not seconds.
SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def dump_yaml(doc: Any) -> str:
    """YAML for configs the harness writes: key order kept, multi-line strings as blocks."""
    return yaml.dump(doc, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True, width=100)


def load_yaml(path: Path, what: str) -> dict[str, Any]:
    """Parse a YAML mapping, turning syntax errors into an error naming the file and line."""
    try:
        data = yaml.load(path.read_text(), Loader=SAFE_LOADER)
    except FileNotFoundError:
        raise ConfigError(f"{what} not found: {path}", "check the stack directory layout") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{what} is not valid YAML at {where}: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{what} {path} must be a YAML mapping, not {type(data).__name__}")
    return data
