"""The named-template reader behind the template mutants' equivalence (milliseconds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from alertdrill.mutate.gotemplates import named_templates, same_named_templates

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = (ROOT / "stack" / "reference" / "alertmanager" / "templates" / "techcorp.tmpl").read_text()


def _without_line(text: str, number: int) -> str:
    lines = text.splitlines(keepends=True)
    return "".join(lines[:number - 1] + lines[number:])


def test_reads_every_named_template_of_the_reference_stack() -> None:
    named = named_templates(REFERENCE)
    assert named is not None
    assert sorted(named) == ["email.critical.html", "email.default.text", "email.team.html",
                             "slack.critical", "slack.team", "slack.title", "techcorp.runbook"]
    assert named["techcorp.runbook"] == "{{ (index .Alerts 0).Annotations.runbook_url }}"
    assert named["slack.team"].startswith('{{ template "slack.title" . }}\n{{ range .Alerts }}')


@pytest.mark.parametrize(("line", "equivalent"), [
    (1, True),    # the heading comment's first line: the rest is text outside every define
    (32, True),   # the same for the second comment
    (2, False),   # its closing */}} dropped: the comment swallows the defines up to line 33's */
    (8, False),   # a line of slack.critical
    (34, False),  # techcorp.runbook's define gone
    (33, False),  # an unterminated comment: unreadable, so not proven
    (10, False),  # an {{ end }} too few: unreadable
])
def test_a_dropped_line_is_equivalent_only_outside_every_define(line: int,
                                                                 equivalent: bool) -> None:
    assert same_named_templates(REFERENCE, _without_line(REFERENCE, line)) is equivalent


def test_what_it_cannot_read_is_never_equivalent() -> None:
    for text in ('{{ define "a" }}x', '{{ define "a" }}x{{ end }}{{ end }}', "{{ if x }",
                 '{{ define "a" }}1{{ end }}{{ define "a" }}2{{ end }}', "{{/* open"):
        assert named_templates(text) is None, text
        assert not same_named_templates(text, text)


def test_strings_trim_markers_and_blocks() -> None:
    text = ('{{- define "a" -}}{{ if eq .Status "}}" }}x{{ else }}y{{ end }}{{- end -}}\n'
            '{{ block "b" . }}z{{ end }}{{/* c */}}')
    assert named_templates(text) == {"a": '{{ if eq .Status "}}" }}x{{ else }}y{{ end }}',
                                     "b": "z"}
    assert same_named_templates(text, text + "\n{{/* another comment */}}\nloose text")
    assert not same_named_templates(text, text.replace("x{{", "X{{"))
