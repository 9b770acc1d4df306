"""The three result families: JSON shapes, emission/omission rules, printing (reference 5.2,
7.4 items 73-75, 11 items 3-5)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pycni.errors import PycniError, ResultError
from pycni.types import (
    DNS,
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
    create_result,
)

DNS_DOC = {
    "nameservers": ["1.2.3.4", "1::cafe"],
    "domain": "acompany.com",
    "search": ["somedomain.com", "otherdomain.net"],
    "options": ["foo", "bar"],
}
TEST_DNS = DNS(
    nameservers=["1.2.3.4", "1::cafe"],
    domain="acompany.com",
    search=["somedomain.com", "otherdomain.net"],
    options=["foo", "bar"],
)
ROUTE4 = Route(dst="15.5.6.0/24", gw="15.5.6.8")
ROUTE6 = Route(dst="1111:dddd::/80", gw="1111:dddd::aaaa")

RESULT_100 = Result100(
    cni_version="1.1.0",
    interfaces=[
        Interface100(
            name="eth0",
            mac="00:11:22:33:44:55",
            mtu=1500,
            sandbox="/proc/3553/ns/net",
            pci_id="8086:9a01",
            socket_path="/path/to/vhost/fd",
        )
    ],
    ips=[
        IPConfig100(interface=0, address="1.2.3.30/24", gateway="1.2.3.1"),
        IPConfig100(interface=0, address="abcd:1234:ffff::cdde/64", gateway="abcd:1234:ffff::1"),
    ],
    routes=[ROUTE4, ROUTE6],
    dns=TEST_DNS,
)
RESULT_100_DOC = {
    "cniVersion": "1.1.0",
    "interfaces": [
        {
            "name": "eth0",
            "mac": "00:11:22:33:44:55",
            "mtu": 1500,
            "sandbox": "/proc/3553/ns/net",
            "pciID": "8086:9a01",
            "socketPath": "/path/to/vhost/fd",
        }
    ],
    "ips": [
        {"interface": 0, "address": "1.2.3.30/24", "gateway": "1.2.3.1"},
        {"interface": 0, "address": "abcd:1234:ffff::cdde/64", "gateway": "abcd:1234:ffff::1"},
    ],
    "routes": [
        {"dst": "15.5.6.0/24", "gw": "15.5.6.8"},
        {"dst": "1111:dddd::/80", "gw": "1111:dddd::aaaa"},
    ],
    "dns": DNS_DOC,
}
RESULT_040_DOC = {
    "cniVersion": "0.3.1",
    "interfaces": [{"name": "eth0", "mac": "00:11:22:33:44:55", "sandbox": "/proc/3553/ns/net"}],
    "ips": [
        {"version": "4", "interface": 0, "address": "1.2.3.30/24", "gateway": "1.2.3.1"},
        {
            "version": "6",
            "interface": 0,
            "address": "abcd:1234:ffff::cdde/64",
            "gateway": "abcd:1234:ffff::1",
        },
    ],
    "routes": RESULT_100_DOC["routes"],
    "dns": DNS_DOC,
}
RESULT_020_DOC = {
    "cniVersion": "0.2.0",
    "ip4": {
        "ip": "1.2.3.30/24",
        "gateway": "1.2.3.1",
        "routes": [{"dst": "15.5.6.0/24", "gw": "15.5.6.8"}],
    },
    "ip6": {
        "ip": "abcd:1234:ffff::cdde/64",
        "gateway": "abcd:1234:ffff::1",
        "routes": [{"dst": "1111:dddd::/80", "gw": "1111:dddd::aaaa"}],
    },
    "dns": DNS_DOC,
}


def _printed(result: Result) -> Any:
    text = str(result)
    assert not text.endswith("\n")
    assert "\n    " in text  # indented by 4 spaces
    return json.loads(text)


def test_print_110_result() -> None:
    """Reference 7.4 item 75: a 1.1.0 result prints with mtu, pciID and socketPath."""
    assert _printed(RESULT_100) == RESULT_100_DOC
    assert create_result("1.1.0", RESULT_100_DOC) == RESULT_100


def test_110_to_100_and_back_is_identical() -> None:
    """Reference 7.4 item 75 / 5.4 item 27: 1.1.0 -> 1.0.0 changes only the version."""
    r100 = RESULT_100.convert_to("1.0.0")
    assert isinstance(r100, Result100)
    assert r100.cni_version == "1.0.0"
    assert r100.to_dict() == {**RESULT_100_DOC, "cniVersion": "1.0.0"}
    assert r100.convert_to("1.1.0") == RESULT_100


def test_110_to_010_json() -> None:
    """Reference 7.4 item 75 / 5.4 item 28: 1.1.0 -> 0.1.0 gives the 020 document."""
    assert _printed(RESULT_100.convert_to("0.1.0")) == {**RESULT_020_DOC, "cniVersion": "0.1.0"}


def test_110_to_040_json() -> None:
    """Reference 7.4 item 75: -> 0.4.0 drops mtu/pciID/socketPath and adds ips[].version."""
    assert _printed(RESULT_100.convert_to("0.4.0")) == {**RESULT_040_DOC, "cniVersion": "0.4.0"}


def test_print_031_result() -> None:
    """Reference 7.4 item 74: a 0.3.1 result prints with version/interface 0 in ips."""
    result = create_result("0.3.1", RESULT_040_DOC)
    assert isinstance(result, Result040)
    assert result.ips[0] == IPConfig040(
        version="4", interface=0, address="1.2.3.30/24", gateway="1.2.3.1"
    )
    assert result.interfaces == (
        Interface040(name="eth0", mac="00:11:22:33:44:55", sandbox="/proc/3553/ns/net"),
    )
    assert _printed(result) == RESULT_040_DOC


def test_031_to_010_json() -> None:
    """Reference 7.4 item 74: 0.3.1 -> 0.1.0."""
    result = create_result("0.3.1", RESULT_040_DOC)
    assert _printed(result.convert_to("0.1.0")) == {**RESULT_020_DOC, "cniVersion": "0.1.0"}


@pytest.mark.parametrize("version", ["0.2.0", "0.1.0"])
def test_encode_020_and_010_results(version: str) -> None:
    """Reference 7.4 item 73: 0.2.0 and 0.1.0 results encode to the documented JSON."""
    result = Result020(
        cni_version=version,
        ip4=IPConfig020(ip="1.2.3.30/24", gateway="1.2.3.1", routes=[ROUTE4]),
        ip6=IPConfig020(ip="abcd:1234:ffff::cdde/64", gateway="abcd:1234:ffff::1", routes=[ROUTE6]),
        dns=TEST_DNS,
    )
    assert _printed(result) == {**RESULT_020_DOC, "cniVersion": version}
    assert list(result.to_dict()) == ["cniVersion", "ip4", "ip6", "dns"]  # struct order


def test_020_to_010_and_back() -> None:
    """Reference 7.4 item 73 / 5.4 item 20: 0.2.0 <-> 0.1.0 changes only the version."""
    r020 = create_result("0.2.0", RESULT_020_DOC)
    r010 = r020.convert_to("0.1.0")
    assert r010.to_dict() == {**RESULT_020_DOC, "cniVersion": "0.1.0"}
    assert r010.convert_to("0.2.0") == r020


def test_create_with_empty_version_is_010() -> None:
    """Reference 7.4 item 73: Create("", json with cniVersion "") -> 020 result, version 0.1.0."""
    result = create_result("", {**RESULT_020_DOC, "cniVersion": ""})
    assert isinstance(result, Result020)
    assert result.cni_version == "0.1.0"
    assert result.ip4 is not None
    assert str(result.ip4.ip) == "1.2.3.30/24"


@pytest.mark.parametrize(("cls", "version"), [(IPConfig040, "0.4.0"), (IPConfig100, "1.1.0")])
def test_interface_index_zero_round_trips(cls: type, version: str) -> None:
    """Reference 5.2 item 10 / 11 item 3: interface 0 is kept; a missing index is omitted."""
    extra = {"version": "4"} if cls is IPConfig040 else {}
    with_zero = {**extra, "interface": 0, "address": "10.1.2.3/24"}
    without = {**extra, "address": "10.1.2.3/24"}
    result = create_result(version, {"cniVersion": version, "ips": [with_zero, without]})
    assert [ip.interface for ip in result.ips] == [0, None]
    assert result.to_dict()["ips"] == [with_zero, without]


@pytest.mark.parametrize("version", ["0.4.0", "1.1.0"])
def test_address_number_is_json_error(version: str) -> None:
    """Reference 7.4 items 74-75: `{"address": 5}` -> error starting `json: cannot unmarshal`."""
    with pytest.raises(ResultError) as info:
        create_result(version, {"cniVersion": version, "ips": [{"address": 5}]})
    assert info.value.message.startswith("json: cannot unmarshal")
    assert info.value.field == "ips[0].address"


def test_040_version_always_emitted() -> None:
    """Reference 5.2: 040 ips[].version is always emitted, even when empty."""
    result = Result040(ips=[IPConfig040(address="10.0.0.2/8")])
    assert result.to_dict()["ips"] == [{"version": "", "address": "10.0.0.2/8"}]


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (Result020(), {"cniVersion": "0.2.0", "dns": {}}),
        (Result040(), {"cniVersion": "0.4.0", "dns": {}}),
        (Result100(), {"cniVersion": "1.1.0"}),
        (Result100(dns=DNS(domain="x")), {"cniVersion": "1.1.0", "dns": {"domain": "x"}}),
    ],
)
def test_dns_and_empty_list_emission(result: Result, expected: dict[str, Any]) -> None:
    """Reference 5.2 items 9 and 11: dns always emitted for 0.x, omitted when empty for 1.x;
    empty lists omitted."""
    assert result.to_dict() == expected


def test_interface_name_always_emitted() -> None:
    """Interface `name` has no omitempty in libcni."""
    assert Result100(interfaces=[Interface100()]).to_dict()["interfaces"] == [{"name": ""}]


def test_unknown_keys_dropped_and_addresses_normalised() -> None:
    """Reference 3.3 item 10 / 11 item 14: the typed result's own JSON drops unknown keys."""
    doc = {
        "cniVersion": "1.0.0",
        "extra": {"a": 1},
        "ips": [{"address": "::ffff:10.0.0.2/120", "gateway": "::FFFF:10.0.0.1", "x": 1}],
        "dns": {},
    }
    result = create_result("1.0.0", doc)
    assert result.to_dict() == {
        "cniVersion": "1.0.0",
        "ips": [{"address": "10.0.0.2/24", "gateway": "10.0.0.1"}],
    }


def test_null_fields_are_absent() -> None:
    """JSON null is Go's zero value: absent optional, empty string or list, empty DNS."""
    doc = {
        "cniVersion": "1.1.0",
        "interfaces": [{"name": "eth0", "mac": None, "mtu": None}],
        "ips": [{"address": "10.0.0.2/8", "gateway": None, "interface": None}],
        "routes": None,
        "dns": None,
    }
    result = create_result("1.1.0", doc)
    assert result == Result100(
        interfaces=[Interface100(name="eth0")], ips=[IPConfig100(address="10.0.0.2/8")]
    )


def test_json_output_forms() -> None:
    """to_bytes is compact UTF-8; 1.x keys come out sorted; __repr__ is one readable line."""
    assert (
        RESULT_100.to_bytes()
        == json.dumps(RESULT_100_DOC, sort_keys=True, separators=(",", ":")).encode()
    )
    assert json.loads(RESULT_100.to_json()) == RESULT_100_DOC
    text = repr(RESULT_100)
    assert text.startswith("Result100(1.1.0, interfaces=[eth0], ips=[1.2.3.30/24 gw 1.2.3.1 ")
    assert "\n" not in text
    assert repr(Result040()) == "Result040(0.4.0)"


def test_typed_views_per_family() -> None:
    """ips/interfaces/routes/dns exist on every family."""
    r020 = create_result("0.2.0", RESULT_020_DOC)
    assert [str(c.ip) for c in r020.ips] == ["1.2.3.30/24", "abcd:1234:ffff::cdde/64"]
    assert r020.interfaces == ()
    assert r020.routes == (ROUTE4, ROUTE6)
    assert r020.dns == TEST_DNS
    assert RESULT_100.routes == (ROUTE4, ROUTE6)
    assert RESULT_100.interfaces[0].pci_id == "8086:9a01"


GARBAGE_CASES: list[tuple[str, dict[str, Any], str | None]] = [
    ("1.1.0", {"interfaces": [{"name": 5}]}, "interfaces[0].name"),
    ("1.1.0", {"interfaces": [{"mtu": "1500"}]}, "interfaces[0].mtu"),
    ("1.1.0", {"interfaces": [{"mtu": 1500.5}]}, "interfaces[0].mtu"),
    ("1.1.0", {"interfaces": [{"mtu": True}]}, "interfaces[0].mtu"),
    ("1.1.0", {"interfaces": [{"socketPath": []}]}, "interfaces[0].socketPath"),
    ("1.1.0", {"interfaces": "eth0"}, "interfaces"),
    ("1.1.0", {"interfaces": [None]}, "interfaces[0]"),
    ("1.1.0", {"ips": [{"address": "10.0.0.1"}]}, "ips[0].address"),
    ("1.1.0", {"ips": [{}]}, "ips[0].address"),
    ("1.1.0", {"ips": [{"address": "10.0.0.1/8", "interface": "0"}]}, "ips[0].interface"),
    ("1.1.0", {"ips": [{"address": "10.0.0.1/8", "interface": 2**70}]}, "ips[0].interface"),
    ("1.1.0", {"ips": [{"address": "10.0.0.1/8", "gateway": 1}]}, "ips[0].gateway"),
    ("1.1.0", {"ips": {"address": "10.0.0.1/8"}}, "ips"),
    ("1.1.0", {"routes": [{"dst": "10.0.0.0/8", "table": "main"}]}, "routes[0].table"),
    ("1.1.0", {"routes": [{"dst": "10.0.0.0/8", "scope": 1.0}]}, "routes[0].scope"),
    ("1.1.0", {"routes": [{"gw": "10.0.0.1"}]}, "routes[0].dst"),
    ("1.1.0", {"routes": [{"dst": None}]}, "routes[0].dst"),
    ("1.1.0", {"routes": [{"dst": "10.0.0.0/8", "priority": [1]}]}, "routes[0].priority"),
    ("1.1.0", {"dns": []}, "dns"),
    ("1.1.0", {"dns": {"nameservers": "1.1.1.1"}}, "dns.nameservers"),
    ("1.1.0", {"dns": {"search": ["a", 1]}}, "dns.search[1]"),
    ("1.1.0", {"dns": {"domain": {}}}, "dns.domain"),
    ("0.4.0", {"ips": [{"version": 4, "address": "10.0.0.1/8"}]}, "ips[0].version"),
    ("0.4.0", {"interfaces": [{"sandbox": 1}]}, "interfaces[0].sandbox"),
    ("0.2.0", {"ip4": "10.0.0.1/8"}, "ip4"),
    ("0.2.0", {"ip4": {"ip": "10.0.0.1/8", "routes": [{"dst": "x"}]}}, "ip4.routes[0].dst"),
    ("0.2.0", {"ip6": {"gateway": "::1"}}, "ip6.ip"),
    ("0.2.0", {"ip4": {"ip": "10.0.0.1/8", "gateway": "10.0.0.256"}}, "ip4.gateway"),
    ("1.1.0", {"cniVersion": 1.1}, "cniVersion"),
]


@pytest.mark.parametrize(("version", "doc", "field"), GARBAGE_CASES)
def test_garbage_names_the_field(version: str, doc: dict[str, Any], field: str) -> None:
    """Garbage in any field is a ResultError naming it, never a raw or cattrs exception."""
    data = {"cniVersion": version, **doc}
    with pytest.raises(ResultError) as info:
        create_result(version, data)
    assert info.value.field == field
    assert field in str(info.value)
    with pytest.raises(PycniError):
        create_result(version, json.dumps(data))


def test_a_result_with_a_lone_surrogate_still_has_bytes() -> None:
    """Issue 16 item 4: ``to_bytes()`` used to raise UnicodeEncodeError; now the bytes are ASCII
    with ``\\u`` escapes and decode to the same value."""
    import json

    from pycni.types import create_result

    doc = {"cniVersion": "1.0.0", "dns": {"domain": "a\udc80b"}, "ips": []}
    result = create_result("1.0.0", doc)
    data = result.to_bytes()
    assert b"\\udc80" in data
    assert json.loads(data)["dns"]["domain"] == "a\udc80b"
