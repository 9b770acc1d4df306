"""The ``noop`` example plugin: a chained plugin that changes nothing and says what it saw.

Configuration keys (besides ``type``, ``name``, ``cniVersion``):

``ipam``
    ``{"type": "<ipam plugin>", ...}``: when the plugin runs without a ``prevResult`` (first in a
    chain) its ADD delegates to that IPAM plugin and returns the addresses on an interface named
    ``CNI_IFNAME``; DEL, CHECK, GC and STATUS are forwarded to the IPAM plugin too.
``trace``
    A file to which every call appends a trace in the format of libcni's ``debug`` plugin
    (``CmdAdd``, ``ContainerID: ...``, ..., ``StdinData: ...``, a line of dashes).

ADD prints ``prevResult`` unchanged when there is one (converted to the request's version), the
IPAM result when delegating, else an empty result. Other verbs print nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pycni.skel import plugin_main

if TYPE_CHECKING:  # pragma: no cover
    from pycni.skel import CmdArgs
    from pycni.types import Result

ABOUT = "pycni example plugin noop (chained pass-through, delegates to its ipam)"

_TRACE_NAMES = {
    "ADD": "CmdAdd",
    "DEL": "CmdDel",
    "CHECK": "CmdCheck",
    "GC": "CmdGC",
    "STATUS": "CmdStatus",
}


def _trace(args: CmdArgs, config: dict[str, Any]) -> None:
    path = config.get("trace")
    if not isinstance(path, str) or not path:
        return
    lines = [
        _TRACE_NAMES.get(args.command, args.command),
        f"ContainerID: {args.container_id}",
        f"Netns: {args.netns}",
        f"IfName: {args.ifname}",
        f"Args: {args.args}",
        f"Path: {args.path}",
        f"StdinData: {args.stdin_data.decode('utf-8', 'replace')}",
        "-" * 22,
    ]
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def _ipam_type(config: dict[str, Any]) -> str | None:
    ipam = config.get("ipam")
    if isinstance(ipam, dict) and isinstance(ipam.get("type"), str) and ipam["type"]:
        return str(ipam["type"])
    return None


def _begin(args: CmdArgs) -> dict[str, Any]:
    config = args.config()
    _trace(args, config)
    return config


def add(args: CmdArgs) -> Result:
    """Pass ``prevResult`` through, else delegate to IPAM, else return an empty result."""
    from pycni.types import empty_result

    config = _begin(args)
    prev = args.prev_result()
    if prev is not None:
        return prev
    ipam = _ipam_type(config)
    if ipam is None:
        return empty_result(args.cni_version)
    from pycni.delegate import delegate_add

    return _on_interface(delegate_add(ipam, args.stdin_data, environ=args.environ()), args)


def _on_interface(result: Result, args: CmdArgs) -> Result:
    """The IPAM result with one interface (``CNI_IFNAME`` in ``CNI_NETNS``) owning its IPs."""
    from pycni.types import create_result

    data = result.convert_to("1.1.0").to_dict()
    data["interfaces"] = [{"name": args.ifname, "sandbox": args.netns}]
    for ip in data.get("ips", []):
        ip["interface"] = 0
    return create_result("1.1.0", data)


def _forward(verb: str) -> Any:
    def handler(args: CmdArgs) -> None:
        config = _begin(args)
        ipam = _ipam_type(config)
        if ipam is None:
            return
        from pycni import delegate

        forward = getattr(delegate, f"delegate_{verb}")
        forward(ipam, args.stdin_data, environ=args.environ())

    handler.__name__ = verb
    handler.__doc__ = f"Forward {verb.upper()} to the ipam plugin, if any."
    return handler


delete = _forward("del")
check = _forward("check")
gc = _forward("gc")
status = _forward("status")


def main() -> None:
    """Serve one invocation (every spec version is supported)."""
    plugin_main(add=add, check=check, delete=delete, gc=gc, status=status, about=ABOUT)
