"""Scenario 1 of issue 9: the Kubernetes-style chain with Debian's real plugins.

bridge (host-local IPAM) + portmap (portMappings) + bandwidth (bandwidth) + firewall + tuning, at
spec versions 0.3.1, 0.4.0 and 1.0.0: ADD, what it did inside the namespace and on the host,
CHECK (and that CHECK really reaches each plugin), DEL, and that everything is gone.

Two Debian plugin bugs (containernetworking-plugins 1.1.1) shape how CHECK is called; each has a
test of its own below that reports it as an expected failure while the bug is there (and passes
once a fixed plugin is installed). See docs/integration.md.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import attrs
import pytest
import realnet
from labkit import Lab, Namespace, failing_plugin

import pycni
from pycni import k8s

VERSIONS = ["0.3.1", "0.4.0", "1.0.0"]
CONTAINER_PORT = 8080
# bits per second and bits (the bandwidth capability's units); tc reports bytes per second
SHAPING = k8s.Bandwidth(
    ingress_rate=8_000_000, ingress_burst=100_000, egress_rate=6_000_000, egress_burst=100_000
)
BANDWIDTH = SHAPING.to_dict()
TUNED = ("net.ipv4.conf.eth0.arp_notify", "1")  # the kernel default is 0


def chain(
    lab: Lab, bridge: str, subnet: ipaddress.IPv4Network, *, firewall: bool = True
) -> list[dict[str, Any]]:
    plugins = [
        lab.bridge_plugin(bridge, subnet),
        {"type": "portmap", "capabilities": {"portMappings": True}, "snat": True},
        {"type": "bandwidth", "capabilities": {"bandwidth": True}},
        {"type": "firewall"},
        {"type": "tuning", "sysctl": {TUNED[0]: TUNED[1]}},
    ]
    return plugins if firewall else [p for p in plugins if p["type"] != "firewall"]


def port_mappings(host_port: int) -> list[dict[str, Any]]:
    return k8s.port_mappings([k8s.PortMapping(host_port=host_port, container_port=CONTAINER_PORT)])


def tbf_rate(dev: str) -> int | None:
    """The rate (bytes/s) of the tbf qdisc on ``dev``, ``None`` without one."""
    for qdisc in realnet.qdiscs(dev):
        if qdisc["kind"] == "tbf":
            return int(qdisc["options"]["rate"])
    return None


def dnat_rules(host_port: int) -> list[str]:
    wanted = f"--dport {host_port} -j DNAT"
    return [rule for rule in realnet.iptables_rules("nat") if wanted in rule]


def mentions(address: str) -> list[str]:
    """iptables rules (nat and filter) that mention the container address."""
    rules = realnet.iptables_rules("nat") + realnet.iptables_rules("filter")
    return [rule for rule in rules if address in rule]


def check_fails_in(
    plugin: str, cni: pycni.CNIConfig, conf: pycni.NetworkConfigList, rt: pycni.RuntimeConf
) -> None:
    with pytest.raises(pycni.PycniError) as caught:
        cni.check_network_list(conf, rt, timeout=30)
    assert failing_plugin(caught.value) == plugin, caught.value


def assert_check_reaches_every_plugin(
    cni: pycni.CNIConfig,
    conf: pycni.NetworkConfigList,
    rt: pycni.RuntimeConf,
    ns: Namespace,
    address: str,
) -> None:
    """Break one thing each plugin is responsible for: CHECK must fail in exactly that plugin,
    and pass again once it is repaired. A CHECK that skipped plugins could not do this."""
    # bridge: the container interface's MAC
    mac = realnet.link("eth0", ns.name)["address"]  # type: ignore[index]
    realnet.sh("ip", "link", "set", "eth0", "address", "02:00:00:00:be:ef", netns=ns.name)
    check_fails_in("bridge", cni, conf, rt)
    realnet.sh("ip", "link", "set", "eth0", "address", mac, netns=ns.name)

    # bandwidth: a rate other than the one applied at ADD
    wrong = dict(rt.capability_args)
    wrong["bandwidth"] = attrs.evolve(SHAPING, egress_rate=SHAPING.egress_rate * 2).to_dict()
    check_fails_in("bandwidth", cni, conf, attrs.evolve(rt, capability_args=wrong))

    # firewall: its per-container accept rule
    rule = ["CNI-FORWARD", "-s", f"{address}/32", "-j", "ACCEPT"]
    realnet.sh("iptables", "-D", *rule)
    check_fails_in("firewall", cni, conf, rt)
    realnet.sh("iptables", "-A", *rule)

    # tuning: the sysctl it set
    realnet.set_sysctl(TUNED[0], "0", netns=ns.name)
    check_fails_in("tuning", cni, conf, rt)
    realnet.set_sysctl(TUNED[0], TUNED[1], netns=ns.name)

    cni.check_network_list(conf, rt, timeout=30)


@pytest.mark.parametrize("version", VERSIONS)
def test_chain_add_check_del(lab: Lab, version: str) -> None:
    """ADD sets up the namespace and the host as each plugin promises; CHECK verifies every
    plugin (from 0.4.0; 0.3.1 refuses CHECK); DEL removes all of it."""
    bridge, subnet, ns = lab.bridge(), lab.subnet(), lab.netns()
    # Debian's firewall plugin supports 0.4.0 and 1.0.0 only: at 0.3.1 it leaves the chain
    firewall = version != "0.3.1"
    conf = lab.conf_list(version, chain(lab, bridge, subnet, firewall=firewall))
    host_port = realnet.free_tcp_port()
    caps = k8s.capability_args(
        port_mappings=[k8s.PortMapping(host_port=host_port, container_port=CONTAINER_PORT)],
        bandwidth=SHAPING,
    )
    rt = pycni.RuntimeConf(lab.container_id(), ns.path, "eth0", capability_args=caps)
    cni = lab.cni()

    result = cni.add_network_list(conf, rt, timeout=60)
    assert result is not None
    doc = result.to_dict()
    assert doc["cniVersion"] == version
    [ip_conf] = doc["ips"]
    iface = ipaddress.IPv4Interface(ip_conf["address"])
    address, gateway = str(iface.ip), str(subnet[1])
    assert iface.network == subnet
    assert ip_conf["gateway"] == gateway

    # inside the namespace: eth0 up with the address, default route via the bridge
    assert realnet.ipv4_addresses("eth0", ns.name) == [iface]
    assert "UP" in realnet.link("eth0", ns.name)["flags"]  # type: ignore[index]
    defaults = [r for r in realnet.ipv4_routes(ns.name) if r["dst"] == "default"]
    assert [(r["gateway"], r["dev"]) for r in defaults] == [(gateway, "eth0")]
    assert realnet.sysctl(TUNED[0], ns.name) == TUNED[1]

    # on the host: the bridge holds the gateway, one veth port, the DNAT rule, the shaping
    assert realnet.ipv4_addresses(bridge) == [ipaddress.IPv4Interface(f"{gateway}/24")]
    [port] = realnet.links(master=bridge)
    host_veth = port["ifname"]
    names = [i["name"] for i in doc["interfaces"]]
    assert {bridge, host_veth, "eth0"} <= set(names)
    [rule] = dnat_rules(host_port)
    assert f"--to-destination {address}:{CONTAINER_PORT}" in rule
    dnat_chain = rule.split()[1]
    assert dnat_chain.startswith("CNI-DN-")
    assert tbf_rate(host_veth) == BANDWIDTH["ingressRate"] // 8
    [ifb] = [name for name in names if name.startswith("bwp")]
    assert tbf_rate(ifb) == BANDWIDTH["egressRate"] // 8
    if firewall:
        assert f"-A CNI-FORWARD -s {address}/32 -j ACCEPT" in realnet.iptables_rules("filter")
    assert lab.allocations() == {address: rt.container_id}
    cached = cni.get_network_list_cached_result(conf, rt)
    assert cached is not None
    assert cached.to_dict() == doc

    # CHECK
    if version == "0.3.1":
        with pytest.raises(pycni.CheckNotSupportedError):
            cni.check_network_list(conf, rt, timeout=30)
    else:
        # portMappings are left out of CHECK (portmap bug #819, see test_portmap_check_819)
        check_rt = pycni.RuntimeConf(
            rt.container_id, rt.netns, rt.ifname, capability_args={"bandwidth": BANDWIDTH}
        )
        cni.check_network_list(conf, check_rt, timeout=30)
        assert_check_reaches_every_plugin(cni, conf, check_rt, ns, address)

    # DEL: nothing of the attachment is left
    cni.del_network_list(conf, rt, timeout=60)
    assert "eth0" not in realnet.link_names(ns.name)
    assert realnet.links(master=bridge) == []
    assert not {host_veth, ifb} & realnet.link_names()
    assert dnat_rules(host_port) == []
    assert mentions(address) == []
    assert not [r for r in realnet.iptables_rules("nat") if dnat_chain in r]
    assert lab.allocations() == {}
    assert cni.get_network_list_cached_result(conf, rt) is None
    assert cni.get_cached_attachments() == []


def test_firewall_refuses_031(lab: Lab) -> None:
    """Debian's firewall plugin only speaks 0.4.0 and 1.0.0: validating the full chain at 0.3.1
    names it, and only it, without running ADD anywhere (libcni's wording)."""
    conf = lab.conf_list("0.3.1", chain(lab, lab.bridge(), lab.subnet()))
    with pytest.raises(pycni.ValidateNetworkError) as caught:
        lab.cni().validate_network_list(conf, timeout=30)
    assert str(caught.value) == '[plugin firewall does not support config version "0.3.1"]'


def test_portmap_check_819(lab: Lab) -> None:
    """CHECK with the port mappings of ADD.

    Debian's portmap 1.1.1 fails it for an IPv4-only container: it also checks an IPv6 DNAT
    chain it never created (containernetworking/plugins#819). The test pins exactly that failure
    and reports it as an expected failure; with a fixed portmap it passes.
    """
    bridge, subnet, ns = lab.bridge(), lab.subnet(), lab.netns()
    plugins = [
        lab.bridge_plugin(bridge, subnet),
        {"type": "portmap", "capabilities": {"portMappings": True}},
    ]
    conf = lab.conf_list("1.0.0", plugins)
    caps = {"portMappings": port_mappings(realnet.free_tcp_port())}
    rt = pycni.RuntimeConf(lab.container_id(), ns.path, "eth0", capability_args=caps)
    cni = lab.cni()
    cni.add_network_list(conf, rt, timeout=60)
    try:
        cni.check_network_list(conf, rt, timeout=30)
    except pycni.PluginError as exc:
        assert exc.plugin_type == "portmap"
        assert "could not check ipv6 dnat" in str(exc)
        pytest.xfail(f"containernetworking/plugins#819 (portmap CHECK, IPv4-only): {exc}")
    finally:
        cni.del_network_list(conf, rt, timeout=60)


def test_bandwidth_check_without_capability(lab: Lab) -> None:
    """CHECK of a bandwidth plugin that got no ``bandwidth`` capability argument.

    Debian's bandwidth 1.1.1 dereferences the missing runtime config and panics (exit status 2)
    instead of answering; pycni reports the crash as a PluginError carrying the Go panic. The
    test reports it as an expected failure while the plugin crashes, and passes with a plugin
    that answers.
    """
    bridge, subnet, ns = lab.bridge(), lab.subnet(), lab.netns()
    plugins = [
        lab.bridge_plugin(bridge, subnet),
        {"type": "bandwidth", "capabilities": {"bandwidth": True}},
    ]
    conf = lab.conf_list("1.0.0", plugins)
    rt = pycni.RuntimeConf(lab.container_id(), ns.path, "eth0")
    cni = lab.cni()
    cni.add_network_list(conf, rt, timeout=60)
    try:
        cni.check_network_list(conf, rt, timeout=30)
    except pycni.PluginError as exc:
        assert exc.plugin_type == "bandwidth"
        assert exc.exit_status == 2
        assert "nil pointer dereference" in str(exc)
        pytest.xfail("Debian bandwidth 1.1.1 panics on CHECK without a bandwidth argument")
    finally:
        cni.del_network_list(conf, rt, timeout=60)
