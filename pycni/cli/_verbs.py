"""``pycni add|check|del|gc|status``: cnitool's commands, with flags, ``--json`` and ``--dry-run``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

import attrs

from ..version import at_least
from ._options import (
    add_bin_dir_flag,
    add_cache_dir_flag,
    add_conf_dir_flag,
    add_identity_flags,
    add_json_flag,
    add_runtime_flags,
    add_timeout_flag,
    cache_dir,
    capability_args_given,
    cni_args_given,
    load_network,
    make_cni,
    runtime_conf,
)
from ._output import EXIT_OK, Output

if TYPE_CHECKING:  # pragma: no cover
    from .. import protocol
    from ..config import NetworkConfigList
    from ..runtime import CNIConfig, RuntimeConf

ENVIRONMENT = """\
environment (cnitool's; flags win):
  NETCONFPATH   configuration directory (default /etc/cni/net.d)
  CNI_PATH      plugin directories, separated by ':'
"""
ATTACHMENT_ENVIRONMENT = (
    ENVIRONMENT
    + """\
  CNI_ARGS      K=V pairs separated by ';' (each pair needs a key and a value)
  CAP_ARGS      capability arguments as a JSON object
  CNI_IFNAME    interface name (default eth0)

The container ID is cnitool's: 'cnitool-' and the first 20 hex digits of the SHA-512 of the
absolute netns path, so pycni and cnitool address the same attachment.
"""
)

_VERBS = {
    "add": "attach the container in NETNS to NETWORK and print the result",
    "check": "check the attachment against the cached ADD result",
    "del": "detach the container in NETNS from NETWORK",
    "gc": "DEL every cached attachment of NETWORK, then GC its plugins (spec >= 1.1.0)",
    "status": "ask NETWORK's plugins whether they are ready (spec >= 1.1.0)",
}


def register(sub: Any, formatter: type[argparse.HelpFormatter]) -> None:
    for verb, summary in _VERBS.items():
        needs_netns = verb in ("add", "check", "del")
        parser = sub.add_parser(
            verb,
            help=summary,
            description=summary[0].upper() + summary[1:] + ".",
            epilog=ATTACHMENT_ENVIRONMENT if needs_netns else ENVIRONMENT,
            formatter_class=formatter,
        )
        parser.add_argument("network", metavar="NETWORK", help="network name")
        parser.add_argument(
            "netns",
            metavar="NETNS",
            nargs=None if needs_netns else "?",
            help="network namespace path, e.g. /run/netns/blue"
            + ("" if needs_netns else " (accepted for cnitool compatibility; unused)"),
        )
        add_conf_dir_flag(parser)
        add_bin_dir_flag(parser)
        add_cache_dir_flag(parser)
        if needs_netns:
            add_identity_flags(parser)
            add_runtime_flags(parser)
        add_timeout_flag(parser)
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="print what each plugin would receive (environment, stdin, a shell line); "
            "run nothing",
        )
        add_json_flag(parser)
        parser.set_defaults(handler=run)


def run(args: argparse.Namespace, out: Output) -> int:
    """Load the network, build the runtime configuration as cnitool does, and run the verb."""
    verb = args.command
    conf = load_network(args, args.network)
    rt = runtime_conf(args, args.netns) if verb in ("add", "check", "del") else None
    cni = make_cni(args)
    if rt is not None and verb in ("check", "del"):
        rt = _with_cached_args(args, out, cni, conf, rt)
    header: dict[str, Any] = {"command": verb, "network": conf.name, "cniVersion": conf.cni_version}
    if rt is not None:
        header.update(containerId=rt.container_id, netns=rt.netns, ifname=rt.ifname)
    if args.dry_run:
        from .. import cache
        from . import _dryrun

        directory = cache.resolve_cache_dir(cache_dir(args), rt)
        seen = _dryrun.record(
            _plan(verb, conf, rt, cni.path), cni.path, directory, conf.cni_version
        )
        _dryrun.show(out, header, seen)
        return EXIT_OK
    if rt is None:
        if verb == "gc":
            cni.gc_network_list(conf, None, timeout=args.timeout)  # nil GCArgs, as cnitool
        else:
            cni.get_status_network_list(conf, timeout=args.timeout)
            if not at_least(conf.cni_version, "1.1.0"):
                # libcni (and cnitool) succeed silently here; say that nothing was asked
                out.note(
                    f"pycni: status: network {conf.name} has cniVersion "
                    f'"{conf.cni_version}"; STATUS exists from 1.1.0, so no plugin was asked'
                )
                header["ran"] = False
    elif verb == "add":
        result = cni.add_network_list(conf, rt, timeout=args.timeout)
        if not out.json_mode and result is not None:
            out.raw(str(result) + "\n")  # cnitool's 4-space JSON (plus a newline)
        header["result"] = result.to_dict() if result is not None else None
    elif verb == "check":
        cni.check_network_list(conf, rt, timeout=args.timeout)
    else:
        cni.del_network_list(conf, rt, timeout=args.timeout)
    header["ok"] = True
    out.document(header)
    return EXIT_OK


def _with_cached_args(
    args: argparse.Namespace,
    out: Output,
    cni: CNIConfig,
    conf: NetworkConfigList,
    rt: RuntimeConf,
) -> RuntimeConf:
    """``rt`` with the CNI args and capability args cached at ADD where none were given.

    A DEL without the ADD's ``--port`` would leave portmap's rules behind (and then delete the
    cache entry that held them); a CHECK without them makes some plugins fail. Flags and
    variables still win. One line on stderr says what was reused.
    """
    from ..errors import CacheError

    use_args, use_caps = not cni_args_given(args), not capability_args_given(args)
    if not (use_args or use_caps):
        return rt
    try:
        cached = cni.get_network_list_cached_config(conf, rt)
    except CacheError:
        return rt  # an unreadable entry: DEL goes ahead with what was given, as libcni's does
    if cached is None:
        return rt
    cached_rt = cached[1]
    reused = []
    if use_args and cached_rt.args:
        rt = attrs.evolve(rt, args=cached_rt.args)
        reused.append("CNI args " + ";".join(f"{k}={v}" for k, v in cached_rt.args))
    if use_caps and cached_rt.capability_args:
        rt = attrs.evolve(rt, capability_args=cached_rt.capability_args)
        reused.append("capability args " + ", ".join(sorted(cached_rt.capability_args)))
    if reused:
        out.note(f"pycni: {args.command} uses the {' and '.join(reused)} cached at ADD")
    return rt


def _plan(
    verb: str, conf: NetworkConfigList, rt: RuntimeConf | None, path: list[str]
) -> protocol.Plan[Any]:
    """The runtime's plan for ``verb`` (what ``--dry-run`` drives)."""
    from .. import protocol

    if verb == "gc":
        return protocol.gc_network_list(conf, None, path)
    if verb == "status" or rt is None:
        return protocol.status_network_list(conf, path)
    if verb == "add":
        return protocol.add_network_list(conf, rt, path)
    if verb == "check":
        return protocol.check_network_list(conf, rt, path)
    return protocol.del_network_list(conf, rt, path)
