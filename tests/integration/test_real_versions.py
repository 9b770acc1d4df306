"""Scenario 5 of issue 9: ``cniVersions`` against plugins that stop at 1.0.0.

libcni picks the highest version of ``cniVersions`` that *it* supports (1.1.0) without asking
the plugins, so Debian's plugins refuse the ADD. pycni does the same by default and, with
``negotiate_versions=True``, asks every plugin (VERSION) and picks 1.0.0.
"""

from __future__ import annotations

import ipaddress

import pytest
import realnet
from labkit import Lab

import pycni


def test_cni_versions_parity_fails_and_negotiation_works(lab: Lab) -> None:
    """Reference 1.9 item 39."""
    bridge, subnet, ns = lab.bridge(), lab.subnet(), lab.netns()
    plugins = [lab.bridge_plugin(bridge, subnet), {"type": "tuning"}]
    conf = lab.conf_list("1.0.0", plugins, cniVersions=["0.4.0", "1.0.0", "1.1.0"])
    rt = pycni.RuntimeConf(lab.container_id(), ns.path, "eth0")

    with pytest.raises(pycni.ChainError) as caught:
        lab.cni().add_network_list(conf, rt, timeout=60)
    err = caught.value
    assert err.plugin_type == "bridge"
    assert err.index == 0
    assert isinstance(err.error, pycni.PluginError)
    assert err.code == pycni.ErrorCode.INCOMPATIBLE_CNI_VERSION
    assert str(err) == (
        'plugin type="bridge" failed (add): incompatible CNI versions; config is "1.1.0", '
        'plugin supports ["0.1.0" "0.2.0" "0.3.0" "0.3.1" "0.4.0" "1.0.0"]'
    )
    # the plugin refused before doing anything
    assert lab.allocations() == {}
    assert realnet.link_names(ns.name) == {"lo"}
    assert bridge not in realnet.link_names()

    cni = lab.cni(negotiate_versions=True)
    result = cni.add_network_list(conf, rt, timeout=60)
    assert result is not None
    doc = result.to_dict()
    assert doc["cniVersion"] == "1.0.0"
    address = ipaddress.IPv4Interface(doc["ips"][0]["address"])
    assert realnet.ipv4_addresses("eth0", ns.name) == [address]
    cni.check_network_list(conf, rt, timeout=30)
    cached = cni.get_network_list_cached_result(conf, rt)
    assert cached is not None
    assert cached.to_dict()["ips"] == doc["ips"]
    cni.del_network_list(conf, rt, timeout=60)
    assert lab.allocations() == {}
    assert "eth0" not in realnet.link_names(ns.name)


def test_negotiation_names_the_plugin_when_nothing_fits(lab: Lab) -> None:
    """A list that only offers 1.1.0: negotiation finds no common version and says which plugin
    supports what, before any plugin runs ADD."""
    ns = lab.netns()
    plugins = [lab.bridge_plugin(lab.bridge(), lab.subnet())]
    conf = lab.conf_list("1.1.0", plugins, cniVersions=["1.1.0"])
    rt = pycni.RuntimeConf(lab.container_id(), ns.path, "eth0")
    with pytest.raises(pycni.NegotiationError) as caught:
        lab.cni(negotiate_versions=True).add_network_list(conf, rt, timeout=60)
    text = str(caught.value)
    assert text.startswith("incompatible CNI versions")
    assert 'bridge supports ["0.1.0" "0.2.0" "0.3.0" "0.3.1" "0.4.0" "1.0.0"]' in text
    assert lab.allocations() == {}
    assert realnet.link_names(ns.name) == {"lo"}
