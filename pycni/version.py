"""CNI spec versions: parsing, comparison, selection and plugin VERSION answers.

The CNI version grammar is libcni's, not PEP 440: ``""`` means 0.1.0, missing parts default to 0,
each part is a base-10 integer that may carry a sign or leading zeros (``0.-42.0`` parses), and
suffixes such as ``-rc1`` or a ``v`` prefix are invalid. ``packaging.version`` accepts a different
language (``v1.0``, ``1.0rc1``) and rejects negative parts, so it is not used for spec versions;
pycni uses it where PEP 440 is the right grammar (plugin release versions, see ``diagnose``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from . import _json
from .errors import ConfigError, IncompatibleVersionError, VersionError, go_quote, go_type_name

#: Every spec version this library implements, oldest first.
ALL: tuple[str, ...] = ("0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0")
#: The versions that predate the VERSION verb's ``supportedVersions`` list.
LEGACY: tuple[str, ...] = ("0.1.0", "0.2.0")
#: The newest spec version implemented (libcni's ``version.Current()``).
CURRENT = "1.1.0"

VersionTuple = tuple[int, int, int]


def parse_version(version: str) -> VersionTuple:
    """Parse a spec version into ``(major, minor, micro)`` with libcni's rules.

    >>> parse_version("1.2")
    (1, 2, 0)
    >>> parse_version("")
    (0, 1, 0)
    """
    if version == "":
        return (0, 1, 0)
    parts = version.split(".")
    if len(parts) > 3:
        raise VersionError(f"invalid version {go_quote(version)}: too many parts")
    numbers = [0, 0, 0]
    for index, (label, part) in enumerate(zip(("major", "minor", "micro"), parts)):
        try:
            numbers[index] = _go_atoi(part)
        except ValueError as exc:
            problem = "value out of range" if isinstance(exc, _OutOfRange) else "invalid syntax"
            raise VersionError(
                f"failed to convert {label} version part {go_quote(part)}: "
                f"strconv.Atoi: parsing {go_quote(part)}: {problem}"
            ) from None
    return (numbers[0], numbers[1], numbers[2])


class _OutOfRange(ValueError):
    """``strconv.Atoi``'s ``value out of range``."""


def _go_atoi(text: str) -> int:
    """``strconv.Atoi``: optional sign then ASCII digits only (no spaces, underscores), and a
    64-bit ``int`` (``99999999999999999999`` is out of range, as libcni reports it)."""
    digits = text[1:] if text[:1] in ("+", "-") else text
    if not digits or not all("0" <= c <= "9" for c in digits):
        raise ValueError(text)
    value = int(text)
    if not -(2**63) <= value < 2**63:
        raise _OutOfRange(text)
    return value


def greater_than_or_equal_to(a: str, b: str) -> bool:
    """``a >= b`` by numeric (major, minor, micro); raises :class:`VersionError` if either is invalid."""
    return parse_version(a) >= parse_version(b)


def greater_than(a: str, b: str) -> bool:
    """``a > b`` by numeric (major, minor, micro); raises :class:`VersionError` if either is invalid."""
    return parse_version(a) > parse_version(b)


def at_least(version: str, minimum: str) -> bool:
    """``version >= minimum``, treating an unparsable ``version`` as too old (GC/STATUS gates)."""
    try:
        return parse_version(version) >= parse_version(minimum)
    except VersionError:
        return False


def versions_starting_from(version: str) -> list[str]:
    """The suffix of :data:`ALL` starting at exactly ``version`` (empty for unknown versions)."""
    if version not in ALL:
        return []
    return list(ALL[ALL.index(version) :])


def select_conf_list_version(data: dict[str, Any]) -> str:
    """Choose a conflist's protocol version from ``cniVersion`` and ``cniVersions``.

    libcni's rule: without ``cniVersions`` the ``cniVersion`` string is used verbatim. With it,
    every entry (and a non-empty ``cniVersion``) is parsed, entries newer than :data:`CURRENT` are
    dropped, and the highest remaining one wins; if none remains, ``cniVersion`` is kept as is.
    Errors are :class:`ConfigError` with libcni's messages.
    """
    plain = data.get("cniVersion", "")
    if "cniVersions" not in data:
        return str(plain)
    prefix = "error parsing configuration list: "
    raw = data["cniVersions"]
    if not isinstance(raw, list):
        raise ConfigError(
            f"{prefix}invalid type for cniVersions: []interface {{}}", field="cniVersions"
        )
    current = parse_version(CURRENT)
    best: tuple[VersionTuple, str] | None = None
    for index, entry in enumerate(raw):
        if not isinstance(entry, str):
            raise ConfigError(
                f"{prefix}invalid type for cniVersions index {index}: {go_type_name(entry)}",
                field="cniVersions",
            )
        try:
            parsed = parse_version(entry)
        except VersionError as exc:
            raise ConfigError(
                f"{prefix}invalid cniVersions entry {entry} at index {index}: {exc}",
                field="cniVersions",
            ) from exc
        if parsed <= current and (best is None or parsed > best[0]):
            best = (parsed, entry)
    if isinstance(plain, str) and plain:
        try:
            parsed = parse_version(plain)
        except VersionError as exc:
            raise ConfigError(
                f"{prefix}invalid cniVersion {plain}: {exc}", field="cniVersion"
            ) from exc
        if parsed <= current and (best is None or parsed > best[0]):
            best = (parsed, plain)
    return best[1] if best is not None else str(plain)


def decode_config_version(data: bytes | str) -> str:
    """The ``cniVersion`` of a JSON document (config or result); missing or empty means 0.1.0.

    Raises :class:`VersionError` ``decoding version from network config: <json error>``.
    """
    try:
        obj = _json.loads(data)
    except _json.JSONError as exc:
        raise VersionError(f"decoding version from network config: {exc}") from None
    version = obj.get("cniVersion") if isinstance(obj, dict) else None
    if not isinstance(version, str):
        if isinstance(obj, dict) and version is not None:
            raise VersionError(
                "decoding version from network config: json: cannot unmarshal "
                f"{_json.json_kind(version)} into Go struct field .cniVersion of type string"
            )
        if not isinstance(obj, dict) and obj is not None:
            raise VersionError(
                "decoding version from network config: json: cannot unmarshal "
                f"{_json.json_kind(obj)} into Go value of type types.NetConf"
            )
        return "0.1.0"
    return version or "0.1.0"


def _str_tuple(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


@attrs.frozen
class PluginInfo:
    """What a plugin answers to VERSION: the version of the answer and the versions it supports."""

    cni_version: str
    supported_versions: tuple[str, ...] = attrs.field(converter=_str_tuple)

    def supports(self, version: str) -> bool:
        """Exact string membership, as libcni checks (``1.0`` is not ``1.0.0``)."""
        return version in self.supported_versions

    def to_dict(self) -> dict[str, Any]:
        return {"cniVersion": self.cni_version, "supportedVersions": list(self.supported_versions)}

    def to_bytes(self) -> bytes:
        """The VERSION answer as a plugin prints it (JSON plus a newline)."""
        return _json.dumps_sorted(self.to_dict()) + b"\n"


def plugin_supports(*versions: str) -> PluginInfo:
    """A :class:`PluginInfo` answering :data:`CURRENT` and supporting ``versions`` (non-empty)."""
    if not versions:
        raise VersionError("a plugin must support at least one CNI version")
    return PluginInfo(CURRENT, versions)


def decode_plugin_info(data: bytes | str) -> PluginInfo:
    """Decode a VERSION answer with libcni's ``PluginDecoder`` rules.

    A missing or empty ``cniVersion`` is an error; a missing ``supportedVersions`` is allowed only
    for ``0.2.0`` answers (which then support 0.1.0 and 0.2.0). Any strings are accepted as versions.
    """
    try:
        obj = _json.loads(data)
    except _json.JSONError as exc:
        raise VersionError(f"decoding version info: {exc}") from None
    if obj is None:
        obj = {}
    if not isinstance(obj, dict):
        raise VersionError(
            f"decoding version info: json: cannot unmarshal {_json.json_kind(obj)} "
            "into Go value of type version.PluginInfo"
        )
    cni_version = obj.get("cniVersion")
    if cni_version is not None and not isinstance(cni_version, str):
        raise VersionError("decoding version info: cniVersion must be a string")
    if not cni_version:
        raise VersionError("decoding version info: missing field cniVersion")
    supported = obj.get("supportedVersions")
    if supported is not None and (
        not isinstance(supported, list) or not all(isinstance(v, str) for v in supported)
    ):
        raise VersionError("decoding version info: supportedVersions must be a list of strings")
    if not supported:
        if cni_version == "0.2.0":
            return plugin_supports(*LEGACY)
        raise VersionError("decoding version info: missing field supportedVersions")
    return PluginInfo(cni_version, supported)


def check_compatible(config_version: str, info: PluginInfo, plugin_type: str | None = None) -> None:
    """Raise :class:`IncompatibleVersionError` unless ``info`` supports ``config_version`` exactly."""
    if not info.supports(config_version):
        raise IncompatibleVersionError(config_version, info.supported_versions, plugin_type)


def candidate_versions(cni_version: str, cni_versions: Iterable[str] | None) -> list[str]:
    """Every version a config offers (``cniVersion`` plus ``cniVersions``), newest first.

    Unparsable entries and entries newer than :data:`CURRENT` are skipped; used by version
    negotiation, which picks the first candidate every plugin supports.
    """
    seen: dict[str, VersionTuple] = {}
    for version in [cni_version, *(cni_versions or ())]:
        if not version or version in seen:
            continue
        try:
            parsed = parse_version(version)
        except VersionError:
            continue
        if parsed <= parse_version(CURRENT):
            seen[version] = parsed
    return sorted(seen, key=lambda v: seen[v], reverse=True)


def negotiate(candidates: Sequence[str], infos: Sequence[PluginInfo]) -> str | None:
    """The first of ``candidates`` (newest first) that every plugin in ``infos`` supports."""
    for version in candidates:
        if all(info.supports(version) for info in infos):
            return version
    return None
