"""Scenario 8 of issue 9: 40 sandboxes attached at once through ``AsyncCNIConfig``.

Each sandbox gets the loopback network (``lo``) and the bridge network (``eth0``, host-local);
all 40 run concurrently on one bridge, so the bridge plugin races to create the bridge and
host-local serialises on its lock, as on a busy node.
"""

from __future__ import annotations

import asyncio
import ipaddress

import realnet
from labkit import Lab, Namespace

import pycni

SANDBOXES = 40


def test_forty_sandboxes_in_parallel(lab: Lab) -> None:
    bridge, subnet = lab.bridge(), lab.subnet()
    loopback = lab.conf_list("1.0.0", [{"type": "loopback"}], name=lab.network_name(0))
    network = lab.conf_list("1.0.0", [lab.bridge_plugin(bridge, subnet)], name=lab.network_name(1))
    namespaces = lab.namespaces(SANDBOXES)
    acni = lab.acni()

    def runtime_confs(n: int, ns: Namespace) -> tuple[pycni.RuntimeConf, pycni.RuntimeConf]:
        cid = lab.container_id(n)
        return (pycni.RuntimeConf(cid, ns.path, "lo"), pycni.RuntimeConf(cid, ns.path, "eth0"))

    async def up(n: int, ns: Namespace) -> str:
        lo_rt, eth_rt = runtime_confs(n, ns)
        await acni.add_network_list(loopback, lo_rt, timeout=120)
        result = await acni.add_network_list(network, eth_rt, timeout=120)
        assert result is not None
        return str(ipaddress.IPv4Interface(result.to_dict()["ips"][0]["address"]).ip)

    async def down(n: int, ns: Namespace) -> None:
        lo_rt, eth_rt = runtime_confs(n, ns)
        await acni.del_network_list(network, eth_rt, timeout=120)
        await acni.del_network_list(loopback, lo_rt, timeout=120)

    async def all_up() -> list[str]:
        return list(await asyncio.gather(*(up(n, ns) for n, ns in enumerate(namespaces))))

    async def all_down() -> None:
        await asyncio.gather(*(down(n, ns) for n, ns in enumerate(namespaces)))

    addresses = asyncio.run(all_up())
    assert len(set(addresses)) == SANDBOXES
    assert all(ipaddress.IPv4Address(a) in subnet for a in addresses)
    assert sorted(lab.allocations(network.name)) == sorted(addresses)
    assert len(realnet.links(master=bridge)) == SANDBOXES
    for ns, address in zip(namespaces, addresses):
        assert realnet.ipv4_addresses("eth0", ns.name)[0].ip == ipaddress.IPv4Address(address)
        assert "UP" in realnet.link("lo", ns.name)["flags"]  # type: ignore[index]

    assert realnet.ping_all(addresses, timeout=1.0) == set(addresses)

    asyncio.run(all_down())
    assert lab.allocations(network.name) == {}
    assert asyncio.run(acni.get_cached_attachments()) == []
    assert realnet.links(master=bridge) == []
    assert all(realnet.link_names(ns.name) == {"lo"} for ns in namespaces)
