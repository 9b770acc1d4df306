"""Crash consistency: worker processes run ADD/DEL/GC loops and are SIGKILLed at random moments.

Workers are forked from the test process (pycni is already imported, so a trial costs a few
milliseconds) and drive a CNIConfig whose in-process "plugin" keeps host-local-style allocations
as files: ADD allocates, DEL releases, GC releases what is not valid. After >= 100 kills, every
cache file is absent or a complete envelope, and DELs from the cache plus one GC leave no cache
entry and no allocation behind (issue 10, "Crash consistency"; the real host-local variant is in
the integration suite)."""

from __future__ import annotations

import json
import os
import random
import signal
import time
from collections.abc import Mapping
from pathlib import Path

from reliability_support import VERSION_ANSWER, InProcessExecutor

import pycni
from pycni import cache

#: Kill trials (``PYCNI_CRASH_TRIALS`` raises it for a long run).
TRIALS = int(os.environ.get("PYCNI_CRASH_TRIALS", "120"))
CONF = pycni.NetworkConfigList.from_bytes(
    b'{"cniVersion":"1.1.0","name":"net","plugins":[{"type":"alloc"},{"type":"alloc2"}]}'
)
CONTAINERS = [f"c{i}" for i in range(6)]


class Allocator:
    """A plugin with on-disk state: one allocation file per (plugin, container, ifname)."""

    def __init__(self, state: Path) -> None:
        self.state = state

    def __call__(
        self, command: str, environ: Mapping[str, str], stdin: bytes
    ) -> tuple[int, bytes, bytes]:
        conf = json.loads(stdin) if stdin else {}
        plugin = conf.get("type", "?")
        if command == "VERSION":
            return 0, VERSION_ANSWER, b""
        key = f"{plugin}-{environ['CNI_CONTAINERID']}-{environ['CNI_IFNAME']}"
        if command == "ADD":
            (self.state / key).write_text("allocated")
            result = conf.get("prevResult") or {"cniVersion": "1.1.0", "ips": []}
            return 0, json.dumps(result).encode(), b""
        if command == "DEL":
            (self.state / key).unlink(missing_ok=True)
        elif command == "GC":
            valid = {
                f"{plugin}-{a['containerID']}-{a['ifname']}"
                for a in conf.get("cni.dev/valid-attachments") or []
            }
            for allocation in self.state.iterdir():
                if allocation.name.startswith(f"{plugin}-") and allocation.name not in valid:
                    allocation.unlink(missing_ok=True)
        return 0, b"", b""


def make_cni(cache_dir: Path, state: Path) -> pycni.CNIConfig:
    return pycni.CNIConfig(
        path=["/fake"], cache_dir=cache_dir, executor=InProcessExecutor({"*": Allocator(state)})
    )


def worker(cache_dir: Path, state: Path, seed: int) -> None:
    """Loop forever over random verbs (runs in a forked child until it is killed), counting
    completed verbs in ``<state>/../progress`` (one byte each)."""
    rng = random.Random(seed)
    cni = make_cni(cache_dir, state)
    progress = os.open(state.parent / "progress", os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    while True:
        os.write(progress, b".")
        rt = pycni.RuntimeConf(rng.choice(CONTAINERS), "/var/run/netns/x", "eth0")
        roll = rng.random()
        if roll < 0.5:
            cni.add_network_list(CONF, rt)
        elif roll < 0.9:
            cni.del_network_list(CONF, rt)
        else:
            keep = rng.sample(CONTAINERS, 3)
            cni.gc_network_list(CONF, pycni.GCArgs([(c, "eth0") for c in keep]))


def fork_worker(cache_dir: Path, state: Path, seed: int) -> int:
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child never returns into pytest
        status = 3
        try:
            worker(cache_dir, state, seed)
        except BaseException:
            status = 4
        finally:
            os._exit(status)
    return pid


def assert_valid_entries(results: Path) -> int:
    """Every visible cache file is a complete envelope that pycni can read back; returns the
    number of temporary files a kill left behind (ignored by readers)."""
    leftovers = 0
    for entry in results.iterdir():
        if entry.name == cache.LOCKS_DIR:
            continue
        if entry.name.startswith(".pycni-tmp-"):
            leftovers += 1
            continue
        data = entry.read_bytes()
        doc = json.loads(data)
        assert doc["kind"] == "cniCacheV1", entry.name
        attachment = cache.decode_attachment(data)
        assert attachment is not None, entry.name
        assert cache.entry_name(attachment.network, attachment.container_id, attachment.ifname) == (
            entry.name
        )
        cache.decode_cached_result(data, "1.1.0")
        cache.decode_cached_config(data, "net", attachment.runtime_conf())
    return leftovers


def test_sigkill_at_random_moments_leaves_a_consistent_cache(tmp_path: Path) -> None:
    """>= 100 trials of two workers killed with SIGKILL at a random moment (0-25 ms in)."""
    cache_dir = tmp_path / "cache"
    state = tmp_path / "allocations"
    state.mkdir()
    rng = random.Random(20240229)
    warm = tmp_path / "warm"  # lazy imports done once here, not in every child
    (warm / "state").mkdir(parents=True)
    worker_cni = make_cni(warm / "cache", warm / "state")
    worker_cni.add_network_list(CONF, pycni.RuntimeConf("c0", "/n", "eth0"))
    worker_cni.del_network_list(CONF, pycni.RuntimeConf("c0", "/n", "eth0"))
    worker_cni.gc_network_list(CONF, pycni.GCArgs([]))
    started = time.monotonic()
    for trial in range(TRIALS):
        pids = [fork_worker(cache_dir, state, trial * 2 + i) for i in range(2)]
        time.sleep(rng.uniform(0.0, 0.025))
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        for pid in pids:
            _, status = os.waitpid(pid, 0)
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, (
                f"trial {trial}: worker ended by itself (status {status:#x}) instead of being killed"
            )
        if (cache_dir / "results").exists():
            assert_valid_entries(cache_dir / "results")
    elapsed = time.monotonic() - started
    assert elapsed < 10 + TRIALS * 0.1, f"{TRIALS} trials took {elapsed:.1f}s"
    verbs = (tmp_path / "progress").stat().st_size
    assert verbs > 2 * TRIALS, f"the workers barely ran ({verbs} verbs started)"

    # recovery: DEL every cached attachment, then GC with nothing valid
    cni = make_cni(cache_dir, state)
    temporary = assert_valid_entries(cache_dir / "results")
    for attachment in cni.get_cached_attachments():
        assert attachment.network == "net"
        cni.del_network_list(CONF, attachment.runtime_conf(), timeout=5)
    cni.gc_network_list(CONF, pycni.GCArgs([]), timeout=5)
    remaining = [
        p.name
        for p in (cache_dir / "results").iterdir()
        if p.name != cache.LOCKS_DIR and not p.name.startswith(".pycni-tmp-")
    ]
    assert remaining == []
    assert sorted(p.name for p in state.iterdir()) == []
    print(
        f"\n{TRIALS} kill trials in {elapsed:.1f}s, {verbs} verbs started; "
        f"{temporary} temporary file(s) left by kills"
    )


def test_temporary_files_left_by_a_crash_are_cleaned_up(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir(mode=0o700)
    (results / ".pycni-tmp-net-c1-eth0-0badf00d").write_bytes(b'{"kind":')
    old = time.time() - 3600
    os.utime(results / ".pycni-tmp-net-c1-eth0-0badf00d", (old, old))
    cni = make_cni(tmp_path, tmp_path)
    rt = pycni.RuntimeConf("c1", "/var/run/netns/x", "eth0")
    cni.add_network_list(CONF, rt)
    cni.del_network_list(CONF, rt)
    cni.gc_network_list(CONF, pycni.GCArgs([]))
    assert [p.name for p in results.iterdir() if p.name.startswith(".pycni-tmp-")] == []
