"""The network configuration list: NetworkConfigList.from_bytes / from_file (libcni conf.go)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pycni.config import NetworkConfigList
from pycni.errors import ConfigError

CONFLIST = b"""{
  "name": "some-network",
  "cniVersion": "0.2.0",
  "disableCheck": true,
  "plugins": [
    {"type": "host-local", "subnet": "10.0.0.1/24"},
    {"type": "bridge", "mtu": 1400},
    {"type": "port-forwarding", "ports": {"20.0.0.1:8080": "80"}}
  ]
}"""


def _parse(doc: dict[str, Any]) -> NetworkConfigList:
    return NetworkConfigList.from_bytes(json.dumps(doc).encode())


def _error(doc: dict[str, Any] | bytes) -> ConfigError:
    data = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    with pytest.raises(ConfigError) as info:
        NetworkConfigList.from_bytes(data, path="/net.d/x.conflist")
    assert info.value.path == "/net.d/x.conflist"
    return info.value


def test_full_list() -> None:
    """Reference 7.3 item 60 and 2.2 item 8.9: sorted-key plugin bytes; list bytes unchanged."""
    conf = NetworkConfigList.from_bytes(CONFLIST)
    assert conf.name == "some-network"
    assert conf.cni_version == "0.2.0"
    assert conf.cni_versions is None
    assert conf.disable_check is True
    assert conf.disable_gc is False
    assert conf.load_only_inlined_plugins is False
    assert conf.bytes == CONFLIST
    assert [p.bytes for p in conf.plugins] == [
        b'{"subnet":"10.0.0.1/24","type":"host-local"}',
        b'{"mtu":1400,"type":"bridge"}',
        b'{"ports":{"20.0.0.1:8080":"80"},"type":"port-forwarding"}',
    ]
    assert [p.type for p in conf.plugins] == ["host-local", "bridge", "port-forwarding"]
    assert conf.raw["plugins"][1] == {"type": "bridge", "mtu": 1400}


def test_unknown_top_level_keys_are_kept() -> None:
    """Reference 2.2 item 8.10: unknown top-level keys are ignored but kept in raw and bytes."""
    data = b'{"name":"n","plugins":[{"type":"x"}],"owner":"ops","Name":"other"}'
    conf = NetworkConfigList.from_bytes(data)
    assert conf.raw["owner"] == "ops"
    assert conf.name == "n"
    assert conf.bytes == data


def test_plugin_bytes_escape_nothing_and_keep_unicode() -> None:
    """Reference 2.2 item 8.9: plugin bytes are compact sorted JSON, semantically the element."""
    conf = _parse({"name": "n", "plugins": [{"z": "<&>", "type": "x", "a": {"b": 1, "a": 2}}]})
    element = conf.plugins[0]
    assert json.loads(element.bytes) == {"z": "<&>", "type": "x", "a": {"b": 1, "a": 2}}
    assert element.bytes.startswith(b'{"a":{"a":2,"b":1},"type":"x"')


def test_no_name() -> None:
    """Reference 2.2 item 8.2 and 11 item 25: `name` must be present."""
    err = _error({"cniVersion": "1.0.0", "plugins": [{"type": "x"}]})
    assert err.message == "error parsing configuration list: no name"
    assert err.field == "name"


def test_null_document_has_no_name() -> None:
    """Reference 2.2 item 8.1-8.2: `null` decodes to an empty map in Go, hence `no name`."""
    assert _error(b"null").message == "error parsing configuration list: no name"


@pytest.mark.parametrize(
    ("value", "go_type"), [(None, "<nil>"), (5, "float64"), ([], "[]interface {}")]
)
def test_invalid_name_type(value: Any, go_type: str) -> None:
    """Reference 2.2 item 8.2: a non-string name is `invalid name type <T>`."""
    err = _error({"name": value, "plugins": [{"type": "x"}]})
    assert err.message == f"error parsing configuration list: invalid name type {go_type}"


def test_empty_name_is_accepted() -> None:
    """Reference 11 item 25: an empty name is accepted at load time."""
    assert _parse({"name": "", "plugins": [{"type": "x"}]}).name == ""


@pytest.mark.parametrize(("value", "go_type"), [(None, "<nil>"), (1.0, "float64"), (True, "bool")])
def test_invalid_cni_version_type(value: Any, go_type: str) -> None:
    """Reference 2.2 item 8.3: a non-string cniVersion is `invalid cniVersion type <T>`."""
    err = _error({"name": "n", "cniVersion": value, "plugins": [{"type": "x"}]})
    assert err.message == f"error parsing configuration list: invalid cniVersion type {go_type}"
    assert err.field == "cniVersion"


def test_top_level_array() -> None:
    """Reference 2.2 item 8.1: a top-level array is a JSON type error."""
    err = _error(b"[]")
    assert err.message == (
        "error parsing configuration list: json: cannot unmarshal array "
        "into Go value of type map[string]interface {}"
    )


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"{", "unexpected end of JSON input"),
        (b"", "unexpected end of JSON input"),
        (b'{"name":"n","plugins":[{"type":"x","mtu":NaN}]}', "NaN"),
        (b'{"name":"n","plugins":[{"type":"x"}]}\n{}', "trailing data"),
        (b'\xef\xbb\xbf{"name":"n","plugins":[{"type":"x"}]}', "BOM"),
    ],
)
def test_strict_json(data: bytes, fragment: str) -> None:
    """Reference 11 item 28: strict JSON for lists, with the list prefix and the file named."""
    err = _error(data)
    assert err.message.startswith("error parsing configuration list: ")
    assert fragment in err.message
    assert "/net.d/x.conflist" in str(err)


# --------------------------------------------------------------------------------------------
# cniVersion / cniVersions
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"cniVersions": ["1.1.0", "0.4.0", "1.0.0"]}, "1.1.0"),
        ({"cniVersions": ["99.0.0", "1.1.0", "0.4.0", "1.0.0"]}, "1.1.0"),
        ({"cniVersion": "1.2.3"}, "1.2.3"),
        ({"cniVersion": "1.0.0", "cniVersions": ["0.1.0", "0.4.0"]}, "1.0.0"),
        ({"cniVersions": []}, ""),
        ({"cniVersion": "0.3.1", "cniVersions": []}, "0.3.1"),
        ({"cniVersions": ["99.0.0"]}, ""),
        ({"cniVersion": "2.0.0", "cniVersions": ["9.9.9"]}, "2.0.0"),
        ({"cniVersion": "2.0.0", "cniVersions": ["0.4.0"]}, "0.4.0"),
        ({}, ""),
    ],
)
def test_version_selection(extra: dict[str, Any], expected: str) -> None:
    """Reference 7.3 item 67, 2.2 items 8.4-8.5 and 11 item 25: highest supported version wins."""
    conf = _parse({"name": "test", **extra, "plugins": [{"type": "foo"}]})
    assert conf.cni_version == expected
    if "cniVersions" in extra:
        assert conf.cni_versions == tuple(extra["cniVersions"])
    else:
        assert conf.cni_versions is None


def test_invalid_cni_versions_entry() -> None:
    """Reference 7.3 item 67: an unparsable cniVersions entry is an error naming the entry."""
    err = _error({"name": "test", "cniVersions": ["1.1.0", "0.4.0", "1.0.f"], "plugins": []})
    assert err.message.startswith(
        "error parsing configuration list: invalid cniVersions entry 1.0.f at index 2: "
    )
    assert err.field == "cniVersions"


def test_cni_versions_not_a_list() -> None:
    """Reference 2.2 item 8.4: the type error always names `[]interface {}` (libcni quirk)."""
    err = _error({"name": "n", "cniVersions": "1.0.0"})
    assert (
        err.message
        == "error parsing configuration list: invalid type for cniVersions: []interface {}"
    )


def test_cni_versions_entry_not_a_string() -> None:
    """Reference 2.2 item 8.4: a non-string entry is `invalid type for cniVersions index <i>`."""
    err = _error({"name": "n", "cniVersions": ["1.0.0", 1]})
    assert err.message == (
        "error parsing configuration list: invalid type for cniVersions index 1: float64"
    )


def test_invalid_cni_version_with_cni_versions() -> None:
    """Reference 2.2 item 8.4: with cniVersions present, cniVersion itself is parsed."""
    err = _error({"name": "n", "cniVersion": "x.y", "cniVersions": ["1.0.0"]})
    assert err.message.startswith("error parsing configuration list: invalid cniVersion x.y: ")


def test_with_cni_version() -> None:
    """Version negotiation: the same list with another selected version; nothing else changes."""
    conf = _parse({"name": "n", "cniVersions": ["1.1.0", "1.0.0"], "plugins": [{"type": "x"}]})
    lowered = conf.with_cni_version("1.0.0")
    assert lowered.cni_version == "1.0.0"
    assert conf.cni_version == "1.1.0"
    assert (lowered.plugins, lowered.bytes, lowered.cni_versions) == (
        conf.plugins,
        conf.bytes,
        conf.cni_versions,
    )


# --------------------------------------------------------------------------------------------
# Flags
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["disableCheck", "disableGC", "loadOnlyInlinedPlugins"])
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        ("true", True),
        ("false", False),
        ("TRUE", True),
        ("False", False),
    ],
)
def test_bool_flags(key: str, value: Any, expected: bool) -> None:
    """Reference 7.3 items 63-64 and 2.2 item 8.6: JSON bools or case-insensitive strings."""
    conf = _parse({"name": "n", key: value, "plugins": [{"type": "x"}]})
    attribute = {
        "disableCheck": "disable_check",
        "disableGC": "disable_gc",
        "loadOnlyInlinedPlugins": "load_only_inlined_plugins",
    }[key]
    assert getattr(conf, attribute) is expected


def test_flags_default_false() -> None:
    """Reference 7.3 item 64 and 2.2 item 8.6: absent flags are false."""
    conf = _parse({"name": "n", "plugins": [{"type": "x"}]})
    assert (conf.disable_check, conf.disable_gc, conf.load_only_inlined_plugins) == (
        False,
        False,
        False,
    )


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("disableCheck", "adsfasdfasf", "adsfasdfasf"),
        ("loadOnlyInlinedPlugins", "sphagnum", "sphagnum"),
        ("disableGC", "YES", "yes"),
    ],
)
def test_bool_flag_invalid_value(key: str, value: str, shown: str) -> None:
    """Reference 7.3 items 63-64 and 11 item 25: the message shows the lower-cased value."""
    err = _error({"name": "n", key: value, "plugins": [{"type": "x"}]})
    assert err.message == f'error parsing configuration list: invalid value "{shown}" for {key}'
    assert err.field == key


@pytest.mark.parametrize(
    ("value", "go_type"), [(None, "<nil>"), (1, "float64"), ({}, "map[string]interface {}")]
)
def test_bool_flag_invalid_type(value: Any, go_type: str) -> None:
    """Reference 2.2 item 8.6: null, numbers and others are `invalid type <T> for <key>`."""
    err = _error({"name": "n", "disableGC": value, "plugins": [{"type": "x"}]})
    assert err.message == f"error parsing configuration list: invalid type {go_type} for disableGC"


def test_bool_flags_first_failure_wins() -> None:
    """Reference 2.2 item 8.6: flags are checked in order disableCheck, disableGC, loadOnly..."""
    err = _error({"name": "n", "loadOnlyInlinedPlugins": "a", "disableGC": "b", "plugins": []})
    assert err.field == "disableGC"


# --------------------------------------------------------------------------------------------
# plugins
# --------------------------------------------------------------------------------------------


def test_no_plugins_key_is_an_empty_chain() -> None:
    """Reference 2.2 item 8.7: without `plugins` (and the flag false) the chain is empty."""
    conf = _parse({"name": "n", "cniVersion": "1.0.0"})
    assert conf.plugins == ()


def test_load_only_inlined_without_plugins() -> None:
    """Reference 7.3 item 64 and 2.2 item 8.7: the flag without `plugins` is an error."""
    err = _error({"name": "n", "loadOnlyInlinedPlugins": True})
    assert err.message == (
        "error parsing configuration list: `loadOnlyInlinedPlugins` is true, and no 'plugins' key"
    )


@pytest.mark.parametrize(
    ("value", "go_type"), [(None, "<nil>"), ({}, "map[string]interface {}"), ("x", "string")]
)
def test_plugins_wrong_type(value: Any, go_type: str) -> None:
    """Reference 2.2 item 8.8: `plugins` must be an array."""
    err = _error({"name": "n", "plugins": value})
    assert err.message == f"error parsing configuration list: invalid 'plugins' type {go_type}"


def test_plugins_empty() -> None:
    """Reference 2.2 item 8.8: an empty `plugins` array is an error."""
    assert _error({"name": "n", "plugins": []}).message == (
        "error parsing configuration list: no plugins in list"
    )


def test_plugin_without_type() -> None:
    """Reference 2.2 item 8.8: element errors say which (0-based) plugin failed."""
    err = _error({"name": "n", "plugins": [{"type": "x"}, {"name": "no-type"}]})
    assert err.message == (
        "failed to parse plugin config 1: error parsing configuration: missing 'type'"
    )
    assert err.field == "plugins[1].type"


def test_plugin_null_element() -> None:
    """Reference 2.2 item 8.8: a null element gives `missing 'type'`."""
    err = _error({"name": "n", "plugins": [None]})
    assert (
        err.message
        == "failed to parse plugin config 0: error parsing configuration: missing 'type'"
    )


def test_plugin_non_object_element() -> None:
    """Reference 2.2 item 8.8: a non-object element is a JSON type error."""
    err = _error({"name": "n", "plugins": [{"type": "x"}, 5]})
    assert err.message.startswith(
        "failed to parse plugin config 1: "
        "error parsing configuration: json: cannot unmarshal number"
    )


def test_plugin_mistyped_field() -> None:
    """Reference 2.1 item 3: a mistyped typed field in an element names plugin and field."""
    err = _error({"name": "n", "plugins": [{"type": "x", "capabilities": {"x": "yes"}}]})
    assert err.message.startswith(
        "failed to parse plugin config 0: error parsing configuration: json:"
    )
    assert err.field == "plugins[0].capabilities"


def test_plugin_out_of_range_number() -> None:
    """Reference 11 item 28: a number that does not fit a float64 is rejected, not crashed on."""
    with pytest.raises(ConfigError):
        NetworkConfigList.from_bytes(b'{"name":"n","plugins":[{"type":"x","mtu":1e400}]}')


def test_plugin_with_lone_surrogate_escape() -> None:
    """Reference 2.2 item 8.9 and issue 21 item 2: an escaped lone surrogate is U+FFFD, as in Go,
    and the plugin bytes are valid UTF-8."""
    conf = NetworkConfigList.from_bytes(b'{"name":"n","plugins":[{"type":"x","s":"\\ud800"}]}')
    assert conf.plugins[0].bytes == '{"s":"\ufffd","type":"x"}'.encode()


def test_invalid_utf8_in_a_list_is_replaced() -> None:
    """Issue 21 item 2: invalid bytes in strings become U+FFFD, in the list and its plugins."""
    conf = NetworkConfigList.from_bytes(b'{"name":"n\xc3","plugins":[{"type":"x","s":"\xff"}]}')
    assert conf.name == "n\ufffd"
    assert conf.plugins[0].raw["s"] == "\ufffd"


def test_plugins_keep_list_path() -> None:
    """Plugins parsed from a list remember the list's file."""
    conf = NetworkConfigList.from_bytes(CONFLIST, path="/net.d/50.conflist")
    assert {p.path for p in conf.plugins} == {"/net.d/50.conflist"}


# --------------------------------------------------------------------------------------------
# from_file and sub-directory plugins
# --------------------------------------------------------------------------------------------


def _write(path: Path, doc: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


def test_from_file_missing() -> None:
    """Reference 7.3 item 65 and 2.2 item 9: a missing file is `error reading <path>: open ...`."""
    with pytest.raises(ConfigError) as info:
        NetworkConfigList.from_file("/tmp/nope/not-here")
    assert str(info.value).startswith("error reading /tmp/nope/not-here: open /tmp/nope/not-here")


def test_from_file_bytes_are_the_file(tmp_path: Path) -> None:
    """Reference 2.1 item 2: a loaded list's bytes are the file's bytes."""
    path = tmp_path / "50-whatever.conflist"
    path.write_bytes(CONFLIST)
    conf = NetworkConfigList.from_file(path)
    assert conf.bytes == CONFLIST
    assert conf.path == str(path)


def test_subdir_plugin_without_inline_plugins(tmp_path: Path) -> None:
    """Reference 7.3 item 64: no inline plugins, one sub-directory plugin -> 1 plugin."""
    path = _write(tmp_path / "net.conflist", {"name": "some-network", "cniVersion": "1.0.0"})
    _write(tmp_path / "some-network" / "funky-second-plugin.conf", {"type": "funky"})
    conf = NetworkConfigList.from_file(path)
    assert [p.type for p in conf.plugins] == ["funky"]
    assert conf.plugins[0].path == str(tmp_path / "some-network" / "funky-second-plugin.conf")


def test_no_plugins_anywhere(tmp_path: Path) -> None:
    """Reference 7.3 item 64 and 2.2 item 9: no inline and no sub-directory plugins is an error."""
    path = _write(tmp_path / "net.conflist", {"name": "some-network"})
    with pytest.raises(ConfigError) as info:
        NetworkConfigList.from_file(path)
    assert info.value.message == "no plugin configs found"
    assert info.value.path == str(path)


def test_no_plugins_with_empty_subdir(tmp_path: Path) -> None:
    """Reference 2.2 item 9: an empty sub-directory adds nothing, so still no plugins."""
    path = _write(tmp_path / "net.conflist", {"name": "some-network"})
    (tmp_path / "some-network").mkdir()
    with pytest.raises(ConfigError, match="no plugin configs found"):
        NetworkConfigList.from_file(path)


def test_inline_plugins_without_subdir(tmp_path: Path) -> None:
    """Reference 7.3 item 64: inline plugins and no sub-directory is fine."""
    path = _write(tmp_path / "net.conflist", {"name": "n", "plugins": [{"type": "host-local"}]})
    assert [p.type for p in NetworkConfigList.from_file(path).plugins] == ["host-local"]


def test_inline_plugins_with_empty_subdir(tmp_path: Path) -> None:
    """Reference 7.3 item 64: inline plugins plus an empty sub-directory is fine."""
    path = _write(tmp_path / "net.conflist", {"name": "n", "plugins": [{"type": "host-local"}]})
    (tmp_path / "n").mkdir()
    assert len(NetworkConfigList.from_file(path).plugins) == 1


def test_subdir_plugins_appended_in_name_order(tmp_path: Path) -> None:
    """Reference 7.3 item 64, 2.2 item 10 and 11 item 27: only .conf files, after inline, sorted."""
    path = _write(tmp_path / "net.conflist", {"name": "n", "plugins": [{"type": "host-local"}]})
    sub = tmp_path / "n"
    _write(sub / "b.conf", {"type": "second"})
    _write(sub / "a.conf", {"type": "first"})
    _write(sub / "c.json", {"type": "json-ignored"})
    _write(sub / "d.conflist", {"type": "conflist-ignored"})
    _write(sub / "E.CONF", {"type": "upper-ignored"})
    _write(sub / "nested" / "x.conf", {"type": "nested-ignored"})
    (sub / "dir.conf").mkdir()
    conf = NetworkConfigList.from_file(path)
    assert [p.type for p in conf.plugins] == ["host-local", "first", "second"]
    assert conf.bytes == path.read_bytes()


def test_load_only_inlined_plugins_skips_subdir(tmp_path: Path) -> None:
    """Reference 7.3 item 64: with the flag true the sub-directory is ignored."""
    doc = {"name": "n", "loadOnlyInlinedPlugins": True, "plugins": [{"type": "host-local"}]}
    path = _write(tmp_path / "net.conflist", doc)
    _write(tmp_path / "n" / "x.conf", {"type": "extra"})
    assert [p.type for p in NetworkConfigList.from_file(path).plugins] == ["host-local"]


def test_from_bytes_never_aggregates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reference 11 item 27: bytes-level parsing does not look at any sub-directory."""
    _write(tmp_path / "n" / "x.conf", {"type": "extra"})
    monkeypatch.chdir(tmp_path)
    assert NetworkConfigList.from_bytes(b'{"name":"n"}').plugins == ()


def test_subdir_plugin_needs_no_name(tmp_path: Path) -> None:
    """Reference 2.2 item 10: sub-directory plugin files need no name or cniVersion."""
    path = _write(tmp_path / "net.conflist", {"name": "n", "cniVersion": "1.0.0"})
    _write(tmp_path / "n" / "x.conf", {"type": "extra", "mtu": 9000})
    plugin = NetworkConfigList.from_file(path).plugins[0]
    assert (plugin.name, plugin.cni_version, plugin.raw["mtu"]) == ("", "", 9000)


def test_subdir_plugin_bad_file_aborts(tmp_path: Path) -> None:
    """Reference 2.2 item 10: a bad sub-directory plugin aborts with its own error and file."""
    path = _write(tmp_path / "net.conflist", {"name": "n", "plugins": [{"type": "x"}]})
    bad = _write(tmp_path / "n" / "bad.conf", {"name": "no-type"})
    with pytest.raises(ConfigError) as info:
        NetworkConfigList.from_file(path)
    assert info.value.message == "error parsing configuration: missing 'type'"
    assert info.value.path == str(bad)


def test_regular_file_named_like_network(tmp_path: Path) -> None:
    """Reference 2.2 item 10 and 11 item 26: a regular file named like the network breaks it."""
    path = _write(tmp_path / "net.conflist", {"name": "n", "plugins": [{"type": "x"}]})
    (tmp_path / "n").write_text("not a directory")
    with pytest.raises(ConfigError) as info:
        NetworkConfigList.from_file(path)
    assert info.value.message.startswith(
        f"failed to read plugin config files in {tmp_path / 'n'}: "
    )


def test_empty_name_uses_conf_dir_itself(tmp_path: Path) -> None:
    """Reference 11 item 27: `name: ""` makes the conf dir itself the plugin directory."""
    path = _write(tmp_path / "net.conflist", {"name": "", "plugins": [{"type": "inline"}]})
    _write(tmp_path / "10-other.conf", {"type": "picked-up", "name": "other"})
    conf = NetworkConfigList.from_file(path)
    assert [p.type for p in conf.plugins] == ["inline", "picked-up"]
