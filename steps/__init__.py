"""Step definitions: parse the Gherkin text, call the engine (``alertdrill``), nothing more.

Installed as ``alertdrill.steps`` (the repository keeps them in ``steps/``; pyproject's
``package-dir`` maps them in), and loaded as pytest plugins by the alertdrill plugin: every
module named ``*_steps`` is, with no list to update. Step modules import each other
relatively (``from .patterns import quoted``). Every step has a docstring whose first line
says what it claims and whose ``Example:`` line is printed by the step listing in the README.
"""
