"""pycni: the CNI runtime library for Python.

Attach a container to a network, and later detach it (the five lines of the README)::

    import pycni

    conf = pycni.load_conf_list("/etc/cni/net.d", "mynet")
    cni = pycni.CNIConfig(path=["/opt/cni/bin", "/usr/lib/cni"], cache_dir="/var/lib/cni")
    rt = pycni.RuntimeConf(container_id="c1", netns="/run/netns/c1", ifname="eth0")
    result = cni.add_network_list(conf, rt, timeout=30)  # ... later: cni.del_network_list(conf, rt)

``pycni.AsyncCNIConfig`` has the same verbs and cache getters as coroutines, ``pycni.Sandbox``
sets up a whole pod (loopback and several networks), and ``pycni demo`` runs a bundled example
network with no root and no network.

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
    WrappedError,
    find_cni_error,
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
    # sandbox networking and Kubernetes helpers
    "Sandbox": "sandbox",
    "AsyncSandbox": "sandbox",
    "SandboxError": "sandbox",
    "SandboxResult": "sandbox",
    "SandboxStatus": "sandbox",
    "TeardownReport": "sandbox",
    "GCReport": "sandbox",
    "loopback_conf_list": "sandbox",
    "LOOPBACK_CONFLIST": "sandbox",
    "diagnose": "diagnosis",
    "Diagnosis": "diagnosis",
    "ConfDirWatcher": "watch",
    "ChangeEvent": "watch",
    "create_netns": "netns",
    "delete_netns": "netns",
    "temporary_netns": "netns",
    "run_in_netns": "netns",
    "call_in_netns": "netns",
    "list_netns": "netns",
    "netns_available": "netns",
    "NetnsError": "netns",
    "parse_quantity": "quantity",
    "parse_bandwidth": "quantity",
    "QuantityError": "quantity",
    "PortMapping": "k8s",
    "Bandwidth": "k8s",
    "IPRange": "k8s",
    "CapabilityError": "k8s",
    "port_mappings": "k8s",
    "bandwidth_from_annotations": "k8s",
    "capability_args": "k8s",
    "pod_capability_args": "k8s",
    "pod_cni_args": "k8s",
    "WELL_KNOWN_CAPABILITIES": "k8s",
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
    "WrappedError",
    "find_cni_error",
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
    "Sandbox",
    "AsyncSandbox",
    "SandboxError",
    "SandboxResult",
    "SandboxStatus",
    "TeardownReport",
    "GCReport",
    "loopback_conf_list",
    "LOOPBACK_CONFLIST",
    "diagnose",
    "Diagnosis",
    "ConfDirWatcher",
    "ChangeEvent",
    "create_netns",
    "delete_netns",
    "temporary_netns",
    "run_in_netns",
    "call_in_netns",
    "list_netns",
    "netns_available",
    "NetnsError",
    "parse_quantity",
    "parse_bandwidth",
    "QuantityError",
    "PortMapping",
    "Bandwidth",
    "IPRange",
    "CapabilityError",
    "port_mappings",
    "bandwidth_from_annotations",
    "capability_args",
    "pod_capability_args",
    "pod_cni_args",
    "WELL_KNOWN_CAPABILITIES",
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
        NetworkConfigList,
        ScanFailure,
        ScannedNetwork,
        conf_files,
        conf_list_from_conf,
        inject_conf,
        load_conf,
        load_conf_list,
        plugin_confs_from_files,
        scan_conf_dir,
    )
    from .diagnosis import (
        Diagnosis,
        diagnose,
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
    from .k8s import (
        WELL_KNOWN_CAPABILITIES,
        Bandwidth,
        CapabilityError,
        IPRange,
        PortMapping,
        bandwidth_from_annotations,
        capability_args,
        pod_capability_args,
        pod_cni_args,
        port_mappings,
    )
    from .netns import (
        NetnsError,
        call_in_netns,
        create_netns,
        delete_netns,
        list_netns,
        netns_available,
        run_in_netns,
        temporary_netns,
    )
    from .quantity import (
        QuantityError,
        parse_bandwidth,
        parse_quantity,
    )
    from .runtime import (
        AsyncCNIConfig,
        CNIConfig,
        GCArgs,
        GCAttachment,
        NetworkAttachment,
        RuntimeConf,
    )
    from .sandbox import (
        LOOPBACK_CONFLIST,
        AsyncSandbox,
        GCReport,
        Sandbox,
        SandboxError,
        SandboxResult,
        SandboxStatus,
        TeardownReport,
        loopback_conf_list,
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
    from .watch import (
        ChangeEvent,
        ConfDirWatcher,
    )
