"""Strict JSON in and libcni-shaped JSON out.

Go's ``encoding/json`` rejects NaN/Infinity, trailing data, a UTF-8 BOM and invalid UTF-8; Python's
``json`` accepts several of those. Every JSON document pycni reads goes through :func:`loads`, so
configs, plugin output and cache files are judged the same way libcni judges them. Every document
pycni writes for a plugin goes through :func:`dumps_sorted`: compact with keys sorted, which is what
Go produces when it re-serialises a map.
"""

from __future__ import annotations

import json
from typing import Any

from . import _deepjson
from .errors import PycniError


class JSONError(PycniError):
    """A document is not strict JSON (the message says where, like Go's decoder)."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid JSON constant {name}")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"number {text} is out of range")
    return value


_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    """Parse one strict JSON document.

    Raises :class:`JSONError` with a message close to Go's: ``unexpected end of JSON input`` for
    empty or truncated input, ``invalid character ...`` for garbage, ``invalid UTF-8`` and ``BOM``
    cases named explicitly, and ``trailing data`` after the first value.
    """
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        if raw.startswith(b"\xef\xbb\xbf"):
            raise JSONError("invalid character 'ï' looking for beginning of value (UTF-8 BOM)")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JSONError(f"invalid UTF-8 at byte {exc.start}") from None
    else:
        text = data
        if text.startswith("\ufeff"):
            raise JSONError("invalid character 'ï' looking for beginning of value (UTF-8 BOM)")
    stripped = text.strip(" \t\r\n")
    if not stripped:
        raise JSONError("unexpected end of JSON input")
    start = len(text) - len(text.lstrip(" \t\r\n"))
    try:
        try:
            value, end = _DECODER.raw_decode(text, start)
        except RecursionError:  # deeper than Python's parser goes: Go accepts 10,000 levels
            value, end = _deepjson.parse(text, start, _finite_float, _reject_constant)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip(" \t\r\n")):
            raise JSONError("unexpected end of JSON input") from None
        bad = text[exc.pos]
        raise JSONError(
            f"invalid character {bad!r} at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except ValueError as exc:  # NaN / Infinity, or a number too large
        raise JSONError(str(exc)) from None
    except _deepjson.DepthError:
        raise JSONError("exceeded max depth") from None
    rest = text[end:]
    if rest.strip(" \t\r\n"):
        offset = end + len(rest) - len(rest.lstrip(" \t\r\n"))
        raise JSONError(
            f"invalid character {text[offset]!r} after top-level value (trailing data at char {offset})"
        )
    return value


def loads_object(data: bytes | bytearray | memoryview | str) -> dict[str, Any]:
    """Parse a strict JSON document that must be an object."""
    value = loads(data)
    if not isinstance(value, dict):
        raise JSONError(
            f"json: cannot unmarshal {json_kind(value)} into Go value of type map[string]interface {{}}"
        )
    return value


def json_kind(value: object) -> str:
    """The JSON kind of a decoded value as Go's decoder names it (``array``, ``string``, ...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def dumps_sorted(value: Any) -> bytes:
    """Compact UTF-8 JSON with keys sorted at every level (Go's map serialisation).

    Text holding lone surrogates (from ``"\\ud800"`` escapes in the input) cannot be UTF-8; such a
    document is written with ``\\u`` escapes instead, which decodes to the same value.
    """
    try:
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode("utf-8")
    except RecursionError:
        raise JSONError("exceeded max depth while writing JSON") from None
    except UnicodeEncodeError:
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
        ).encode("ascii")


def dumps_indented(value: Any) -> str:
    """JSON indented by 4 spaces without a trailing newline (how libcni and cnitool print)."""
    return json.dumps(value, indent=4, ensure_ascii=False, allow_nan=False)
