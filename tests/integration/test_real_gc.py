"""Scenario 7 of issue 9: GC with real plugins.

Debian's plugins stop at 1.0.0, so the list is 1.0.0: libcni's GC then DELs the stale cached
attachments (with the current configuration) and runs no GC verb (that needs 1.1.0).
"""

from __future__ import annotations

import ipaddress

import realnet
from labkit import Lab

import pycni


def test_gc_deletes_only_stale_attachments(lab: Lab) -> None:
    """Reference 3.11 items 46-47: five attachments, GC with two valid: the three stale ones
    lose their host-local allocation, cache entry and interface; the two valid are untouched."""
    bridge, subnet = lab.bridge(), lab.subnet()
    conf = lab.conf_list("1.0.0", [lab.bridge_plugin(bridge, subnet)])
    cni = lab.cni()
    attached = {}
    for n, ns in enumerate(lab.namespaces(5)):
        rt = pycni.RuntimeConf(lab.container_id(n), ns.path, "eth0")
        result = cni.add_network_list(conf, rt, timeout=60)
        assert result is not None
        address = str(ipaddress.IPv4Interface(result.to_dict()["ips"][0]["address"]).ip)
        attached[rt.container_id] = (ns, rt, address)
    assert set(lab.allocations().values()) == set(attached)
    assert len(realnet.links(master=bridge)) == 5

    valid_ids = [lab.container_id(1), lab.container_id(3)]
    cni.gc_network_list(conf, pycni.GCArgs(valid_attachments=[(c, "eth0") for c in valid_ids]))

    allocations = lab.allocations()
    cached = {a.container_id for a in cni.get_cached_attachments()}
    assert allocations == {attached[c][2]: c for c in valid_ids}
    assert cached == set(valid_ids)
    assert len(realnet.links(master=bridge)) == 2
    for cid, (ns, rt, address) in attached.items():
        if cid in valid_ids:
            assert realnet.ipv4_addresses("eth0", ns.name) == [
                ipaddress.IPv4Interface(f"{address}/{subnet.prefixlen}")
            ]
            cni.check_network_list(conf, rt, timeout=30)
        else:
            assert "eth0" not in realnet.link_names(ns.name)
            assert cni.get_network_list_cached_result(conf, rt) is None

    for cid in valid_ids:
        cni.del_network_list(conf, attached[cid][1], timeout=60)
    assert lab.allocations() == {}
    assert cni.get_cached_attachments() == []
    assert realnet.links(master=bridge) == []
