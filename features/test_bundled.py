"""Bind every bundled feature file to pytest (the steps come from the alertdrill plugin)."""

from pytest_bdd import scenarios

scenarios("sample")
scenarios("reference")
