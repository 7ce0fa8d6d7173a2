"""Bind tests/features/series.feature: each stand-in scenario on a real stack (one at a time)."""

from pytest_bdd import scenarios

scenarios("features/series.feature")
