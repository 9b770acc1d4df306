"""``pycni demo --real``: the demo with the real reference plugins, in a real network namespace.

Root only. Finds ``bridge``, ``host-local``, ``portmap``, ``bandwidth`` and ``loopback`` in the
plugin directories (``--bin-dir``, ``CNI_PATH``, else ``/opt/cni/bin``, ``/usr/lib/cni``,
``/usr/libexec/cni``), creates a namespace, attaches loopback and a bridge network with a host
port and traffic shaping, shows the addresses inside, CHECKs, reads the cache, and detaches.
Whatever fails, the networks are deleted, the namespace removed, and the demo bridge deleted if
the demo created it. Configuration, result cache and IPAM state live in a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
from typing import TYPE_CHECKING

from ._demo import RecordingExecutor, Story, summarize
from ._options import bin_dirs, cnitool_container_id
from ._output import EXIT_OK, Output, UsageError

if TYPE_CHECKING:  # pragma: no cover
    from ..config import NetworkConfigList
    from ..runtime import CNIConfig, RuntimeConf

PLUGINS = ("loopback", "bridge", "host-local", "portmap", "bandwidth")
DEFAULT_DIRS = ("/opt/cni/bin", "/usr/lib/cni", "/usr/libexec/cni")
BRIDGE = "pycni-demo0"
SUBNET = "10.249.250.0/24"
PORT = {"hostPort": 18080, "containerPort": 80, "protocol": "tcp"}
RATE = 10_000_000  # bits per second, both directions


def find_plugin_dir(args: argparse.Namespace) -> str:
    """The first directory holding all the demo's plugins, or a :class:`UsageError`."""
    candidates = bin_dirs(args) or list(DEFAULT_DIRS)
    for directory in candidates:
        if all(os.path.isfile(os.path.join(directory, p)) for p in PLUGINS):
            return directory
    raise UsageError(
        f"pycni demo --real needs the reference plugins {', '.join(PLUGINS)} in one directory; "
        f"looked in {', '.join(candidates)} (install containernetworking-plugins or use --bin-dir)"
    )


def _conflists(workspace: str) -> tuple[bytes, bytes]:
    loopback = {"cniVersion": "1.0.0", "name": "pycni-demo-lo", "plugins": [{"type": "loopback"}]}
    network = {
        "cniVersion": "1.0.0",
        "name": "pycni-demo-real",
        "plugins": [
            {
                "type": "bridge",
                "bridge": BRIDGE,
                "isGateway": True,
                "ipMasq": False,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": SUBNET}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": os.path.join(workspace, "ipam"),
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
            {"type": "bandwidth", "capabilities": {"bandwidth": True}},
        ],
    }
    return json.dumps(loopback).encode(), json.dumps(network, indent=2).encode()


def run(args: argparse.Namespace, out: Output) -> int:
    from ..netns import netns_available, temporary_netns

    if os.geteuid() != 0:
        raise UsageError("pycni demo --real needs root (try 'pycni demo' without --real)")
    usable, why = netns_available(probe=False)
    if not usable:
        raise UsageError(f"pycni demo --real: {why}")
    plugin_dir = find_plugin_dir(args)
    bridge_existed = os.path.exists(f"/sys/class/net/{BRIDGE}")
    forward_before = _read_ip_forward()
    story = Story(out)
    with tempfile.TemporaryDirectory(prefix="pycni-demo-real-") as workspace:
        try:
            with temporary_netns("pycni-demo-") as netns:
                _run_in(workspace, plugin_dir, netns, story)
        finally:
            if not bridge_existed:
                _delete_link(BRIDGE)
            _restore_ip_forward(forward_before)  # the bridge plugin turns forwarding on
    story.text()
    story.text(f"Done: networks detached, namespace and {BRIDGE} removed, workspace deleted.")
    story.doc["ok"] = True
    out.document(story.doc)
    return EXIT_OK


_IP_FORWARD = "/proc/sys/net/ipv4/ip_forward"


def _read_ip_forward() -> str | None:
    try:
        with open(_IP_FORWARD) as f:
            return f.read().strip()
    except OSError:
        return None


def _restore_ip_forward(value: str | None) -> None:
    if value is not None and _read_ip_forward() != value:
        try:
            with open(_IP_FORWARD, "w") as f:
                f.write(value)
        except OSError:
            pass


def _delete_link(name: str) -> None:
    if os.path.exists(f"/sys/class/net/{name}") and shutil.which("ip"):
        subprocess.run(["ip", "link", "delete", name], capture_output=True, check=False)


def _run_in(workspace: str, plugin_dir: str, netns: str, story: Story) -> None:
    from ..config import load_conf_list
    from ..exec import SubprocessExecutor
    from ..runtime import CNIConfig, RuntimeConf

    conf_dir = os.path.join(workspace, "net.d")
    os.makedirs(conf_dir)
    lo_bytes, net_bytes = _conflists(workspace)
    with open(os.path.join(conf_dir, "10-pycni-demo-lo.conflist"), "wb") as handle:
        handle.write(lo_bytes)
    with open(os.path.join(conf_dir, "20-pycni-demo-real.conflist"), "wb") as handle:
        handle.write(net_bytes)
    loopback = load_conf_list(conf_dir, "pycni-demo-lo")
    network = load_conf_list(conf_dir, "pycni-demo-real")
    recorder = RecordingExecutor(SubprocessExecutor())
    cni = CNIConfig(
        path=[plugin_dir], cache_dir=os.path.join(workspace, "cache"), executor=recorder
    )
    cid = cnitool_container_id(netns)
    lo_rt = RuntimeConf(container_id=cid, netns=netns, ifname="lo")
    caps = {
        "portMappings": [PORT],
        "bandwidth": {
            "ingressRate": RATE,
            "ingressBurst": 2**32 - 1,
            "egressRate": RATE,
            "egressBurst": 2**32 - 1,
        },
    }
    rt = RuntimeConf(container_id=cid, netns=netns, ifname="eth0", capability_args=caps)

    story.text("pycni demo --real: the reference plugins, in a network namespace of its own.")
    story.text()
    story.fact("workspace", workspace + " (removed at the end)", "workspace", workspace)
    story.fact("plugins", f"{', '.join(PLUGINS)} from {plugin_dir}", "pluginDir", plugin_dir)
    story.fact("netns", netns + " (created for the demo)", "netns", netns)
    story.fact("container", cid, "containerId", cid)
    story.fact(
        "network",
        f"{network.name}: bridge {BRIDGE} {SUBNET} -> portmap -> bandwidth",
        "network",
        {"name": network.name, "cniVersion": network.cni_version, "config": network.raw},
    )
    story.fact(
        "asks",
        f"host port {PORT['hostPort']} -> {PORT['containerPort']}/tcp, "
        f"{RATE // 1_000_000} Mbit/s each way",
        "capabilityArgs",
        caps,
    )

    added: list[tuple[NetworkConfigList, RuntimeConf]] = []
    try:
        _add(cni, recorder, story, loopback, lo_rt, added, "loopback: lo up")
        _add(cni, recorder, story, network, rt, added, "the bridge network on eth0")
        _show_inside(netns, story)
        _check(cni, recorder, story, network, rt)
        cached = cni.get_network_list_cached_result(network, rt)
        story.step(
            "CACHE",
            "the result is cached for CHECK and DEL",
            [],
            result=cached.to_dict() if cached is not None else None,
        )
        story.text(f"     {', '.join(summarize(cached))}")
    finally:
        _delete_all(cni, recorder, story, added)


def _add(
    cni: CNIConfig,
    recorder: RecordingExecutor,
    story: Story,
    conf: NetworkConfigList,
    rt: RuntimeConf,
    added: list[tuple[NetworkConfigList, RuntimeConf]],
    what: str,
) -> None:
    added.append((conf, rt))
    try:
        result = cni.add_network_list(conf, rt)
    finally:
        calls = recorder.take()
    story.step(
        "ADD",
        what,
        calls,
        network=conf.name,
        result=result.to_dict() if result is not None else None,
    )
    for line in summarize(result):
        story.text(f"     {line}")


def _check(
    cni: CNIConfig,
    recorder: RecordingExecutor,
    story: Story,
    conf: NetworkConfigList,
    rt: RuntimeConf,
) -> None:
    """CHECK; a failure is shown and the demo goes on to DEL (portmap before v1.3.0 fails CHECK
    for IPv4-only results: containernetworking/plugins#819)."""
    from ..errors import PycniError

    try:
        cni.check_network_list(conf, rt)
    except PycniError as exc:
        story.step("CHECK", "each plugin verifies what it set up", recorder.take(), error=str(exc))
        story.text(f"     CHECK failed: {exc}")
        story.text(
            "     (portmap before v1.3.0 fails CHECK of single-stack attachments: "
            "containernetworking/plugins#819); going on"
        )
        story.doc["checkPassed"] = False
        return
    story.step("CHECK", "each plugin verifies what it set up", recorder.take())
    story.text("     ok")
    story.doc["checkPassed"] = True


def _show_inside(netns: str, story: Story) -> None:
    from ..netns import run_in_netns

    if not shutil.which("ip"):
        return
    done = run_in_netns(netns, ["ip", "-brief", "address"], capture_output=True, text=True)
    story.step("INSIDE", f"'ip -brief address' in {netns}", [], output=done.stdout)
    story.block(done.stdout.rstrip())


def _delete_all(
    cni: CNIConfig,
    recorder: RecordingExecutor,
    story: Story,
    added: list[tuple[NetworkConfigList, RuntimeConf]],
) -> None:
    """DEL every network ADD was attempted for, newest first, even after a failure."""
    from ..errors import PycniError

    failure: PycniError | None = None
    for conf, rt in reversed(added):
        try:
            cni.del_network_list(conf, rt)
        except PycniError as exc:
            failure = failure or exc
        story.step(
            "DEL", f"{conf.name} (plugins in reverse order)", recorder.take(), network=conf.name
        )
    if failure is not None:
        raise failure
