"""Loading untrusted YAML safely: size, node and depth limits, no aliases (billion laughs), line numbers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.error import Mark
from yaml.nodes import MappingNode, Node, SequenceNode

from app.web.i18n import gettext as _

MAX_BYTES = 256 * 1024
# A real publiccode.yml has a few hundred nodes; the limits stop pathological files early.
MAX_NODES = 20_000
MAX_DEPTH = 40


@dataclass(frozen=True)
class Problem:
    """Something in the file that could not be used: where (1-based line, or None) and why."""

    line: int | None
    key: str
    message: str


class Refused(Exception):
    """The file cannot be read as a publiccode.yml at all."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


class LimitedSafeLoader(yaml.SafeLoader):
    """SafeLoader without aliases, with a node count and a nesting limit."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.node_count = 0
        self.depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        """Refuse an alias before it is expanded; count every node."""
        if self.check_event(yaml.AliasEvent):
            raise ComposerError(None, None, "aliases (*name) are not allowed", self.next_mark())
        self.node_count += 1
        if self.node_count > MAX_NODES:
            raise ComposerError(None, None, "too many values", self.next_mark())
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise ComposerError(None, None, "nested too deeply", self.next_mark())
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def next_mark(self) -> Mark:
        """Where the next event starts (for the line of a refusal)."""
        event = self.peek_event()  # type: ignore[no-untyped-call]
        mark: Mark = event.start_mark
        return mark


class PlainDumper(yaml.SafeDumper):
    """SafeDumper that repeats shared values instead of writing anchors (our own import refuses aliases)."""

    def ignore_aliases(self, data: Any) -> bool:
        """Never write an alias."""
        return True


def load_document(text: str) -> tuple[Any, dict[str, int]]:
    """The document's data and the 1-based line of every key path ("description.ja.screenshots[0]").

    Raises:
        Refused: too large, not YAML, several documents, aliases, or too many or too deeply nested values.
    """
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise Refused(Problem(None, "", _("The file is larger than 256 KB.")))
    loader = LimitedSafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise Refused(Problem(None, "", _("The file is empty.")))
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        detail = error.problem or error.context or ""
        message = _("This is not valid YAML: {detail}.").format(detail=detail)
        if "alias" in detail:
            message = _("Aliases (*name) are not allowed in a publiccode.yml.")
        raise Refused(Problem(line, "", message)) from error
    except (yaml.YAMLError, RecursionError, ValueError, TypeError) as error:
        raise Refused(Problem(None, "", _("This is not valid YAML."))) from error
    finally:
        loader.dispose()
    lines: dict[str, int] = {}
    record_lines(node, "", lines)
    return data, lines


def record_lines(node: Node, path: str, lines: dict[str, int]) -> None:
    """Fill `lines` with the line of every mapping key and sequence item under `node`."""
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            child = f"{path}.{key_node.value}" if path else str(key_node.value)
            lines.setdefault(child, key_node.start_mark.line + 1)
            record_lines(value_node, child, lines)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            child = f"{path}[{index}]"
            lines.setdefault(child, item.start_mark.line + 1)
            record_lines(item, child, lines)
