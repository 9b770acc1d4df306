"""Typed capability helpers: hostPort, bandwidth annotations, ipRanges, dns, ips, mac, ..."""

from __future__ import annotations

from typing import Any

import pytest

from pycni import k8s
from pycni.errors import PycniError
from pycni.k8s import Bandwidth, CapabilityError, IPRange, PortMapping


class TestPortMappings:
    def test_kubernetes_specs_become_lower_cased_mappings(self) -> None:
        out = k8s.port_mappings(
            [
                {"containerPort": 80, "hostPort": 8080, "protocol": "TCP", "name": "http"},
                {"containerPort": 53, "hostPort": 53, "protocol": "UDP", "hostIP": "127.0.0.1"},
                {"containerPort": 9000, "hostPort": 9000, "protocol": "Sctp"},
            ]
        )
        assert out == [
            {"hostPort": 8080, "containerPort": 80, "protocol": "tcp"},
            {"hostPort": 53, "containerPort": 53, "protocol": "udp", "hostIP": "127.0.0.1"},
            {"hostPort": 9000, "containerPort": 9000, "protocol": "sctp"},
        ]

    def test_ports_without_host_port_are_skipped_like_containerd(self) -> None:
        out = k8s.port_mappings([{"containerPort": 80}, {"containerPort": 81, "hostPort": 0}])
        assert out == []

    def test_default_protocol_is_tcp_and_objects_are_accepted(self) -> None:
        assert k8s.port_mappings([PortMapping(8080, 80)]) == [
            {"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}
        ]

    def test_ipv6_host_ip_is_normalised(self) -> None:
        assert PortMapping(1, 2, host_ip="fd00:0::1").host_ip == "fd00::1"

    @pytest.mark.parametrize(
        ("spec", "field"),
        [
            ({"containerPort": 80, "hostPort": 70000}, "portMappings[0].hostPort"),
            ({"containerPort": 80, "hostPort": -1}, "portMappings[0].hostPort"),
            ({"containerPort": 0, "hostPort": 80}, "portMappings[0].container_port"),
            ({"containerPort": "80", "hostPort": 80}, "portMappings[0].container_port"),
            ({"containerPort": 80, "hostPort": True}, "portMappings[0].hostPort"),
            ({"containerPort": 80, "hostPort": 80, "protocol": "icmp"}, "portMappings[0].protocol"),
            ({"containerPort": 80, "hostPort": 80, "hostIP": "nope"}, "portMappings[0].hostIP"),
            ({"hostPort": 80}, "portMappings[0].containerPort"),
            ({"containerPort": 80, "hostport": 80}, "portMappings[0]"),
        ],
    )
    def test_invalid_specs_name_the_field(self, spec: dict[str, Any], field: str) -> None:
        with pytest.raises(CapabilityError) as info:
            k8s.port_mappings([spec])
        assert info.value.field == field
        assert info.value.capability == "portMappings"
        assert isinstance(info.value, PycniError)

    def test_duplicate_host_port_is_refused(self) -> None:
        with pytest.raises(CapabilityError, match="mapped twice"):
            k8s.port_mappings(
                [{"containerPort": 80, "hostPort": 8080}, {"containerPort": 81, "hostPort": 8080}]
            )

    def test_same_port_on_other_protocol_or_address_is_fine(self) -> None:
        out = k8s.port_mappings(
            [
                {"containerPort": 53, "hostPort": 53, "protocol": "tcp"},
                {"containerPort": 53, "hostPort": 53, "protocol": "udp"},
                {"containerPort": 80, "hostPort": 80, "hostIP": "10.0.0.1"},
                {"containerPort": 80, "hostPort": 80, "hostIP": "10.0.0.2"},
            ]
        )
        assert len(out) == 4

    def test_a_single_mapping_instead_of_a_list_is_refused(self) -> None:
        with pytest.raises(CapabilityError):
            k8s.port_mappings({"containerPort": 80, "hostPort": 80})  # type: ignore[arg-type]


class TestBandwidth:
    def test_both_annotations_like_containerd(self) -> None:
        bw = k8s.bandwidth_from_annotations(
            {k8s.INGRESS_BANDWIDTH_ANNOTATION: "1M", k8s.EGRESS_BANDWIDTH_ANNOTATION: "10Mi"}
        )
        assert bw is not None
        assert bw.to_dict() == {
            "ingressRate": 1_000_000,
            "ingressBurst": 2**32 - 1,
            "egressRate": 10_485_760,
            "egressBurst": 2**32 - 1,
        }

    def test_one_direction_leaves_the_other_unset(self) -> None:
        bw = k8s.bandwidth_from_annotations({k8s.EGRESS_BANDWIDTH_ANNOTATION: "500k"})
        assert bw == Bandwidth(egress_rate=500_000, egress_burst=k8s.CONTAINERD_BURST)

    def test_kubelet_burst_can_be_chosen(self) -> None:
        bw = k8s.bandwidth_from_annotations(
            {k8s.INGRESS_BANDWIDTH_ANNOTATION: "1M"}, burst=k8s.KUBELET_BURST
        )
        assert bw is not None and bw.ingress_burst == 2**31 - 1

    @pytest.mark.parametrize("annotations", [None, {}, {"other": "1M"}])
    def test_no_annotation_no_capability(self, annotations: dict[str, str] | None) -> None:
        assert k8s.bandwidth_from_annotations(annotations) is None

    def test_invalid_value_names_the_annotation(self) -> None:
        with pytest.raises(CapabilityError) as info:
            k8s.bandwidth_from_annotations({k8s.INGRESS_BANDWIDTH_ANNOTATION: "100"})
        assert info.value.field == "kubernetes.io/ingress-bandwidth"
        assert "reading pod bandwidth annotations: resource is unreasonably small" in str(
            info.value
        )

    def test_rate_without_burst_gets_the_default_burst(self) -> None:
        """One rule with ``bandwidth_from_annotations`` and the CLI: containerd's burst."""
        bw = Bandwidth(ingress_rate=1000)
        assert bw.ingress_burst == k8s.CONTAINERD_BURST == 2**32 - 1
        assert (bw.egress_rate, bw.egress_burst) == (0, 0)
        both = Bandwidth(ingress_rate=1000, egress_rate=2000, ingress_burst=0)
        assert (both.ingress_burst, both.egress_burst) == (2**32 - 1, 2**32 - 1)
        assert both == Bandwidth(
            ingress_rate=1000, ingress_burst=2**32 - 1, egress_rate=2000, egress_burst=2**32 - 1
        )
        annotated = k8s.bandwidth_from_annotations({k8s.INGRESS_BANDWIDTH_ANNOTATION: "1k"})
        assert annotated == bw

    def test_an_explicit_burst_is_kept(self) -> None:
        bw = Bandwidth(egress_rate=1000, egress_burst=100)
        assert bw.to_dict() == {
            "ingressRate": 0,
            "ingressBurst": 0,
            "egressRate": 1000,
            "egressBurst": 100,
        }

    @pytest.mark.parametrize("direction", ["ingress", "egress"])
    def test_burst_without_rate_is_refused(self, direction: str) -> None:
        with pytest.raises(CapabilityError, match="without an") as info:
            Bandwidth(**{f"{direction}_burst": 1000})
        assert info.value.field == f"{direction}Burst"
        assert info.value.value == 1000

    def test_negative_or_huge_values_are_refused(self) -> None:
        with pytest.raises(CapabilityError):
            Bandwidth(egress_rate=-1, egress_burst=1)
        with pytest.raises(CapabilityError):
            Bandwidth(egress_rate=2**64, egress_burst=1)


class TestOtherCapabilities:
    def test_ip_ranges_kubelet_shape_and_dual_stack(self) -> None:
        assert k8s.ip_ranges("10.1.0.0/24") == [[{"subnet": "10.1.0.0/24"}]]
        assert k8s.ip_ranges(
            "10.1.0.0/24",
            [IPRange("fd00::/64", range_start="fd00::10", range_end="fd00::20", gateway="fd00::1")],
        ) == [
            [{"subnet": "10.1.0.0/24"}],
            [
                {
                    "subnet": "fd00::/64",
                    "rangeStart": "fd00::10",
                    "rangeEnd": "fd00::20",
                    "gateway": "fd00::1",
                }
            ],
        ]

    def test_ip_ranges_from_json_mappings(self) -> None:
        out = k8s.ip_ranges([{"subnet": "10.2.0.0/16", "rangeStart": "10.2.1.0"}])
        assert out == [[{"subnet": "10.2.0.0/16", "rangeStart": "10.2.1.0"}]]

    @pytest.mark.parametrize(
        "bad",
        [
            "10.0.0.1",
            "nonsense",
            {"subnet": "10.0.0.0/24", "rangeStart": "10.0.1.1"},
            {"subnet": "10.0.0.0/24", "x": "y"},
        ],
    )
    def test_ip_ranges_invalid(self, bad: Any) -> None:
        with pytest.raises(CapabilityError) as info:
            k8s.ip_ranges(bad)
        assert info.value.field.startswith("ipRanges[0][0]")

    def test_range_start_after_end(self) -> None:
        with pytest.raises(CapabilityError, match="after rangeEnd"):
            IPRange("10.0.0.0/24", range_start="10.0.0.9", range_end="10.0.0.2")

    def test_dns(self) -> None:
        assert k8s.dns(["10.96.0.10"], ["svc.cluster.local"], ["ndots:5"]) == {
            "servers": ["10.96.0.10"],
            "searches": ["svc.cluster.local"],
            "options": ["ndots:5"],
        }
        with pytest.raises(CapabilityError, match="not an IP"):
            k8s.dns(["dns.example"])
        with pytest.raises(CapabilityError):
            k8s.dns("10.0.0.1")  # a string, not a list

    def test_ips_mac_guid_device_cgroup_aliases(self) -> None:
        assert k8s.ips("10.0.0.5/24", "fd00:0::5") == ["10.0.0.5/24", "fd00::5"]
        assert k8s.mac("C2-11-22-33-44-55") == "c2:11:22:33:44:55"
        assert k8s.infiniband_guid("c2:11:22:33:44:55:66:77") == "c2:11:22:33:44:55:66:77"
        assert k8s.device_id("0000:04:00.5") == "0000:04:00.5"
        assert k8s.cgroup_path("/kubepods/pod1") == "/kubepods/pod1"
        assert k8s.aliases(["web", "web.default"]) == ["web", "web.default"]

    @pytest.mark.parametrize(
        ("call", "capability"),
        [
            (lambda: k8s.ips("10.0.0.300"), "ips"),
            (lambda: k8s.mac("c2:11:22:33:44"), "mac"),
            (lambda: k8s.infiniband_guid("c2:11:22:33:44:55"), "infinibandGUID"),
            (lambda: k8s.device_id(""), "deviceID"),
            (lambda: k8s.cgroup_path("a b"), "cgroupPath"),
            (lambda: k8s.aliases(["x" * 254]), "aliases"),
            (lambda: k8s.aliases(["has space"]), "aliases"),
        ],
    )
    def test_invalid_values(self, call: Any, capability: str) -> None:
        with pytest.raises(CapabilityError) as info:
            call()
        assert info.value.capability == capability


class TestAssembling:
    def test_capability_args_omits_unset(self) -> None:
        out = k8s.capability_args(
            port_mappings=[{"containerPort": 80, "hostPort": 8080}],
            bandwidth=Bandwidth(),
            mac="C2:11:22:33:44:55",
            ips=["10.0.0.5"],
            extra={"custom": {"a": 1}},
        )
        assert out == {
            "portMappings": [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}],
            "mac": "c2:11:22:33:44:55",
            "ips": ["10.0.0.5"],
            "custom": {"a": 1},
        }

    def test_pod_capability_args_like_containerd(self) -> None:
        annotations = {k8s.INGRESS_BANDWIDTH_ANNOTATION: "1M", "team": "a"}
        out = k8s.pod_capability_args(
            annotations,
            port_mappings=[PortMapping(8080, 80, "UDP")],
            dns_servers=["10.96.0.10"],
            cgroup_parent="/kubepods",
        )
        assert out["portMappings"] == [{"hostPort": 8080, "containerPort": 80, "protocol": "udp"}]
        assert out["bandwidth"]["ingressRate"] == 1_000_000
        assert out["dns"]["servers"] == ["10.96.0.10"]
        assert out["cgroupPath"] == "/kubepods"
        assert out[k8s.POD_ANNOTATIONS_CAPABILITY] == annotations
        assert set(out) <= {*k8s.WELL_KNOWN_CAPABILITIES, k8s.POD_ANNOTATIONS_CAPABILITY}

    def test_pod_cni_args(self) -> None:
        assert k8s.pod_cni_args("default", "web-0", "abc", "uid-1") == [
            ("IgnoreUnknown", "1"),
            ("K8S_POD_NAMESPACE", "default"),
            ("K8S_POD_NAME", "web-0"),
            ("K8S_POD_INFRA_CONTAINER_ID", "abc"),
            ("K8S_POD_UID", "uid-1"),
        ]
        with pytest.raises(CapabilityError):
            k8s.pod_cni_args("a;b", "n", "id")
