"""pycni: the CNI runtime library for Python.

Load CNI network configurations, find plugin binaries, run chained ADD / CHECK / DEL / GC / STATUS /
VERSION with capability arguments, cache results exactly as libcni does, and convert results
between spec versions 0.1.0 to 1.1.0.

Public names are imported lazily (PEP 562) so that ``import pycni`` stays cheap for plugins and
short-lived tools; ``from pycni import CNIConfig`` works as usual.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import (
    AggregateError,
    CacheError,
    ChainError,
    CheckNotSupportedError,
    CNIError,
    ConfigError,
    ConversionError,
    ErrorCode,
    GCError,
    IncompatibleVersionError,
    LockTimeoutError,
    NegotiationError,
    NoConfigsFoundError,
    NotFoundError,
    PluginError,
    PluginNotFoundError,
    PluginOutputTooLargeError,
    PluginTimeoutError,
    PycniError,
    ResultError,
    ValidateNetworkError,
    ValidationError,
    VersionError,
)

# name -> module that defines it (imported on first access)
_LAZY: dict[str, str] = {
    # configuration
    "NetworkConfig": "config",
    "NetworkConfigList": "config",
    "ConfDirScan": "config",
    "conf_files": "config",
    "load_conf": "config",
    "load_conf_list": "config",
    "conf_list_from_conf": "config",
    "inject_conf": "config",
    "scan_conf_dir": "config",
    "plugin_confs_from_files": "config",
    "ScannedNetwork": "config",
    "ScanFailure": "config",
    # versions
    "PluginInfo": "version",
    # results
    "Result": "types",
    "create_result": "types",
    "create_result_from_bytes": "types",
    "parse_prev_result": "types",
    "result_from_plugin_output": "types",
    "empty_result": "types",
    "parse_error": "types",
    "Result020": "types",
    "Result040": "types",
    "Result100": "types",
    # execution
    "Executor": "exec",
    "AsyncExecutor": "exec",
    "SubprocessExecutor": "exec",
    "AsyncSubprocessExecutor": "exec",
    "find_in_path": "invoke",
    "cni_env": "invoke",
    "plugin_environ": "invoke",
    "ExecOptions": "invoke",
    "InvalidPluginNameError": "invoke",
    "ExecOptionsError": "invoke",
    # runtime
    "RuntimeConf": "runtime",
    "GCArgs": "runtime",
    "GCAttachment": "runtime",
    "NetworkAttachment": "runtime",
    "CNIConfig": "runtime",
    "AsyncCNIConfig": "runtime",
}

__all__ = [
    "__version__",
    "AggregateError",
    "CacheError",
    "ChainError",
    "CheckNotSupportedError",
    "CNIError",
    "ConfigError",
    "ConversionError",
    "ErrorCode",
    "GCError",
    "IncompatibleVersionError",
    "LockTimeoutError",
    "NegotiationError",
    "NoConfigsFoundError",
    "NotFoundError",
    "PluginError",
    "PluginNotFoundError",
    "PluginOutputTooLargeError",
    "PluginTimeoutError",
    "PycniError",
    "ResultError",
    "ValidateNetworkError",
    "ValidationError",
    "VersionError",
    "NetworkConfig",
    "NetworkConfigList",
    "ConfDirScan",
    "conf_files",
    "load_conf",
    "load_conf_list",
    "conf_list_from_conf",
    "inject_conf",
    "scan_conf_dir",
    "plugin_confs_from_files",
    "ScannedNetwork",
    "ScanFailure",
    "PluginInfo",
    "Result",
    "create_result",
    "create_result_from_bytes",
    "parse_prev_result",
    "result_from_plugin_output",
    "empty_result",
    "parse_error",
    "Result020",
    "Result040",
    "Result100",
    "Executor",
    "AsyncExecutor",
    "SubprocessExecutor",
    "AsyncSubprocessExecutor",
    "find_in_path",
    "cni_env",
    "plugin_environ",
    "ExecOptions",
    "InvalidPluginNameError",
    "ExecOptionsError",
    "RuntimeConf",
    "GCArgs",
    "GCAttachment",
    "NetworkAttachment",
    "CNIConfig",
    "AsyncCNIConfig",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pycni' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from .config import (
        ConfDirScan,
        NetworkConfig,
        ScanFailure,
        ScannedNetwork,
        NetworkConfigList,
        conf_files,
        conf_list_from_conf,
        inject_conf,
        load_conf,
        load_conf_list,
        plugin_confs_from_files,
        scan_conf_dir,
    )
    from .exec import AsyncExecutor, AsyncSubprocessExecutor, Executor, SubprocessExecutor
    from .invoke import (
        ExecOptions,
        ExecOptionsError,
        InvalidPluginNameError,
        cni_env,
        find_in_path,
        plugin_environ,
    )
    from .runtime import (
        AsyncCNIConfig,
        CNIConfig,
        GCArgs,
        GCAttachment,
        NetworkAttachment,
        RuntimeConf,
    )
    from .types import (
        Result,
        Result020,
        Result040,
        Result100,
        create_result,
        create_result_from_bytes,
        empty_result,
        parse_error,
        parse_prev_result,
        result_from_plugin_output,
    )
    from .version import PluginInfo
