"""Network configurations: one plugin's config and the network config list (libcni ``conf.go``).

A :class:`NetworkConfig` is one plugin's configuration object (libcni's ``PluginConfig``) and a
:class:`NetworkConfigList` a whole network (a ``.conflist``). Both keep three views of the same
document: a typed view of the fields the protocol uses, the parsed JSON object (``raw``, unknown
keys intact) and the exact bytes, because plugins must receive unknown keys unchanged.

Parsing follows libcni step by step and reports libcni's messages, with the file and the offending
field attached to the :class:`~pycni.errors.ConfigError`. Two deliberate differences: JSON is read
strictly (see :mod:`pycni._json`) and keys are matched case-sensitively (Go matches struct fields
case-insensitively, so ``"TYPE": "bridge"`` would satisfy ``type`` there).

Directory handling (``conf_files``, sub-directory plugins, ``load_conf``, ``load_conf_list``,
``scan_conf_dir``) lives in :mod:`pycni.confdir` and is re-exported here.
"""

from __future__ import annotations

import builtins
import os
import stat
from collections.abc import Mapping
from typing import Any

import attrs

from . import _json
from .errors import ConfigError, go_quote, go_type_name
from .version import select_conf_list_version

__all__ = [
    "MAX_CONFIG_SIZE",
    "NetworkConfig",
    "NetworkConfigList",
    "conf_list_from_conf",
    "inject_conf",
    "read_config_file",
]

#: Largest configuration file pycni reads (bytes). Real configs are a few kilobytes; the limit
#: only keeps a stray huge file (or ``/dev/zero``) from exhausting memory.
MAX_CONFIG_SIZE = 16 * 1024 * 1024

_PLUGIN_PREFIX = "error parsing configuration: "
_LIST_PREFIX = "error parsing configuration list: "

# --------------------------------------------------------------------------------------------
# The typed fields of libcni's ``types.PluginConf`` and their Go types, used to reject a value of
# the wrong JSON type the way Go's decoder does. ``null`` is accepted everywhere (zero value).
# A spec is "string", "bool", "any", ("list", spec), ("map", spec) or ("struct", name, fields).
# --------------------------------------------------------------------------------------------

_Spec = Any
_STR_LIST: _Spec = ("list", "string")
_PLUGIN_FIELDS: dict[str, _Spec] = {
    "cniVersion": "string",
    "name": "string",
    "type": "string",
    "capabilities": ("map", "bool"),
    "ipam": ("struct", "IPAM", {"type": "string"}),
    "dns": (
        "struct",
        "DNS",
        {"nameservers": _STR_LIST, "domain": "string", "search": _STR_LIST, "options": _STR_LIST},
    ),
    "prevResult": ("map", "any"),
    "cni.dev/valid-attachments": (
        "list",
        ("struct", "GCAttachment", {"containerID": "string", "ifname": "string"}),
    ),
}


def _go_type(spec: _Spec) -> str:
    """Go's name for the type a spec describes (as it appears in decoder errors)."""
    if isinstance(spec, str):
        return "interface {}" if spec == "any" else spec
    if spec[0] == "list":
        return "[]" + _go_type(spec[1])
    if spec[0] == "map":
        return "map[string]" + _go_type(spec[1])
    return "types." + str(spec[1])


def _type_mismatch(value: Any, spec: _Spec) -> bool:
    """Whether a non-null JSON value cannot be decoded into the Go type ``spec`` describes."""
    if spec == "any":
        return False
    if spec == "string":
        return not isinstance(value, str)
    if spec == "bool":
        return not isinstance(value, bool)
    if spec[0] == "list":
        return not isinstance(value, list)
    return not isinstance(value, dict)


def _check_fields(obj: dict[str, Any], fields: Mapping[str, _Spec], struct: str, path: str) -> None:
    """Raise ``ConfigError`` (message only; field set) for the first mistyped known field."""
    for key, spec in fields.items():
        value = obj.get(key)
        if value is not None:
            _check_value(value, spec, struct, f"{path}{key}")


def _check_value(value: Any, spec: _Spec, struct: str, field: str) -> None:
    if _type_mismatch(value, spec):
        raise ConfigError(
            f"json: cannot unmarshal {_json.json_kind(value)} into Go struct field "
            f"{struct}.{field} of type {_go_type(spec)}",
            field=field,
        )
    if isinstance(spec, str):
        return
    if spec[0] == "list" or spec[0] == "map":
        items = value if spec[0] == "list" else value.values()
        for item in items:
            if item is not None:
                _check_value(item, spec[1], struct, field)
    else:
        _check_fields(value, spec[2], spec[1], f"{field}.")


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def read_config_file(path: str | os.PathLike[str]) -> builtins.bytes:
    """Read a configuration file, turning every failure into ``error reading <path>: ...``.

    A directory, a symlink loop, a missing or unreadable file, or a file over
    :data:`MAX_CONFIG_SIZE` gives a :class:`ConfigError` naming the file. A FIFO is opened without
    blocking so that one without a writer reads as empty instead of hanging.
    """
    name = os.fsdecode(path)
    try:
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise ConfigError(
            f"error reading {name}: open {name}: {_os_text(exc)}", path=name
        ) from None
    except ValueError as exc:  # embedded NUL or an unencodable name
        raise ConfigError(f"error reading {name}: open {name}: {exc}", path=name) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ConfigError(f"error reading {name}: read {name}: is a directory", path=name)
        if not stat.S_ISREG(info.st_mode) and hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        chunks: list[builtins.bytes] = []
        size = 0
        while size <= MAX_CONFIG_SIZE:
            chunk = os.read(fd, min(1 << 20, MAX_CONFIG_SIZE + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_CONFIG_SIZE:
            raise ConfigError(
                f"error reading {name}: file is larger than {MAX_CONFIG_SIZE} bytes", path=name
            )
        return b"".join(chunks)
    except OSError as exc:
        raise ConfigError(
            f"error reading {name}: read {name}: {_os_text(exc)}", path=name
        ) from None
    finally:
        os.close(fd)


def _to_bytes(data: builtins.bytes | bytearray | memoryview | str) -> builtins.bytes:
    if isinstance(data, str):
        # Lone surrogates survive encoding and are then reported as invalid UTF-8 by the parser.
        return data.encode("utf-8", "surrogatepass")
    if isinstance(data, (builtins.bytes, bytearray, memoryview)):
        return builtins.bytes(data)
    raise TypeError(f"configuration data must be bytes or str, not {type(data).__name__}")


def _loads(data: builtins.bytes, prefix: str, path: str | None) -> Any:
    try:
        return _json.loads(data)
    except _json.JSONError as exc:
        raise ConfigError(f"{prefix}{exc}", path=path) from None


def _dumps(value: Any, what: str, path: str | None) -> builtins.bytes:
    """Go-style re-serialisation (sorted, compact) with every failure as a ``ConfigError``."""
    try:
        return _json.dumps_sorted(value)
    except UnicodeEncodeError:
        # A lone surrogate from a "\\ud800" escape: keep it escaped, still valid JSON.
        return _json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
    except (TypeError, ValueError, RecursionError, _json.JSONError) as exc:
        raise ConfigError(f"{what}: json: {exc}", path=path) from None


def conf_list_from_file(
    path: str | os.PathLike[str], dir_entries: frozenset[str] | None = None
) -> NetworkConfigList:
    """:meth:`NetworkConfigList.from_file`; ``dir_entries`` (the names in the file's directory,
    when the caller has listed it already) lets a lookup over many files skip looking for a
    plugin sub-directory that is not there."""
    name = os.fsdecode(path)
    conf = NetworkConfigList.from_bytes(read_config_file(name), path=name)
    if not conf.load_only_inlined_plugins:
        plain = conf.name not in ("", ".", "..") and "/" not in conf.name
        if dir_entries is None or not plain or conf.name in dir_entries:
            extra = plugin_confs_from_files(os.path.dirname(name) or ".", conf.name)
            if extra:
                conf = attrs.evolve(conf, plugins=conf.plugins + tuple(extra))
    if not conf.plugins:
        raise ConfigError("no plugin configs found", path=name, field="plugins")
    return conf


# --------------------------------------------------------------------------------------------
# One plugin's configuration
# --------------------------------------------------------------------------------------------


@attrs.frozen
class NetworkConfig:
    """One plugin's configuration object (libcni ``PluginConfig`` / ``NetworkConfig``).

    The typed fields are a view of ``raw``; ``bytes`` is what a plugin receives (before the runtime
    injects ``name``, ``cniVersion``, ``runtimeConfig``, ...). Instances are immutable; ``raw`` and
    the mappings must be treated as read-only.
    """

    type: str
    name: str
    cni_version: str
    capabilities: Mapping[str, bool] = attrs.field(hash=False)
    ipam: Mapping[str, Any] = attrs.field(hash=False)
    dns: Mapping[str, Any] = attrs.field(hash=False)
    raw: dict[str, Any] = attrs.field(hash=False, repr=False)
    bytes: builtins.bytes = attrs.field(repr=False)
    path: str | None = None

    @classmethod
    def from_bytes(
        cls, data: builtins.bytes | bytearray | memoryview | str, *, path: str | None = None
    ) -> NetworkConfig:
        """Parse one plugin configuration (libcni ``NetworkPluginConfFromBytes``).

        ``type`` is required; ``name`` and ``cniVersion`` are not (the runtime sets them).
        ``bytes`` keeps the input unchanged.
        """
        raw_bytes = _to_bytes(data)
        return _plugin_from_object(_loads(raw_bytes, _PLUGIN_PREFIX, path), raw_bytes, path)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> NetworkConfig:
        """Read and parse one plugin configuration file (libcni ``ConfFromFile``)."""
        name = os.fsdecode(path)
        return cls.from_bytes(read_config_file(name), path=name)

    def _repr_html_(self) -> str:
        """Notebook display: the configuration's keys as a compact HTML table."""
        from . import _display

        return _display.config_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython display: one key per line."""
        from . import _display

        _display.pretty(self, printer, cycle)


def _plugin_from_object(obj: Any, raw_bytes: builtins.bytes, path: str | None) -> NetworkConfig:
    if obj is None:  # Go decodes `null` into the zero PluginConf, which then lacks a type
        obj = {}
    if not isinstance(obj, dict):
        raise ConfigError(
            f"{_PLUGIN_PREFIX}json: cannot unmarshal {_json.json_kind(obj)} "
            "into Go value of type types.PluginConf",
            path=path,
        )
    try:
        _check_fields(obj, _PLUGIN_FIELDS, "PluginConf", "")
    except ConfigError as exc:
        raise ConfigError(_PLUGIN_PREFIX + exc.message, path=path, field=exc.field) from None
    plugin_type = obj.get("type") or ""
    if not plugin_type:
        raise ConfigError(f"{_PLUGIN_PREFIX}missing 'type'", path=path, field="type")
    return NetworkConfig(
        type=plugin_type,
        name=obj.get("name") or "",
        cni_version=obj.get("cniVersion") or "",
        capabilities={k: bool(v) for k, v in (obj.get("capabilities") or {}).items()},
        ipam=obj.get("ipam") or {},
        dns=obj.get("dns") or {},
        raw=obj,
        bytes=raw_bytes,
        path=path,
    )


# --------------------------------------------------------------------------------------------
# The network configuration list
# --------------------------------------------------------------------------------------------


@attrs.frozen
class NetworkConfigList:
    """A network: its name, protocol version, flags and plugin chain (libcni ``NetworkConfigList``).

    ``cni_version`` is the version selected from ``cniVersion`` and ``cniVersions``;
    ``cni_versions`` is the ``cniVersions`` list as written (``None`` when absent). ``bytes`` are
    the original bytes (synthesised by :func:`conf_list_from_conf`).
    """

    name: str
    cni_version: str
    cni_versions: tuple[str, ...] | None
    disable_check: bool
    disable_gc: bool
    load_only_inlined_plugins: bool
    plugins: tuple[NetworkConfig, ...]
    raw: dict[str, Any] = attrs.field(hash=False, repr=False)
    bytes: builtins.bytes = attrs.field(repr=False)
    path: str | None = None

    @classmethod
    def from_bytes(
        cls, data: builtins.bytes | bytearray | memoryview | str, *, path: str | None = None
    ) -> NetworkConfigList:
        """Parse a conflist document (libcni ``NetworkConfFromBytes``).

        No sub-directory plugins are added, and a list without ``plugins`` is accepted with an
        empty chain (libcni >= 1.3). Plugin ``bytes`` are the re-serialised list elements.
        """
        raw_bytes = _to_bytes(data)
        return _list_from_object(_loads(raw_bytes, _LIST_PREFIX, path), raw_bytes, path)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> NetworkConfigList:
        """Read a conflist file (libcni ``NetworkConfFromFile``).

        Unless ``loadOnlyInlinedPlugins`` is true, the ``.conf`` files of ``<dir>/<name>/`` are
        appended after the inline plugins; a network that ends up without any plugin is an error
        (``no plugin configs found``).
        """
        return conf_list_from_file(path)

    def with_cni_version(self, version: str) -> NetworkConfigList:
        """The same list with another selected protocol version (used by version negotiation)."""
        return attrs.evolve(self, cni_version=version)

    def _repr_html_(self) -> str:
        """Notebook display: the network's facts and its plugin chain as HTML tables."""
        from . import _display

        return _display.config_list_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython display: the network's facts, then one line per plugin."""
        from . import _display

        _display.pretty(self, printer, cycle)


def _read_bool(obj: dict[str, Any], key: str, path: str | None) -> bool:
    """libcni's bool-or-string flag: JSON bool, or ``"true"``/``"false"`` in any case."""
    if key not in obj:
        return False
    value = obj[key]
    if isinstance(value, bool):
        return value
    if not isinstance(value, str):
        raise ConfigError(
            f"{_LIST_PREFIX}invalid type {go_type_name(value)} for {key}", path=path, field=key
        )
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise ConfigError(
        f"{_LIST_PREFIX}invalid value {go_quote(lowered)} for {key}", path=path, field=key
    )


def _list_from_object(obj: Any, raw_bytes: builtins.bytes, path: str | None) -> NetworkConfigList:
    if obj is None:  # Go decodes `null` into a nil map: every key is then missing
        obj = {}
    if not isinstance(obj, dict):
        raise ConfigError(
            f"{_LIST_PREFIX}json: cannot unmarshal {_json.json_kind(obj)} "
            "into Go value of type map[string]interface {}",
            path=path,
        )
    if "name" not in obj:
        raise ConfigError(f"{_LIST_PREFIX}no name", path=path, field="name")
    name = obj["name"]
    if not isinstance(name, str):
        raise ConfigError(
            f"{_LIST_PREFIX}invalid name type {go_type_name(name)}", path=path, field="name"
        )
    if "cniVersion" in obj and not isinstance(obj["cniVersion"], str):
        raise ConfigError(
            f"{_LIST_PREFIX}invalid cniVersion type {go_type_name(obj['cniVersion'])}",
            path=path,
            field="cniVersion",
        )
    try:
        cni_version = select_conf_list_version(obj)
    except ConfigError as exc:
        raise ConfigError(exc.message, path=path, field=exc.field) from None
    cni_versions = tuple(obj["cniVersions"]) if "cniVersions" in obj else None
    disable_check = _read_bool(obj, "disableCheck", path)
    disable_gc = _read_bool(obj, "disableGC", path)
    inlined_only = _read_bool(obj, "loadOnlyInlinedPlugins", path)

    plugins: list[NetworkConfig] = []
    if "plugins" not in obj:
        if inlined_only:
            raise ConfigError(
                f"{_LIST_PREFIX}`loadOnlyInlinedPlugins` is true, and no 'plugins' key",
                path=path,
                field="plugins",
            )
    else:
        elements = obj["plugins"]
        if not isinstance(elements, list):
            raise ConfigError(
                f"{_LIST_PREFIX}invalid 'plugins' type {go_type_name(elements)}",
                path=path,
                field="plugins",
            )
        if not elements:
            raise ConfigError(f"{_LIST_PREFIX}no plugins in list", path=path, field="plugins")
        for index, element in enumerate(elements):
            what = f"failed to marshal plugin config {index}"
            try:
                plugins.append(_plugin_from_object(element, _dumps(element, what, path), path))
            except ConfigError as exc:
                field = f"plugins[{index}]" + (f".{exc.field}" if exc.field else "")
                message = exc.message
                if not message.startswith(what):
                    message = f"failed to parse plugin config {index}: {message}"
                raise ConfigError(message, path=path, field=field) from None
    return NetworkConfigList(
        name=name,
        cni_version=cni_version,
        cni_versions=cni_versions,
        disable_check=disable_check,
        disable_gc=disable_gc,
        load_only_inlined_plugins=inlined_only,
        plugins=tuple(plugins),
        raw=obj,
        bytes=raw_bytes,
        path=path,
    )


# --------------------------------------------------------------------------------------------
# Conversions
# --------------------------------------------------------------------------------------------


def conf_list_from_conf(conf: NetworkConfig) -> NetworkConfigList:
    """Wrap one plugin configuration into a one-plugin list (libcni ``ConfListFromConf``).

    The list's ``bytes`` are synthesised (``name``, ``cniVersion`` and the original object as the
    only plugin); no sub-directory plugins are added.
    """
    original = _loads(conf.bytes, _PLUGIN_PREFIX, conf.path)
    document = {"name": conf.name, "cniVersion": conf.cni_version, "plugins": [original]}
    data = _dumps(document, "failed to marshal configuration list", conf.path)
    return NetworkConfigList.from_bytes(data, path=conf.path)


def inject_conf(conf: NetworkConfig, values: Mapping[str, Any]) -> NetworkConfig:
    """Set top-level keys of a plugin configuration (libcni ``InjectConf``).

    Keys must be non-empty strings and values not ``None``; existing keys are overwritten (no deep
    merge). The result is re-serialised (sorted, compact) and parsed again, so it must still have
    a ``type``.
    """
    try:
        document = _json.loads(conf.bytes)
    except _json.JSONError as exc:
        raise ConfigError(f"unmarshal existing network bytes: {exc}", path=conf.path) from None
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise ConfigError(
            f"unmarshal existing network bytes: json: cannot unmarshal "
            f"{_json.json_kind(document)} into Go value of type map[string]interface {{}}",
            path=conf.path,
        )
    for key, value in values.items():
        if not isinstance(key, str):
            raise ConfigError(f"keys must be strings, not {type(key).__name__}", path=conf.path)
        if key == "":
            raise ConfigError("keys cannot be empty", path=conf.path)
        if value is None:
            raise ConfigError(f"key '{key}' value must not be nil", path=conf.path, field=key)
        document[key] = value
    data = _dumps(document, "failed to marshal injected configuration", conf.path)
    return NetworkConfig.from_bytes(data, path=conf.path)


# Directory handling is a separate concept with its own module; its names are part of this one.
# It is imported last because it uses the models above (inside its functions).
from .confdir import (  # noqa: E402
    ConfDirScan,
    ScanFailure,
    ScannedNetwork,
    _os_text,
    conf_files,
    load_conf,
    load_conf_list,
    plugin_confs_from_files,
    scan_conf_dir,
)

__all__ += [
    "ConfDirScan",
    "ScanFailure",
    "ScannedNetwork",
    "conf_files",
    "load_conf",
    "load_conf_list",
    "plugin_confs_from_files",
    "scan_conf_dir",
]
