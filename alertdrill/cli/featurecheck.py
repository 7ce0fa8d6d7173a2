"""``alertdrill check --features``: feature files checked without starting anything.

The same two refusals the pytest plugin makes before a scenario's stack starts — a step no
definition matches, a name its stack does not have (:mod:`alertdrill.engine.claimnames`) — for every
scenario of every feature file, so a pre-commit hook or a CI lint stage learns of a typo in
under a second instead of after a stack start and a waited-out window.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alertdrill.engine.argcheck import syntax_problems
from alertdrill.engine.claimnames import ParsedStep, StackNames, problems, stack_names
from alertdrill.engine.nesting import inner_step, nested_argument
from alertdrill.engine.vocabulary import import_bundled, loaded_steps, suggest
from alertdrill.errors import AlertdrillError
from alertdrill.plugin import parse_step


@dataclass(frozen=True)
class FeatureProblem:
    """One problem of one scenario of a feature file."""

    file: Path
    scenario: str
    message: str

    def render(self, relative_to: Path) -> str:
        """``features/x.feature: Scenario name: message``."""
        try:
            shown = self.file.relative_to(relative_to)
        except ValueError:
            shown = self.file
        return f"{shown}: {self.scenario}: {self.message}"


def feature_files(paths: Iterable[Path]) -> list[Path]:
    """The ``.feature`` files of files and directories (recursively), sorted, each once."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(path.rglob("*.feature"))
        elif path.is_file():
            found.append(path)
        else:
            raise AlertdrillError(f"no feature file or directory {path}",
                                  "give .feature files or directories that hold them")
    return sorted(set(p.resolve() for p in found))


def check_features(paths: Iterable[Path], resolve_stack: Callable[[str, Path], Path],
                   peers: int | None = None) -> list[FeatureProblem]:
    """Every undefined step and unknown name in the scenarios of ``paths``.

    ``resolve_stack(name, feature_dir)`` turns a stack name ("" for the default) into its
    directory, as a run from that feature file would.
    """
    from pytest_bdd.parser import FeatureParser

    import_bundled()
    from pytest_bdd.steps import step_function_context_registry

    contexts = list(step_function_context_registry.values())
    found: list[FeatureProblem] = []
    for file in feature_files(paths):
        feature = FeatureParser(str(file.parent), file.name).parse()
        for name, steps in _scenarios(feature):
            parsed: list[ParsedStep] = []
            for step in steps:
                context = matching_step(contexts, step)
                if context is None:
                    found.append(FeatureProblem(file, name, _undefined(step)))
                    continue
                parsed.append(parse_step(step, context))
                carried = nested_argument(context.step_func)
                if carried is not None:  # "At 5 minutes, <step>": check the carried step too
                    inner = inner_step(str(parsed[-1].arguments.get(carried) or ""),
                                       step.line_number)
                    inner_context = matching_step(contexts, inner)
                    if inner_context is None:
                        found.append(FeatureProblem(file, name, _undefined(inner)))
                        continue
                    parsed.append(parse_step(inner, inner_context))

            def resolve(stack: str, where: Path = file.parent) -> StackNames:
                return stack_names(resolve_stack(stack, where), peers)

            for malformed in syntax_problems(parsed):
                found.append(FeatureProblem(file, name, malformed))
            try:
                for problem in problems(parsed, resolve):
                    found.append(FeatureProblem(file, name, problem.message()))
            except AlertdrillError as exc:
                found.append(FeatureProblem(file, name, str(exc)))
    return found


def _scenarios(feature: Any) -> Iterator[tuple[str, list[Any]]]:
    """Each scenario's name and steps (background included); an outline once per example row."""
    for template in feature.scenarios.values():
        contexts = [c for examples in template.examples for c in examples.as_contexts()]
        if not contexts:
            yield template.name, template.steps
        for index, context in enumerate(contexts, 1):
            yield f"{template.name} (example {index})", template.render(context).steps


def matching_step(contexts: list[Any], step: Any) -> Any:
    """The registered step definition ``step`` runs (None: undefined)."""
    for context in contexts:
        if context.type not in (None, step.type):
            continue
        if context.step_func.__module__.startswith("pytest_bdd"):
            continue
        if context.parser.is_matching(step.name):
            return context
    return None


def _undefined(step: Any) -> str:
    close = suggest(step.name, loaded_steps())
    hint = f"; did you mean: {' | '.join(close)}" if close else ""
    return f'line {step.line_number}: no step definition matches "{step.keyword} {step.name}"{hint}'
