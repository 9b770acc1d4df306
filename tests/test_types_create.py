"""Creating results: family checks, the plugin-output version fixup and ParsePrevResult
(reference 5.3, 4.4 items 15-17, 5.5 item 37, 7.5 item 76, 11 items 16-17)."""

from __future__ import annotations

from typing import Any

import pytest

from pycni.errors import ResultError
from pycni.types import (
    Interface100,
    IPConfig100,
    Result020,
    Result040,
    Result100,
    create_result,
    create_result_from_bytes,
    empty_result,
    parse_prev_result,
    result_from_plugin_output,
)

IPS_040 = [{"version": "4", "address": "10.1.2.3/24", "gateway": "10.1.2.1"}]


@pytest.mark.parametrize(
    ("version", "embedded", "family"),
    [
        ("1.1.0", "0.3.1", "[1.0.0 1.1.0]"),
        ("1.0.0", "0.4.0", "[1.0.0 1.1.0]"),
        ("0.3.1", "1.0.0", "[0.3.0 0.3.1 0.4.0]"),
        ("0.4.0", "", "[0.3.0 0.3.1 0.4.0]"),
        ("0.2.0", "0.3.0", "[ 0.1.0 0.2.0]"),
        ("", "1.1.0", "[ 0.1.0 0.2.0]"),
    ],
)
def test_family_check(version: str, embedded: str, family: str) -> None:
    """Reference 5.3 item 16 / 11 item 17: the embedded version must be in the selector's family."""
    with pytest.raises(ResultError) as info:
        create_result(version, {"cniVersion": embedded})
    assert str(info.value) == (
        f'result type supports {family} but unmarshalled CNIVersion is "{embedded}"'
    )


def test_selector_and_embedded_version_may_differ_within_family() -> None:
    """Reference 5.3 item 16: Create("0.3.1", json with "0.4.0") succeeds as a 0.4.0 result."""
    result = create_result("0.3.1", {"cniVersion": "0.4.0", "ips": IPS_040})
    assert isinstance(result, Result040)
    assert result.cni_version == "0.4.0"


def test_missing_embedded_version() -> None:
    """Reference 5.3 item 16: a missing cniVersion is "" (only 0.1/0.2 accept it, as 0.1.0)."""
    assert create_result("0.2.0", b"{}").cni_version == "0.1.0"
    with pytest.raises(ResultError, match=r'but unmarshalled CNIVersion is ""$'):
        create_result("1.1.0", b'{"ips": []}')


@pytest.mark.parametrize("version", ["0.4567.0", "2.0.0", "1.0", "v1.0.0"])
def test_unsupported_version(version: str) -> None:
    """Reference 5.3 item 16: `unsupported CNI result version "<v>"`."""
    with pytest.raises(ResultError) as info:
        create_result(version, {"cniVersion": version})
    assert str(info.value) == f'unsupported CNI result version "{version}"'
    with pytest.raises(ResultError, match="unsupported CNI result version"):
        empty_result(version)


@pytest.mark.parametrize("data", [None, b"null", "null", " null\n"])
def test_null_is_empty_result(data: Any) -> None:
    """create_result with None/null gives an empty result of the requested version."""
    assert create_result("1.1.0", data) == Result100()
    assert create_result("0.3.0", data) == Result040(cni_version="0.3.0")
    assert create_result("", data) == Result020(cni_version="0.1.0")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "unexpected end of JSON input"),
        (b"[]", "json: cannot unmarshal array into Go value of type types100.Result"),
        (b'"x"', "json: cannot unmarshal string into Go value of type types100.Result"),
        (b'{"cniVersion": "1.1.0"} {}', "invalid character"),
        (b'{"cniVersion": "1.1.0", "routes": [{"dst": "0.0.0.0/0", "mtu": NaN}]}', "NaN"),
    ],
)
def test_create_result_bad_json(data: bytes, message: str) -> None:
    """Bad JSON is a ResultError (strict JSON: no NaN, no trailing data)."""
    with pytest.raises(ResultError, match=message):
        create_result("1.1.0", data)


def test_create_result_from_bytes() -> None:
    """Reference 5.3 items 15, 17: the document's own version picks the family; missing is 0.1.0."""
    assert isinstance(create_result_from_bytes(b'{"cniVersion":"1.0.0"}'), Result100)
    assert isinstance(create_result_from_bytes('{"cniVersion":"0.3.0","ips":[]}'), Result040)
    legacy = create_result_from_bytes(b'{"ip4": {"ip": "10.0.0.2/8"}}')
    assert isinstance(legacy, Result020)
    assert legacy.cni_version == "0.1.0"
    assert create_result_from_bytes(b'{"cniVersion": ""}').cni_version == "0.1.0"
    assert create_result_from_bytes(b"null") == Result020(cni_version="0.1.0")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"{{{", "decoding version from network config: invalid character"),
        (b'{"cniVersion": 1}', "decoding version from network config: json: cannot unmarshal"),
        (b"[1]", "decoding version from network config: json: cannot unmarshal array"),
        (b'{"cniVersion": "9.9.9"}', 'unsupported CNI result version "9.9.9"'),
    ],
)
def test_create_result_from_bytes_errors(data: bytes, message: str) -> None:
    """Reference 5.3 item 15: `decoding version from network config: <json error>`."""
    with pytest.raises(ResultError, match=f"^{message}"):
        create_result_from_bytes(data)


# ------------------------------------------------------------------------------------------------
# Plugin output fixup
# ------------------------------------------------------------------------------------------------


def test_fixup_missing_version_takes_config_version() -> None:
    """Reference 4.4 item 16: result `{ "ips": [...] }` with config 0.3.1 -> version 0.3.1."""
    result = result_from_plugin_output(
        b'{"ips": [{"version":"4","address":"10.1.2.3/24"}]}', "0.3.1"
    )
    assert isinstance(result, Result040)
    assert result.cni_version == "0.3.1"
    assert str(result.ips[0].address) == "10.1.2.3/24"


@pytest.mark.parametrize("value", ['""', "null", "1", "[]", "{}"])
def test_fixup_empty_or_non_string_version(value: str) -> None:
    """Reference 4.4 item 15-16 / 11 item 16: empty or non-string cniVersion -> config version."""
    result = result_from_plugin_output(f'{{"cniVersion": {value}}}'.encode(), "0.3.1")
    assert result == Result040(cni_version="0.3.1")


def test_fixup_config_without_version() -> None:
    """Reference 4.4 item 16: config without version, result `{ "some": "version-info" }` ->
    an empty 0.1.0 result, no error."""
    result = result_from_plugin_output(b'{ "some": "version-info" }', "")
    assert result == Result020(cni_version="0.1.0")
    assert result.to_dict() == {"cniVersion": "0.1.0", "dns": {}}


def test_fixup_output_version_wins() -> None:
    """Reference 4.4 items 15, 17: a non-empty output version is used, even if it differs."""
    result = result_from_plugin_output(b'{"cniVersion": "1.0.0"}', "0.4.0")
    assert isinstance(result, Result100)
    assert result.cni_version == "1.0.0"
    with pytest.raises(ResultError, match=r'unsupported CNI result version "7\.0\.0"'):
        result_from_plugin_output(b'{"cniVersion": "7.0.0"}', "1.1.0")


def test_fixup_null_output() -> None:
    """Reference 4.4 item 15: stdout `null` is an empty result of the config version."""
    assert result_from_plugin_output(b"null", "1.1.0") == Result100()


@pytest.mark.parametrize(
    ("stdout", "message"),
    [
        (b"", "failed to unmarshal raw result: unexpected end of JSON input"),
        (b"  \n", "failed to unmarshal raw result: unexpected end of JSON input"),
        (b"[1, 2]", "failed to unmarshal raw result: json: cannot unmarshal array"),
        (b'"text"', "failed to unmarshal raw result: json: cannot unmarshal string"),
        (b"{oops", "failed to unmarshal raw result: invalid character"),
    ],
)
def test_fixup_errors(stdout: bytes, message: str) -> None:
    """Reference 4.4 item 15 / 11 item 16: empty output and non-objects are errors."""
    with pytest.raises(ResultError) as info:
        result_from_plugin_output(stdout, "1.1.0")
    assert str(info.value).startswith(message)


def test_fixup_bad_field_is_named() -> None:
    """Garbage in plugin output names the field."""
    with pytest.raises(ResultError) as info:
        result_from_plugin_output(b'{"cniVersion":"1.1.0","ips":[{"address":"x"}]}', "1.1.0")
    assert info.value.field == "ips[0].address"
    assert info.value.message == "invalid CIDR address: x"


# ------------------------------------------------------------------------------------------------
# ParsePrevResult
# ------------------------------------------------------------------------------------------------

PREV_100 = {
    "cniVersion": "1.0.0",
    "interfaces": [
        {
            "name": "eth0",
            "mac": "00:11:22:33:44:55",
            "sandbox": "/proc/3553/ns/net",
            "pciID": "8086:9a01",
            "socketPath": "/path/to/vhost/fd",
        }
    ],
    "ips": [{"version": "4", "interface": 0, "address": "1.2.3.30/24", "gateway": "1.2.3.1"}],
}


def test_parse_prev_result() -> None:
    """Reference 7.5 item 76: a 1.0.0 prevResult (with an ignored `version` in ips) parses."""
    conf = {"cniVersion": "1.0.0", "name": "foobar", "type": "baz", "prevResult": PREV_100}
    assert parse_prev_result(conf) == Result100(
        cni_version="1.0.0",
        interfaces=[
            Interface100(
                name="eth0",
                mac="00:11:22:33:44:55",
                sandbox="/proc/3553/ns/net",
                pci_id="8086:9a01",
                socket_path="/path/to/vhost/fd",
            )
        ],
        ips=[IPConfig100(interface=0, address="1.2.3.30/24", gateway="1.2.3.1")],
    )
    assert conf["prevResult"] is PREV_100  # the caller's mapping is not modified
    assert "CNIVersion" not in PREV_100


@pytest.mark.parametrize(
    "conf", [{"cniVersion": "1.1.0"}, {"cniVersion": "1.1.0", "prevResult": None}]
)
def test_no_prev_result(conf: dict[str, Any]) -> None:
    """Reference 5.5 item 37: no prevResult -> nothing."""
    assert parse_prev_result(conf) is None


@pytest.mark.parametrize(
    ("prev", "embedded"),
    [
        ({"cniVersion": "5678.456"}, "5678.456"),
        ({"cniVersion": "0.2.0", "ip4": {"ip": "1.2.3.30/24", "gateway": "1.2.3.1"}}, "0.2.0"),
        ({"cniVersion": ""}, ""),
    ],
)
def test_prev_result_family_mismatch(prev: dict[str, Any], embedded: str) -> None:
    """Reference 5.5 item 37 / 7.5 item 76: `could not parse prevResult: result type supports
    [1.0.0 1.1.0] but unmarshalled CNIVersion is ...` (an explicit "" fails for 1.x configs)."""
    with pytest.raises(ResultError) as info:
        parse_prev_result({"cniVersion": "1.1.0", "prevResult": prev})
    assert str(info.value) == (
        "could not parse prevResult: result type supports [1.0.0 1.1.0] but unmarshalled "
        f'CNIVersion is "{embedded}"'
    )


def test_prev_result_takes_config_version_when_absent() -> None:
    """Reference 5.5 item 37: a prevResult without cniVersion gets the config's version."""
    prev = {"ips": [{"address": "10.0.0.2/8"}]}
    result = parse_prev_result({"cniVersion": "1.1.0", "prevResult": prev})
    assert result == Result100(ips=[IPConfig100(address="10.0.0.2/8")])
    null_version = parse_prev_result({"cniVersion": "0.4.0", "prevResult": {"cniVersion": None}})
    assert null_version == Result040(cni_version="0.4.0")


def test_prev_result_within_family() -> None:
    """Reference 5.5 item 37: versions of one family mix (1.1.0 config, 1.0.0 prevResult)."""
    result = parse_prev_result({"cniVersion": "1.1.0", "prevResult": {"cniVersion": "1.0.0"}})
    assert result == Result100(cni_version="1.0.0")


def test_prev_result_empty_version_quirk_for_legacy_configs() -> None:
    """Reference 5.5 item 37 quirk: an explicit "" works for 0.1/0.2 configs (as 0.1.0)."""
    result = parse_prev_result(
        {"cniVersion": "0.2.0", "prevResult": {"cniVersion": "", "ip4": {"ip": "10.0.0.2/8"}}}
    )
    assert isinstance(result, Result020)
    assert result.cni_version == "0.1.0"
    no_version = parse_prev_result({"prevResult": {"ip4": {"ip": "10.0.0.2/8"}}})
    assert isinstance(no_version, Result020)
    assert no_version.cni_version == "0.1.0"


@pytest.mark.parametrize(
    ("conf", "message", "field"),
    [
        (
            {"cniVersion": "1.1.0", "prevResult": {"ips": [{"address": "1.2.3/45"}]}},
            "could not parse prevResult: invalid CIDR address: 1.2.3/45",
            "prevResult.ips[0].address",
        ),
        (
            {"cniVersion": "1.1.0", "prevResult": [1]},
            "could not parse prevResult: json: cannot unmarshal array",
            "prevResult",
        ),
        (
            {"cniVersion": "9.0.0", "prevResult": {}},
            'could not parse prevResult: unsupported CNI result version "9.0.0"',
            None,
        ),
        (
            {"cniVersion": 1, "prevResult": {}},
            "could not parse prevResult: json: cannot unmarshal number",
            "cniVersion",
        ),
    ],
)
def test_prev_result_errors(conf: dict[str, Any], message: str, field: str | None) -> None:
    """Reference 5.5 item 37: errors start `could not parse prevResult: ` and name the field."""
    with pytest.raises(ResultError) as info:
        parse_prev_result(conf)
    assert info.value.message.startswith(message)
    assert info.value.field == field
