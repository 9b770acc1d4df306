"""A JSON parser without recursion, for documents nested deeper than Python's parser goes.

Python's :mod:`json` recurses once per nesting level and gives up near the interpreter's
recursion limit (about 1,000 levels), while Go's ``encoding/json`` accepts up to 10,000 and
refuses deeper input with "exceeded max depth". :func:`parse` is used only when the fast parser
gave up: it keeps its own stack, reads strings and numbers with the :mod:`json` module's own
pieces (so values come out exactly as :func:`json.loads` makes them), and enforces Go's limit.
Errors are :class:`json.JSONDecodeError`, like the fast parser's.
"""

from __future__ import annotations

import json
import json.decoder
import json.scanner
import re
from collections.abc import Callable
from typing import Any, cast

#: Go's ``encoding/json`` nesting limit (arrays and objects, counted together).
MAX_DEPTH = 10_000

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER: re.Pattern[str] = json.scanner.NUMBER_RE
#: The json module's string reader (its C version when available): ``(text, end)``.
_scanstring = cast(Callable[[str, int, bool], tuple[str, int]], vars(json.decoder)["scanstring"])
_CONSTANTS = {"true": True, "false": False, "null": None}


class DepthError(ValueError):
    """The document nests more than :data:`MAX_DEPTH` arrays and objects."""


def _skip(text: str, idx: int) -> int:
    match = _WS.match(text, idx)
    assert match is not None  # the pattern matches the empty string
    return match.end()


def _key(text: str, idx: int) -> tuple[str, int]:
    """An object key at ``idx`` (whitespace skipped) and the index after its ``:``."""
    idx = _skip(text, idx)
    if text[idx : idx + 1] != '"':
        raise json.JSONDecodeError("Expecting property name enclosed in double quotes", text, idx)
    key, idx = _scanstring(text, idx + 1, True)
    idx = _skip(text, idx)
    if text[idx : idx + 1] != ":":
        raise json.JSONDecodeError("Expecting ':' delimiter", text, idx)
    return key, idx + 1


def parse(
    text: str,
    idx: int,
    parse_float: Callable[[str], Any],
    parse_constant: Callable[[str], Any],
) -> tuple[Any, int]:
    """Decode one JSON value starting at ``idx``.

    Args:
        text: The document.
        idx: Where the value starts (leading whitespace is skipped).
        parse_float: Called with the text of every number that has a fraction or an exponent.
        parse_constant: Called with ``NaN``, ``Infinity`` or ``-Infinity``.

    Returns:
        ``(value, index just after it)``.

    Raises:
        json.JSONDecodeError: The text is not JSON.
        DepthError: It nests deeper than :data:`MAX_DEPTH`.
    """
    # each open container with the key its next value goes to (None for arrays)
    stack: list[tuple[list[Any] | dict[str, Any], str | None]] = []
    while True:
        idx = _skip(text, idx)
        char = text[idx : idx + 1]
        value: Any
        if char in ("[", "{"):
            if len(stack) >= MAX_DEPTH:
                raise DepthError("exceeded max depth")
            closing = "]" if char == "[" else "}"
            after = _skip(text, idx + 1)
            if text[after : after + 1] == closing:
                value, idx = ([] if char == "[" else {}), after + 1
            elif char == "[":
                stack.append(([], None))
                idx = after
                continue
            else:
                key, idx = _key(text, after)
                stack.append(({}, key))
                continue
        elif char == '"':
            value, idx = _scanstring(text, idx + 1, True)
        elif (number := _NUMBER.match(text, idx)) is not None:
            integer, fraction, exponent = number.groups()
            if fraction or exponent:
                value = parse_float(integer + (fraction or "") + (exponent or ""))
            else:
                value = int(integer)
            idx = number.end()
        else:
            for word, constant in _CONSTANTS.items():
                if text.startswith(word, idx):
                    value, idx = constant, idx + len(word)
                    break
            else:
                for word in ("NaN", "Infinity", "-Infinity"):
                    if text.startswith(word, idx):
                        value, idx = parse_constant(word), idx + len(word)
                        break
                else:
                    raise json.JSONDecodeError("Expecting value", text, idx)
        # the value is complete: put it into its container, closing every container it ends
        while True:
            if not stack:
                return value, idx
            container, open_key = stack[-1]
            if isinstance(container, list):
                container.append(value)
            else:
                assert open_key is not None
                container[open_key] = value
            idx = _skip(text, idx)
            char = text[idx : idx + 1]
            if char == ",":
                if isinstance(container, dict):
                    key, idx = _key(text, idx + 1)
                    stack[-1] = (container, key)
                else:
                    idx += 1
                break
            if char == ("]" if isinstance(container, list) else "}"):
                stack.pop()
                value, idx = container, idx + 1
                continue
            raise json.JSONDecodeError("Expecting ',' delimiter", text, idx)


_END = object()


def _scalar(
    value: Any, string: Callable[[str], str], float_text: Callable[[float], str]
) -> str | None:
    """The JSON text of a scalar (``None`` for a container or an unsupported type)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return string(value)
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return float_text(value)
    return None


def dump(
    value: Any,
    *,
    sort_keys: bool,
    separators: tuple[str, str],
    ensure_ascii: bool,
    float_text: Callable[[float], str],
    indent: int | None = None,
) -> str:
    """Encode ``value`` as JSON without recursion (what :func:`json.dumps` does, at any depth).

    Args:
        value: Data made of dicts with string keys, lists, tuples, strings, ints, floats, bools
            and ``None``.
        sort_keys: Write object keys in sorted order.
        separators: ``(item separator, key separator)``.
        ensure_ascii: Escape every non-ASCII character.
        float_text: Writes one float (it raises ``ValueError`` for what JSON cannot hold).
        indent: Spaces per level, or ``None`` for one line.

    Returns:
        The JSON text.

    Raises:
        TypeError: A value or a key of an unsupported type.
        ValueError: A container that contains itself, or a float ``float_text`` refuses.
    """
    string = (
        json.encoder.encode_basestring_ascii if ensure_ascii else json.encoder.encode_basestring
    )
    item_sep, key_sep = separators
    out: list[str] = []
    # open containers: [their remaining items, closing text, is an object, items written]
    stack: list[list[Any]] = []
    open_ids: set[int] = set()
    current = value
    while True:
        text = _scalar(current, string, float_text)
        if text is not None:
            out.append(text)
        elif isinstance(current, (dict, list, tuple)):
            if id(current) in open_ids:
                raise ValueError("Circular reference detected")
            is_object = isinstance(current, dict)
            items: Any
            if isinstance(current, dict):
                for name in current:
                    if not isinstance(name, str):
                        raise TypeError(f"keys must be str, not {type(name).__name__}")
                items = sorted(current.items()) if sort_keys else list(current.items())
            else:
                items = current
            out.append("{" if is_object else "[")
            open_ids.add(id(current))
            stack.append([iter(items), "}" if is_object else "]", is_object, 0, id(current)])
        else:
            raise TypeError(f"Object of type {type(current).__name__} is not JSON serializable")
        while stack:
            frame = stack[-1]
            following = next(frame[0], _END)
            if following is _END:
                if indent is not None and frame[3]:
                    out.append("\n" + " " * (indent * (len(stack) - 1)))
                out.append(frame[1])
                open_ids.discard(frame[4])
                stack.pop()
                continue
            if frame[3]:
                out.append(item_sep)
            if indent is not None:
                out.append("\n" + " " * (indent * len(stack)))
            frame[3] += 1
            if frame[2]:
                name, current = cast(tuple[str, Any], following)
                out.append(string(name))
                out.append(key_sep)
            else:
                current = following
            break
        else:
            return "".join(out)
