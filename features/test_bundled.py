"""Bind every bundled feature file to pytest (the steps come from the root conftest.py)."""

from pytest_bdd import scenarios

scenarios("sample")
