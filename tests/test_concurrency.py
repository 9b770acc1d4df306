"""Several processes sharing one cache directory (issue 5 "Concurrency test")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import pycni
from pycni.runtime_conf import RuntimeConf

WORKER = textwrap.dedent(
    """
    import json, sys
    import pycni
    from pycni.version import PluginInfo, decode_plugin_info

    class InProcessPlugin:
        '''An executor whose "plugin" answers ADD with an address derived from the container.'''
        def find_in_path(self, plugin_type, paths):
            return "/fake/" + plugin_type
        def exec_plugin(self, path, stdin, environ, *, timeout=None):
            if environ["CNI_COMMAND"] != "ADD":
                return b""
            n = int(environ["CNI_CONTAINERID"].rsplit("-", 1)[1])
            return json.dumps({"cniVersion": "1.0.0",
                               "ips": [{"address": f"10.{n // 250}.{n % 250}.1/16"}]}).encode()
        def decode_version(self, data):
            return decode_plugin_info(data)

    cache_dir, worker, count, phase = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    conf = pycni.NetworkConfigList.from_bytes(
        b'{"cniVersion":"1.0.0","name":"shared","plugins":[{"type":"fake"},{"type":"fake2"}]}')
    cni = pycni.CNIConfig(path=["/fake"], cache_dir=cache_dir, executor=InProcessPlugin())
    for i in range(count):
        rt = pycni.RuntimeConf(f"w{worker}-{worker * 1000 + i}", "/netns", "eth0")
        if phase in ("add", "both"):
            cni.add_network_list(conf, rt)
        if phase in ("del", "both"):
            cni.del_network_list(conf, rt)
    """
)


def run_workers(cache_dir: Path, phase: str, count: int) -> list[subprocess.Popen[bytes]]:
    return [
        subprocess.Popen([sys.executable, "-c", WORKER, str(cache_dir), str(w), str(count), phase])
        for w in range(4)
    ]


def valid_entries(results: Path) -> int:
    """Count cache entries, asserting every visible one is a complete libcni envelope."""
    count = 0
    for entry in os.scandir(results):
        if entry.name.startswith(".") or not entry.is_file(follow_symlinks=False):
            continue
        try:
            data = Path(entry.path).read_bytes()
        except FileNotFoundError:
            continue  # deleted between listing and reading
        doc = json.loads(data)
        assert doc["kind"] == "cniCacheV1", entry.name
        assert doc["result"]["ips"], entry.name
        count += 1
    return count


@pytest.mark.parametrize("phase", ["add-then-del"])
def test_four_processes_share_one_cache_dir(tmp_path: Path, phase: str) -> None:
    """Issue 5: 4 processes x 50 attachments ADD then DEL; every cache file is valid while they
    run, all 200 exist after the ADDs (no lost update), none is left after the DELs."""
    results = tmp_path / "results"
    for step, expected in (("add", 200), ("del", 0)):
        workers = run_workers(tmp_path, step, 50)
        while any(w.poll() is None for w in workers):
            if results.exists():
                valid_entries(results)
            time.sleep(0.01)
        assert [w.returncode for w in workers] == [0, 0, 0, 0]
        assert valid_entries(results) == expected
    leftovers = [n for n in os.listdir(results) if n != ".locks"]
    assert leftovers == []


def test_gc_waits_for_attachment_operations(tmp_path: Path, noop_bin: Path) -> None:
    """Issue 5: GC holds the network lock exclusively, so it cannot run while an ADD holds it
    shared (checked with a zero-wait timeout against a held shared lock)."""
    from pycni import locks

    conf = pycni.NetworkConfigList.from_bytes(
        b'{"cniVersion":"1.1.0","name":"net","plugins":[{"type":"noop"}]}'
    )
    cni = pycni.CNIConfig(path=[str(noop_bin)], cache_dir=str(tmp_path))
    rt = RuntimeConf("c1", "/x", "eth0")
    with (
        locks.attachment_lock(str(tmp_path), "net", rt, None),
        pytest.raises(pycni.LockTimeoutError),
    ):
        cni.gc_network_list(conf, timeout=0.2)
    cni.gc_network_list(conf, timeout=5)
