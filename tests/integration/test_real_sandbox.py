"""Scenarios 2 and 6 of issue 9: pod networking through ``pycni.sandbox.Sandbox``.

2. Every sandbox set up through the sandbox object has ``lo`` UP with 127.0.0.1.
6. Two networks in one sandbox (``eth0`` and ``eth1`` on two bridges), and the rollback of a
   setup whose second network's plugin is missing.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from pathlib import Path
from typing import Any

import pytest
import realnet
from labkit import CNI_PATH, Lab, Namespace

from pycni.netns import call_in_netns
from pycni.sandbox import Sandbox, SandboxError

LOOPBACK = ipaddress.IPv4Interface("127.0.0.1/8")


def conf_dir(lab: Lab, tmp_path: Path, *networks: tuple[str, list[dict[str, Any]]]) -> Path:
    """A configuration directory with one conflist per network, in the order given."""
    folder = tmp_path / f"net.d-{networks[0][0]}"
    folder.mkdir()
    for index, (name, plugins) in enumerate(networks):
        doc = {"cniVersion": "1.0.0", "name": name, "plugins": plugins}
        (folder / f"{10 + index}-{name}.conflist").write_text(json.dumps(doc))
    return folder


def sandbox(lab: Lab, folder: Path, **options: Any) -> Sandbox:
    return Sandbox(folder, [CNI_PATH], cache_dir=lab.cache_dir, timeout=60, **options)


def loopback_works(ns: Namespace) -> bytes:
    """Open a TCP server on 127.0.0.1 inside the namespace, connect to it, pass a message."""

    def roundtrip() -> bytes:
        with socket.create_server(("127.0.0.1", 0)) as server:
            port = server.getsockname()[1]
            with socket.create_connection(("127.0.0.1", port), 5) as client:
                conn, _ = server.accept()
                with conn:
                    client.sendall(b"ping over lo")
                    return conn.recv(64)

    return call_in_netns(ns.path, roundtrip)


def test_every_sandbox_gets_loopback_up(lab: Lab, tmp_path: Path) -> None:
    """Three sandboxes: in each, ``lo`` is DOWN before setup, UP with 127.0.0.1/8 after it (as
    the result says) and carries traffic; teardown takes everything away again."""
    network = lab.network_name()
    folder = conf_dir(lab, tmp_path, (network, [lab.bridge_plugin(lab.bridge(), lab.subnet())]))
    pods = sandbox(lab, folder)
    assert [(n.name, n.ifname) for n in pods.networks] == [
        ("cni-loopback", "lo"),
        (network, "eth0"),
    ]
    namespaces = lab.namespaces(3)
    for n, ns in enumerate(namespaces):
        assert "UP" not in realnet.link("lo", ns.name)["flags"]  # type: ignore[index]
        result = pods.setup(lab.container_id(n), ns.path)
        assert [ip.address for ip in result.interfaces["lo"].ips if ip.address.version == 4] == [
            LOOPBACK
        ]
        assert "UP" in realnet.link("lo", ns.name)["flags"]  # type: ignore[index]
        assert realnet.ipv4_addresses("lo", ns.name) == [LOOPBACK]
        assert loopback_works(ns) == b"ping over lo"
        [eth0] = realnet.ipv4_addresses("eth0", ns.name)
        assert result.primary_ip() is not None
        assert result.primary_ip().address == eth0  # type: ignore[union-attr]
    for n, ns in enumerate(namespaces):
        pods.teardown(lab.container_id(n), ns.path)
        assert realnet.link_names(ns.name) == {"lo"}
    assert lab.allocations(network) == {}
    assert pods.cni.get_cached_attachments() == []


def test_two_networks_in_one_sandbox(lab: Lab, tmp_path: Path) -> None:
    """eth0 on one bridge, eth1 on another, each with its network's address, both reachable
    from the host; CHECK passes; teardown removes both."""
    bridges, subnets = [lab.bridge(), lab.bridge()], [lab.subnet(), lab.subnet()]
    names = [lab.network_name(0), lab.network_name(1)]
    folder = conf_dir(
        lab,
        tmp_path,
        (names[0], [lab.bridge_plugin(bridges[0], subnets[0])]),
        (names[1], [lab.bridge_plugin(bridges[1], subnets[1])]),
    )
    pods = sandbox(lab, folder, max_networks=None)
    ns = lab.netns()
    cid = lab.container_id()
    result = pods.setup(cid, ns.path)

    addresses = []
    for ifname, bridge, subnet, name in zip(("eth0", "eth1"), bridges, subnets, names):
        [address] = realnet.ipv4_addresses(ifname, ns.name)
        assert address.network == subnet
        assert [ip.address for ip in result.interfaces[ifname].ips] == [address]
        assert result.interfaces[ifname].network == name
        assert len(realnet.links(master=bridge)) == 1
        assert lab.allocations(name) == {str(address.ip): cid}
        addresses.append(str(address.ip))
    assert realnet.ping_all(addresses) == set(addresses)
    pods.check(cid, ns.path)

    report = pods.teardown(cid, ns.path)
    assert [story.network for story in report.networks] == [*reversed(names), "cni-loopback"]
    assert realnet.link_names(ns.name) == {"lo"}
    assert all(realnet.links(master=bridge) == [] for bridge in bridges)
    assert all(lab.allocations(name) == {} for name in names)
    assert pods.cni.get_cached_attachments() == []


def _rollback_case(lab: Lab, tmp_path: Path, second: list[dict[str, Any]]) -> None:
    """Setup with a first network that works and a second one that fails: SandboxError naming
    the missing plugin, and no allocation, interface or cache entry left behind."""
    names = [lab.network_name(0), lab.network_name(1)]
    first_bridge = lab.bridge()
    folder = conf_dir(
        lab,
        tmp_path,
        (names[0], [lab.bridge_plugin(first_bridge, lab.subnet())]),
        (names[1], second),
    )
    pods = sandbox(lab, folder, max_networks=None)
    ns = lab.netns()
    with pytest.raises(SandboxError) as caught:
        pods.setup(lab.container_id(), ns.path)
    err = caught.value
    assert err.rolled_back
    assert [story.network for story in err.failed] == [names[1]]
    assert 'failed to find plugin "pcnit-absent"' in str(err)
    assert realnet.link_names(ns.name) == {"lo"}
    assert realnet.links(master=first_bridge) == []
    assert lab.allocations(names[0]) == {}
    assert lab.allocations(names[1]) == {}
    assert pods.cni.get_cached_attachments() == []


def test_rollback_when_second_network_plugin_is_missing(lab: Lab, tmp_path: Path) -> None:
    """The second network's plugin binary does not exist: the first network (already attached,
    address allocated) is rolled back."""
    second = [{"type": "pcnit-absent", "ipam": lab.ipam(lab.subnet())}]
    _rollback_case(lab, tmp_path, second)


def test_rollback_when_a_chained_plugin_is_missing(lab: Lab, tmp_path: Path) -> None:
    """The second network is bridge + a plugin that does not exist: ADD attaches eth1 and
    allocates its address before failing; the rollback DEL must undo that too."""
    bridge = lab.bridge()
    second = [lab.bridge_plugin(bridge, lab.subnet()), {"type": "pcnit-absent"}]
    _rollback_case(lab, tmp_path, second)
