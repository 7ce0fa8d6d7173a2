"""Where the bundled stacks and features live: the one module that knows.

The wheel carries them as package data, namespaced inside the package
(``alertdrill/_bundled/stack/…`` and ``alertdrill/_bundled/features/<name>/…``); the repository
keeps them at its top level (``stack/``, ``features/``), and an editable install
(``pip install -e .``, ``make setup``) reads them there: setuptools' editable finder maps
packages, not data directories, so no import path reaches them. Both places are tried in that
order; nothing else in alertdrill looks for a checkout.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from alertdrill.errors import ConfigError

_PACKAGE = Path(__file__).resolve().parent
#: Candidate roots holding ``stack/`` and ``features/``: the installed wheel's package data,
#: then the source tree an editable install runs from.
_ROOTS = (_PACKAGE / "_bundled", _PACKAGE.parent)

#: The stack directory of the Docker backend's image recipes (not a stack to run).
DOCKER = "docker"


def _root() -> Path:
    for root in _ROOTS:
        if (root / "stack").is_dir() and (root / "features").is_dir():
            return root
    raise ConfigError(
        f"this alertdrill installation has no bundled stacks (looked in {', '.join(map(str, _ROOTS))})",
        "reinstall it: pip install --force-reinstall alertdrill (or pip install -e . in a checkout)",
    )


def stacks_dir() -> Path:
    """The directory holding the bundled stacks (one sub-directory each)."""
    return _root() / "stack"


def features_dir() -> Path:
    """The directory holding the bundled features (one sub-directory per stack)."""
    return _root() / "features"


def docker_dir() -> Path:
    """The Docker backend's image recipes (``*.Dockerfile`` and the images' default configs)."""
    return stacks_dir() / DOCKER


def stack_names() -> list[str]:
    """The bundled stacks by name: directories with an ``alertdrill.yml`` manifest, sorted."""
    return sorted(p.name for p in stacks_dir().iterdir()
                  if p.is_dir() and (p / "alertdrill.yml").is_file())


def stack_dir(name: str) -> Path:
    """The bundled stack ``name``; a clear error naming the others when there is none."""
    names = stack_names()
    if name not in names:
        raise ConfigError(f"no bundled stack {name!r}", f"bundled stacks: {', '.join(names)}")
    return stacks_dir() / name


def copy_example(name: str, out: Path) -> Path:
    """Copy the bundled stack ``name`` to ``out/stack/`` and its features to ``out/features/``;
    returns ``out``.

    The copied features start the copy: their ``Given the stack "<name>" is running`` becomes
    ``Given the stack is running``, so ``alertdrill run --stack stack --features features``
    run in ``out`` drills the copy a team then edits (a step naming the bundled name would
    keep starting the bundled original). Steps naming another bundled stack stay as written.
    A non-empty ``out/stack`` or ``out/features`` is refused: nothing of the user's is
    overwritten.
    """
    source = stack_dir(name)
    features = features_dir() / name
    targets = [out / "stack", out / "features"]
    for target in targets:
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            raise ConfigError(f"{target} already exists and is not empty",
                              "choose another directory, or move it away first")
    out.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, targets[0], dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    targets[1].mkdir(exist_ok=True)
    own = re.compile(rf'(\bthe stack) "{re.escape(name)}" (is running)')
    for feature in sorted(features.glob("**/*.feature")) if features.is_dir() else []:
        dest = targets[1] / feature.relative_to(features)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(own.sub(r"\1 \2", feature.read_text()))
    return out
