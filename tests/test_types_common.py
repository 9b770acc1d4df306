"""CIDR, IP, Route, DNS and the spec error object (reference 5.1, 7.4 items 69-70)."""

from __future__ import annotations

import ipaddress
import subprocess
import sys

import pytest

import pycni
from pycni.errors import CNIError, ErrorCode, ResultError
from pycni.types import (
    DNS,
    IPConfig100,
    Result100,
    Route,
    create_result,
    parse_cidr,
    parse_error,
    parse_ip,
)


@pytest.mark.parametrize(
    ("text", "ip", "prefix"),
    [("1.2.3.4/24", "1.2.3.4", 24), ("2001:db8::/32", "2001:db8::", 32)],
)
def test_parse_cidr_keeps_host_address(text: str, ip: str, prefix: int) -> None:
    """Reference 7.4 item 69 and 5.1 item 2: ParseCIDR keeps the host bits."""
    cidr = parse_cidr(text)
    assert str(cidr.ip) == ip
    assert cidr.network.prefixlen == prefix
    assert f"{cidr.ip}/{cidr.network.prefixlen}" == text


@pytest.mark.parametrize(
    "text",
    [
        "1.2.3/45",
        "1.2.3.4/99",
        "1.2.3.4",  # no prefix
        "1.2.3.4/",
        "1.2.3.4/255.255.255.0",  # netmask form: Go rejects it
        "1.2.3.4/+24",
        "1.2.3.4/ 24",
        "fe80::1%eth0/64",  # zone
        "::1/129",
        "01.2.3.4/24",
        "",
        "/24",
    ],
)
def test_parse_cidr_rejects(text: str) -> None:
    """Reference 7.4 item 69: `invalid CIDR address: <s>`; an address without prefix is invalid."""
    with pytest.raises(ValueError, match=r"^invalid CIDR address: ") as info:
        parse_cidr(text)
    assert str(info.value) == f"invalid CIDR address: {text}"


def test_parse_cidr_leading_zero_prefix_is_accepted() -> None:
    """Go's prefix parser accepts leading zeros (`/024` is /24)."""
    assert str(parse_cidr("10.0.0.1/024")) == "10.0.0.1/24"


def test_ipv4_mapped_ipv6_is_ipv4() -> None:
    """Reference 11 item 5: IPv4-mapped IPv6 prints as IPv4 (a CIDR keeps prefix - 96 bits)."""
    assert parse_ip("::ffff:1.2.3.4") == ipaddress.IPv4Address("1.2.3.4")
    assert str(parse_cidr("::ffff:1.2.3.4/120")) == "1.2.3.4/24"
    assert str(parse_cidr("::ffff:1.2.3.4/64")) == "1.2.3.4/0"


def test_ipv6_printed_canonically() -> None:
    """Reference 5.1 item 3: IPv6 re-emitted in canonical compressed form."""
    result = create_result(
        "1.1.0",
        {
            "cniVersion": "1.1.0",
            "ips": [{"address": "2001:DB8:0:0:0:0:0:1/64", "gateway": "2001:db8:0000::0001"}],
        },
    )
    assert result.to_dict()["ips"] == [{"address": "2001:db8::1/64", "gateway": "2001:db8::1"}]


@pytest.mark.parametrize("text", ["1.2.3.x", "1.2.3", "fe80::1%eth0", "1.2.3.4/24", " 1.2.3.4"])
def test_parse_ip_rejects(text: str) -> None:
    """Reference 5.1 item 3: invalid IP -> `invalid IP address: <s>`."""
    with pytest.raises(ValueError, match="invalid IP address: "):
        parse_ip(text)


def test_route_json_round_trip() -> None:
    """Reference 5.1 item 4 / 7.4 item 70: every route attribute round-trips."""
    doc = {
        "dst": "1.2.3.0/24",
        "gw": "1.2.3.1",
        "mtu": 1500,
        "advmss": 1340,
        "priority": 100,
        "table": 50,
        "scope": 253,
    }
    result = create_result("1.1.0", {"cniVersion": "1.1.0", "routes": [doc]})
    assert result.routes == (
        Route(
            dst="1.2.3.0/24", gw="1.2.3.1", mtu=1500, advmss=1340, priority=100, table=50, scope=253
        ),
    )
    assert result.to_dict()["routes"] == [doc]


def test_route_zero_values() -> None:
    """Reference 5.1 item 4: priority/mtu/advmss omitted when 0; table/scope emitted when 0."""
    route = Route(dst="10.0.0.0/8", priority=0, table=0, scope=0)
    result = Result100(routes=[route])
    assert result.to_dict()["routes"] == [{"dst": "10.0.0.0/8", "table": 0, "scope": 0}]
    assert Result100(routes=[Route(dst="10.0.0.0/8")]).to_dict()["routes"] == [
        {"dst": "10.0.0.0/8"}
    ]


def test_route_invalid_gateway() -> None:
    """Reference 7.4 item 70: `"gw": "1.2.3.x"` -> `invalid IP address: 1.2.3.x`."""
    with pytest.raises(ResultError) as info:
        create_result(
            "1.1.0", {"cniVersion": "1.1.0", "routes": [{"dst": "1.2.3.0/24", "gw": "1.2.3.x"}]}
        )
    assert info.value.message == "invalid IP address: 1.2.3.x"
    assert info.value.field == "routes[0].gw"


def test_cidr_json_type_error() -> None:
    """Reference 7.4 item 69: a number where a CIDR string belongs is a JSON type error."""
    with pytest.raises(ResultError, match=r"^json: cannot unmarshal number into .* of type string"):
        create_result("1.1.0", {"cniVersion": "1.1.0", "ips": [{"address": 1}]})


def test_constructors_accept_strings_and_reject_garbage() -> None:
    """Models built in Python take strings or ipaddress objects; bad text is a ResultError."""
    ip = IPConfig100(address=ipaddress.ip_interface("10.1.2.3/24"), gateway="10.1.2.1")
    assert ip == IPConfig100(address="10.1.2.3/24", gateway=ipaddress.ip_address("10.1.2.1"))
    assert IPConfig100(address="::ffff:10.1.2.3/120").address == ipaddress.ip_interface(
        "10.1.2.3/24"
    )
    with pytest.raises(ResultError, match=r"invalid CIDR address: 10\.1\.2\.3"):
        IPConfig100(address="10.1.2.3")
    with pytest.raises(ResultError, match="invalid IP address: nope"):
        Route(dst="0.0.0.0/0", gw="nope")
    with pytest.raises(ResultError):
        DNS(nameservers="1.1.1.1")  # a string is not a list of nameservers


def test_dns_is_empty() -> None:
    """Reference 5.1 item 5: DNS is empty when all four keys are empty."""
    assert DNS().is_empty()
    assert not DNS(domain="example.com").is_empty()
    assert not DNS(options=["ndots:5"]).is_empty()


# ------------------------------------------------------------------------------------------------
# The spec error object
# ------------------------------------------------------------------------------------------------


def test_error_string_with_and_without_details() -> None:
    """Reference 5.1 item 1: `msg; details`, or only `msg`."""
    assert str(CNIError(1234, "some message", "some details")) == "some message; some details"
    assert str(CNIError(1234, "some message")) == "some message"
    assert CNIError(1234, "some message", "some details") == CNIError(
        1234, "some message", "some details"
    )


def test_parse_error_object() -> None:
    """Reference 1.8 item 37-38: {code, msg, details?}; cniVersion and unknown keys ignored."""
    err = parse_error(b'{"cniVersion":"1.0.0","code":7,"msg":"bad config","details":"x","y":1}')
    assert isinstance(err, CNIError)
    assert (err.code, err.msg, err.details) == (7, "bad config", "x")
    assert err.well_known is ErrorCode.INVALID_NETWORK_CONFIG
    assert str(err) == "bad config; x"
    assert parse_error({"code": 1234, "msg": "m"}).to_dict() == {"code": 1234, "msg": "m"}
    assert parse_error(b"null") == CNIError(0, "")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (b'{"code": -1, "msg": "x"}', "code"),
        (b'{"code": 1.5, "msg": "x"}', "code"),
        (b'{"code": "7", "msg": "x"}', "code"),
        (b'{"code": true, "msg": "x"}', "code"),
        (b'{"code": 7, "msg": 5}', "msg"),
        (b'{"code": 7, "msg": "x", "details": []}', "details"),
        (b"[1]", None),
        (b"", None),
        (b"{", None),
    ],
)
def test_parse_error_garbage(data: bytes, field: str | None) -> None:
    """A malformed error object is a ResultError naming the field."""
    with pytest.raises(ResultError) as info:
        parse_error(data)
    assert info.value.field == field


def test_import_pycni_does_not_import_types() -> None:
    """`import pycni` stays cheap: the result types (and cattrs) load on first use."""
    code = "import sys, pycni; assert 'pycni.types' not in sys.modules, sorted(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)
    assert pycni.Result is __import__("pycni.types", fromlist=["Result"]).Result
