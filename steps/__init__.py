"""Step definitions: parse the Gherkin text, call the engine (``alertdrill``), nothing more.

Loaded as pytest plugins by the root conftest.py. Every step has a docstring whose first line
says what it claims and whose ``Example:`` line is printed by the step listing in the README.
"""
