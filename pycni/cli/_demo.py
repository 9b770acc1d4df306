"""``pycni demo``: a network attached and detached in front of you, with no root and no network.

Builds a throw-away workspace (configuration directory, plugin directory, result cache, IPAM state)
in a temporary directory, installs pycni's bundled example plugins (Python, written with
:mod:`pycni.skel`) and the bundled ``pycni-demo`` conflist, then runs ADD, CHECK, reads the cached
result and runs DEL through the public :class:`~pycni.CNIConfig`, printing what happened at each
step. ``--real`` does the same with the real reference plugins in a network namespace (root only,
see :mod:`pycni.cli._demo_real`).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._options import add_bin_dir_flag, add_json_flag, cnitool_container_id
from ._output import EXIT_OK, Output, dumps

if TYPE_CHECKING:  # pragma: no cover
    from ..exec import Executor
    from ..types import Result
    from ..version import PluginInfo

DEMO_NETNS = "/run/netns/pycni-demo"


def register(sub: Any, formatter: type[argparse.HelpFormatter]) -> None:
    parser = sub.add_parser(
        "demo",
        help="attach and detach a demo network (no root or network needed)",
        description="Run ADD, CHECK and DEL of a demo network with pycni's bundled Python "
        "example plugins, in a temporary directory, and show what happens at each step. "
        "Needs no root and touches no network. With --real (root): the same with the real "
        "bridge, host-local, portmap, bandwidth and loopback plugins in a network namespace "
        "that is created and removed.",
        formatter_class=formatter,
    )
    parser.add_argument(
        "--real",
        action="store_true",
        help="use the real reference plugins in a new network namespace (root)",
    )
    add_bin_dir_flag(parser, "; with --real only")
    add_json_flag(parser)
    parser.set_defaults(handler=run)


class RecordingExecutor:
    """An executor that runs plugins with another one and records each call (verb, plugin,
    milliseconds, outcome), so the demo can show what ran."""

    def __init__(self, inner: Executor) -> None:
        self.inner = inner
        self.calls: list[dict[str, Any]] = []

    def find_in_path(self, plugin_type: str, paths: Any) -> str:
        return self.inner.find_in_path(plugin_type, paths)

    def decode_version(self, data: bytes) -> PluginInfo:
        return self.inner.decode_version(data)

    def exec_plugin(
        self,
        plugin_path: str,
        stdin: bytes,
        environ: Mapping[str, str],
        *,
        timeout: float | None = None,
    ) -> bytes:
        started = time.monotonic()
        call: dict[str, Any] = {
            "command": environ.get("CNI_COMMAND", ""),
            "plugin": os.path.basename(plugin_path),
        }
        try:
            out = self.inner.exec_plugin(plugin_path, stdin, environ, timeout=timeout)
        except BaseException as exc:
            call["error"] = str(exc)
            raise
        finally:
            call["ms"] = round((time.monotonic() - started) * 1000, 1)
            self.calls.append(call)
        return out

    def take(self) -> list[dict[str, Any]]:
        """The calls recorded since the last ``take``."""
        calls, self.calls = self.calls, []
        return calls


class Story:
    """The demo's narration: readable lines, and the same facts as one JSON document."""

    def __init__(self, out: Output) -> None:
        self.out = out
        self.doc: dict[str, Any] = {"steps": []}
        self.number = 0

    def fact(self, label: str, value: str, key: str | None = None, data: Any = None) -> None:
        self.out.text(f"  {label:<10} {value}")
        if key:
            self.doc[key] = value if data is None else data

    def step(self, verb: str, explanation: str, calls: list[dict[str, Any]], **extra: Any) -> None:
        self.number += 1
        self.out.text()
        self.out.text(f"{self.number}. {verb}: {explanation}")
        for call in calls:
            status = "failed" if "error" in call else "ok"
            self.out.text(
                f"     {call['command']:<6} {call['plugin']:<12} {status}  {call['ms']} ms"
            )
        self.doc["steps"].append({"step": verb, "calls": calls, **extra})

    def text(self, line: str = "") -> None:
        self.out.text(line)

    def block(self, text: str, indent: str = "     ") -> None:
        for line in text.splitlines():
            self.out.text(indent + line)


def summarize(result: Result | None) -> list[str]:
    """One line per address and route of a result, e.g. ``address 10.88.0.10/24 on eth0``."""
    from ..errors import PycniError

    if result is None:
        return ["(no result)"]
    try:
        data = result.convert_to("1.1.0").to_dict()
    except PycniError:
        return [repr(result)]
    interfaces = data.get("interfaces") or []
    lines = []
    for ip in data.get("ips") or []:
        index = ip.get("interface")
        owner = (
            interfaces[index].get("name")
            if isinstance(index, int) and 0 <= index < len(interfaces)
            else None
        )
        line = f"address {ip.get('address')}" + (f" on {owner}" if owner else "")
        if ip.get("gateway"):
            line += f", gateway {ip['gateway']}"
        lines.append(line)
    for route in data.get("routes") or []:
        line = f"route {route.get('dst')}" + (f" via {route['gw']}" if route.get("gw") else "")
        lines.append(line)
    return lines or ["(empty result)"]


def run(args: argparse.Namespace, out: Output) -> int:
    if args.real:
        from ._demo_real import run as run_real

        return run_real(args, out)
    with tempfile.TemporaryDirectory(prefix="pycni-demo-") as workspace:
        story = Story(out)
        run_in(workspace, story)
        story.text()
        story.text(
            "Done: the workspace is removed. Next: 'pycni list', 'pycni add NETWORK NETNS "
            "--dry-run', or 'pycni demo --real' as root."
        )
        story.doc["ok"] = True
        out.document(story.doc)
    return EXIT_OK


def run_in(workspace: str, story: Story) -> None:
    """The no-root demo inside ``workspace`` (which the caller removes)."""
    from .. import cache, demo
    from ..config import load_conf_list
    from ..exec import SubprocessExecutor
    from ..runtime import CNIConfig, RuntimeConf

    bin_dir = os.path.join(workspace, "bin")
    conf_dir = os.path.join(workspace, "net.d")
    cache_dir = os.path.join(workspace, "cache")
    os.makedirs(conf_dir)
    installed = demo.install_plugins(bin_dir)
    conf_file = os.path.join(conf_dir, "10-pycni-demo.conflist")
    with open(conf_file, "wb") as handle:
        handle.write(demo.conflist_bytes(data_dir=os.path.join(workspace, "ipam")))
    conf = load_conf_list(conf_dir, "pycni-demo")
    recorder = RecordingExecutor(SubprocessExecutor())
    cni = CNIConfig(path=[bin_dir], cache_dir=cache_dir, executor=recorder)
    rt = RuntimeConf(container_id=cnitool_container_id(DEMO_NETNS), netns=DEMO_NETNS, ifname="eth0")
    chain = " -> ".join(
        p.type + (f" (ipam: {p.ipam['type']})" if p.ipam.get("type") else "") for p in conf.plugins
    )
    story.text("pycni demo: attach a container to a CNI network and detach it again.")
    story.text("No root and no real network: the plugins are pycni's Python examples.")
    story.text()
    story.fact("workspace", workspace + " (removed at the end)", "workspace", workspace)
    story.fact(
        "plugins",
        ", ".join(os.path.basename(p) for p in installed) + f" in {bin_dir}",
        "plugins",
        installed,
    )
    story.fact(
        "network",
        f"{conf.name} (cniVersion {conf.cni_version}): {chain}",
        "network",
        {"name": conf.name, "file": conf_file, "cniVersion": conf.cni_version, "config": conf.raw},
    )
    story.fact(
        "container",
        f"{rt.container_id} (cnitool's ID for {rt.netns})",
        "containerId",
        rt.container_id,
    )
    story.fact("interface", rt.ifname, "ifname", rt.ifname)

    result = cni.add_network_list(conf, rt)
    story.step(
        "ADD",
        "plugins run in order; each gets the previous result as prevResult",
        recorder.take(),
        result=result.to_dict() if result is not None else None,
    )
    ipam = conf.plugins[0].ipam.get("type")
    if ipam:
        story.text(f"     ({conf.plugins[0].type} asked its IPAM plugin, {ipam}, for an address)")
    for line in summarize(result):
        story.text(f"     {line}")
    story.text("     result JSON (what 'pycni add' prints):")
    story.block(str(result) if result is not None else "null", indent="       ")

    cni.check_network_list(conf, rt)
    story.step(
        "CHECK", "every plugin checks the attachment against the cached result", recorder.take()
    )
    story.text("     ok: the attachment is as ADD left it")

    entry = cache.entry_path(cache_dir, conf.name, rt.container_id, rt.ifname)
    cached = cni.get_network_list_cached_result(conf, rt)
    story.step(
        "CACHE",
        "ADD's result was saved, as libcni saves it (no plugin runs)",
        [],
        file=entry,
        result=cached.to_dict() if cached is not None else None,
    )
    story.text(f"     {entry}")
    story.text(f"     holds the result above ({', '.join(summarize(cached))})")

    cni.del_network_list(conf, rt)
    calls = recorder.take()
    gone = not os.path.exists(entry)
    story.step(
        "DEL", "plugins run in reverse order; the cache entry is removed", calls, cacheRemoved=gone
    )
    story.text(f"     cache entry removed: {'yes' if gone else 'no'}; the address is released")
    if not story.out.json_mode:
        story.text()
        story.text("The config the plugins were given (from the bundled demo.conflist):")
        story.block(dumps(conf.raw), indent="  ")
