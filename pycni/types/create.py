"""Creating typed results from JSON: libcni's ``create``, the plugin-output version fixup, and
``ParsePrevResult``; plus the spec's error object.

Every function raises :class:`~pycni.errors.ResultError` (never a bare ``ValueError``/``KeyError``
or a cattrs error) with libcni's message text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from .. import _json
from ..errors import CNIError, ResultError, go_quote
from . import _codec
from .base import Result
from .common import UInt
from .convert import family_for

Data = bytes | bytearray | str | Mapping[str, Any] | None


def _family(version: str) -> type[Result]:
    cls = family_for(version)
    if cls is None:
        raise ResultError(f"unsupported CNI result version {go_quote(version)}")
    return cls


def _decode(data: bytes | bytearray | str, prefix: str = "") -> Any:
    try:
        return _json.loads(data)
    except _json.JSONError as exc:
        raise ResultError(f"{prefix}{exc}") from None


def empty_result(version: str) -> Result:
    """A result with nothing in it, of spec ``version`` (``""`` means 0.1.0)."""
    cls: Any = _family(version)
    result: Result = cls(cni_version=version or "0.1.0")
    return result


def create_result(version: str, data: Data) -> Result:
    """Parse a result with the family chosen by ``version`` (libcni ``create.Create``).

    ``version`` selects the family (``unsupported CNI result version "x"`` otherwise); the
    document's own ``cniVersion`` must belong to that family (missing counts as ``""``, which only
    the 0.1/0.2 family accepts, as 0.1.0), else ``result type supports [...] but unmarshalled
    CNIVersion is "..."``. ``None`` or JSON ``null`` is an empty result of ``version``.
    """
    cls = _family(version)
    obj = _decode(data) if isinstance(data, (bytes, bytearray, str)) else data
    if obj is None:
        return empty_result(version)
    if isinstance(obj, Mapping) and "cniVersion" not in obj:
        obj = {**obj, "cniVersion": ""}
    return _codec.structure(obj, cls)


def create_result_from_bytes(data: bytes | bytearray | str) -> Result:
    """Parse a result whose family is its own ``cniVersion`` (missing or ``""`` is 0.1.0)."""
    obj = _decode(data, "decoding version from network config: ")
    version: object = obj.get("cniVersion") if isinstance(obj, dict) else None
    if isinstance(obj, dict) and version is not None and not isinstance(version, str):
        raise ResultError(
            "decoding version from network config: json: cannot unmarshal "
            f"{_json.json_kind(version)} into Go struct field .cniVersion of type string",
            field="cniVersion",
        )
    if obj is not None and not isinstance(obj, dict):
        raise ResultError(
            "decoding version from network config: json: cannot unmarshal "
            f"{_json.json_kind(obj)} into Go value of type struct {{ CNIVersion string }}"
        )
    return create_result(str(version or "0.1.0"), obj)


def result_from_plugin_output(stdout: bytes | bytearray | str, config_version: str) -> Result:
    """The typed result of a plugin's ADD output (libcni ``ExecPluginWithResult`` fixup).

    A non-empty string ``cniVersion`` in the output wins; otherwise (missing, empty, not a string)
    the config's version is used (``""`` meaning 0.1.0). ``null`` is an empty result; empty output
    is ``failed to unmarshal raw result: unexpected end of JSON input``.
    """
    config_version = config_version or "0.1.0"
    obj = _decode(stdout, "failed to unmarshal raw result: ")
    if obj is None:
        obj = {}
    if not isinstance(obj, dict):
        raise ResultError(
            f"failed to unmarshal raw result: json: cannot unmarshal {_json.json_kind(obj)} "
            "into Go value of type map[string]interface {}"
        )
    version = obj.get("cniVersion")
    if not isinstance(version, str) or not version:
        version = config_version
        obj = {**obj, "cniVersion": version}
    return create_result(version, obj)


def parse_prev_result(conf: Mapping[str, Any]) -> Result | None:
    """The typed ``prevResult`` of a plugin's stdin config, or ``None`` when there is none.

    libcni's rule: the prevResult's own ``cniVersion`` is used when the key is present (even
    ``""``), else the config's; the result is then created with the config's version as family
    selector, so both must be in one family. Errors start ``could not parse prevResult: ``.
    """
    raw = conf.get("prevResult")
    if raw is None:
        return None
    prefix = "could not parse prevResult: "
    conf_version = conf.get("cniVersion", "")
    if conf_version is None:
        conf_version = ""
    if not isinstance(conf_version, str):
        raise ResultError(
            f"{prefix}json: cannot unmarshal {_json.json_kind(conf_version)} into Go struct "
            "field PluginConf.cniVersion of type string",
            field="cniVersion",
        )
    if not isinstance(raw, Mapping):
        raise ResultError(
            f"{prefix}json: cannot unmarshal {_json.json_kind(raw)} into Go struct field "
            "PluginConf.prevResult of type map[string]interface {}",
            field="prevResult",
        )
    if raw.get("cniVersion") is None:
        raw = {**raw, "cniVersion": conf_version}
    try:
        return create_result(conf_version, raw)
    except ResultError as exc:
        field = f"prevResult.{exc.field}" if exc.field else None
        raise ResultError(prefix + exc.message, field=field) from None


# ------------------------------------------------------------------------------------------------
# The spec's error object
# ------------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class _ErrorObject:
    GO_TYPE = "types.Error"

    code: UInt = attrs.field(default=UInt(0))
    msg: str = ""
    details: str = ""


def parse_error(data: bytes | bytearray | str | Mapping[str, Any]) -> CNIError:
    """The spec's error object ``{code, msg, details?}`` as a :class:`~pycni.errors.CNIError`.

    ``code`` must be a non-negative integer, ``msg``/``details`` strings; ``cniVersion`` and
    unknown keys are ignored; ``null`` is the zero error (as Go decodes it). Anything else is a
    :class:`ResultError` naming the field.
    """
    obj = _decode(data) if isinstance(data, (bytes, bytearray, str)) else data
    if obj is None:  # Go decodes null into the zero error: code 0, empty message
        obj = {}
    if not isinstance(obj, Mapping):
        raise ResultError(
            f"json: cannot unmarshal {_json.json_kind(obj)} into Go value of type types.Error"
        )
    fields = _codec.structure(obj, _ErrorObject)
    return CNIError(fields.code, fields.msg, fields.details)
