"""Property tests of the result types: parse(emit(x)) == x, the lossless conversion round trips
of reference 5.4 item 28, and garbage in any field giving a ResultError that names the field."""

from __future__ import annotations

import contextlib
import ipaddress
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pycni.errors import ResultError
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
    create_result_from_bytes,
    result_from_plugin_output,
)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
SMALL = st.integers(min_value=-5, max_value=70000)
INTS = st.one_of(SMALL, INT64)
TEXT = st.text(max_size=12)

ipv4 = st.ip_addresses(v=4)


def _plain_ipv6(address: Any) -> bool:
    return address.ipv4_mapped is None and address.scope_id is None


ipv6: st.SearchStrategy[Any] = st.ip_addresses(v=6).filter(_plain_ipv6)
any_ip = st.one_of(ipv4, ipv6)


@st.composite
def cidr(draw: st.DrawFn, addresses: st.SearchStrategy[Any] = any_ip) -> Any:
    address = draw(addresses)
    return ipaddress.ip_interface((address, draw(st.integers(0, address.max_prefixlen))))


def routes(dst: st.SearchStrategy[Any] | None = None, full: bool = True) -> Any:
    if not full:
        return st.builds(Route, dst=dst if dst is not None else cidr(), gw=st.none() | any_ip)
    return st.builds(
        Route,
        dst=dst if dst is not None else cidr(),
        gw=st.none() | any_ip,
        mtu=INTS,
        advmss=INTS,
        priority=INTS,
        table=st.none() | INTS,
        scope=st.none() | INTS,
    )


dns = st.builds(
    DNS,
    nameservers=st.lists(TEXT, max_size=3),
    domain=TEXT,
    search=st.lists(TEXT, max_size=3),
    options=st.lists(TEXT, max_size=3),
)
optional_index = st.none() | INTS


def result020(lossless: bool = False) -> Any:
    def config(family: st.SearchStrategy[Any]) -> Any:
        return st.builds(
            IPConfig020,
            ip=cidr(),
            gateway=st.none() | any_ip,
            routes=st.lists(routes(cidr(family), full=False) if lossless else routes(), max_size=3),
        )

    strategy = st.builds(
        Result020,
        cni_version=st.sampled_from(["0.1.0", "0.2.0"]),
        ip4=st.none() | config(ipv4),
        ip6=st.none() | config(ipv6),
        dns=dns,
    )
    if lossless:
        strategy = strategy.filter(lambda r: r.ip4 is not None or r.ip6 is not None)
    return strategy


@st.composite
def ip040(draw: st.DrawFn, consistent: bool = False) -> IPConfig040:
    address = draw(cidr())
    tag = str(address.version) if consistent else draw(st.sampled_from(["4", "6", ""]) | TEXT)
    return IPConfig040(
        version=tag,
        interface=draw(optional_index),
        address=address,
        gateway=draw(st.none() | any_ip),
    )


def result040(consistent: bool = False) -> Any:
    return st.builds(
        Result040,
        cni_version=st.sampled_from(["0.3.0", "0.3.1", "0.4.0"]),
        interfaces=st.lists(st.builds(Interface040, name=TEXT, mac=TEXT, sandbox=TEXT), max_size=3),
        ips=st.lists(ip040(consistent), max_size=4),
        routes=st.lists(routes(), max_size=3),
        dns=dns,
    )


def result100(only_0x_fields: bool = False) -> Any:
    if only_0x_fields:
        interface = st.builds(Interface100, name=TEXT, mac=TEXT, sandbox=TEXT)
    else:
        interface = st.builds(
            Interface100,
            name=TEXT,
            mac=TEXT,
            mtu=INTS,
            sandbox=TEXT,
            socket_path=TEXT,
            pci_id=TEXT,
        )
    return st.builds(
        Result100,
        cni_version=st.sampled_from(["1.0.0", "1.1.0"]),
        interfaces=st.lists(interface, max_size=3),
        ips=st.lists(
            st.builds(
                IPConfig100, interface=optional_index, address=cidr(), gateway=st.none() | any_ip
            ),
            max_size=4,
        ),
        routes=st.lists(routes(), max_size=3),
        dns=dns,
    )


any_result = st.one_of(result020(), result040(), result100())


@SETTINGS
@given(any_result)
def test_parse_emit_round_trip(result: Result) -> None:
    """For every family, parsing the emitted JSON gives back the same result."""
    data = result.to_bytes()
    assert create_result(result.cni_version, data) == result
    assert create_result_from_bytes(data) == result
    assert result_from_plugin_output(data, "0.1.0") == result
    assert create_result(result.cni_version, json.loads(str(result))) == result


@SETTINGS
@given(result020(lossless=True))
def test_020_040_020_lossless(result: Result020) -> None:
    """Reference 5.4 item 28: 0.2 -> 0.4 -> 0.2 is lossless (routes with dst/gw only, in their
    own family)."""
    assert result.convert_to("0.4.0").convert_to(result.cni_version) == result


@SETTINGS
@given(result100())
def test_110_100_110_lossless(result: Result100) -> None:
    """Reference 5.4 item 28: 1.1 -> 1.0 -> 1.1 is lossless (mtu, pciID, socketPath kept)."""
    other = "1.0.0" if result.cni_version == "1.1.0" else "1.1.0"
    converted = result.convert_to(other)
    assert converted.cni_version == other
    assert converted.convert_to(result.cni_version) == result


@SETTINGS
@given(result040(consistent=True))
def test_040_100_040_lossless(result: Result040) -> None:
    """Reference 5.4 items 24-25: 0.4 -> 1.0 -> 0.4 is lossless when each ip's version tag
    matches its address family."""
    assert result.convert_to("1.0.0").convert_to(result.cni_version) == result


@SETTINGS
@given(result100(only_0x_fields=True))
def test_100_040_100_lossless_without_1x_fields(result: Result100) -> None:
    """Reference 5.4 items 24-25: 1.x -> 0.4 -> 1.x is lossless without mtu/socketPath/pciID."""
    assert result.convert_to("0.4.0").convert_to(result.cni_version) == result


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _paths(item, (*prefix, index))
    return out


def _render(path: tuple[Any, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _replace(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    for part in path[:-1]:
        doc = doc[part]
    doc[path[-1]] = value


json_garbage = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)


@SETTINGS
@given(st.data(), any_result, json_garbage)
def test_garbage_in_any_field(data: st.DataObject, result: Result, garbage: Any) -> None:
    """Garbage in any field is accepted (when Go would accept it too) or a ResultError naming
    that field or one inside it; never a raw exception."""
    doc = result.to_dict()
    paths = _paths(doc)
    path = data.draw(st.sampled_from(paths))
    _replace(doc, path, garbage)
    error: ResultError | None = None
    try:
        create_result(result.cni_version, json.dumps(doc))
    except ResultError as exc:
        error = exc
    if error is not None and path != ("cniVersion",):
        assert error.field is not None
        assert error.field.startswith(_render(path)), (error.field, path)
        assert error.field in str(error)


@SETTINGS
@given(st.binary(max_size=64) | st.text(max_size=64).map(str.encode))
def test_random_bytes_never_escape(data: bytes) -> None:
    """Arbitrary plugin output is a result or a ResultError."""
    for parse in (create_result_from_bytes, lambda d: result_from_plugin_output(d, "1.1.0")):
        with contextlib.suppress(ResultError):
            parse(data)


@pytest.mark.parametrize("strategy", [result020(), result040(), result100()])
def test_strategies_produce_results(strategy: Any) -> None:
    """The generators above produce non-trivial results (guards against vacuous properties)."""
    seen: list[Result] = []

    @settings(max_examples=30, deadline=None)
    @given(strategy)
    def collect(result: Result) -> None:
        seen.append(result)

    collect()
    assert any(r.ips for r in seen)
