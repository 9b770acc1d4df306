"""Issue 17 item 1: a failed ADD leaves nothing behind, with Debian's real plugins.

The chain is a pod network as Kubernetes builds it: bridge (ipMasq) with host-local, portmap
(a hostPort), bandwidth (a rate) and firewall, with a ``tuning`` plugin that fails (a sysctl that
does not exist) inserted at every position. For each position and each way a runtime reacts to a
failed ADD -- ``CNIConfig`` ADD then DEL (what containerd and CRI-O do), ``attach()``,
``Sandbox.setup()``, and the CLI's ``add`` then ``del`` without arguments -- the host's iptables
rules naming the pod's subnet or host port, the bridge's ports, bandwidth's ifb devices and
host-local's allocations are the same after as before.

Before the fix the firewall's ``CNI-FORWARD`` rules for the pod address (and their
RELATED,ESTABLISHED twin) stayed behind: the DEL went out without a prevResult, so the firewall
could not know which address to clean up.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import realnet
from labkit import CNI_PATH, Lab

import pycni
from pycni.sandbox import Sandbox, SandboxError

FAILING_TUNING = {"type": "tuning", "sysctl": {"net.ipv4.conf.eth0.no_such_sysctl": "1"}}
POSITIONS = range(5)  # before bridge, portmap, bandwidth, firewall; and last
WAYS = ("add-then-del", "attach", "sandbox", "cli")


def _chain(lab: Lab, bridge: str, subnet: Any, position: int) -> list[dict[str, Any]]:
    bridge_plugin = lab.bridge_plugin(bridge, subnet)
    bridge_plugin["ipMasq"] = True
    plugins: list[dict[str, Any]] = [
        bridge_plugin,
        {"type": "portmap", "capabilities": {"portMappings": True}, "snat": True},
        {"type": "bandwidth", "capabilities": {"bandwidth": True}},
        {"type": "firewall"},
    ]
    plugins.insert(position, FAILING_TUNING)
    return plugins


def _host_state(subnet: Any, host_port: int, bridge: str, lab: Lab, network: str) -> Any:
    """What a pod of this network leaves on the host: rules naming its subnet or host port,
    per-pod NAT chains, the bridge's ports, ifb devices, the bridge's tc qdiscs and host-local
    allocations."""
    prefix = str(subnet.network_address).rsplit(".", 1)[0] + "."
    rules = sorted(
        e
        for e in realnet.iptables_snapshot()
        if prefix in e[3] or f"--dport {host_port}" in e[3] or "CNI-DN-" in e[3]
    )
    ports = sorted(link["ifname"] for link in realnet.links(master=bridge))
    ifbs = sorted(
        link["ifname"]
        for link in realnet.links()
        if link.get("link_type") == "ether" and link["ifname"].startswith("bwp")
    )
    # tc qdiscs on the host side (a bridge that is up shows the default "noqueue")
    shaping = sorted(q["kind"] for q in realnet.qdiscs(bridge) if q["kind"] != "noqueue")
    return rules, ports, ifbs, shaping, lab.allocations(network)


def _capability_args(host_port: int) -> dict[str, Any]:
    return {
        "portMappings": [{"hostPort": host_port, "containerPort": 80, "protocol": "tcp"}],
        "bandwidth": {
            "ingressRate": 10_000_000,
            "ingressBurst": 100_000,
            "egressRate": 10_000_000,
            "egressBurst": 100_000,
        },
    }


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("position", POSITIONS)
def test_a_failed_add_leaves_nothing(lab: Lab, tmp_path: Path, position: int, way: str) -> None:
    bridge, subnet, network = lab.bridge(), lab.subnet(), lab.network_name()
    host_port = realnet.free_tcp_port()
    plugins = _chain(lab, bridge, subnet, position)
    ns = lab.netns()
    # the bridge exists from the first ADD on: make it now so that its ports can be compared
    realnet.sh("ip", "link", "add", bridge, "type", "bridge")
    before = _host_state(subnet, host_port, bridge, lab, network)
    caps = _capability_args(host_port)
    rt = pycni.RuntimeConf(lab.container_id(), ns.path, "eth0", capability_args=caps)
    conf = lab.conf_list("1.0.0", plugins, name=network)

    if way == "add-then-del":
        cni = lab.cni()
        with pytest.raises(pycni.ChainError, match='plugin type="tuning" failed'):
            cni.add_network_list(conf, rt, timeout=60)
        cni.del_network_list(conf, rt, timeout=60)
    elif way == "attach":
        cni = lab.cni()
        with pytest.raises(pycni.ChainError, match='plugin type="tuning" failed'):  # noqa: SIM117
            with cni.attach(conf, rt, timeout=60):
                pass
    elif way == "sandbox":
        folder = tmp_path / "net.d"
        folder.mkdir()
        doc = {"cniVersion": "1.0.0", "name": network, "plugins": plugins}
        (folder / "10-pod.conflist").write_text(json.dumps(doc))
        pods = Sandbox(folder, [CNI_PATH], cache_dir=lab.cache_dir, timeout=60, loopback=False)
        with pytest.raises(SandboxError) as info:
            pods.setup(rt.container_id, ns.path, capability_args=caps)
        assert info.value.rolled_back
    else:
        folder = tmp_path / "net.d"
        folder.mkdir()
        doc = {"cniVersion": "1.0.0", "name": network, "plugins": plugins}
        (folder / "10-pod.conflist").write_text(json.dumps(doc))
        common = [
            "--conf-dir", str(folder), "--bin-dir", CNI_PATH, "--cache-dir", str(lab.cache_dir),
            "--container-id", rt.container_id,
        ]  # fmt: skip

        def cli(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "pycni", *args, *common],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )

        add = cli("add", network, ns.path, "--cap-args", json.dumps(caps))
        assert add.returncode == 1, add.stderr
        done = cli("del", network, ns.path)
        assert done.returncode == 0, done.stderr

    after = _host_state(subnet, host_port, bridge, lab, network)
    assert after == before
    assert lab.cni().get_cached_attachments() == []
