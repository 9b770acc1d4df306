"""Conversion between every ordered pair of spec versions (reference 5.4, 7.4 items 71-75)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from pycni.errors import ConversionError
from pycni.types import (
    DNS,
    SUPPORTED_VERSIONS,
    Interface040,
    Interface100,
    IPConfig020,
    IPConfig040,
    IPConfig100,
    Result,
    Result020,
    Result040,
    Result100,
    Route,
    empty_result,
)

FAMILY = {
    "0.1.0": Result020,
    "0.2.0": Result020,
    "0.3.0": Result040,
    "0.3.1": Result040,
    "0.4.0": Result040,
    "1.0.0": Result100,
    "1.1.0": Result100,
}
TEST_DNS = DNS(nameservers=["10.0.0.53"], domain="example.com")
ROUTE4 = Route(dst="0.0.0.0/0", gw="10.0.0.1")
ROUTE6 = Route(dst="::/0", gw="fd00::1")


def sample(version: str) -> Result:
    """The same attachment (one v4 and one v6 address, a default route each) in ``version``."""
    cls = FAMILY[version]
    if cls is Result020:
        return Result020(
            cni_version=version,
            ip4=IPConfig020(ip="10.0.0.2/24", gateway="10.0.0.1", routes=[ROUTE4]),
            ip6=IPConfig020(ip="fd00::2/64", gateway="fd00::1", routes=[ROUTE6]),
            dns=TEST_DNS,
        )
    if cls is Result040:
        return Result040(
            cni_version=version,
            interfaces=[Interface040(name="eth0", mac="0a:58:0a:00:00:02", sandbox="/ns")],
            ips=[
                IPConfig040(version="4", interface=0, address="10.0.0.2/24", gateway="10.0.0.1"),
                IPConfig040(version="6", interface=0, address="fd00::2/64", gateway="fd00::1"),
            ],
            routes=[ROUTE4, ROUTE6],
            dns=TEST_DNS,
        )
    return Result100(
        cni_version=version,
        interfaces=[
            Interface100(
                name="eth0", mac="0a:58:0a:00:00:02", sandbox="/ns", mtu=9000, pci_id="0000:01"
            )
        ],
        ips=[
            IPConfig100(interface=0, address="10.0.0.2/24", gateway="10.0.0.1"),
            IPConfig100(interface=0, address="fd00::2/64", gateway="fd00::1"),
        ],
        routes=[ROUTE4, ROUTE6],
        dns=TEST_DNS,
    )


def expected(source: str, target: str) -> dict[str, Any]:
    """What converting ``sample(source)`` to ``target`` must give: the target's own sample minus
    what the source family cannot carry (0.x has no mtu/pciID; 0.1/0.2 no interfaces/indexes)."""
    doc = sample(target).to_dict()
    if FAMILY[source] is Result020 and "ips" in doc:
        doc.pop("interfaces", None)
        for ip in doc["ips"]:
            ip.pop("interface")
    if FAMILY[source] is not Result100 and "interfaces" in doc:
        for intf in doc["interfaces"]:
            intf.pop("mtu", None)
            intf.pop("pciID", None)
    return doc


PAIRS = [(a, b) for a, b in itertools.product(SUPPORTED_VERSIONS, repeat=2) if a != b]


def test_matrix_has_42_pairs() -> None:
    """Reference 5.4 item 19: every ordered pair of the 7 versions."""
    assert len(PAIRS) == 42


@pytest.mark.parametrize(("source", "target"), PAIRS)
def test_conversion_matrix(source: str, target: str) -> None:
    """Reference 5.4 items 19-27: each ordered pair converts to the target family and version."""
    converted = sample(source).convert_to(target)
    assert type(converted) is FAMILY[target]
    assert converted.cni_version == target
    assert converted.to_dict() == expected(source, target)


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_same_version_returns_same_object(version: str) -> None:
    """Reference 5.2 item 14: same version -> the same object."""
    result = sample(version)
    assert result.convert_to(version) is result


def test_empty_target_means_010() -> None:
    """Reference 7.4 item 71: a 1.0.0 result converted to "" is a 0.1.0 result."""
    converted = sample("1.0.0").convert_to("")
    assert isinstance(converted, Result020)
    assert converted.cni_version == "0.1.0"
    assert sample("0.1.0").convert_to("") == sample("0.1.0")


@pytest.mark.parametrize("target", ["2.0.0", "0.5.0", "1.1", "banana", "1.2.0"])
def test_unknown_target(target: str) -> None:
    """Reference 5.4 item 19: `no converter for CNI result version <from> to <to>`."""
    with pytest.raises(ConversionError) as info:
        sample("1.1.0").convert_to(target)
    assert str(info.value) == f"no converter for CNI result version 1.1.0 to {target}"


@pytest.mark.parametrize("source", ["0.3.0", "0.4.0", "1.0.0", "1.1.0"])
@pytest.mark.parametrize("target", ["0.1.0", "0.2.0"])
def test_down_conversion_without_ips_fails(source: str, target: str) -> None:
    """Reference 5.4 item 23 / 7.4 item 74: `cannot convert: no valid IP addresses`."""
    with pytest.raises(ConversionError, match=r"^cannot convert: no valid IP addresses$"):
        empty_result(source).convert_to(target)


def test_down_conversion_picks_first_of_each_version_tag() -> None:
    """Reference 5.4 item 23 / 11 item 18: first ip per `version` tag (not per address);
    routes keep only dst/gw and follow the destination's family; interfaces dropped."""
    src = Result040(
        interfaces=[Interface040(name="eth0")],
        ips=[
            IPConfig040(version="", address="192.0.2.9/24"),
            IPConfig040(version="6", interface=0, address="10.0.0.2/24", gateway="10.0.0.1"),
            IPConfig040(version="4", interface=0, address="10.0.0.3/24"),
            IPConfig040(version="4", address="10.0.0.4/24"),
            IPConfig040(version="6", address="fd00::5/64"),
        ],
        routes=[
            Route(dst="0.0.0.0/0", gw="10.0.0.1", mtu=1400, priority=5, table=7, scope=0),
            Route(dst="fd01::/64", advmss=1300),
            Route(dst="::ffff:172.16.0.0/108", gw="::ffff:10.0.0.1"),
        ],
        dns=TEST_DNS,
    )
    down = src.convert_to("0.2.0")
    assert down == Result020(
        cni_version="0.2.0",
        ip4=IPConfig020(
            ip="10.0.0.3/24",
            routes=[
                Route(dst="0.0.0.0/0", gw="10.0.0.1"),
                Route(dst="172.16.0.0/12", gw="10.0.0.1"),
            ],
        ),
        ip6=IPConfig020(ip="10.0.0.2/24", gateway="10.0.0.1", routes=[Route(dst="fd01::/64")]),
        dns=TEST_DNS,
    )


def test_down_conversion_drops_routes_of_a_missing_family() -> None:
    """Reference 5.4 item 23: a route goes to ip6 only if ip6 exists (else it is dropped)."""
    src = Result100(ips=[IPConfig100(address="10.0.0.2/24")], routes=[ROUTE4, ROUTE6])
    down = src.convert_to("0.1.0")
    assert isinstance(down, Result020)
    assert down.ip6 is None
    assert down.ip4 == IPConfig020(ip="10.0.0.2/24", routes=[ROUTE4])


def test_up_conversion_from_020() -> None:
    """Reference 5.4 item 21: ip4 then ip6, no interface index, ip4 routes before ip6 routes,
    every route attribute kept."""
    rich4 = Route(dst="10.1.0.0/16", gw="10.0.0.1", mtu=1400, table=0)
    src = Result020(
        ip6=IPConfig020(ip="fd00::2/64", routes=[ROUTE6]),
        ip4=IPConfig020(ip="10.0.0.2/24", gateway="10.0.0.1", routes=[rich4]),
    )
    up = src.convert_to("0.3.0")
    assert up == Result040(
        cni_version="0.3.0",
        ips=[
            IPConfig040(version="4", address="10.0.0.2/24", gateway="10.0.0.1"),
            IPConfig040(version="6", address="fd00::2/64"),
        ],
        routes=[rich4, ROUTE6],
    )
    assert up.to_dict()["dns"] == {}
    assert src.convert_to("1.0.0").to_dict() == {
        "cniVersion": "1.0.0",
        "ips": [{"address": "10.0.0.2/24", "gateway": "10.0.0.1"}, {"address": "fd00::2/64"}],
        "routes": [rich4_doc(), {"dst": "::/0", "gw": "fd00::1"}],
    }


def rich4_doc() -> dict[str, Any]:
    return {"dst": "10.1.0.0/16", "gw": "10.0.0.1", "mtu": 1400, "table": 0}


def test_100_to_040_version_from_address_family() -> None:
    """Reference 5.4 item 25 / 11 item 5: ips get version from the address; IPv4-mapped is "4"."""
    src = Result100(
        ips=[IPConfig100(address="::ffff:10.0.0.2/120"), IPConfig100(address="fd00::2/64")],
        routes=[Route(dst="10.0.0.0/8", mtu=1400, advmss=1300, priority=3, table=9, scope=253)],
    )
    down = src.convert_to("0.4.0")
    assert isinstance(down, Result040)
    assert [(ip.version, str(ip.address)) for ip in down.ips] == [
        ("4", "10.0.0.2/24"),
        ("6", "fd00::2/64"),
    ]
    assert down.routes == src.routes  # 0.4.0 keeps every route attribute


def test_lossless_round_trips_of_reference() -> None:
    """Reference 5.4 item 28: 0.2.0 -> 0.4.0 -> 0.2.0 with and without route gateways."""
    with_gw = sample("0.2.0")
    assert with_gw.convert_to("0.4.0").convert_to("0.2.0") == with_gw
    without_gw = Result020(
        ip4=IPConfig020(ip="1.2.3.30/24", gateway="1.2.3.1", routes=[Route(dst="15.5.6.0/24")]),
        ip6=IPConfig020(ip="abcd:1234:ffff::cdde/64", routes=[Route(dst="1111:dddd::/80")]),
        dns=TEST_DNS,
    )
    assert without_gw.convert_to("0.4.0").convert_to("0.2.0") == without_gw
