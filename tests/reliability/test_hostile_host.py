"""A host process that is hostile to its own children: SIGCHLD ignored (issue 16 item 2).

Daemons often set ``signal(SIGCHLD, SIG_IGN)``; the kernel then reaps every child itself and
``waitpid`` answers "no child processes". pycni used to read that as exit status 0, so failing
plugins "succeeded" and their error objects were cached as results. The driver runs in a child
interpreter, because the disposition is process-wide and would disturb the rest of the suite.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

_PLUGINS = {
    # exits 1 with a CNI error object on stdout
    "fails": 'import sys\nsys.stdout.write(\'{"code":11,"msg":"busy","details":"d"}\')\nsys.exit(1)\n',
    # killed by SIGSEGV, nothing printed
    "segv": "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n",
    # exits 3 with text on stderr
    "three": "import sys\nsys.stderr.write('boom')\nsys.exit(3)\n",
    # prints a valid result and exits 0: its success cannot be confirmed either
    "ok": 'import sys\nsys.stdout.write(\'{"cniVersion":"1.0.0"}\')\n',
}

_DRIVER = r"""
import asyncio, json, signal, sys
import pycni
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
bin_dir, cache_dir, mode = sys.argv[1:4]
out = {}
for plugin in ("fails", "segv", "three", "ok"):
    conf = pycni.NetworkConfigList.from_bytes(json.dumps(
        {"cniVersion": "1.0.0", "name": "net-" + plugin, "plugins": [{"type": plugin}]}).encode())
    rt = pycni.RuntimeConf("ctr", "/proc/self/ns/net", "eth0")
    try:
        if mode == "sync":
            pycni.CNIConfig(path=[bin_dir], cache_dir=cache_dir).add_network_list(conf, rt)
        else:
            asyncio.run(pycni.AsyncCNIConfig(path=[bin_dir], cache_dir=cache_dir)
                        .add_network_list(conf, rt))
        out[plugin] = {"outcome": "success"}
    except pycni.ChainError as exc:
        out[plugin] = {"outcome": "error", "code": exc.code, "text": str(exc)}
    except Exception as exc:
        out[plugin] = {"outcome": type(exc).__name__, "text": str(exc)}
print(json.dumps(out))
"""


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_unknowable_exit_status_is_never_success(tmp_path: Path, mode: str) -> None:
    """Issue 16 item 2: with SIGCHLD ignored every plugin call fails with a ChainError that says
    why (libcni fails too: its wait gets ECHILD); an error object keeps its code; nothing is
    cached. Before the fix all four "succeeded" and cache entries were written."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in _PLUGINS.items():
        plugin = bin_dir / name
        plugin.write_text(f"#!{sys.executable}\n{body}")
        plugin.chmod(0o755)
    cache_dir = tmp_path / "cache"
    done = subprocess.run(
        [sys.executable, "-c", _DRIVER, str(bin_dir), str(cache_dir), mode],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert {name: o["outcome"] for name, o in out.items()} == dict.fromkeys(_PLUGINS, "error")
    assert out["fails"]["code"] == 11
    assert "busy" in out["fails"]["text"]
    for name in ("segv", "three", "ok"):
        assert "ignores SIGCHLD" in out[name]["text"], out[name]
    assert "boom" in out["three"]["text"]
    results = cache_dir / "results"
    assert not results.exists() or [p.name for p in results.iterdir() if p.is_file()] == []


def test_a_descendant_that_calls_setsid_survives(tmp_path: Path) -> None:
    """Issue 16 item 7, the documented limit (docs/security.md): the plugin's process group is
    killed at the time-out, but a grandchild that called ``setsid()`` left that group first and
    lives on. The test proves both halves, then kills the survivor itself."""
    import os
    import signal

    import pycni

    pid_file = tmp_path / "escaped.pid"
    plugin = tmp_path / "bin" / "escaper"
    plugin.parent.mkdir()
    plugin.write_text(
        f"#!{sys.executable}\n"
        "import os, sys, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        f"    open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
        "    time.sleep(60)\n"
        "    os._exit(0)\n"
        "time.sleep(60)\n"
    )
    plugin.chmod(0o755)
    conf = pycni.NetworkConfigList.from_bytes(
        json.dumps({"cniVersion": "1.0.0", "name": "n", "plugins": [{"type": "escaper"}]}).encode()
    )
    cni = pycni.CNIConfig(path=[str(plugin.parent)], cache_dir=tmp_path / "cache")
    with pytest.raises(pycni.ChainError) as info:
        cni.add_network_list(conf, pycni.RuntimeConf("c", "/proc/self/ns/net", "eth0"), timeout=2)
    assert isinstance(info.value.__cause__, pycni.PluginTimeoutError)
    escaped = int(pid_file.read_text())
    try:
        os.kill(escaped, 0)  # still alive: the group kill could not reach it
        with open(f"/proc/{escaped}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        assert fields[0] != "Z" and int(fields[2]) == escaped  # leads its own process group
    finally:
        os.kill(escaped, signal.SIGKILL)
