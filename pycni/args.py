"""``CNI_ARGS`` for plugins: split ``K=V;K2=V2`` and parse it into typed fields (libcni ``LoadArgs``).

Describe the keys a plugin understands with a frozen attrs class whose field names are the keys
(case-sensitive, as in Go) and whose types say how to parse the text::

    @attrs.frozen
    class MyArgs(CommonArgs):            # CommonArgs brings IgnoreUnknown
        IP: ipaddress.IPv4Address | None = None
        K8S_POD_NAME: str = ""

    args = load_args(cmd_args.args, MyArgs)

or with a mapping of key to parser (``{"IP": parse_ip}``), which gives a dict. Understood types:
``str`` (any text), ``bool`` (``1``/``true``/``0``/``false``, any case), IP addresses
(:mod:`ipaddress` address classes; empty text means ``None``), any of those ``| None``; other types
need an explicit parser (``arg(parser=...)``). Unknown keys are an error unless ``IgnoreUnknown``
is true. Errors are :class:`ArgsError` with libcni's messages (``ARGS: invalid pair "x"``, ...).
"""

from __future__ import annotations

import ipaddress
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, overload

import attrs

from .errors import PycniError, go_quote, go_quote_list

__all__ = [
    "ArgsError",
    "CommonArgs",
    "Parser",
    "arg",
    "load_args",
    "parse_bool",
    "parse_ip",
    "parse_string",
    "split_args",
]

T = TypeVar("T")
#: Turns the text of one value into the field's value; raises ``ValueError`` when invalid.
Parser = Callable[[str], Any]

_PARSER_KEY = "pycni.args.parser"
_IGNORE_UNKNOWN = "IgnoreUnknown"


class ArgsError(PycniError):
    """``CNI_ARGS`` could not be parsed; ``key`` and ``pair`` name the culprit when there is one.

    Raised inside a skel callback it is reported as code 999 with this text, as libcni plugins do.
    """

    def __init__(self, message: str, *, key: str | None = None, pair: str | None = None) -> None:
        super().__init__(message)
        self.key = key
        self.pair = pair


def parse_bool(text: str) -> bool:
    """libcni's ``UnmarshallableBool``: ``1``/``true`` and ``0``/``false``, case-insensitively."""
    lowered = text.lower()
    if lowered in ("1", "true"):
        return True
    if lowered in ("0", "false"):
        return False
    raise ValueError(f"boolean unmarshal error: invalid input {lowered}")


def parse_string(text: str) -> str:
    """Any text, including empty (libcni's ``UnmarshallableString``)."""
    return text


def parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An IPv4 or IPv6 address (Go ``net.IP``); empty text is ``None`` (Go's nil IP)."""
    if not text:
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise ValueError(f"invalid IP address: {text}") from None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@attrs.frozen
class CommonArgs:
    """The key every ``CNI_ARGS`` spec understands (libcni ``types.CommonArgs``)."""

    IgnoreUnknown: bool = False


def arg(*, parser: Parser, default: Any = attrs.NOTHING, **kwargs: Any) -> Any:
    """An attrs field parsed from ``CNI_ARGS`` with ``parser`` (for types pycni cannot guess)."""
    metadata = {**kwargs.pop("metadata", {}), _PARSER_KEY: parser}
    return attrs.field(default=default, metadata=metadata, **kwargs)


def split_args(cni_args: str) -> list[tuple[str, str]]:
    """``K=V;K2=V2`` as pairs, in order; each pair must have exactly one ``=``.

    An empty string has no pairs; anything else that is not ``K=V`` (including the empty pair a
    trailing ``;`` makes) raises :class:`ArgsError` ``ARGS: invalid pair "<pair>"``.
    """
    if not cni_args:
        return []
    pairs = []
    for pair in cni_args.split(";"):
        parts = pair.split("=")
        if len(parts) != 2:
            raise ArgsError(f"ARGS: invalid pair {go_quote(pair)}", pair=pair)
        pairs.append((parts[0], parts[1]))
    return pairs


def _unoptional(hint: Any) -> tuple[Any, ...]:
    """The member types of ``hint`` without ``None`` (a ``Union``/``|`` or a single type)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return tuple(t for t in typing.get_args(hint) if t is not type(None))
    return (hint,)


def _parser_for_type(hint: Any) -> Parser | None:
    members = _unoptional(hint)
    if members == (str,):
        return parse_string
    if members == (bool,):
        return parse_bool
    ip_classes = (ipaddress.IPv4Address, ipaddress.IPv6Address)
    if members and all(m in ip_classes for m in members):

        def parse_family(text: str) -> Any:
            address = parse_ip(text)
            if address is not None and not isinstance(address, members):
                raise ValueError(f"invalid IP address: {text}")
            return address

        return parse_family
    return None


def _type_name(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


_FALLBACK_NAMES: dict[str, Any] = {
    "ipaddress": ipaddress,
    "IPv4Address": ipaddress.IPv4Address,
    "IPv6Address": ipaddress.IPv6Address,
    "Optional": typing.Optional,
    "Union": typing.Union,
}


def _class_parsers(cls: type[Any]) -> dict[str, tuple[str, Parser | None, Any]]:
    """key -> (constructor argument name, parser or None, type hint) for an attrs class."""
    try:
        hints = typing.get_type_hints(cls)
    except Exception:
        # A class defined where its module cannot be found (exec'd code, a notebook) with string
        # annotations: resolve the names CNI_ARGS types normally use.
        try:
            hints = typing.get_type_hints(cls, localns=_FALLBACK_NAMES)
        except Exception as exc:
            raise ArgsError(f"ARGS: cannot read the field types of {cls.__name__}: {exc}") from None
    out: dict[str, tuple[str, Parser | None, Any]] = {}
    for field in attrs.fields(cls):
        hint = hints.get(field.name, field.type)
        parser = field.metadata.get(_PARSER_KEY) or _parser_for_type(hint)
        out[field.name] = (getattr(field, "alias", None) or field.name, parser, hint)
    return out


@overload
def load_args(cni_args: str, spec: type[T]) -> T: ...


@overload
def load_args(cni_args: str, spec: Mapping[str, Parser]) -> dict[str, Any]: ...


def load_args(cni_args: str, spec: type[T] | Mapping[str, Parser]) -> T | dict[str, Any]:
    """Parse ``CNI_ARGS`` into an instance of the attrs class ``spec`` (or a dict for a mapping).

    Pairs are applied in order (a repeated key: the last wins). ``IgnoreUnknown`` is always
    understood; unknown keys raise ``ARGS: unknown args ["Unk=nown"]`` unless it ended up true.
    Keys absent from ``cni_args`` keep the class defaults (or are absent from the dict).
    """
    if isinstance(spec, Mapping):
        fields: dict[str, tuple[str, Parser | None, Any]] = {
            key: (key, parser, None) for key, parser in spec.items()
        }
        target: type[Any] | None = None
    elif isinstance(spec, type) and attrs.has(spec):
        fields = _class_parsers(spec)
        target = spec
    else:
        raise ArgsError(f"ARGS: spec must be an attrs class or a mapping of parsers, not {spec!r}")

    values: dict[str, Any] = {}
    unknown: list[str] = []
    ignore_unknown: bool | None = None
    for key, text in split_args(cni_args):
        pair = f"{key}={text}"
        entry = fields.get(key)
        if entry is None and key != _IGNORE_UNKNOWN:
            unknown.append(pair)
            continue
        name, parser, hint = entry if entry is not None else (key, parse_bool, bool)
        if parser is None:
            raise ArgsError(
                f"ARGS: cannot unmarshal into field {key!r} - type {_type_name(hint)!r} has no "
                "CNI_ARGS parser (declare one with pycni.args.arg(parser=...))",
                key=key,
                pair=pair,
            )
        try:
            value = parser(text)
        except (ValueError, PycniError) as exc:
            raise ArgsError(
                f"ARGS: error parsing value of pair {go_quote(pair)}: {exc}", key=key, pair=pair
            ) from None
        if key == _IGNORE_UNKNOWN:
            ignore_unknown = bool(value)
        if entry is not None:
            values[name] = value

    if ignore_unknown is None and target is not None and _IGNORE_UNKNOWN in fields:
        default = attrs.fields_dict(target)[_IGNORE_UNKNOWN].default
        ignore_unknown = bool(default) if default is not attrs.NOTHING else False
    if unknown and not ignore_unknown:
        raise ArgsError(f"ARGS: unknown args {go_quote_list(unknown)}")
    if target is None:
        return values
    try:
        return typing.cast(T, target(**values))
    except (TypeError, ValueError) as exc:
        raise ArgsError(f"ARGS: cannot build {target.__name__}: {exc}") from None
