"""Spec versions: parsing, comparison, selection, VERSION answers, reconciliation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pycni import version
from pycni.errors import ConfigError, IncompatibleVersionError, PycniError, VersionError
from pycni.version import PluginInfo


def test_constants() -> None:
    """Reference 5.5 item 29: Current, Legacy and All, in order."""
    assert version.CURRENT == "1.1.0"
    assert version.LEGACY == ("0.1.0", "0.2.0")
    assert version.ALL == ("0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0")


def test_versions_starting_from() -> None:
    """Reference 5.5 item 30 and 7.5 item 76: the suffix of All starting at exactly v."""
    assert version.versions_starting_from("0.3.1") == ["0.3.1", "0.4.0", "1.0.0", "1.1.0"]
    assert version.versions_starting_from("0.1.0") == list(version.ALL)
    assert version.versions_starting_from("1.1.0") == ["1.1.0"]


@pytest.mark.parametrize("unknown", ["0.3", "2.0.0", "", "1.1"])
def test_versions_starting_from_unknown(unknown: str) -> None:
    """Reference 5.5 item 30: an unknown version gives an empty list (exact match only)."""
    assert version.versions_starting_from(unknown) == []


def test_plugin_supports() -> None:
    """Reference 5.5 item 31: answers with Current; encoding is JSON plus a newline."""
    info = version.plugin_supports("1.2.3", "4.3.2")
    assert info.cni_version == "1.1.0"
    assert info.supported_versions == ("1.2.3", "4.3.2")
    assert info.to_bytes() == b'{"cniVersion":"1.1.0","supportedVersions":["1.2.3","4.3.2"]}\n'
    assert info.to_dict() == {"cniVersion": "1.1.0", "supportedVersions": ["1.2.3", "4.3.2"]}


def test_plugin_supports_needs_a_version() -> None:
    """Reference 5.5 item 31: at least one version is required (Go panics)."""
    with pytest.raises((ValueError, PycniError)):
        version.plugin_supports()


# --------------------------------------------------------------------------------------------
# ParseVersion
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.2.3", (1, 2, 3)),
        ("", (0, 1, 0)),
        ("1", (1, 0, 0)),
        ("1.2", (1, 2, 0)),
        ("0.-42.0", (0, -42, 0)),
        ("01.+2.003", (1, 2, 3)),
        ("1.1.0", (1, 1, 0)),
        ("99.0.0", (99, 0, 0)),
    ],
)
def test_parse_version_valid(text: str, expected: tuple[int, int, int]) -> None:
    """Reference 5.5 item 32 and 7.5 item 76: "" is 0.1.0, missing parts are 0, signs accepted."""
    assert version.parse_version(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "asdfasdf",
        "asdf.",
        ".asdfas",
        "asdf.adsf.",
        "0.",
        "..",
        "1.2.3.4.5",
        "1.0.0-rc1",
        "v1.0.0",
        " 1.0.0",
        "1_0.0.0",
        "\u0661.0.0",
        "+",
        "1.0.0 ",
    ],
)
def test_parse_version_invalid(text: str) -> None:
    """Reference 5.5 item 32 and 7.5 item 76: malformed versions are VersionErrors."""
    with pytest.raises(VersionError):
        version.parse_version(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1.2.3.4", 'invalid version "1.2.3.4": too many parts'),
        ("1.2.3.4.5", 'invalid version "1.2.3.4.5": too many parts'),
        (
            "asdf",
            'failed to convert major version part "asdf": '
            'strconv.Atoi: parsing "asdf": invalid syntax',
        ),
        ("1.x", 'failed to convert minor version part "x": '),
        ("1.2.", 'failed to convert micro version part "": '),
    ],
)
def test_parse_version_messages(text: str, message: str) -> None:
    """Reference 5.5 item 32: libcni's messages, naming the part that failed."""
    with pytest.raises(VersionError) as info:
        version.parse_version(text)
    assert str(info.value).startswith(message)


# --------------------------------------------------------------------------------------------
# Comparisons
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("higher", "lower"),
    [("1.2.34", "1.2.14"), ("2.5.4", "2.4.4"), ("1.2.3", "0.2.3"), ("0.4.0", "0.3.1")],
)
def test_greater_than_or_equal_to(higher: str, lower: str) -> None:
    """Reference 5.5 item 33 and 7.5 item 76: numeric comparison, and its reverse is false."""
    assert version.greater_than_or_equal_to(higher, lower) is True
    assert version.greater_than_or_equal_to(lower, higher) is False
    assert version.greater_than(higher, lower) is True
    assert version.greater_than(lower, higher) is False


def test_greater_than_or_equal_to_same() -> None:
    """Reference 5.5 item 33: equal versions are >=, not >."""
    assert version.greater_than_or_equal_to("1.2.3", "1.2.3") is True
    assert version.greater_than("1.2.3", "1.2.3") is False
    assert version.greater_than_or_equal_to("1.0", "1.0.0") is True


def test_greater_than() -> None:
    """Reference 5.5 item 33 and 7.5 item 76: GreaterThan cases of version_test.go."""
    assert version.greater_than("1.1.0", "1.1.1") is False
    assert version.greater_than("1.1.1", "1.1.0") is True
    assert version.greater_than("1.1.1", "1.1.1") is False


@pytest.mark.parametrize(("a", "b"), [("1.2.34", "asdadf"), ("adsfad", "2.5.4")])
def test_comparison_of_malformed_versions(a: str, b: str) -> None:
    """Reference 5.5 item 33: comparing a malformed version is an error, either side."""
    with pytest.raises(VersionError):
        version.greater_than_or_equal_to(a, b)
    with pytest.raises(VersionError):
        version.greater_than(a, b)


def test_at_least_treats_unparsable_as_too_old() -> None:
    """Reference 11 item 9: GC/STATUS gates treat an unparsable version as too old."""
    assert version.at_least("1.1.0", "1.1.0") is True
    assert version.at_least("", "0.4.0") is False
    assert version.at_least("garbage", "0.1.0") is False


# --------------------------------------------------------------------------------------------
# cniVersions selection
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"cniVersions": ["1.1.0", "0.4.0", "1.0.0"]}, "1.1.0"),
        ({"cniVersions": ["99.0.0", "1.1.0", "0.4.0", "1.0.0"]}, "1.1.0"),
        ({"cniVersion": "1.2.3"}, "1.2.3"),
        ({"cniVersion": "1.0.0", "cniVersions": ["0.1.0", "0.4.0"]}, "1.0.0"),
        ({"cniVersions": []}, ""),
        ({"cniVersions": ["2.0.0"]}, ""),
        ({"cniVersion": "3.0.0", "cniVersions": ["2.0.0"]}, "3.0.0"),
        ({"cniVersions": ["0.3.1", "0.4.0"], "cniVersion": ""}, "0.4.0"),
        ({}, ""),
    ],
)
def test_select_conf_list_version(doc: dict[str, Any], expected: str) -> None:
    """Reference 7.3 item 67, 2.2 item 8.4-8.5 and 11 item 25: the highest supported version."""
    assert version.select_conf_list_version(doc) == expected


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (
            {"cniVersions": ["1.1.0", "0.4.0", "1.0.f"]},
            "error parsing configuration list: invalid cniVersions entry 1.0.f at index 2: ",
        ),
        ({"cniVersions": {}}, "error parsing configuration list: invalid type for cniVersions: "),
        (
            {"cniVersions": [None]},
            "error parsing configuration list: invalid type for cniVersions index 0: <nil>",
        ),
        (
            {"cniVersion": "1.x", "cniVersions": ["1.0.0"]},
            "error parsing configuration list: invalid cniVersion 1.x: ",
        ),
    ],
)
def test_select_conf_list_version_errors(doc: dict[str, Any], message: str) -> None:
    """Reference 7.3 item 67 and 2.2 item 8.4: libcni's messages, as ConfigErrors."""
    with pytest.raises(ConfigError) as info:
        version.select_conf_list_version(doc)
    assert str(info.value).startswith(message)


# --------------------------------------------------------------------------------------------
# ConfigDecoder / PluginDecoder / Reconciler
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'{ "cniVersion": "4.3.2" }', "4.3.2"),
        (b'{ "not-a-version-field": "foo" }', "0.1.0"),
        (b'{ "cniVersion": "" }', "0.1.0"),
        (b'{ "cniVersion": null }', "0.1.0"),
        (b"null", "0.1.0"),
        ('{"cniVersion": "1.0.0"}', "1.0.0"),
    ],
)
def test_config_decoder(data: bytes | str, expected: str) -> None:
    """Reference 5.5 item 34 and 7.5 item 76: the config's version; none means 0.1.0."""
    assert version.decode_config_version(data) == expected


@pytest.mark.parametrize("data", [b"{{{", b"", b'{"cniVersion": 1}', b"[]"])
def test_config_decoder_errors(data: bytes) -> None:
    """Reference 5.5 item 34: malformed input is `decoding version from network config: ...`."""
    with pytest.raises(VersionError) as info:
        version.decode_config_version(data)
    assert str(info.value).startswith("decoding version from network config: ")
    if data == b"{{{":
        assert str(info.value).startswith("decoding version from network config: invalid character")


def test_plugin_decoder() -> None:
    """Reference 5.5 item 35 and 7.5 item 76: any strings are accepted as versions."""
    info = version.decode_plugin_info(
        b'{"cniVersion": "some-library-version",'
        b' "supportedVersions": [ "some-version", "some-other-version" ]}'
    )
    assert info.cni_version == "some-library-version"
    assert info.supported_versions == ("some-version", "some-other-version")


def test_plugin_decoder_invalid_json() -> None:
    """Reference 5.5 item 35: `decoding version info: invalid character '{' ...`."""
    with pytest.raises(VersionError) as info:
        version.decode_plugin_info(b"{{{")
    assert str(info.value).startswith("decoding version info: invalid character '{'")


@pytest.mark.parametrize(
    "data",
    [b'{ "supportedVersions": [ "foo" ] }', b'{"cniVersion": "", "supportedVersions": ["a"]}'],
)
def test_plugin_decoder_missing_cni_version(data: bytes) -> None:
    """Reference 5.5 item 35: a missing or empty cniVersion is an error."""
    with pytest.raises(VersionError) as info:
        version.decode_plugin_info(data)
    assert str(info.value) == "decoding version info: missing field cniVersion"


@pytest.mark.parametrize(
    "data", [b'{ "cniVersion": "0.2.0" }', b'{ "cniVersion": "0.2.0", "supportedVersions": [] }']
)
def test_plugin_decoder_legacy_default(data: bytes) -> None:
    """Reference 5.5 item 35: a 0.2.0 answer without versions supports 0.1.0 and 0.2.0."""
    assert version.decode_plugin_info(data).supported_versions == ("0.1.0", "0.2.0")


@pytest.mark.parametrize(
    "data", [b'{ "cniVersion": "0.3.0" }', b'{ "cniVersion": "1.0.0", "supportedVersions": [] }']
)
def test_plugin_decoder_missing_supported_versions(data: bytes) -> None:
    """Reference 5.5 item 35 and 11 item 24: only 0.2.0 answers may omit supportedVersions."""
    with pytest.raises(VersionError) as info:
        version.decode_plugin_info(data)
    assert str(info.value) == "decoding version info: missing field supportedVersions"


@pytest.mark.parametrize(
    "data",
    [
        b'{"cniVersion": 1, "supportedVersions": ["1.0.0"]}',
        b'{"cniVersion": "1.0.0", "supportedVersions": "1.0.0"}',
        b'{"cniVersion": "1.0.0", "supportedVersions": [1]}',
        b"[]",
        b"\xff",
    ],
)
def test_plugin_decoder_wrong_types(data: bytes) -> None:
    """Reference 5.5 item 35: wrongly typed answers are `decoding version info: ...` errors."""
    with pytest.raises(VersionError, match=r"^decoding version info: "):
        version.decode_plugin_info(data)


def test_plugin_info_round_trip() -> None:
    """Reference 5.5 item 31: what a plugin prints decodes to the same information."""
    info = version.plugin_supports("0.4.0", "1.0.0")
    assert version.decode_plugin_info(info.to_bytes()) == info


def test_reconciler_accepts_supported_version() -> None:
    """Reference 5.5 item 36 and 7.5 item 76: a supported config version passes."""
    version.check_compatible("4.3.2", version.plugin_supports("1.2.3", "4.3.2"))


def test_reconciler_message() -> None:
    """Reference 5.5 item 36 and 7.5 item 76: the error carries libcni's text and its parts."""
    with pytest.raises(IncompatibleVersionError) as info:
        version.check_compatible("0.1.0", version.plugin_supports("1.2.3", "4.3.2"))
    err = info.value
    assert (
        str(err)
        == 'incompatible CNI versions: config is "0.1.0", plugin supports ["1.2.3" "4.3.2"]'
    )
    assert err.details == 'config is "0.1.0", plugin supports ["1.2.3" "4.3.2"]'
    assert err.code == 1
    assert (err.config_version, err.supported) == ("0.1.0", ["1.2.3", "4.3.2"])


def test_reconciler_names_plugin_when_given() -> None:
    """Reference 5.5 item 36: the plugin type is added after libcni's text when known."""
    with pytest.raises(IncompatibleVersionError) as info:
        version.check_compatible("1.1.0", PluginInfo("1.0.0", ["1.0.0"]), "bridge")
    assert str(info.value).startswith(
        'incompatible CNI versions: config is "1.1.0", plugin supports ["1.0.0"]'
    )
    assert "bridge" in str(info.value)


def test_reconciler_exact_string_membership() -> None:
    """Reference 5.5 item 36 and 11 item 24: `1.0` is not `1.0.0`."""
    info = version.plugin_supports("1.0.0")
    assert info.supports("1.0.0")
    assert not info.supports("1.0")
    with pytest.raises(IncompatibleVersionError):
        version.check_compatible("1.0", info)


# --------------------------------------------------------------------------------------------
# Negotiation (pycni): the newest version every plugin supports
# --------------------------------------------------------------------------------------------


def test_candidate_versions() -> None:
    """cniVersion plus cniVersions, newest first; too new, unparsable and duplicates dropped."""
    candidates = version.candidate_versions("1.0.0", ["0.4.0", "1.1.0", "9.9.9", "bad", "1.0.0"])
    assert candidates == ["1.1.0", "1.0.0", "0.4.0"]
    assert version.candidate_versions("", None) == []
    assert version.candidate_versions("0.3.1", None) == ["0.3.1"]


def test_negotiate() -> None:
    """The first candidate every plugin supports, or None."""
    infos = [version.plugin_supports("0.4.0", "1.0.0"), version.plugin_supports("1.0.0", "1.1.0")]
    assert version.negotiate(["1.1.0", "1.0.0", "0.4.0"], infos) == "1.0.0"
    assert version.negotiate(["1.1.0", "0.4.0"], infos) is None
    assert version.negotiate(["1.1.0"], []) == "1.1.0"
    assert version.negotiate([], infos) is None


def test_negotiate_with_conflist() -> None:
    """Negotiation over a parsed conflist's versions yields a usable with_cni_version list."""
    from pycni.config import NetworkConfigList

    conf = NetworkConfigList.from_bytes(
        json.dumps({"name": "n", "cniVersions": ["1.1.0", "1.0.0"], "plugins": [{"type": "x"}]})
    )
    chosen = version.negotiate(
        version.candidate_versions(conf.cni_version, conf.cni_versions),
        [version.plugin_supports("0.4.0", "1.0.0")],
    )
    assert chosen == "1.0.0"
    assert conf.with_cni_version(chosen).cni_version == "1.0.0"
