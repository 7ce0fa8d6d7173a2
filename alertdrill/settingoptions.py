"""The command-line options of the run settings, declared once.

``--time-scale``, ``--floor``, ``--backend`` … are accepted by pytest (the plugin), by
``alertdrill run``, ``up`` and ``scale``, and by the GameDay supervisor, and ``run`` and ``up``
pass them on to pytest and to the supervisor. Written in each place, their help drifted from
the defaults they name, and an option added to one was missing from the next. Here each is one
:class:`SettingOption`; its default and its variable are read from :class:`Settings`, so the help
cannot name another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import MISSING, dataclass, fields
from typing import Any

from alertdrill.settings import Settings

_DEFAULTS = {f.name: f.default for f in fields(Settings) if f.default is not MISSING}
_TYPES = {f.name: str(f.type).replace(" | None", "") for f in fields(Settings)}


@dataclass(frozen=True)
class SettingOption:
    """One setting as an option: ``--time-scale K`` sets ``Settings.time_scale``."""

    #: The :class:`Settings` field.
    name: str
    #: What it does, without its default (added from Settings).
    help: str
    metavar: str | None = None

    @property
    def flag(self) -> str:
        """``--time-scale`` for ``time_scale``."""
        return "--" + self.name.replace("_", "-")

    def arguments(self, dest: str) -> dict[str, Any]:
        """argparse's (and pytest's ``addoption``'s) keyword arguments for it."""
        variable = "$ALERTDRILL_" + self.name.upper()
        if _TYPES[self.name] == "bool":
            return {"dest": dest, "action": "store_true", "default": None,
                    "help": f"{self.help} (or {variable}=1)"}
        default = _DEFAULTS.get(self.name)
        shown = "the stack's own" if default is None else (
            f"{default:g}" if isinstance(default, float) else str(default))
        text = f"{self.help} (default: {variable} or {shown})"
        kind = {"float": float, "int": int}.get(_TYPES[self.name], str)
        return {"dest": dest, "type": kind, "default": None, "metavar": self.metavar,
                "help": text}


OPTIONS: dict[str, SettingOption] = {o.name: o for o in (
    SettingOption("backend", "where the stack runs: local (processes), docker (containers) or "
                  "external (a stack someone else runs, by URL; needs --time-scale 1)",
                  "NAME"),
    SettingOption("time_scale", "real-world seconds per measured second (1 = as written)", "K"),
    SettingOption("floor", "smallest interval a scaled config may use, seconds", "S"),
    SettingOption("tolerance", "seconds added to every deadline", "S"),
    SettingOption("peers", "override the number of Alertmanager peers of every stack (1…9)",
                  "N"),
    SettingOption("keep_workdir", "keep each stack's temp dir (logs, rendered configs)"),
    SettingOption("pool", "warm stacks per worker (local backend): 1 starts the next "
                  "scenario's stack while the current one runs, 0 turns it off", "N"),
)}
#: What ``run``, ``up`` and the supervisor take (and pass on).
STACK_SETTINGS = ("backend", "time_scale", "tolerance", "floor", "peers", "keep_workdir")
#: What a scenario run takes: the stack's settings and the warm pool (pytest, ``run``).
RUN_SETTINGS = (*STACK_SETTINGS, "pool")


def add_options(add: Callable[..., Any], names: Iterable[str],
                dest: Callable[[str], str] = lambda name: name,
                aliases: Mapping[str, tuple[str, ...]] | None = None) -> None:
    """Add the named settings' options with ``add`` (an argparse parser's ``add_argument`` or a
    pytest group's ``addoption``); ``dest`` names each option's attribute."""
    for name in names:
        option = OPTIONS[name]
        add(option.flag, *(aliases or {}).get(name, ()), **option.arguments(dest(name)))


def given(values: object, names: Iterable[str],
          dest: Callable[[str], str] = lambda name: name) -> dict[str, Any]:
    """The named settings that ``values`` (parsed options) sets, as ``Settings`` overrides."""
    return {name: getattr(values, dest(name)) for name in names
            if getattr(values, dest(name), None) is not None}


def as_flags(overrides: Mapping[str, Any]) -> list[str]:
    """``{"time_scale": 30, "keep_workdir": True}`` → ``["--time-scale=30", "--keep-workdir"]``:
    the options that pass the settings on to a child (pytest, the supervisor)."""
    flags = []
    for name, value in overrides.items():
        if value is None or value is False:
            continue
        flag = OPTIONS[name].flag
        flags.append(flag if value is True else f"{flag}={value}")
    return flags
