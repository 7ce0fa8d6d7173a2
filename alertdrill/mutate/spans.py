"""Where a YAML node is in its file's text, and edits that change exactly that span.

PyYAML's composer gives every node a start and end mark (character index, line, column); the
operators use them to find a value, a key's whole line, or a list item's whole block, so a
mutant touches the characters of its one change and nothing else (comments and quoting stay).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import yaml

from alertdrill.mutate.model import Edit
from alertdrill.yamlio import SAFE_LOADER

#: libyaml's loader when PyYAML has it (yamlio's): the marks are the same, and the hundreds of
#: mutant texts the equivalence check reads parse ten times faster.
LOADER = SAFE_LOADER
_PLAIN_SAFE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-/:]*$")


def compose(text: str) -> yaml.Node | None:
    """The node tree of a YAML document (None for an empty one); raises yaml.YAMLError."""
    return yaml.compose(text, Loader=LOADER)


def load(text: str) -> object:
    """The data of a YAML document (``yaml.safe_load``, with :data:`LOADER`)."""
    return yaml.load(text, Loader=LOADER)


def get(node: yaml.Node | None, key: str) -> yaml.Node | None:
    """The value node of ``key`` in a mapping node."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                return value
    return None


def key_node(node: yaml.Node | None, key: str) -> yaml.Node | None:
    """The key node of ``key`` in a mapping node (for the line ``key:`` is on)."""
    if isinstance(node, yaml.MappingNode):
        for k, _ in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return k
    return None


def items(node: yaml.Node | None) -> list[yaml.Node]:
    """The items of a sequence node ([] for anything else)."""
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def mappings(node: yaml.Node | None) -> Iterator[yaml.MappingNode]:
    """The mapping items of a sequence node."""
    for item in items(node):
        if isinstance(item, yaml.MappingNode):
            yield item


def scalar(node: yaml.Node | None) -> str | None:
    """The text of a scalar node."""
    return str(node.value) if isinstance(node, yaml.ScalarNode) else None


def strings(node: yaml.Node | None) -> list[str]:
    """The scalar items of a sequence node."""
    return [str(i.value) for i in items(node) if isinstance(i, yaml.ScalarNode)]


def line_of(node: yaml.Node) -> int:
    """1-based line of a node's start."""
    return int(node.start_mark.line) + 1


def line_start(text: str, index: int) -> int:
    """Index of the first character of the line holding ``index``."""
    return text.rfind("\n", 0, index) + 1


def line_end(text: str, index: int) -> int:
    """Index just after the newline ending the line holding ``index`` (or the text's end)."""
    found = text.find("\n", index)
    return len(text) if found < 0 else found + 1


def content_end(text: str, node: yaml.Node) -> int:
    """Index just after the node's last character of content (not the blank lines, comments
    and next-line indentation a block node's end mark runs on to)."""
    if isinstance(node, yaml.MappingNode) and node.value and not node.flow_style:
        return content_end(text, node.value[-1][1])
    if isinstance(node, yaml.SequenceNode) and node.value and not node.flow_style:
        return content_end(text, node.value[-1])
    end = int(node.end_mark.index)
    while end > int(node.start_mark.index) and text[end - 1] in " \t\r\n":
        end -= 1
    return end


def block(text: str, node: yaml.Node) -> tuple[int, int]:
    """The whole lines of a node (a list item from its ``- `` line through its last line)."""
    return line_start(text, int(node.start_mark.index)), line_end(text, content_end(text, node))


def key_lines(text: str, mapping: yaml.Node, key: str) -> tuple[int, int] | None:
    """The whole lines of ``key: value`` in a block mapping."""
    k, v = key_node(mapping, key), get(mapping, key)
    if k is None or v is None:
        return None
    return line_start(text, int(k.start_mark.index)), line_end(text, content_end(text, v))


def render_scalar(value: str, style: str | None) -> str:
    """``value`` written in the node's quoting style (plain only where plain is safe)."""
    if style == '"':
        return json.dumps(value, ensure_ascii=False)
    if style is None and _PLAIN_SAFE.match(value) and value.lower() not in ("null", "~", "yes",
                                                                              "no", "on", "off"):
        return value
    return "'" + value.replace("'", "''") + "'"


def replace_scalar(node: yaml.Node, value: str) -> Edit:
    """Replace a (non-block) scalar node's text with ``value`` in the same style."""
    style = getattr(node, "style", None)
    style = style if style in ('"', "'") else None
    return Edit(int(node.start_mark.index), int(node.end_mark.index), render_scalar(value, style))


def replace_node(text: str, node: yaml.Node, new: str) -> Edit:
    """Replace a node's content (a flow or block collection) with ``new`` (flow YAML)."""
    return Edit(int(node.start_mark.index), content_end(text, node), new)


def flow_list(values: list[str]) -> str:
    """``[a, b]``, each item quoted when plain would not be safe."""
    return "[" + ", ".join(render_scalar(v, None) for v in values) + "]"


def insert_key(text: str, mapping: yaml.MappingNode, key: str, value: str) -> Edit | None:
    """A new ``key: value`` line in a block mapping, after the line of its first single-line
    entry, at the mapping's indentation (None when the mapping has no such entry)."""
    if mapping.flow_style or not mapping.value:
        return None
    column = int(mapping.value[0][0].start_mark.column)
    for _k, v in mapping.value:
        if (isinstance(v, yaml.ScalarNode) and v.style not in ("|", ">")) or getattr(
                v, "flow_style", False):
            end = line_end(text, content_end(text, v))
            at = end - 1 if end > 0 and text[end - 1] == "\n" else end
            return Edit(at, at, "\n" + " " * column + f"{key}: {value}")
    return None


def delete_lines(span: tuple[int, int]) -> Edit:
    """Remove whole lines."""
    return Edit(span[0], span[1], "")


def swap_blocks(text: str, first: yaml.Node, second: yaml.Node) -> tuple[Edit, ...]:
    """Exchange two list items' blocks (``first`` before ``second``), keeping what lies
    between them (comments, blank lines) where it is."""
    a0, a1 = block(text, first)
    b0, b1 = block(text, second)
    a_text, b_text = text[a0:a1], text[b0:b1]
    if not a_text.endswith("\n"):
        a_text += "\n"
    if not b_text.endswith("\n"):
        b_text += "\n"
        a_text = a_text[:-1] if b1 == len(text) and not text.endswith("\n") else a_text
    return (Edit(a0, a1, b_text), Edit(b0, b1, a_text))


def multiplied_duration(node: yaml.Node | None, factor: float, from_zero: str
                        ) -> tuple[str, str] | None:
    """(as written, multiplied) for a duration scalar — ``from_zero`` when it was 0 — or None
    when ``node`` is no duration (a timing and a ``for`` operator share this)."""
    text = scalar(node)
    if node is None or text is None:
        return None
    from alertdrill.durations import format_duration, parse_duration

    try:
        seconds = parse_duration(text)
    except ValueError:
        return None
    return text, format_duration(seconds * factor) if seconds else from_zero
