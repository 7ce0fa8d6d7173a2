"""The settings' options, declared once: every command that takes them reads them alike, and
what ``run``/``up`` pass on to their child is read back as it was given."""

from __future__ import annotations

import argparse

import pytest

from alertdrill.cli import build_parser
from alertdrill.settingoptions import (
    OPTIONS,
    RUN_SETTINGS,
    STACK_SETTINGS,
    add_options,
    as_flags,
    given,
)
from alertdrill.settings import Settings

GIVEN = ["--backend", "docker", "--time-scale", "30", "--tolerance", "0.75", "--floor", "0.3",
         "--peers", "2", "--keep-workdir"]
EXPECTED = {"backend": "docker", "time_scale": 30.0, "tolerance": 0.75, "floor": 0.3, "peers": 2,
            "keep_workdir": True}


def _child_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    add_options(parser.add_argument, RUN_SETTINGS)
    return parser


@pytest.mark.parametrize("command", [["run"], ["up"]])
def test_run_and_up_read_every_stack_setting(command: list[str]) -> None:
    args = build_parser().parse_args([*command, *GIVEN])
    assert given(args, STACK_SETTINGS) == EXPECTED
    assert Settings.from_env({}, **given(args, STACK_SETTINGS)).time_scale == 30.0


def test_unset_options_leave_the_variables_and_defaults_in_charge() -> None:
    args = build_parser().parse_args(["run"])
    assert given(args, RUN_SETTINGS) == {}
    assert Settings.from_env({"ALERTDRILL_POOL": "1"}, **given(args, ("pool",))).pool == 1


def test_what_is_passed_on_is_read_back_as_given() -> None:
    overrides = {**EXPECTED, "pool": 1}
    flags = as_flags(overrides)
    assert "--time-scale=30.0" in flags and "--keep-workdir" in flags
    assert given(_child_parser().parse_args(flags), RUN_SETTINGS) == overrides
    assert as_flags({"keep_workdir": False, "peers": None}) == []


def test_help_names_the_default_the_settings_have() -> None:
    defaults = Settings()
    assert f"or {defaults.pool})" in OPTIONS["pool"].arguments("x")["help"]
    assert f"or {defaults.time_scale:g})" in OPTIONS["time_scale"].arguments("x")["help"]
    assert "$ALERTDRILL_FLOOR" in OPTIONS["floor"].arguments("x")["help"]


def test_scale_keeps_its_short_k() -> None:
    args = build_parser().parse_args(["scale", "-k", "120", "f.yml"])
    assert args.time_scale == 120.0
