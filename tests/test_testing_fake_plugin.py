"""pycni.testing's fake plugin factory: real executables that record and answer from a script.

These tests use the ``pycni`` pytest plugin's own fixtures (``fake_plugin``, ``cni``,
``cni_bin_dir``), so pycni's suite exercises the plugin it ships.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

import pycni
from pycni.errors import ChainError, PluginError
from pycni.testing import PASSTHROUGH, FakePluginFactory, Script

RESULT = {"cniVersion": "1.1.0", "ips": [{"address": "10.1.2.3/24"}]}


def conf_list(*plugins: dict[str, Any], version: str = "1.1.0") -> pycni.NetworkConfigList:
    body = {"cniVersion": version, "name": "fakenet", "plugins": list(plugins)}
    return pycni.NetworkConfigList.from_bytes(json.dumps(body).encode())


def rt(cid: str = "ctr-1", args: tuple[tuple[str, str], ...] = ()) -> pycni.RuntimeConf:
    return pycni.RuntimeConf(container_id=cid, netns="/run/netns/x", ifname="eth0", args=args)


def run(
    plugin: Path, env: dict[str, str], stdin: bytes = b""
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([str(plugin)], input=stdin, env=env, capture_output=True, check=False)


def test_plugins_are_executables_in_the_bin_dir(
    fake_plugin: FakePluginFactory, cni_bin_dir: Path
) -> None:
    """The factory writes real executable files named after the plugin into the bin dir."""
    plugin = fake_plugin("noop", result=RESULT)
    assert plugin.path == cni_bin_dir / "noop"
    assert os.access(plugin.path, os.X_OK)
    out = run(plugin.path, {"CNI_COMMAND": "ADD"}, b'{"cniVersion":"1.1.0","name":"n"}')
    assert out.returncode == 0
    assert json.loads(out.stdout) == RESULT


def test_chain_records_every_invocation(
    fake_plugin: FakePluginFactory, cni: pycni.CNIConfig
) -> None:
    """Reference 7.8 item 93 (noop): each call logs verb, CNI_* env and stdin; PASSTHROUGH echoes
    prevResult."""
    first = fake_plugin("first", result=RESULT)
    second = fake_plugin("second", result=PASSTHROUGH)
    conf = conf_list({"type": "first"}, {"type": "second", "extra": 1})
    result = cni.add_network_list(conf, rt(args=(("K8S_POD_NAME", "web-0"),)))
    assert result.to_dict() == RESULT
    (call,) = second.calls()
    assert call.command == "ADD"
    assert call.container_id == "ctr-1"
    assert call.ifname == "eth0"
    assert call.netns == "/run/netns/x"
    assert call.args == "K8S_POD_NAME=web-0"
    assert call.path == str(first.path.parent)
    assert call.config["prevResult"] == RESULT
    assert call.config["extra"] == 1
    assert json.loads(call.stdin_raw) == call.config
    cni.del_network_list(conf, rt())
    assert [c for _, c in [(n, c.command) for n, c in fake_plugin.calls()]] == [
        "ADD",
        "ADD",
        "DEL",
        "DEL",
    ]
    assert [n for n, _ in fake_plugin.calls()] == ["first", "second", "second", "first"]
    assert second.commands() == ["ADD", "DEL"]


def test_passthrough_without_prev_result(
    fake_plugin: FakePluginFactory, cni: pycni.CNIConfig
) -> None:
    """PASSTHROUGH as the first plugin prints an empty result of the config's version."""
    fake_plugin("only", result=PASSTHROUGH)
    result = cni.add_network_list(conf_list({"type": "only"}, version="0.4.0"), rt())
    assert result.cni_version == "0.4.0"
    assert not result.ips


def test_error_with_code(fake_plugin: FakePluginFactory, cni: pycni.CNIConfig) -> None:
    """An error script prints the spec error object and exits 1; the runtime sees its code."""
    plugin = fake_plugin("bad", error=(11, "try again later", "busy"))
    with pytest.raises(ChainError) as info:
        cni.add_network_list(conf_list({"type": "bad"}), rt())
    assert (info.value.code, info.value.msg, info.value.details) == (11, "try again later", "busy")
    inner = info.value.error
    assert isinstance(inner, PluginError)
    assert inner.exit_status == 1
    assert plugin.commands() == ["ADD"]


def test_error_accepts_cni_error_and_mapping(fake_plugin: FakePluginFactory) -> None:
    """``error`` may be a CNIError or a mapping as well as a tuple."""
    env = {"CNI_COMMAND": "DEL"}
    plugin = fake_plugin("e1", error=pycni.CNIError(7, "bad config"))
    assert json.loads(run(plugin.path, env).stdout) == {"code": 7, "msg": "bad config"}
    plugin.configure(error={"code": 3, "msg": "gone"}, exit=5)
    out = run(plugin.path, env)
    assert out.returncode == 5
    assert json.loads(out.stdout) == {"code": 3, "msg": "gone"}


def test_stderr_and_exit_status(fake_plugin: FakePluginFactory, cni: pycni.CNIConfig) -> None:
    """Reference 7.6 item 83: exit 1 with only stderr -> netplugin failed: "<stderr>": exit status 1."""
    fake_plugin("noisy", stderr="some stderr message", exit=1)
    with pytest.raises(ChainError, match='netplugin failed: "some stderr message": exit status 1'):
        cni.add_network_list(conf_list({"type": "noisy"}), rt())


def test_raw_stdout_for_any_verb(fake_plugin: FakePluginFactory) -> None:
    """``stdout`` is printed verbatim for every verb (result only for ADD)."""
    plugin = fake_plugin("raw", stdout="garbage", result=RESULT)
    for verb in ("ADD", "DEL", "CHECK", "GC", "STATUS"):
        assert run(plugin.path, {"CNI_COMMAND": verb}).stdout == b"garbage"
    plugin.configure(result=RESULT)
    assert run(plugin.path, {"CNI_COMMAND": "DEL"}).stdout == b""


def test_per_verb_scripts_replace_top_level(
    fake_plugin: FakePluginFactory, cni: pycni.CNIConfig
) -> None:
    """A ``commands`` entry replaces the top-level settings for its verb only."""
    plugin = fake_plugin(
        "p", result=RESULT, commands={"DEL": Script(error=(3, "unknown container"))}
    )
    conf = conf_list({"type": "p"})
    cni.add_network_list(conf, rt())
    with pytest.raises(ChainError, match="unknown container"):
        cni.del_network_list(conf, rt())
    plugin.configure(error=(11, "nope"), commands={"DEL": {}})
    cni.del_network_list(conf, rt())
    assert plugin.commands() == ["ADD", "DEL", "DEL"]


def test_version_answer(fake_plugin: FakePluginFactory, cni: pycni.CNIConfig) -> None:
    """VERSION reports ``versions`` and ignores the top-level error; a VERSION entry fakes a
    pre-0.2 plugin (reference 4.5 item 19)."""
    fake_plugin("v", versions=["0.3.1", "0.4.0"], error=(1, "always failing"))
    assert cni.get_version_info("v").supported_versions == ("0.3.1", "0.4.0")
    fake_plugin("old", commands={"VERSION": {"error": (4, "unknown CNI_COMMAND: VERSION")}})
    assert cni.get_version_info("old").supported_versions == ("0.1.0",)


def test_sleep_and_timeout(fake_plugin: FakePluginFactory, cni: pycni.CNIConfig) -> None:
    """A sleeping plugin is killed at the call's timeout (reference 3.13)."""
    fake_plugin("slow", sleep=30, result=RESULT)
    started = time.monotonic()
    with pytest.raises(ChainError, match="timed out"):
        cni.add_network_list(conf_list({"type": "slow"}), rt(), timeout=0.5)
    assert time.monotonic() - started < 10


def test_reconfigure_and_clear(fake_plugin: FakePluginFactory) -> None:
    """Scripts change between calls without rewriting the executable; the log can be cleared."""
    plugin = fake_plugin("p", result={"cniVersion": "1.1.0"})
    inode = plugin.path.stat().st_ino
    env = {"CNI_COMMAND": "ADD"}
    assert json.loads(run(plugin.path, env).stdout) == {"cniVersion": "1.1.0"}
    fake_plugin("p", result=RESULT)
    assert json.loads(run(plugin.path, env).stdout) == RESULT
    assert plugin.path.stat().st_ino == inode
    assert len(plugin.calls()) == 2
    assert plugin.calls()[0].stdin is None
    plugin.clear()
    assert plugin.calls() == []


def test_non_json_stdin_is_recorded_raw(fake_plugin: FakePluginFactory) -> None:
    """stdin that is not JSON is kept as text (``stdin`` is then None)."""
    plugin = fake_plugin("p")
    run(plugin.path, {"CNI_COMMAND": "CHECK"}, b"not json")
    (call,) = plugin.calls("CHECK")
    assert (call.stdin, call.stdin_raw) == (None, "not json")


def test_state_dir_and_invalid_names(tmp_path: Path) -> None:
    """Scripts and logs may live elsewhere; plugin names are validated like plugin types."""
    factory = FakePluginFactory(tmp_path / "bin", tmp_path / "state")
    plugin = factory("p")
    assert plugin.log_path.parent == tmp_path / "state"
    with pytest.raises(pycni.PycniError):
        factory("../escape")
    with pytest.raises(TypeError):
        factory("q", error=42)


def test_fixture_directories_are_fresh(
    cni_conf_dir: Path, cni_bin_dir: Path, cni_cache_dir: Path
) -> None:
    """The directory fixtures are distinct, empty, existing directories."""
    dirs = {cni_conf_dir, cni_bin_dir, cni_cache_dir}
    assert len(dirs) == 3
    for path in dirs:
        assert path.is_dir()
        assert list(path.iterdir()) == []


def test_cni_fixture_is_wired(
    cni: pycni.CNIConfig, cni_bin_dir: Path, cni_cache_dir: Path, fake_plugin: FakePluginFactory
) -> None:
    """The ``cni`` fixture finds plugins in cni_bin_dir and caches in cni_cache_dir."""
    fake_plugin("p", result=RESULT)
    cni.add_network_list(conf_list({"type": "p"}), rt())
    assert any(cni_cache_dir.rglob("*"))
    assert [a.container_id for a in cni.get_cached_attachments()] == ["ctr-1"]
