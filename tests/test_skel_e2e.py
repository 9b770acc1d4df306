"""End to end: pycni's runtime -> a real process -> a plugin written with pycni.skel -> result.

Every spec version, both runtime drivers (sync and asyncio, via the shared ``runtime`` fixture),
a chain of two skel plugins (the second passes prevResult through).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

import pycni
from pycni.version import ALL, greater_than_or_equal_to

PLUGIN = """\
#!{python}
import json

from pycni.skel import plugin_main

FULL = {result!r}


def record(args):
    conf = args.config()
    entry = {{
        "command": args.command,
        "container_id": args.container_id,
        "netns": args.netns,
        "ifname": args.ifname,
        "args": args.args,
        "path": args.path,
        "has_prev": "prevResult" in conf,
    }}
    with open(conf["log"], "a") as handle:
        handle.write(json.dumps(entry) + "\\n")


def add(args):
    record(args)
    prev = args.prev_result()
    if prev is not None:
        return prev
    from pycni.types import create_result

    return create_result("1.1.0", FULL)


plugin_main(add=add, check=record, delete=record, gc=record, status=record, versions={versions!r},
            about="e2e skel plugin")
"""

FULL_RESULT = {
    "cniVersion": "1.1.0",
    "interfaces": [{"name": "eth0", "mac": "0a:58:0a:01:02:03", "sandbox": "/run/netns/e2e"}],
    "ips": [
        {"address": "10.1.2.3/24", "gateway": "10.1.2.1", "interface": 0},
        {"address": "fd00::3/64", "interface": 0},
    ],
    "routes": [{"dst": "0.0.0.0/0", "gw": "10.1.2.1"}],
    "dns": {"nameservers": ["10.1.2.1"]},
}


@pytest.fixture(autouse=True)
def _plugin_bytecode(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Let plugin processes cache bytecode (outside the tree) so each start is not a recompile."""
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)
    monkeypatch.setenv("PYTHONPYCACHEPREFIX", str(tmp_path_factory.getbasetemp() / "pycache"))


def install(bin_dir: Path, name: str, versions: tuple[str, ...] = ALL) -> None:
    path = bin_dir / name
    path.write_text(
        PLUGIN.format(python=sys.executable, result=FULL_RESULT, versions=list(versions))
    )
    path.chmod(0o755)


def conf_list(version: str, log: Path, *types: str) -> pycni.NetworkConfigList:
    body = {
        "cniVersion": version,
        "name": "e2e-net",
        "plugins": [{"type": t, "log": str(log)} for t in types],
    }
    return pycni.NetworkConfigList.from_bytes(json.dumps(body).encode())


def entries(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


@pytest.mark.parametrize("version", ALL)
def test_skel_plugins_end_to_end(
    version: str, runtime: Any, cni_bin_dir: Path, cni_cache_dir: Path, tmp_path: Path
) -> None:
    """Plugins written with pycni.skel serve pycni's runtime for every spec version: the ADD
    result arrives in the config's version (0.1.0/0.2.0 as ip4/ip6), CHECK from 0.4.0, GC and
    STATUS from 1.1.0, DEL always; the plugins see the runtime's parameters."""
    install(cni_bin_dir, "first")
    install(cni_bin_dir, "second")
    log = tmp_path / "log.jsonl"
    cni = runtime.make(path=[str(cni_bin_dir)], cache_dir=str(cni_cache_dir))
    conf = conf_list(version, log, "first", "second")
    rt = pycni.RuntimeConf(
        container_id="ctr-e2e", netns="/run/netns/e2e", ifname="eth0", args=[("K", "V")]
    )

    result = cni.add_network_list(conf, rt)
    expected = pycni.create_result("1.1.0", FULL_RESULT).convert_to(version)
    assert result.cni_version == version
    assert result.to_dict() == expected.to_dict()
    if version in ("0.1.0", "0.2.0"):
        assert result.to_dict()["ip4"]["ip"] == "10.1.2.3/24"

    if greater_than_or_equal_to(version, "0.4.0"):
        cni.check_network_list(conf, rt)
    if version == "1.1.0":
        cni.gc_network_list(conf, pycni.GCArgs(valid_attachments=[("ctr-e2e", "eth0")]))
        cni.get_status_network_list(conf)
    cni.del_network_list(conf, rt)

    seen = entries(log)
    commands = [e["command"] for e in seen]
    expected_commands = ["ADD", "ADD"]
    if greater_than_or_equal_to(version, "0.4.0"):
        expected_commands += ["CHECK", "CHECK"]
    if version == "1.1.0":
        expected_commands += ["GC", "GC", "STATUS", "STATUS"]
    expected_commands += ["DEL", "DEL"]
    assert commands == expected_commands
    first_add, second_add = seen[0], seen[1]
    assert first_add == {
        "command": "ADD",
        "container_id": "ctr-e2e",
        "netns": "/run/netns/e2e",
        "ifname": "eth0",
        "args": "K=V",
        "path": str(cni_bin_dir),
        "has_prev": False,
    }
    assert second_add["has_prev"] is True


def test_version_mismatch_reaches_the_runtime(
    cni: pycni.CNIConfig, cni_bin_dir: Path, tmp_path: Path
) -> None:
    """Reference 6.3 item 11: a skel plugin refuses an unsupported config version with code 1."""
    install(cni_bin_dir, "modern", versions=("1.0.0", "1.1.0"))
    conf = conf_list("0.4.0", tmp_path / "log", "modern")
    with pytest.raises(pycni.ChainError) as info:
        cni.add_network_list(conf, pycni.RuntimeConf(container_id="c", netns="/x", ifname="eth0"))
    assert info.value.code == 1
    assert info.value.details == 'config is "0.4.0", plugin supports ["1.0.0" "1.1.0"]'


def test_version_info_of_a_skel_plugin(cni: pycni.CNIConfig, cni_bin_dir: Path) -> None:
    """Reference 4.5: the runtime's VERSION probe decodes a skel plugin's answer."""
    install(cni_bin_dir, "versioned", versions=("0.3.1", "0.4.0"))
    info = cni.get_version_info("versioned")
    assert info.supported_versions == ("0.3.1", "0.4.0")


def test_invalid_ifname_is_refused_by_the_plugin(cni_bin_dir: Path, tmp_path: Path) -> None:
    """Reference 6.2 item 4: skel validates CNI_IFNAME itself (code 4), whatever the runtime did."""
    import os
    import subprocess

    install(cni_bin_dir, "p")
    env = {
        **os.environ,
        "CNI_COMMAND": "ADD",
        "CNI_CONTAINERID": "c",
        "CNI_NETNS": "/x",
        "CNI_IFNAME": "a/b",
        "CNI_PATH": str(cni_bin_dir),
    }
    proc = subprocess.run(
        [str(cni_bin_dir / "p")],
        input=b'{"cniVersion":"1.1.0","name":"n"}',
        env=env,
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stdout.decode() == (
        '{\n    "code": 4,\n    "msg": "interface name contains / or : or whitespace characters"\n}'
    )
