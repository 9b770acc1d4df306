"""The flags and environment variables shared by the ``pycni`` commands, and what they resolve to.

Precedence is always: flag, then cnitool's environment variable, then cnitool's default:

=================  ==================  ======================
flag               environment         default
=================  ==================  ======================
``--conf-dir``     ``NETCONFPATH``     ``/etc/cni/net.d``
``--bin-dir``      ``CNI_PATH``        (none: plugins not found)
``--cache-dir``                        ``/var/lib/cni``
``--ifname``       ``CNI_IFNAME``      ``eth0``
``--args``         ``CNI_ARGS``        (none)
``--cap-args``     ``CAP_ARGS``        (none)
``--container-id``                     ``cnitool-`` + 20 hex digits of SHA-512(netns path)
=================  ==================  ======================
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .. import _json
from ..errors import go_quote
from . import _capargs
from ._output import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from ..config import NetworkConfigList
    from ..runtime import CNIConfig, RuntimeConf

DEFAULT_CONF_DIR = "/etc/cni/net.d"
DEFAULT_IFNAME = "eth0"

# --------------------------------------------------------------------------------------------
# Declaring flags
# --------------------------------------------------------------------------------------------


def positive_seconds(text: str) -> float:
    """argparse type of ``--timeout``: a positive, finite number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return value


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON document on stdout (errors: one JSON object on stderr)",
    )


def add_conf_dir_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--conf-dir",
        metavar="DIR",
        help=f"network configuration directory (env NETCONFPATH, default {DEFAULT_CONF_DIR})",
    )


def add_bin_dir_flag(parser: argparse.ArgumentParser, extra: str = "") -> None:
    parser.add_argument(
        "--bin-dir",
        metavar="DIR",
        action="append",
        help="plugin directory, repeatable, searched in order (env CNI_PATH, a list)" + extra,
    )


def add_cache_dir_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="result cache directory (default /var/lib/cni)",
    )


def add_timeout_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=positive_seconds,
        help="time limit for the CNI call(s); a plugin still running then is killed",
    )


def add_identity_flags(parser: argparse.ArgumentParser) -> None:
    """``--container-id`` and ``--ifname``: which attachment a command addresses."""
    parser.add_argument(
        "--container-id",
        metavar="ID",
        help="container ID (default: cnitool's, derived from the netns path)",
    )
    parser.add_argument(
        "-i",
        "--ifname",
        metavar="NAME",
        help=f"interface name in the container (env CNI_IFNAME, default {DEFAULT_IFNAME})",
    )


def add_runtime_flags(parser: argparse.ArgumentParser) -> None:
    """``CNI_ARGS`` and capability arguments."""
    parser.add_argument(
        "--args",
        metavar="K=V;...",
        help="CNI_ARGS pairs, e.g. 'K8S_POD_NAME=web;IgnoreUnknown=1' (env CNI_ARGS)",
    )
    parser.add_argument(
        "--cap-args",
        metavar="JSON",
        help='capability arguments as a JSON object, e.g. \'{"mac": "..."}\' (env CAP_ARGS)',
    )
    parser.add_argument(
        "--port",
        metavar="[IP:]HOST:CONTAINER[/PROTO]",
        action="append",
        help="add a portMappings entry, e.g. 8080:80/tcp (repeatable)",
    )
    parser.add_argument(
        "--bandwidth",
        metavar="ingress=RATE,egress=RATE",
        help="set the bandwidth capability from rates such as 10M or 1Gi (bits per second)",
    )


# --------------------------------------------------------------------------------------------
# Resolving them
# --------------------------------------------------------------------------------------------


def conf_dir(args: argparse.Namespace) -> str:
    """``--conf-dir``, else ``NETCONFPATH`` when non-empty, else ``/etc/cni/net.d``."""
    return getattr(args, "conf_dir", None) or os.environ.get("NETCONFPATH") or DEFAULT_CONF_DIR


def bin_dirs(args: argparse.Namespace) -> list[str]:
    """``--bin-dir`` values, else ``CNI_PATH`` split on ``os.pathsep``; empty entries are dropped
    and relative ones made absolute against the current directory (what cnitool's search does)."""
    given = getattr(args, "bin_dir", None)
    entries = given if given else os.environ.get("CNI_PATH", "").split(os.pathsep)
    return [os.path.abspath(entry) for entry in entries if entry]


def cache_dir(args: argparse.Namespace) -> str | None:
    """``--cache-dir`` made absolute, or ``None`` (the runtime then uses ``/var/lib/cni`` like
    cnitool)."""
    value = getattr(args, "cache_dir", None)
    return os.path.abspath(value) if value else None


def ifname(args: argparse.Namespace) -> str:
    """``--ifname``, else ``CNI_IFNAME`` when non-empty, else ``eth0`` (cnitool's rule)."""
    return getattr(args, "ifname", None) or os.environ.get("CNI_IFNAME") or DEFAULT_IFNAME


def parse_cni_args(text: str) -> tuple[tuple[str, str], ...]:
    """cnitool's strict ``CNI_ARGS`` parsing: ``K=V`` pairs separated by ``;``, each with exactly
    one ``=`` and a non-empty key and value (so a trailing ``;`` is an error too)."""
    if not text:
        return ()
    pairs = []
    for pair in text.split(";"):
        parts = pair.split("=")
        if len(parts) != 2 or not parts[0] or not parts[1]:
            raise UsageError(f"invalid CNI_ARGS pair {go_quote(pair)}")
        pairs.append((parts[0], parts[1]))
    return tuple(pairs)


def cni_args(args: argparse.Namespace) -> tuple[tuple[str, str], ...]:
    """The ``CNI_ARGS`` pairs from ``--args`` or the ``CNI_ARGS`` variable."""
    text = getattr(args, "args", None)
    if text is None:
        text = os.environ.get("CNI_ARGS", "")
    return parse_cni_args(text)


def parse_cap_args(text: str, source: str) -> dict[str, Any]:
    """A JSON object of capability arguments (``null`` means none, as in cnitool)."""
    try:
        value = _json.loads(text)
    except _json.JSONError as exc:
        raise UsageError(f"{source} is not valid JSON: {exc}") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UsageError(
            f"{source} must be a JSON object of capability arguments, got a JSON "
            f"{_json.json_kind(value)}"
        )
    return value


def capability_args(args: argparse.Namespace) -> dict[str, Any]:
    """``--cap-args`` (else ``CAP_ARGS``), with ``--port`` and ``--bandwidth`` setting the
    ``portMappings`` and ``bandwidth`` entries."""
    text = getattr(args, "cap_args", None)
    if text is not None:
        caps = parse_cap_args(text, "--cap-args")
    else:
        env = os.environ.get("CAP_ARGS", "")
        caps = parse_cap_args(env, "CAP_ARGS") if env else {}
    ports = getattr(args, "port", None)
    if ports:
        caps["portMappings"] = _capargs.port_mappings(ports)
    bandwidth = getattr(args, "bandwidth", None)
    if bandwidth:
        caps["bandwidth"] = _capargs.bandwidth(bandwidth)
    return caps


def cni_args_given(args: argparse.Namespace) -> bool:
    """Whether the CNI args were given at all (``--args`` or ``CNI_ARGS``, even if empty)."""
    return getattr(args, "args", None) is not None or "CNI_ARGS" in os.environ


def capability_args_given(args: argparse.Namespace) -> bool:
    """Whether any capability argument was given (``--cap-args``, ``CAP_ARGS``, ``--port``,
    ``--bandwidth``)."""
    return (
        getattr(args, "cap_args", None) is not None
        or bool(os.environ.get("CAP_ARGS"))
        or bool(getattr(args, "port", None))
        or bool(getattr(args, "bandwidth", None))
    )


def absolute_netns(netns: str) -> str:
    """The netns argument made absolute against the current directory (Go's ``filepath.Abs``)."""
    return os.path.abspath(netns)


def cnitool_container_id(netns: str) -> str:
    """cnitool's container ID: ``cnitool-`` and the first 10 bytes of SHA-512 of the absolute
    netns path in lowercase hex, so pycni and cnitool address the same attachment."""
    return "cnitool-" + hashlib.sha512(netns.encode("utf-8", "surrogateescape")).hexdigest()[:20]


def container_id(args: argparse.Namespace, netns: str | None) -> str:
    """``--container-id``, else the ID cnitool derives from ``netns`` (which must be absolute)."""
    given = getattr(args, "container_id", None)
    if given:
        return str(given)
    if not netns:
        raise UsageError("a netns path or --container-id is required")
    return cnitool_container_id(netns)


def runtime_conf(args: argparse.Namespace, netns: str | None) -> RuntimeConf:
    """The :class:`~pycni.RuntimeConf` cnitool would build, adjusted by the flags."""
    from ..runtime import RuntimeConf

    path = absolute_netns(netns) if netns else ""
    return RuntimeConf(
        container_id=container_id(args, path),
        netns=path,
        ifname=ifname(args),
        args=cni_args(args),
        capability_args=capability_args(args),
    )


def make_cni(args: argparse.Namespace, dirs: Sequence[str] | None = None) -> CNIConfig:
    """A :class:`~pycni.CNIConfig` over the resolved plugin and cache directories."""
    from ..runtime import CNIConfig

    return CNIConfig(path=bin_dirs(args) if dirs is None else list(dirs), cache_dir=cache_dir(args))


def require_bin_dirs(cni: CNIConfig) -> None:
    """Refuse, once and up front, a command that asks plugins and has nowhere to find them.

    Without this, ``validate`` and ``version`` report libcni's ``no paths provided`` once per
    plugin, and again aggregated.

    Args:
        cni: The runtime the command built (:func:`make_cni`).

    Raises:
        UsageError: Neither ``--bin-dir`` nor a non-empty ``CNI_PATH`` gave a plugin directory
            (exit status 2).
    """
    if not cni.path:
        raise UsageError(
            "no plugin directories: set CNI_PATH or pass --bin-dir DIR (libcni: no paths provided)"
        )


def load_network(args: argparse.Namespace, name: str) -> NetworkConfigList:
    """The network ``name`` from the conf dir, with libcni's lookup (what cnitool loads)."""
    from ..config import load_conf_list

    return load_conf_list(conf_dir(args), name)
