"""Pure sandbox logic: network selection, interface naming, aggregation, error reports."""

from __future__ import annotations

import json

import pytest

from pycni._sandbox_core import (
    LOOPBACK_IFNAME,
    Op,
    Outcome,
    SandboxError,
    SandboxNetwork,
    assign_ifnames,
    loopback_conf_list,
    select_networks,
    setup_plan,
)
from pycni._sandbox_result import aggregate
from pycni.config import NetworkConfigList
from pycni.errors import ConfigError, PycniError, ValidationError
from pycni.types import create_result_from_bytes


def create_result(data: dict[str, object]):  # type: ignore[no-untyped-def]
    return create_result_from_bytes(json.dumps(data))


def conf(name: str) -> NetworkConfigList:
    return NetworkConfigList.from_bytes(
        json.dumps({"cniVersion": "1.0.0", "name": name, "plugins": [{"type": "noop"}]})
    )


AVAILABLE = [(n, conf(n), f"/etc/cni/net.d/{i}-{n}.conflist") for i, n in enumerate("abc")]


class TestSelection:
    def test_first_n_by_file_order(self) -> None:
        assert [n for n, _, _ in select_networks(AVAILABLE, max_networks=2)] == ["a", "b"]
        assert [n for n, _, _ in select_networks(AVAILABLE, max_networks=None)] == ["a", "b", "c"]
        assert [n for n, _, _ in select_networks(AVAILABLE, max_networks=0)] == ["a", "b", "c"]

    def test_named_in_given_order(self) -> None:
        assert [n for n, _, _ in select_networks(AVAILABLE, names=["c", "a"])] == ["c", "a"]

    def test_missing_name_lists_what_exists(self) -> None:
        with pytest.raises(
            ConfigError, match=r"network\(s\) z not found in /d \(available: a, b, c\)"
        ):
            select_networks(AVAILABLE, names=["a", "z"], where="/d")

    def test_repeated_names_and_negative_count(self) -> None:
        with pytest.raises(ConfigError):
            select_networks(AVAILABLE, names=["a", "a"])
        with pytest.raises(ConfigError):
            select_networks(AVAILABLE, max_networks=-1)


class TestIfnames:
    def test_loopback_first_then_eth_from_zero(self) -> None:
        nets = assign_ifnames(AVAILABLE, loopback=loopback_conf_list())
        assert [(n.name, n.ifname) for n in nets] == [
            ("cni-loopback", "lo"),
            ("a", "eth0"),
            ("b", "eth1"),
            ("c", "eth2"),
        ]
        assert nets[0].loopback and not nets[1].loopback

    def test_explicit_names_and_first_free_index(self) -> None:
        nets = assign_ifnames(AVAILABLE, prefix="net", explicit={"b": "net0", "c": "data"})
        assert [(n.name, n.ifname) for n in nets] == [("a", "net1"), ("b", "net0"), ("c", "data")]

    @pytest.mark.parametrize(
        "explicit",
        [{"a": "x", "b": "x"}, {"zz": "eth5"}, {"a": "lo"}],
    )
    def test_conflicts_are_config_errors(self, explicit: dict[str, str]) -> None:
        with pytest.raises(ConfigError):
            assign_ifnames(AVAILABLE, explicit=explicit, loopback=loopback_conf_list())

    def test_invalid_ifname_is_a_validation_error(self) -> None:
        with pytest.raises(ValidationError):
            assign_ifnames(AVAILABLE, explicit={"a": "way-too-long-ifname"})
        with pytest.raises(ValidationError):
            assign_ifnames(AVAILABLE, prefix="e/")


def test_loopback_conflist() -> None:
    lo = loopback_conf_list()
    assert lo.name == "cni-loopback"
    assert [p.type for p in lo.plugins] == ["loopback"]
    assert LOOPBACK_IFNAME == "lo"


def test_setup_plan_rolls_back_attempted_networks_in_reverse() -> None:
    nets = assign_ifnames(AVAILABLE, loopback=loopback_conf_list())
    plan = setup_plan(nets, "c1", "/run/netns/c1")
    batch = next(plan)
    assert [op.verb for op in batch.ops] == ["ADD"] * 4
    assert batch.parallel and not batch.stop_on_error
    assert batch.ops[1].rt is not None and batch.ops[1].rt.ifname == "eth0"
    outcomes = [
        Outcome(batch.ops[0], "ok"),
        Outcome(batch.ops[1], "failed", error=PycniError("boom")),
        Outcome(batch.ops[2], "ok"),
        Outcome(batch.ops[3], "skipped"),
    ]
    rollback = plan.send(outcomes)
    assert [(op.verb, op.network) for op in rollback.ops] == [
        ("DEL", "b"),
        ("DEL", "a"),
        ("DEL", "cni-loopback"),
    ]
    assert not rollback.parallel
    with pytest.raises(SandboxError) as info:
        plan.send([Outcome(op, "ok") for op in rollback.ops])
    err = info.value
    assert err.rolled_back
    assert [s.network for s in err.failed] == ["a"]
    text = str(err)
    assert "sandbox c1: setup failed for 1 of 4 network(s)" in text
    assert "a (eth0): ADD failed: boom; rolled back" in text
    assert "c (eth2): ADD skipped" in text
    assert [str(e) for e in err.errors] == ["boom"]


def test_setup_plan_needs_networks() -> None:
    with pytest.raises(ConfigError):
        next(setup_plan((), "c1", "/x"))


def _net(name: str, ifname: str) -> SandboxNetwork:
    return SandboxNetwork(name, conf(name), ifname, "/src")


class TestAggregate:
    def test_interfaces_ips_routes_dns(self) -> None:
        a = create_result(
            {
                "cniVersion": "1.0.0",
                "interfaces": [
                    {"name": "cni0"},
                    {"name": "eth0", "sandbox": "/ns", "mac": "aa:bb:cc:dd:ee:ff"},
                ],
                "ips": [{"interface": 1, "address": "10.1.0.5/24", "gateway": "10.1.0.1"}],
                "routes": [{"dst": "0.0.0.0/0", "gw": "10.1.0.1"}],
                "dns": {"nameservers": ["10.96.0.10"], "search": ["svc"]},
            }
        )
        # a 0.4.0 result with no interfaces: its IP goes to the ifname the network was given
        b = create_result(
            {"cniVersion": "0.4.0", "ips": [{"version": "6", "address": "fd00::5/64"}]}
        )
        c = create_result(
            {
                "cniVersion": "1.0.0",
                "interfaces": [{"name": "cni0"}, {"name": "net1", "sandbox": "/ns"}],
                "dns": {"nameservers": ["10.96.0.10", "1.1.1.1"]},
            }
        )
        out = aggregate(
            "c1", "/ns", [(_net("a", "eth0"), a), (_net("b", "eth1"), b), (_net("c", "net1"), c)]
        )
        assert list(out.interfaces) == ["eth0", "eth1", "net1"]
        assert out.interfaces["eth0"].mac == "aa:bb:cc:dd:ee:ff"
        assert [str(ip.address) for ip in out.interfaces["eth0"].ips] == ["10.1.0.5/24"]
        assert [str(ip.address) for ip in out.interfaces["eth1"].ips] == ["fd00::5/64"]
        assert out.interfaces["net1"].ips == ()
        assert [(i.name, i.network) for i in out.host_interfaces] == [("cni0", "a"), ("cni0", "c")]
        assert [(net, str(r.dst)) for net, r in out.routes] == [("a", "0.0.0.0/0")]
        assert out.merged_dns().nameservers == ("10.96.0.10", "1.1.1.1")
        assert str(out.primary_ip().address) == "10.1.0.5/24"  # type: ignore[union-attr]
        assert str(out.primary_ip("ipv6").address) == "fd00::5/64"  # type: ignore[union-attr]
        assert out.result("b") is b
        with pytest.raises(KeyError):
            out.result("zz")
        data = out.to_dict()
        json.dumps(data)
        assert data["networks"][1]["result"]["cniVersion"] == "0.4.0"
        assert "eth0[a]: 10.1.0.5/24" in repr(out)
        html = out._repr_html_()
        assert "<table>" in html and "10.1.0.5/24" in html

    def test_empty_result_still_names_the_interface(self) -> None:
        out = aggregate("c1", "/ns", [(_net("a", "eth0"), None)])
        assert list(out.interfaces) == ["eth0"]
        assert out.primary_ip() is None


def test_op_and_outcome_describe() -> None:
    op = Op("DEL", "a", "eth0", conf("a"))
    assert Outcome(op, "ok").describe() == "DEL ok"
    assert Outcome(op, "failed", error=PycniError("x")).describe() == "DEL failed: x"
    assert Outcome(op, "skipped", value="why").describe() == "DEL skipped (why)"
