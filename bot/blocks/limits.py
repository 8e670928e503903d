"""A checker for Slack's Block Kit limits, independent of the builders that should obey them.

Tests run every builder's output through :func:`limit_problems`; a listener may also
log its result before sending, because Slack's answer to a breach is a bare
``invalid_blocks`` with nothing posted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from bot.blocks.message import (
    MAX_ACTIONS_ELEMENTS,
    MAX_BUTTON_TEXT,
    MAX_BUTTON_VALUE,
    MAX_CONFIRM_BUTTON,
    MAX_CONFIRM_TEXT,
    MAX_CONFIRM_TITLE,
    MAX_CONTEXT_ELEMENTS,
    MAX_FIELD_TEXT,
    MAX_FIELDS,
    MAX_HEADER_TEXT,
    MAX_SECTION_TEXT,
    MAX_VIEW_TITLE,
)

MAX_ID = 255
MAX_INPUT_LABEL = 2000


def limit_problems(blocks: Sequence[dict[str, Any]], *, max_blocks: int) -> list[str]:
    """Every limit ``blocks`` breaks, as readable sentences; empty when Slack will accept them."""
    problems = [f"{len(blocks)} blocks, more than {max_blocks}"] if len(blocks) > max_blocks else []
    for index, block in enumerate(blocks):
        problems += [f"block {index}: {p}" for p in _block_problems(block)]
    return problems


def view_problems(view: dict[str, Any]) -> list[str]:
    """:func:`limit_problems` for a modal or Home view, plus its title and button texts."""
    problems = limit_problems(view.get("blocks", []), max_blocks=100)
    for key in ("title", "submit", "close"):
        text = view.get(key, {}).get("text", "")
        if len(text) > MAX_VIEW_TITLE:
            problems.append(f"view {key} has {len(text)} characters")
    if any(b.get("type") == "input" for b in view.get("blocks", [])) and "submit" not in view:
        problems.append("a view with inputs needs a submit button")
    return problems


def _block_problems(block: dict[str, Any]) -> Iterator[str]:
    if len(block.get("block_id", "")) > MAX_ID:
        yield "block_id too long"
    check = _BY_TYPE.get(str(block.get("type")))
    if check is not None:
        yield from check(block)


def _section_problems(block: dict[str, Any]) -> Iterator[str]:
    fields = block.get("fields", [])
    if "text" in block or not fields:
        yield from _text_problem(block.get("text"), MAX_SECTION_TEXT, "section text")
    if len(fields) > MAX_FIELDS:
        yield f"{len(fields)} fields"
    for item in fields:
        yield from _text_problem(item, MAX_FIELD_TEXT, "field")
    if "accessory" in block:
        yield from _element_problems(block["accessory"])


def _header_problems(block: dict[str, Any]) -> Iterator[str]:
    yield from _text_problem(block.get("text"), MAX_HEADER_TEXT, "header")


def _context_problems(block: dict[str, Any]) -> Iterator[str]:
    elements = block.get("elements", [])
    if not elements or len(elements) > MAX_CONTEXT_ELEMENTS:
        yield f"context with {len(elements)} elements"
    for element in elements:
        yield from _text_problem(element, MAX_SECTION_TEXT, "context element")


def _actions_problems(block: dict[str, Any]) -> Iterator[str]:
    elements = block.get("elements", [])
    if not elements or len(elements) > MAX_ACTIONS_ELEMENTS:
        yield f"actions with {len(elements)} elements"
    for element in elements:
        yield from _element_problems(element)


def _input_problems(block: dict[str, Any]) -> Iterator[str]:
    yield from _text_problem(block.get("label"), MAX_INPUT_LABEL, "input label")
    yield from _element_problems(block.get("element", {}))


_BY_TYPE: dict[str, Callable[[dict[str, Any]], Iterator[str]]] = {
    "section": _section_problems,
    "header": _header_problems,
    "context": _context_problems,
    "actions": _actions_problems,
    "input": _input_problems,
}


def _element_problems(element: dict[str, Any]) -> Iterator[str]:
    if len(element.get("action_id", "")) > MAX_ID:
        yield "action_id too long"
    if element.get("type") == "button":
        yield from _text_problem(element.get("text"), MAX_BUTTON_TEXT, "button text")
        if len(element.get("value", "")) > MAX_BUTTON_VALUE:
            yield "button value too long"
    confirm = element.get("confirm")
    if confirm is not None:
        yield from _text_problem(confirm.get("title"), MAX_CONFIRM_TITLE, "confirm title")
        yield from _text_problem(confirm.get("text"), MAX_CONFIRM_TEXT, "confirm text")
        for key in ("confirm", "deny"):
            yield from _text_problem(confirm.get(key), MAX_CONFIRM_BUTTON, f"confirm {key}")


def _text_problem(obj: Any, limit: int, what: str) -> Iterator[str]:
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        yield f"{what} missing"
        return
    text = obj["text"]
    if not text.strip():
        yield f"{what} empty"
    if len(text) > limit:
        yield f"{what} has {len(text)} characters, more than {limit}"
