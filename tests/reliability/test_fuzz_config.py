"""Fuzzing the configuration parsers: conf and conflist bytes, and conf directories full of odd
files. Only :class:`~pycni.errors.PycniError` subclasses may escape, each with a message, and a
configuration that loads must be usable by every verb without anything else escaping (issue 10,
"Bad input")."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from json_equal import same_json
from reliability_strategies import conflist_docs, document_bytes, encode, json_values, plugin_docs
from reliability_support import (
    FUZZ,
    InProcessExecutor,
    drop_dac_override,
    ok_handler,
    only_pycni_errors,
)

import pycni
from pycni.config import MAX_CONFIG_SIZE
from pycni.errors import ConfigError, PycniError

# --------------------------------------------------------------------------------------------
# bytes
# --------------------------------------------------------------------------------------------


@FUZZ
@given(data=document_bytes(plugin_docs))
def test_fuzz_conf_bytes(data: bytes) -> None:
    """A single-plugin conf either loads (keeping its bytes, with a non-empty type) or fails with
    a ConfigError; the conversions built on it fail only with PycniError."""
    conf = only_pycni_errors(pycni.NetworkConfig.from_bytes, data)
    if isinstance(conf, PycniError):
        assert isinstance(conf, ConfigError)
        return
    assert conf.bytes == data
    assert isinstance(conf.type, str) and conf.type
    assert isinstance(conf.name, str) and isinstance(conf.cni_version, str)
    only_pycni_errors(pycni.conf_list_from_conf, conf)
    only_pycni_errors(pycni.inject_conf, conf, {"injected": {"a": [1, "b"]}})


@FUZZ
@given(data=document_bytes(conflist_docs))
def test_fuzz_conflist_bytes(data: bytes) -> None:
    """A conflist either loads with a well-typed view or fails with a ConfigError."""
    conf = only_pycni_errors(pycni.NetworkConfigList.from_bytes, data)
    if isinstance(conf, PycniError):
        assert isinstance(conf, ConfigError)
        return
    assert conf.bytes == data
    assert isinstance(conf.name, str) and isinstance(conf.cni_version, str)
    assert all(isinstance(p.type, str) and p.type for p in conf.plugins)
    assert isinstance(conf.disable_check, bool) and isinstance(conf.disable_gc, bool)


@FUZZ
@given(text=st.text(max_size=40))
def test_fuzz_config_text_input(text: str) -> None:
    """``str`` input (lone surrogates included) behaves like bytes: loads or ConfigError."""
    for parse in (pycni.NetworkConfig.from_bytes, pycni.NetworkConfigList.from_bytes):
        result = only_pycni_errors(parse, text)
        assert not isinstance(result, PycniError) or isinstance(result, ConfigError)


@FUZZ
@given(
    doc=conflist_docs,
    container_id=st.sampled_from(["c1", "", "../c", "c\n", "a" * 300]) | st.text(max_size=8),
    ifname=st.sampled_from(["eth0", "", "..", "a/b", "0123456789abcdef"]) | st.text(max_size=8),
    caps=st.dictionaries(st.sampled_from(["portMappings", "mac", "x"]), json_values, max_size=2),
    args=st.lists(st.tuples(st.text(max_size=5), st.text(max_size=5)), max_size=3),
)
def test_fuzz_accepted_config_drives_every_verb(
    tmp_path: Path,
    doc: dict[str, Any],
    container_id: str,
    ifname: str,
    caps: dict[str, Any],
    args: list[tuple[str, str]],
) -> None:
    """Whatever the parser accepts, ADD/CHECK/DEL/GC/STATUS/validate raise only PycniError."""
    conf = only_pycni_errors(pycni.NetworkConfigList.from_bytes, encode(doc))
    if isinstance(conf, PycniError):
        return
    cni = pycni.CNIConfig(
        path=["/fake"],
        cache_dir=tmp_path / "cache",
        executor=InProcessExecutor({"*": ok_handler}),
    )
    rt = pycni.RuntimeConf(container_id, "/var/run/netns/x", ifname, args, caps)
    for verb in (cni.add_network_list, cni.check_network_list, cni.del_network_list):
        only_pycni_errors(verb, conf, rt, timeout=5)
    only_pycni_errors(cni.gc_network_list, conf, pycni.GCArgs([(container_id, ifname)]))
    only_pycni_errors(cni.get_status_network_list, conf)
    only_pycni_errors(cni.validate_network_list, conf)
    only_pycni_errors(cni.get_network_list_cached_result, conf, rt)
    only_pycni_errors(cni.get_network_list_cached_config, conf, rt)
    for plugin in conf.plugins:
        for single in (cni.add_network, cni.check_network, cni.del_network):
            only_pycni_errors(single, plugin, rt)
        only_pycni_errors(cni.validate_network, plugin)


def test_every_nesting_depth_loads_or_fails_cleanly(tmp_path: Path) -> None:
    """Nesting from 1 to 1,200 levels (past the parser's limit, which depends on the stack):
    each depth loads or gives a ConfigError, and the deepest configs that load run ADD with
    nothing but PycniError escaping (at one depth ADD used to raise RecursionError)."""
    cni = pycni.CNIConfig(
        path=["/fake"], cache_dir=tmp_path, executor=InProcessExecutor({"*": ok_handler})
    )
    rt = pycni.RuntimeConf("c1", "/var/run/netns/x", "eth0")
    loaded = []
    for depth in range(1, 1200):
        value = "[" * depth + "]" * depth
        data = f'{{"cniVersion":"1.0.0","name":"n","plugins":[{{"type":"x","v":{value}}}]}}'
        conf = only_pycni_errors(pycni.NetworkConfigList.from_bytes, data.encode())
        if isinstance(conf, PycniError):
            assert isinstance(conf, ConfigError), (depth, repr(conf))
        else:
            loaded.append(conf)
    assert loaded, "shallow configs must load"
    for conf in loaded[-30:]:
        only_pycni_errors(cni.add_network_list, conf, rt)
    # The limit depends on the Python version (3.13 parses far deeper than 3.11); a document
    # deeper than any of them is a clean ConfigError everywhere.
    deep = "[" * 100_000 + "]" * 100_000
    data = f'{{"cniVersion":"1.0.0","name":"n","plugins":[{{"type":"x","v":{deep}}}]}}'
    with pytest.raises(ConfigError, match="max depth"):
        pycni.NetworkConfigList.from_bytes(data.encode())


# --------------------------------------------------------------------------------------------
# conf directories with odd files
# --------------------------------------------------------------------------------------------

KINDS = [
    "conflist",
    "conf",
    "fuzz",
    "empty",
    "binary",
    "huge",
    "loop",
    "dangling",
    "dirlink",
    "dir",
    "fifo",
    "zero",
    "subdir-plugin",
]
_VALID_LIST = {"cniVersion": "1.0.0", "plugins": [{"type": "bridge"}]}


def _make(directory: Path, name: str, kind: str, payload: bytes, net: str) -> None:
    path = directory / name
    if os.path.lexists(path):
        return
    if kind == "conflist":
        path.write_bytes(encode({**_VALID_LIST, "name": net}))
    elif kind == "conf":
        path.write_bytes(encode({"cniVersion": "1.0.0", "name": net, "type": "bridge"}))
    elif kind in ("fuzz", "binary"):
        path.write_bytes(payload)
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "huge":
        with open(path, "wb") as f:
            f.truncate(MAX_CONFIG_SIZE + 1)
    elif kind == "loop":
        path.symlink_to(name)
    elif kind == "dangling":
        path.symlink_to(directory / "does-not-exist")
    elif kind == "dirlink":
        path.symlink_to(directory)
    elif kind == "dir":
        path.mkdir()
        (path / "inner.conf").write_bytes(b"{}")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "zero":
        path.symlink_to("/dev/zero")
    elif kind == "subdir-plugin":
        sub = directory / net
        if os.path.lexists(sub) and not sub.is_dir():
            return  # a file of that name was generated first
        sub.mkdir(exist_ok=True)
        if not os.path.lexists(sub / name):
            (sub / name).write_bytes(payload)


entries = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "10-x", "z", "net", ".hidden", "é", "a b"]),
        st.sampled_from([".conf", ".conflist", ".json", ".txt", ""]),
        st.sampled_from(KINDS),
        document_bytes(conflist_docs | plugin_docs),
        st.sampled_from(["net", "other", "", "../up"]),
    ),
    max_size=6,
)


@FUZZ
@given(files=entries, wanted=st.sampled_from(["net", "other", "missing", ""]))
def test_fuzz_conf_dir(tmp_path: Path, files: list[Any], wanted: str) -> None:
    """Directory loading over empty, binary, huge, looping, dangling, FIFO and directory entries:
    every lookup ends in a network or a ConfigError, never a hang or another exception;
    ``scan_conf_dir`` never raises and accounts for every config file."""
    scratch = Path(tempfile.mkdtemp(dir=tmp_path))
    try:
        _check_conf_dir(scratch / "conf", files, wanted)
    finally:
        shutil.rmtree(scratch)


def _check_conf_dir(directory: Path, files: list[Any], wanted: str) -> None:
    directory.mkdir()
    for base, ext, kind, payload, net in files:
        _make(directory, base + ext, kind, payload, net)
    found = only_pycni_errors(pycni.conf_files, directory, [".conf", ".conflist", ".json"])
    if not isinstance(found, PycniError):
        assert all(str(p).startswith(str(directory)) for p in found)
    for load in (pycni.load_conf, pycni.load_conf_list):
        loaded = only_pycni_errors(load, directory, wanted)
        assert isinstance(loaded, ConfigError) or loaded.name == wanted
    scan = pycni.scan_conf_dir(directory)
    named = {n.path for n in scan.networks} | {f.path for f in scan.failures}
    if not isinstance(found, PycniError):
        assert {str(p) for p in found} <= named
    for failure in scan.failures:
        assert isinstance(failure.error, PycniError) and str(failure.error)


def test_conf_dir_that_is_a_file_or_missing(tmp_path: Path) -> None:
    """A conf dir path that is a file, a symlink loop or missing is a ConfigError naming it."""
    afile = tmp_path / "file"
    afile.write_text("{}")
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    for directory in (afile, loop, tmp_path / "missing", tmp_path / "nul\x00"):
        for load in (pycni.load_conf, pycni.load_conf_list):
            with pytest.raises(ConfigError) as info:
                load(directory, "net")
            assert str(info.value)
        assert isinstance(pycni.scan_conf_dir(directory), pycni.ConfDirScan)


UNREADABLE_CHECK = textwrap.dedent(
    """
    import sys, pycni
    directory = sys.argv[1]
    try:
        pycni.load_conf_list(directory, "net")
    except pycni.ConfigError as exc:
        print("ConfigError:", exc)
    scan = pycni.scan_conf_dir(directory)
    print("failures:", len(scan.failures), [str(f.error) for f in scan.failures])
    """
)


def test_unreadable_conf_file(tmp_path: Path) -> None:
    """An unreadable file (root runs the check without CAP_DAC_OVERRIDE, so modes apply) is a
    ConfigError naming the file, and the scan reports it without hiding the readable network."""
    secret = tmp_path / "00-secret.conflist"
    secret.write_bytes(encode({**_VALID_LIST, "name": "net"}))
    secret.chmod(0o000)
    (tmp_path / "10-ok.conflist").write_bytes(encode({**_VALID_LIST, "name": "ok"}))
    out = subprocess.run(
        [sys.executable, "-c", UNREADABLE_CHECK, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        preexec_fn=drop_dac_override if os.geteuid() == 0 else None,
    )
    assert out.returncode == 0, out.stderr
    assert f"error reading {secret}" in out.stdout
    assert "permission denied" in out.stdout
    assert "failures: 1" in out.stdout


@FUZZ
@given(values=st.dictionaries(st.text(max_size=6), json_values, max_size=3))
def test_fuzz_inject_conf(values: dict[str, Any]) -> None:
    """``inject_conf`` with any keys and JSON values: a new conf or a ConfigError."""
    conf = pycni.NetworkConfig.from_bytes(b'{"type":"bridge","name":"n","cniVersion":"1.0.0"}')
    result = only_pycni_errors(pycni.inject_conf, conf, values)
    if not isinstance(result, PycniError):
        doc = json.loads(result.bytes)
        assert all(same_json(doc[k], v) for k, v in values.items() if k)
