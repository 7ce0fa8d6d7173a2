"""The step vocabulary as data: pattern, one-line meaning and example of every loaded step.

Read from pytest-bdd's registry of step functions, so the listing (error suggestions, the
README table, a future ``alertdrill steps``) can never drift from the steps that really exist.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass


@dataclass(frozen=True)
class StepDoc:
    """One step definition, documented."""

    kind: str
    pattern: str
    summary: str
    example: str

    def matches(self, text: str) -> bool:
        """True when ``text`` (without its Given/When/Then keyword) is this step."""
        from pytest_bdd.parsers import re as re_parser

        return re_parser(self.pattern).is_matching(text)


def loaded_steps() -> list[StepDoc]:
    """Every step function pytest-bdd has registered in this process, sorted by kind and text."""
    from pytest_bdd.steps import step_function_context_registry

    docs = {}
    for ctx in list(step_function_context_registry.values()):
        if ctx.step_func.__module__.startswith("pytest_bdd"):
            continue  # pytest-bdd's own debugging step ("trace")
        doc = (ctx.step_func.__doc__ or "").strip()
        summary = doc.splitlines()[0] if doc else ""
        example = next((line.split("Example:", 1)[1].strip() for line in doc.splitlines()
                        if "Example:" in line), "")
        pattern = str(getattr(ctx.parser, "name", ctx.parser))
        docs[(ctx.type or "*", pattern)] = StepDoc(ctx.type or "*", pattern, summary, example)
    order = {"given": 0, "when": 1, "then": 2}
    return sorted(docs.values(), key=lambda d: (order.get(d.kind, 3), d.example))


def import_bundled() -> list[StepDoc]:
    """Import the bundled step modules (outside pytest) and return the vocabulary."""
    import importlib

    from alertdrill.plugin import bundled_step_modules

    for name in bundled_step_modules():
        importlib.import_module(name)
    return loaded_steps()


def markdown_table(steps: list[StepDoc]) -> str:
    """The README's step table: example and meaning of every step."""
    rows = ["| step (example) | what it claims or does |", "|---|---|"]
    for step in steps:
        rows.append(f"| `{step.example}` | {step.summary} |")
    return "\n".join(rows)


def suggest(text: str, steps: list[StepDoc], n: int = 3) -> list[str]:
    """Examples of the steps closest to ``text``, for "did you mean" hints."""
    examples = {s.example: s for s in steps if s.example}
    stripped = {_strip_keyword(e): e for e in examples}
    close = difflib.get_close_matches(text, list(stripped), n=n, cutoff=0.5)
    return [stripped[c] for c in close]


def _strip_keyword(example: str) -> str:
    for keyword in ("Given ", "When ", "Then ", "And ", "But "):
        if example.startswith(keyword):
            return example[len(keyword):]
    return example
