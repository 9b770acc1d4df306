"""The one cattrs converter that turns result JSON into models and back.

Built once at import. Hooks give the JSON rules of libcni:

* reading is as strict as Go's decoder on types (a number where a string belongs is an error, a
  float or a bool is not an integer) and as lenient on ``null`` (a null string is ``""``, a null
  integer 0, a null list empty, a null optional absent); unknown keys are dropped;
* writing omits every field equal to its default except those marked :data:`~.common.ALWAYS`;
  JSON key names come from the ``json`` field metadata.

:func:`structure` is the only way in: every failure, wherever it sits in the document, becomes a
:class:`~pycni.errors.ResultError` whose ``field`` is the JSON path (``ips[0].address``); cattrs'
own validation errors never escape.
"""

from __future__ import annotations

import ipaddress
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.errors import (
    AttributeValidationNote,
    ClassValidationError,
    IterableValidationError,
    IterableValidationNote,
)
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from .._json import json_kind
from ..errors import ResultError
from .common import CIDR, InvalidValue, IPAddress, UInt, format_cidr, parse_cidr, parse_ip

T = TypeVar("T")

_INT64 = (-(2**63), 2**63 - 1)
_UINT64 = (0, 2**64 - 1)


class TypeMismatch(TypeError):
    """A JSON value of the wrong kind; rendered like Go's ``json: cannot unmarshal ...``."""

    def __init__(self, value: object, go_type: str) -> None:
        kind = json_kind(value)
        if kind == "number" and go_type in ("int", "uint"):  # Go shows the number for integers
            kind = f"number {value}"
        self.kind = kind
        self.go_type = go_type
        super().__init__(f"json: cannot unmarshal {kind} into Go value of type {go_type}")


class MissingField(KeyError):
    """A required key is absent."""


# ------------------------------------------------------------------------------------------------
# Scalar hooks
# ------------------------------------------------------------------------------------------------


def _structure_str(value: object, _: type) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeMismatch(value, "string")
    return value


def _bounded_int(value: object, go_type: str, bounds: tuple[int, int]) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeMismatch(value, go_type)
    if not bounds[0] <= value <= bounds[1]:
        raise TypeMismatch(value, go_type)
    return value


def _structure_int(value: object, _: type) -> int:
    return _bounded_int(value, "int", _INT64)


def _structure_uint(value: object, _: type) -> UInt:
    return UInt(_bounded_int(value, "uint", _UINT64))


def _structure_optional_int(value: object, _: type) -> int | None:
    return None if value is None else _bounded_int(value, "int", _INT64)


def _structure_cidr(value: object, _: type) -> CIDR:
    if value is None:  # Go hands null to IPNet.UnmarshalJSON, which then parses ""
        value = ""
    if not isinstance(value, str):
        raise TypeMismatch(value, "string")
    return parse_cidr(value)


def _structure_optional_ip(value: object, _: type) -> IPAddress | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise TypeMismatch(value, "string")
    return parse_ip(value)


# ------------------------------------------------------------------------------------------------
# Collections and classes
# ------------------------------------------------------------------------------------------------


def _is_homogeneous_tuple(cl: Any) -> bool:
    args = typing.get_args(cl)
    return typing.get_origin(cl) is tuple and len(args) == 2 and args[1] is Ellipsis


def _go_type(cl: Any) -> str:
    if _is_homogeneous_tuple(cl):
        return "[]" + _go_type(typing.get_args(cl)[0])
    return str(getattr(cl, "GO_TYPE", getattr(cl, "__name__", cl)))


def _tuple_hook_factory(cl: Any, converter: cattrs.Converter) -> Callable[[Any, Any], Any]:
    """JSON arrays only (a string is not a list of letters); ``null`` is an empty tuple."""
    item_type = typing.get_args(cl)[0]
    item_hook = converter.get_structure_hook(item_type)
    go_type = _go_type(cl)

    def structure_tuple(value: object, _: Any) -> tuple[Any, ...]:
        if value is None:
            return ()
        if not isinstance(value, (list, tuple)):
            raise TypeMismatch(value, go_type)
        items = []
        for index, item in enumerate(value):
            try:
                items.append(item_hook(item, item_type))
            except Exception as exc:
                note = IterableValidationNote(f"Structuring {cl} @ index {index}", index, item_type)
                exc.__notes__ = [*getattr(exc, "__notes__", []), note]  # type: ignore[attr-defined]
                raise IterableValidationError(f"While structuring {cl}", [exc], cl) from None
        return tuple(items)

    return structure_tuple


def _struct_hook_factory(cl: Any, converter: cattrs.Converter) -> Callable[[Any, Any], Any]:
    overrides: dict[str, Any] = {
        f.name: override(rename=f.metadata["json"])
        for f in attrs.fields(cl)
        if "json" in f.metadata
    }
    inner = make_dict_structure_fn(cl, converter, **overrides)
    null_is_empty = bool(getattr(cl, "NULL_IS_EMPTY", False))
    go_type = _go_type(cl)

    def structure_object(value: object, _: Any) -> Any:
        if value is None and null_is_empty:  # a Go struct value (not a pointer) stays empty
            return cl()
        if not isinstance(value, Mapping):
            raise TypeMismatch(value, go_type)
        return inner(value, cl)

    return structure_object


def _unstruct_hook_factory(cl: Any, converter: cattrs.Converter) -> Callable[[Any], Any]:
    overrides: dict[str, Any] = {}
    for f in attrs.fields(cl):
        overrides[f.name] = override(
            rename=f.metadata.get("json"), omit_if_default=not f.metadata.get("always", False)
        )
    inner = make_dict_unstructure_fn(cl, converter, _cattrs_omit_if_default=True, **overrides)
    keys = [f.metadata.get("json", f.name) for f in attrs.fields(cl)]

    def unstructure_object(obj: Any) -> dict[str, Any]:
        # cattrs puts always-emitted keys first; keep the struct's order, as libcni prints it
        out = inner(obj)
        return {key: out[key] for key in keys if key in out}

    return unstructure_object


def _build() -> cattrs.Converter:
    converter = cattrs.Converter(detailed_validation=True)
    converter.register_structure_hook(str, _structure_str)
    converter.register_structure_hook(int, _structure_int)
    converter.register_structure_hook(UInt, _structure_uint)
    converter.register_structure_hook(int | None, _structure_optional_int)
    converter.register_structure_hook(CIDR, _structure_cidr)
    converter.register_structure_hook(IPAddress | None, _structure_optional_ip)
    converter.register_structure_hook_factory(_is_homogeneous_tuple, _tuple_hook_factory)
    converter.register_structure_hook_factory(attrs.has, _struct_hook_factory)
    for cidr_type in (ipaddress.IPv4Interface, ipaddress.IPv6Interface):
        converter.register_unstructure_hook(cidr_type, format_cidr)
    for ip_type in (ipaddress.IPv4Address, ipaddress.IPv6Address):
        converter.register_unstructure_hook(ip_type, str)
    converter.register_unstructure_hook_factory(attrs.has, _unstruct_hook_factory)
    return converter


CONVERTER = _build()


# ------------------------------------------------------------------------------------------------
# Entry points
# ------------------------------------------------------------------------------------------------


def _json_key(cl: Any, attribute: str) -> str:
    if attrs.has(cl):
        for f in attrs.fields(cl):
            if f.name == attribute:
                return str(f.metadata.get("json", attribute))
    return attribute


def _first_leaf(exc: BaseException, path: str) -> tuple[BaseException, str]:
    """Walk cattrs' error tree to its first real error and the JSON path leading to it."""
    if isinstance(exc, (ClassValidationError, IterableValidationError)):
        with_notes, without_notes = exc.group_exceptions()
        if with_notes:
            sub, note = with_notes[0]
            if isinstance(note, AttributeValidationNote):
                key = _json_key(exc.cl, note.name)
                return _first_leaf(sub, f"{path}.{key}" if path else key)
            if isinstance(note, IterableValidationNote):
                return _first_leaf(sub, f"{path}[{note.index}]")
        if without_notes:
            return _first_leaf(without_notes[0], path)
    return exc, path


def to_result_error(exc: BaseException, prefix: str = "") -> ResultError:
    """Render any structuring failure as a :class:`ResultError` naming the field."""
    leaf, path = _first_leaf(exc, prefix)
    field = path or None
    if isinstance(leaf, ResultError):
        return ResultError(leaf.message, field=leaf.field or field)
    if isinstance(leaf, TypeMismatch):
        where = f"Go struct field {path}" if path else "Go value"
        return ResultError(
            f"json: cannot unmarshal {leaf.kind} into {where} of type {leaf.go_type}", field=field
        )
    if isinstance(leaf, InvalidValue):
        return ResultError(str(leaf), field=field)
    if isinstance(leaf, KeyError):
        return ResultError(f"missing required field {path or leaf.args[0]!r}", field=field)
    return ResultError(f"invalid value: {leaf}", field=field)


def structure(data: object, cl: type[T]) -> T:
    """Build ``cl`` from decoded JSON; any failure is a :class:`ResultError` naming the field."""
    try:
        return CONVERTER.structure(data, cl)
    except Exception as exc:
        raise to_result_error(exc) from None


def unstructure(obj: object) -> dict[str, Any]:
    """The JSON-ready dict of a model, with libcni's omission rules."""
    value = CONVERTER.unstructure(obj)
    assert isinstance(value, dict)
    return value
