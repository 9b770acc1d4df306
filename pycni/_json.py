"""Strict JSON in and libcni-shaped JSON out.

Go's ``encoding/json`` rejects NaN/Infinity, trailing data and a UTF-8 BOM; Python's ``json``
accepts several of those. Go does not reject invalid UTF-8 in a string, nor a lone UTF-16
surrogate in a ``\\u`` escape: it replaces each invalid byte, and each lone surrogate, with
U+FFFD. Every JSON document pycni reads goes through :func:`loads`, so configs, plugin output and
cache files are judged (and their text decoded) the same way libcni does. Every document pycni
writes for a plugin goes through :func:`dumps_sorted`: compact with keys sorted, which is what Go
produces when it re-serialises a map, with numbers written as Go writes them.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable
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
#: What ``surrogateescape`` makes of each byte that is not UTF-8: one code point per byte.
_ESCAPED_BYTES = re.compile("[\udc80-\udcff]")
#: Above this size, text that is not UTF-8 is decoded with Python's ``"replace"`` instead.
EXACT_REPLACEMENT_LIMIT = 1 << 20


def _decode_as_go(data: bytes | bytearray) -> str:
    """UTF-8 text with one U+FFFD for each invalid byte, as Go's ``utf8.DecodeRune`` reads them.

    Valid UTF-8 (the usual case) costs one strict decode. Otherwise each invalid byte is marked
    by the ``surrogateescape`` decoder and the marks become U+FFFD; that second pass costs about
    0.1 s per MiB of garbage, so past :data:`EXACT_REPLACEMENT_LIMIT` bytes Python's own
    ``"replace"`` is used, which differs from Go only in giving one U+FFFD for a whole truncated
    multi-byte sequence (60 MiB of garbage from a failing plugin must stay cheap).
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if len(data) > EXACT_REPLACEMENT_LIMIT:
        return data.decode("utf-8", "replace")
    return _ESCAPED_BYTES.sub("\ufffd", data.decode("utf-8", "surrogateescape"))


#: A ``\\u`` escape of a surrogate (Python's decoder keeps lone ones; Go replaces them).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATES = re.compile("[\ud800-\udfff]")


def _to_text(data: bytes | bytearray | memoryview | str) -> str:
    """The document as text: bytes decoded as Go decodes them, text with lone surrogates (no
    UTF-8 form) read as its ``surrogatepass`` bytes, so each becomes U+FFFD too."""
    if isinstance(data, str):
        if data.isascii():
            return data
        try:
            data.encode("utf-8")
        except UnicodeEncodeError:
            return _decode_as_go(data.encode("utf-8", "surrogatepass"))
        return data
    return _decode_as_go(bytes(data))


def _without_lone_surrogates(value: Any) -> Any:
    """``value`` with every lone surrogate in its strings (keys included) replaced by U+FFFD.

    Walks iteratively, rebuilding only what it must (documents may be nested deeply).
    """

    def clean(text: str) -> str:
        return _SURROGATES.sub("\ufffd", text) if _SURROGATES.search(text) else text

    holder: list[Any] = [value]
    stack: list[tuple[Any, Any]] = [(holder, 0)]
    while stack:
        parent, key = stack.pop()
        item = parent[key]
        if isinstance(item, str):
            parent[key] = clean(item)
        elif isinstance(item, dict):
            if any(isinstance(name, str) and _SURROGATES.search(name) for name in item):
                item = {clean(name): child for name, child in item.items()}
                parent[key] = item
            stack.extend((item, name) for name, child in item.items() if not _atomic(child))
        elif isinstance(item, list):
            stack.extend((item, index) for index, child in enumerate(item) if not _atomic(child))
    return holder[0]


def _atomic(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float))


#: Bytes a JSON value (or a BOM, or a NaN/Infinity constant, refused later) can start with.
_VALUE_STARTS = frozenset(b'{["-0123456789tfnNI\xef')
_NOT_WHITESPACE = re.compile(rb"[^ \t\r\n]")
_OPENERS = (b"{", b"[")


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    """Parse one strict JSON document, decoding its text as Go's ``encoding/json`` does.

    Invalid UTF-8 in a string becomes U+FFFD (one per invalid byte), and so does a lone surrogate
    in a ``\\u`` escape, as in Go; everything else Go rejects is rejected.

    Args:
        data: the document, as bytes or text.

    Returns:
        The decoded value (``dict``, ``list``, ``str``, ``int``, ``float``, ``bool`` or ``None``).

    Raises:
        JSONError: with a message close to Go's: ``unexpected end of JSON input`` for empty or
            truncated input, ``invalid character ...`` for garbage, the ``BOM`` case named
            explicitly, and ``trailing data`` after the first value.
    """
    if isinstance(data, (bytes, bytearray)):  # a plugin's stdout arrives as a bytearray
        first = None if data[:1] in _OPENERS else _NOT_WHITESPACE.search(data)  # (no copy)
        if first is not None and data[first.start()] not in _VALUE_STARTS:
            # the document fails at its first character whatever follows: decode only that far
            # (a failing plugin may print 60 MiB of garbage)
            data = data[: first.start() + 4]
        text = _decode_as_go(data)
    elif isinstance(data, str) and data.isascii():
        text = data
    else:
        text = _to_text(data)
    if text.startswith("\ufeff"):  # a BOM, whether given as bytes or as text
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
    if "\\u" in text and _SURROGATE_ESCAPE.search(text):
        value = _without_lone_surrogates(value)
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


def format_float(value: float) -> str:
    """A float written the way Go's ``encoding/json`` writes the same ``float64``.

    Go uses the shortest digits that read back as the same number (Python's ``repr`` finds the
    same digits) and picks the layout by size: plain decimal notation when ``1e-6 <= |x| < 1e21``
    (and for zero), with no ``.0`` for whole numbers; otherwise exponent notation with a sign and
    no leading zero in the exponent. So ``1500.0`` -> ``1500``, ``-0.0`` -> ``-0``, ``1e20`` ->
    ``100000000000000000000``, ``1.5e-07`` -> ``1.5e-7``, ``1e21`` -> ``1e+21``.

    Args:
        value: a finite float (or float subclass).

    Returns:
        The JSON number text.

    Raises:
        ValueError: for NaN and the infinities, which JSON cannot hold (Go refuses them too).
    """
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"Out of range float values are not JSON compliant: {number!r}")
    text = float.__repr__(abs(number))
    sign = "-" if math.copysign(1.0, number) < 0 else ""
    mantissa, _, exponent = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    # The value is 0.<digits> * 10**point once leading zeros are dropped.
    point = len(whole) + (int(exponent) if exponent else 0)
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    if not digits:
        return sign + "0"
    magnitude = abs(number)
    if 1e-6 <= magnitude < 1e21:
        if point <= 0:
            return f"{sign}0.{'0' * -point}{digits}"
        if point >= len(digits):
            return sign + digits + "0" * (point - len(digits))
        return f"{sign}{digits[:point]}.{digits[point:]}"
    power = point - 1
    head = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{sign}{head}e{'+' if power >= 0 else '-'}{abs(power)}"


#: For :func:`_may_hold_float`: digits vanish, what can follow a value becomes ``,`` and an
#: exponent sign becomes ``.``.
_SHAPE = bytes.maketrans(b"]}\n\r\t +-", b",,,,,,..")
_DIGITS = b"0123456789"
_COMPACT = (",", ":")


def _may_hold_float(data: bytes) -> bool:
    """Whether encoder output might contain a float (``False`` is certain; ``True`` may be wrong).

    Python writes every float with a ``.`` or an ``e+``/``e-`` and ends it with a digit, and a
    value is followed by ``,``, ``]``, ``}``, white space or the end. With digits deleted and signs
    turned into ``.``, a float therefore leaves ``.`` right before a ``,`` (or at the end). Text in
    strings rarely does (``"10.0.0.1"`` leaves ``..."``); when it does, only time is lost.
    """
    shape = data.translate(_SHAPE, _DIGITS)
    return b".," in shape or shape.endswith(b".")


_C_MAKE_ENCODER: Any = getattr(json.encoder, "c_make_encoder", None)
_REFUSE = json.JSONEncoder().default  # TypeError "Object of type X is not JSON serializable"


@functools.cache
def _encoder(
    sort_keys: bool, indent: int | None, separators: tuple[str, str] | None, ensure_ascii: bool
) -> Callable[[Any], str]:
    """One encoding function per set of options, built once.

    Compact output uses CPython's C encoder directly, without the circular-reference bookkeeping
    (a third of the time for a typical stdin): a cyclic document then fails with
    ``RecursionError``, as deep nesting does (Go's encoder, too, only looks for cycles once 1000
    levels deep). Indented output goes through :class:`json.JSONEncoder`.
    """
    item, key = separators or ((", ", ": ") if indent is None else (",", ": "))
    if indent is None and _C_MAKE_ENCODER is not None:
        strings = (
            json.encoder.encode_basestring_ascii if ensure_ascii else json.encoder.encode_basestring
        )
        try:
            encode = _C_MAKE_ENCODER(
                None, _REFUSE, strings, None, key, item, sort_keys, False, False
            )
        except TypeError:  # a CPython whose C encoder takes other arguments
            pass
        else:
            return lambda value: "".join(encode(value, 0))
    return json.JSONEncoder(
        sort_keys=sort_keys,
        indent=indent,
        separators=(item, key),
        ensure_ascii=ensure_ascii,
        allow_nan=False,
    ).encode


#: A JSON string in encoder output (escapes included); splitting on it leaves the text between
#: strings, where every number is.
_STRING = re.compile(r'("[^"\\]*(?:\\.[^"\\]*)*")')
#: A float as Python's encoder writes it: digits with a fraction, an exponent or both.
_PY_FLOAT = re.compile(r"-?\d+(?:\.\d+(?:e[+-]\d+)?|e[+-]\d+)")


def _go_number(match: re.Match[str]) -> str:
    return format_float(float(match.group(0)))  # repr round-trips: the same float64


def _rewrite_floats(text: str) -> str:
    """Encoder output with every float rewritten in Go's form; strings are left untouched."""
    parts = _STRING.split(text)
    for index in range(0, len(parts), 2):  # even indices: the text between strings
        part = parts[index]
        if "." in part or "e" in part:
            parts[index] = _PY_FLOAT.sub(_go_number, part)
    return "".join(parts)


def _dump(
    value: Any,
    sort_keys: bool,
    indent: int | None,
    separators: tuple[str, str] | None,
    ensure_ascii: bool,
) -> str:
    """The JSON text of ``value``, floats written as Go writes them.

    A document nested deeper than Python's encoder goes (about 1,000 levels; Go has no limit)
    is written by the recursion-free writer of :mod:`pycni._deepjson` instead.
    """
    encode = _encoder(sort_keys, indent, separators, ensure_ascii)
    try:
        text = encode(value)
    except RecursionError:
        return _deepjson.dump(
            value,
            sort_keys=sort_keys,
            separators=separators or ((", ", ": ") if indent is None else (",", ": ")),
            ensure_ascii=ensure_ascii,
            float_text=format_float,
            indent=indent,
        )
    # _may_hold_float knows what follows a value when the item separator starts with ","
    careful = separators is not None and not separators[0].startswith(",")
    if not careful and not _may_hold_float(text.encode("utf-8", "surrogatepass")):
        return text
    return _rewrite_floats(text)


def dumps(
    value: Any,
    *,
    sort_keys: bool = False,
    indent: int | None = None,
    separators: tuple[str, str] | None = None,
    ensure_ascii: bool = False,
) -> str:
    """``json.dumps`` with floats written as Go writes them (see :func:`format_float`).

    Integers are written exactly (Go would round those above 2**53). Documents without floats
    are written by Python's encoder alone; only output that looks like it holds a float pays for
    a second pass over the text, which rewrites the numbers between strings.

    Args:
        value: the document.
        sort_keys: sort object keys at every level.
        indent: pretty-print with this many spaces per level.
        separators: ``(item, key)`` separators, as for :func:`json.dumps`.
        ensure_ascii: escape non-ASCII text.

    Returns:
        The JSON text.

    Raises:
        TypeError: for values JSON cannot hold.
        ValueError: for NaN/infinities (and circular references in indented output).
        UnicodeEncodeError: for text with lone surrogates unless ``ensure_ascii``.
    """
    return _dump(value, sort_keys, indent, separators, ensure_ascii)


def dumps_sorted(value: Any) -> bytes:
    """Compact UTF-8 JSON with keys sorted at every level (Go's map serialisation).

    Floats are written as Go writes a ``float64`` (:func:`format_float`). Text holding lone
    surrogates cannot be UTF-8; such a document is written with ``\\u`` escapes instead, which
    decodes to the same value.

    Args:
        value: the document.

    Returns:
        The JSON bytes.

    Raises:
        TypeError: for values JSON cannot hold.
        ValueError: for NaN/infinities and cyclic documents.
    """
    try:
        return _dump(value, True, None, _COMPACT, False).encode("utf-8")
    except UnicodeEncodeError:
        return _dump(value, True, None, _COMPACT, True).encode("ascii")


def dumps_indented(value: Any) -> str:
    """JSON indented by 4 spaces without a trailing newline (how libcni and cnitool print).

    Args:
        value: the document.

    Returns:
        The JSON text, floats written as Go writes them.

    Raises:
        TypeError: for values JSON cannot hold.
        ValueError: for NaN/infinities and circular references.
    """
    return dumps(value, indent=4)
