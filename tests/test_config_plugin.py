"""One plugin's configuration: NetworkConfig, inject_conf, conf_list_from_conf."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pycni.config import NetworkConfig, NetworkConfigList, conf_list_from_conf, inject_conf
from pycni.errors import ConfigError


def test_from_bytes_typed_view_and_bytes_unchanged() -> None:
    """Reference 2.2 item 6: typed view; bytes are the input unchanged; unknown keys kept."""
    data = b'{ "name": "some-plugin", "type": "foobar", "some-key": "some-value" }'
    conf = NetworkConfig.from_bytes(data)
    assert conf.type == "foobar"
    assert conf.name == "some-plugin"
    assert conf.cni_version == ""
    assert conf.bytes == data
    assert conf.raw == {"name": "some-plugin", "type": "foobar", "some-key": "some-value"}
    assert conf.capabilities == {}
    assert conf.ipam == {}
    assert conf.dns == {}
    assert conf.path is None


def test_from_bytes_accepts_str() -> None:
    """Reference 2.2 item 6: text input is parsed like its UTF-8 bytes."""
    conf = NetworkConfig.from_bytes('{"type": "br\u00efdge"}')
    assert conf.type == "br\u00efdge"
    assert conf.bytes == '{"type": "br\u00efdge"}'.encode()


def test_capabilities_map() -> None:
    """Reference 7.3 item 58: the capabilities map is read with its true and false entries."""
    conf = NetworkConfig.from_bytes(
        b'{"type":"x","capabilities":{"portMappings":true,"somethingElse":true,'
        b'"noCapability":false}}'
    )
    assert conf.capabilities == {"portMappings": True, "somethingElse": True, "noCapability": False}


def test_ipam_and_dns_views() -> None:
    """Reference 1.4 item 17: ipam and dns objects are exposed with their IPAM-specific keys."""
    conf = NetworkConfig.from_bytes(
        b'{"type":"bridge","ipam":{"type":"host-local","subnet":"10.1.0.0/16"},'
        b'"dns":{"nameservers":["10.1.0.1"],"domain":"example.com","search":["a"],"options":["x"]}}'
    )
    assert conf.ipam == {"type": "host-local", "subnet": "10.1.0.0/16"}
    assert conf.dns["nameservers"] == ["10.1.0.1"]
    assert conf.dns["domain"] == "example.com"


def test_no_name_or_version_required() -> None:
    """Reference 2.2 item 6: a plugin configuration needs neither name nor cniVersion."""
    conf = NetworkConfig.from_bytes(b'{"type":"bridge","cniVersion":"1.0.0"}')
    assert (conf.name, conf.cni_version) == ("", "1.0.0")


@pytest.mark.parametrize(
    "data",
    [b'{"name":"x"}', b'{"type":""}', b'{"type":null}', b"{}", b"null"],
)
def test_missing_type(data: bytes) -> None:
    """Reference 7.3 item 59 and 2.2 item 6: no (or empty) type is `missing 'type'`."""
    with pytest.raises(ConfigError) as info:
        NetworkConfig.from_bytes(data)
    assert info.value.message == "error parsing configuration: missing 'type'"
    assert info.value.field == "type"


def test_null_typed_fields_are_zero_values() -> None:
    """Reference 2.1 item 3: JSON null for a typed field is accepted as its zero value."""
    conf = NetworkConfig.from_bytes(
        b'{"type":"x","name":null,"cniVersion":null,"capabilities":null,"ipam":null,'
        b'"dns":null,"prevResult":null,"cni.dev/valid-attachments":null}'
    )
    assert (conf.name, conf.cni_version, conf.capabilities, conf.ipam, conf.dns) == (
        "",
        "",
        {},
        {},
        {},
    )


@pytest.mark.parametrize(
    ("doc", "field", "fragment"),
    [
        ({"type": 5}, "type", "cannot unmarshal number into Go struct field PluginConf.type"),
        ({"type": "x", "name": []}, "name", "array into Go struct field PluginConf.name"),
        ({"type": "x", "cniVersion": 1.0}, "cniVersion", "number into Go struct field"),
        (
            {"type": "x", "capabilities": {"x": "yes"}},
            "capabilities",
            "cannot unmarshal string into Go struct field PluginConf.capabilities of type bool",
        ),
        ({"type": "x", "capabilities": []}, "capabilities", "of type map[string]bool"),
        ({"type": "x", "ipam": []}, "ipam", "array into Go struct field PluginConf.ipam"),
        ({"type": "x", "ipam": {"type": 1}}, "ipam.type", "Go struct field IPAM.ipam.type"),
        ({"type": "x", "dns": "8.8.8.8"}, "dns", "of type types.DNS"),
        ({"type": "x", "dns": {"nameservers": "a"}}, "dns.nameservers", "of type []string"),
        ({"type": "x", "dns": {"search": [1]}}, "dns.search", "DNS.dns.search of type string"),
        ({"type": "x", "dns": {"domain": True}}, "dns.domain", "bool into Go struct field"),
        ({"type": "x", "prevResult": []}, "prevResult", "of type map[string]interface {}"),
        (
            {"type": "x", "cni.dev/valid-attachments": [{"containerID": 1}]},
            "cni.dev/valid-attachments.containerID",
            "GCAttachment.cni.dev/valid-attachments.containerID of type string",
        ),
    ],
)
def test_wrong_type_for_typed_field(doc: dict[str, object], field: str, fragment: str) -> None:
    """Reference 2.1 item 3: a typed field of the wrong JSON type is an error naming the field."""
    with pytest.raises(ConfigError) as info:
        NetworkConfig.from_bytes(json.dumps(doc), path="/etc/cni/net.d/x.conf")
    assert info.value.message.startswith("error parsing configuration: json: cannot unmarshal")
    assert fragment in info.value.message
    assert info.value.field == field
    assert info.value.path == "/etc/cni/net.d/x.conf"
    assert "/etc/cni/net.d/x.conf" in str(info.value)


def test_unknown_keys_are_not_type_checked() -> None:
    """Reference 2.1 item 3 and 1.4 item 18: unknown keys are passed through whatever their type."""
    conf = NetworkConfig.from_bytes(b'{"type":"x","mtu":"big","ipMasq":1,"args":[null]}')
    assert conf.raw["mtu"] == "big"
    assert conf.raw["args"] == [None]


def test_keys_are_case_sensitive() -> None:
    """Reference 2.1 item 4 (port decision): `TYPE` does not satisfy `type` in pycni."""
    with pytest.raises(ConfigError, match="missing 'type'"):
        NetworkConfig.from_bytes(b'{"TYPE":"bridge"}')
    conf = NetworkConfig.from_bytes(b'{"type":"bridge","Name":"upper"}')
    assert conf.name == ""
    assert conf.raw["Name"] == "upper"


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b'{"type":"x","mtu":NaN}', "NaN"),
        (b'{"type":"x","mtu":Infinity}', "Infinity"),
        (b'{"type":"x","mtu":-Infinity}', "Infinity"),
        (b'{"type":"x"} {}', "trailing data"),
        (b'{"type":"x"}x', "after top-level value"),
        (b'\xef\xbb\xbf{"type":"x"}', "BOM"),
        (b"", "unexpected end of JSON input"),
        (b"{", "unexpected end of JSON input"),
        (b"   ", "unexpected end of JSON input"),
        (b"[1]", "cannot unmarshal array into Go value of type types.PluginConf"),
        (b'"type"', "cannot unmarshal string"),
    ],
)
def test_strict_json(data: bytes, fragment: str) -> None:
    """Reference 11 item 28: NaN/Infinity, trailing data, BOM, bad UTF-8 and non-objects fail."""
    with pytest.raises(ConfigError) as info:
        NetworkConfig.from_bytes(data, path="/conf/x.conf")
    assert info.value.message.startswith("error parsing configuration: ")
    assert fragment in info.value.message
    assert info.value.path == "/conf/x.conf"


def test_invalid_utf8_is_replaced_as_go_does() -> None:
    """Issue 21 item 2: Go's decoder turns each invalid byte of a string into U+FFFD (no error),
    and so does pycni; the plugin then receives the replacement characters."""
    conf = NetworkConfig.from_bytes(b'{"type":"x","name":"caf\xe9","s":"\xe2\x82!"}')
    assert conf.name == "caf\ufffd"
    assert conf.raw["s"] == "\ufffd\ufffd!"  # one per invalid byte, as utf8.DecodeRune reads them
    assert conf.bytes == b'{"type":"x","name":"caf\xe9","s":"\xe2\x82!"}'  # the file as it is


def test_lone_surrogates_are_replaced_as_go_does() -> None:
    """Issue 21 item 2: a lone surrogate escape, or a lone surrogate in text input, is U+FFFD."""
    conf = NetworkConfig.from_bytes(b'{"type":"x","a":"\\ud800","b":"\\ud83d\\ude00"}')
    assert conf.raw["a"] == "\ufffd"
    assert conf.raw["b"] == "\U0001f600"  # a valid pair stays one character
    assert NetworkConfig.from_bytes('{"type":"x","c":"\ud800"}').raw["c"] == "\ufffd" * 3


def test_big_integers_stay_exact() -> None:
    """Reference 11 item 28: integers above 2**53 are kept exactly (Go would round them)."""
    conf = NetworkConfig.from_bytes(b'{"type":"x","big":9007199254740993}')
    assert conf.raw["big"] == 9007199254740993


# --------------------------------------------------------------------------------------------
# from_file
# --------------------------------------------------------------------------------------------


def test_from_file(tmp_path: Path) -> None:
    """Reference 7.3 item 57: the file's bytes are kept and its path recorded."""
    path = tmp_path / "50-whatever.conf"
    path.write_bytes(b'{ "name": "some-plugin", "type": "foobar", "some-key": "some-value" }')
    conf = NetworkConfig.from_file(path)
    assert conf.bytes == path.read_bytes()
    assert conf.path == str(path)
    assert (conf.name, conf.type) == ("some-plugin", "foobar")


def test_from_file_missing() -> None:
    """Reference 7.3 item 59 and 2.2 item 7: a missing file is `error reading <path>: open ...`."""
    with pytest.raises(ConfigError) as info:
        NetworkConfig.from_file("/tmp/nope/not-here")
    assert str(info.value).startswith(
        "error reading /tmp/nope/not-here: open /tmp/nope/not-here: no such file or directory"
    )
    assert info.value.path == "/tmp/nope/not-here"


def test_from_file_without_type(tmp_path: Path) -> None:
    """Reference 7.3 item 59: a file without type is `missing 'type'`, naming the file."""
    path = tmp_path / "x.conf"
    path.write_text('{"name":"x"}')
    with pytest.raises(ConfigError) as info:
        NetworkConfig.from_file(path)
    assert info.value.message == "error parsing configuration: missing 'type'"
    assert str(path) in str(info.value)


# --------------------------------------------------------------------------------------------
# inject_conf
# --------------------------------------------------------------------------------------------

_ORIGINAL = b'{ "name": "some-plugin", "type": "foobar" }'


def test_inject_adds_key() -> None:
    """Reference 7.3 item 66 and 2.2 item 15: a new key is added; bytes are sorted and compact."""
    result = inject_conf(NetworkConfig.from_bytes(_ORIGINAL), {"test": "test"})
    assert result.bytes == b'{"name":"some-plugin","test":"test","type":"foobar"}'
    assert result.raw["test"] == "test"


def test_inject_overwrites_and_is_idempotent() -> None:
    """Reference 7.3 item 66: injecting overwrites top-level keys and is idempotent."""
    conf = NetworkConfig.from_bytes(_ORIGINAL)
    once = inject_conf(conf, {"test": "test"})
    again = inject_conf(once, {"test": "test"})
    assert again.bytes == once.bytes
    overwritten = inject_conf(once, {"test": "changed"})
    assert overwritten.bytes == b'{"name":"some-plugin","test":"changed","type":"foobar"}'


def test_inject_dns_then_type_updates_typed_view() -> None:
    """Reference 7.3 item 66 / 2.2 item 15: inject a dns object, then a new type."""
    conf = NetworkConfig.from_bytes(_ORIGINAL)
    dns = {"nameservers": ["server1", "server2"], "domain": "local"}
    with_dns = inject_conf(conf, {"dns": dns})
    result = inject_conf(with_dns, {"type": "bridge"})
    assert result.bytes == (
        b'{"dns":{"domain":"local","nameservers":["server1","server2"]},'
        b'"name":"some-plugin","type":"bridge"}'
    )
    assert result.type == "bridge"
    assert result.dns == dns


def test_inject_does_not_change_original() -> None:
    """Reference 2.2 item 15: the original configuration is left as it was."""
    conf = NetworkConfig.from_bytes(_ORIGINAL)
    inject_conf(conf, {"test": "test"})
    assert conf.bytes == _ORIGINAL
    assert "test" not in conf.raw


def test_inject_invalid_existing_bytes() -> None:
    """Reference 7.3 item 66: unparsable bytes give `unmarshal existing network bytes`."""
    broken = NetworkConfig.from_bytes(_ORIGINAL)
    broken = type(broken)(
        type="x", name="", cni_version="", capabilities={}, ipam={}, dns={}, raw={}, bytes=b"{ cc }"
    )
    with pytest.raises(ConfigError) as info:
        inject_conf(broken, {"test": "test"})
    assert info.value.message.startswith("unmarshal existing network bytes")


def test_inject_empty_key() -> None:
    """Reference 7.3 item 66: an empty key is rejected."""
    with pytest.raises(ConfigError, match=r"^keys cannot be empty$"):
        inject_conf(NetworkConfig.from_bytes(_ORIGINAL), {"": "x"})


def test_inject_none_value() -> None:
    """Reference 7.3 item 66: a None value is rejected with libcni's text."""
    with pytest.raises(ConfigError) as info:
        inject_conf(NetworkConfig.from_bytes(_ORIGINAL), {"test": None})
    assert str(info.value) == "key 'test' value must not be nil"


def test_inject_must_keep_a_type() -> None:
    """Reference 2.2 item 15: the result is re-parsed, so emptying `type` fails."""
    with pytest.raises(ConfigError, match="missing 'type'"):
        inject_conf(NetworkConfig.from_bytes(_ORIGINAL), {"type": ""})


@pytest.mark.parametrize("value", [{1, 2}, float("nan"), object()])
def test_inject_unserialisable_value(value: object) -> None:
    """Reference 2.2 item 15: a value that is not JSON is a ConfigError, not a TypeError."""
    with pytest.raises(ConfigError):
        inject_conf(NetworkConfig.from_bytes(_ORIGINAL), {"test": value})


def test_inject_wrongly_typed_known_field() -> None:
    """Reference 2.1 item 3: injecting a mistyped typed field fails on the re-parse."""
    with pytest.raises(ConfigError) as info:
        inject_conf(NetworkConfig.from_bytes(_ORIGINAL), {"capabilities": {"x": "yes"}})
    assert info.value.field == "capabilities"


# --------------------------------------------------------------------------------------------
# conf_list_from_conf
# --------------------------------------------------------------------------------------------


def test_conf_list_from_conf() -> None:
    """Reference 7.3 item 68 and 2.2 item 14: one-plugin list; re-parsing its bytes is identical."""
    conf = NetworkConfig.from_bytes(b'{"name":"some-plugin","cniVersion":"0.3.1","type":"foobar"}')
    conf_list = conf_list_from_conf(conf)
    assert conf_list.name == "some-plugin"
    assert conf_list.cni_version == "0.3.1"
    assert [p.raw for p in conf_list.plugins] == [conf.raw]
    assert conf_list.plugins[0].type == "foobar"
    assert (conf_list.disable_check, conf_list.disable_gc) == (False, False)
    assert json.loads(conf_list.bytes) == {
        "name": "some-plugin",
        "cniVersion": "0.3.1",
        "plugins": [{"name": "some-plugin", "cniVersion": "0.3.1", "type": "foobar"}],
    }
    again = NetworkConfigList.from_bytes(conf_list.bytes)
    assert again == conf_list


def test_conf_list_from_conf_without_version() -> None:
    """Reference 2.2 item 14: a conf without cniVersion gives a list with `"cniVersion": ""`."""
    conf_list = conf_list_from_conf(NetworkConfig.from_bytes(b'{"type":"x","name":"n"}'))
    assert conf_list.cni_version == ""
    assert json.loads(conf_list.bytes)["cniVersion"] == ""


def test_conf_list_from_conf_keeps_unknown_keys() -> None:
    """Reference 1.4 item 18: unknown keys survive the conversion."""
    conf = NetworkConfig.from_bytes(b'{"type":"x","name":"n","mtu":1400,"extra":{"a":[1]}}')
    plugin = conf_list_from_conf(conf).plugins[0]
    assert plugin.raw == conf.raw
    assert plugin.bytes == b'{"extra":{"a":[1]},"mtu":1400,"name":"n","type":"x"}'


def test_models_are_frozen_and_hashable() -> None:
    """Reference 2.1 items 1-2: configurations are immutable values usable as dict keys."""
    conf = NetworkConfig.from_bytes(_ORIGINAL)
    same = NetworkConfig.from_bytes(_ORIGINAL)
    assert conf == same
    assert hash(conf) == hash(same)
    conf_list = conf_list_from_conf(conf)
    assert {conf_list: 1}[conf_list_from_conf(same)] == 1
    with pytest.raises(AttributeError):
        conf.type = "other"  # type: ignore[misc]
