"""Property tests: unknown fields survive loading; loaders raise nothing but PycniError."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from json_equal import same_json

from pycni.config import (
    NetworkConfig,
    NetworkConfigList,
    conf_list_from_conf,
    inject_conf,
    load_conf,
    load_conf_list,
    scan_conf_dir,
)
from pycni.errors import PycniError

TYPED_PLUGIN_KEYS = {
    "type",
    "name",
    "cniVersion",
    "capabilities",
    "ipam",
    "dns",
    "prevResult",
    "cni.dev/valid-attachments",
}
LIST_KEYS = ["name", "cniVersion", "cniVersions", "disableCheck", "disableGC"]
LIST_KEYS += ["loadOnlyInlinedPlugins", "plugins"]

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
unknown_keys = st.text(max_size=10).filter(lambda k: k not in TYPED_PLUGIN_KEYS)
plugin_objects = st.builds(
    lambda extra, plugin_type: {**extra, "type": plugin_type},
    st.dictionaries(unknown_keys, json_values, max_size=5),
    st.text(min_size=1, max_size=10),
)

SETTINGS = settings(max_examples=200, deadline=None)


@SETTINGS
@given(plugin_objects)
def test_plugin_round_trip(obj: dict[str, Any]) -> None:
    """Reference 1.4 item 18: any object with a string type keeps unknown fields and its bytes."""
    data = json.dumps(obj).encode()
    conf = NetworkConfig.from_bytes(data)
    assert conf.raw == obj
    assert conf.bytes == data
    assert conf.type == obj["type"]


@SETTINGS
@given(st.lists(plugin_objects, min_size=1, max_size=4), st.text(max_size=10))
def test_conflist_keeps_plugin_fields(plugins: list[dict[str, Any]], name: str) -> None:
    """Reference 2.2 item 8.9: each plugin's unknown fields survive; bytes re-parse to it."""
    data = json.dumps({"name": name, "cniVersion": "1.0.0", "plugins": plugins}).encode()
    conf = NetworkConfigList.from_bytes(data)
    assert conf.bytes == data
    # plugin bytes are re-serialised as Go does (floats as Go writes a float64)
    assert same_json([p.raw for p in conf.plugins], plugins)
    assert same_json([json.loads(p.bytes) for p in conf.plugins], plugins)


@SETTINGS
@given(plugin_objects)
def test_conf_list_from_conf_and_inject_keep_fields(obj: dict[str, Any]) -> None:
    """Reference 2.2 items 14-15: conversion and injection keep the unknown fields."""
    conf = NetworkConfig.from_bytes(json.dumps(obj))
    assert same_json(conf_list_from_conf(conf).plugins[0].raw, obj)
    injected = inject_conf(conf, {"x-injected": [1, "a"]})
    assert same_json(injected.raw, {**obj, "x-injected": [1, "a"]})


# --------------------------------------------------------------------------------------------
# Every loader raises only PycniError
# --------------------------------------------------------------------------------------------

# Documents shaped like configurations, with arbitrary values in the known places, so that the
# typed-field checks see wrong types, nulls and odd nesting rather than only garbage.
plugin_like = st.dictionaries(
    st.sampled_from(sorted(TYPED_PLUGIN_KEYS)) | st.text(max_size=4), json_values, max_size=5
)
list_like = st.fixed_dictionaries(
    {},
    optional={
        "name": st.text(max_size=4) | json_values,
        "cniVersion": st.sampled_from(["", "1.0.0", "1.2.3", "x"]) | json_values,
        "cniVersions": st.lists(st.sampled_from(["0.4.0", "9.0.0", "1.0", "a.b"]), max_size=3)
        | json_values,
        "disableCheck": st.sampled_from(["true", "False", "no"]) | json_values,
        "disableGC": json_values,
        "loadOnlyInlinedPlugins": st.booleans() | json_values,
        "plugins": st.lists(plugin_like | json_values, max_size=3) | json_values,
    },
)
documents = st.one_of(
    st.binary(max_size=64),
    json_values.map(lambda v: json.dumps(v).encode()),
    plugin_like.map(lambda v: json.dumps(v).encode()),
    list_like.map(lambda v: json.dumps(v).encode()),
    list_like.map(lambda v: json.dumps(v).encode()[:-1]),
    st.sampled_from(
        [
            b'{"type":"x","mtu":1e400}',
            b'{"name":"n","plugins":[{"type":"x","v":1e999}]}',
            b'{"name":"n","plugins":[{"type":"x","s":"\\udc00"}]}',
            b'{"type":"x"}\x00',
            b"\xef\xbb\xbf{}",
            b"[" * 5000,
            b'{"name":' * 3000,
        ]
    ),
)


def _only_pycni_errors(call: Callable[[], object]) -> None:
    with contextlib.suppress(PycniError):
        call()


@SETTINGS
@given(documents)
def test_bytes_loaders_raise_only_pycni_errors(data: bytes) -> None:
    """Reference 11 item 28: from_bytes of either model raises nothing but PycniError."""
    _only_pycni_errors(lambda: NetworkConfig.from_bytes(data))
    _only_pycni_errors(lambda: NetworkConfigList.from_bytes(data))
    _only_pycni_errors(lambda: conf_list_from_conf(NetworkConfig.from_bytes(data)))


@settings(max_examples=100, deadline=None)
@given(documents, documents)
def test_file_and_dir_loaders_raise_only_pycni_errors(data: bytes, sub: bytes) -> None:
    """Reference 11 items 26-28: file and directory loaders raise nothing but PycniError."""
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        (root / "10-x.conflist").write_bytes(data)
        (root / "20-x.conf").write_bytes(data)
        (root / "n").mkdir()
        (root / "n" / "p.conf").write_bytes(sub)
        (root / "30-n.conflist").write_bytes(b'{"name":"n"}')
        _only_pycni_errors(lambda: NetworkConfig.from_file(root / "20-x.conf"))
        _only_pycni_errors(lambda: NetworkConfigList.from_file(root / "10-x.conflist"))
        _only_pycni_errors(lambda: NetworkConfigList.from_file(root / "30-n.conflist"))
        _only_pycni_errors(lambda: load_conf(directory, "n"))
        _only_pycni_errors(lambda: load_conf_list(directory, "n"))
        scan = scan_conf_dir(directory)  # forgiving: never raises for content
        assert len(scan.networks) + len(scan.failures) == 3
        assert all(isinstance(f.error, PycniError) for f in scan.failures)
        assert all(f.path.startswith(os.path.join(directory, "")) for f in scan.failures)
