"""Races between processes sharing one cache directory (issue 10, "Races").

1. Two processes ADD/DEL the *same* attachment at once: a real plugin appends enter/exit
   timestamps to a log, and no two invocations overlap, because the attachment lock serialises
   them. A control run on two attachments in different lock stripes shows the log does catch
   overlaps, so the first result is not an artefact of slow starts.
2. GC concurrently with ADDs: an ADD in flight is never split by a GC. The "plugin" allocates on
   ADD, frees on DEL and frees what is not valid on GC; the runtime announces a container as valid
   before its ADD starts. Afterwards every successful ADD has both its cache entry and its
   allocation, or neither (GC deleted it properly with a DEL); never a cache entry whose allocation
   GC freed mid-ADD. A control run with the locks disabled shows that this race is real.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from reliability_support import wait_until

from pycni import cache

PLUGIN = """#!/bin/sh
echo "enter $(date +%s%N) $CNI_COMMAND $CNI_CONTAINERID $$" >> {log}
cat >/dev/null
sleep 0.03
echo "exit $(date +%s%N) $CNI_COMMAND $CNI_CONTAINERID $$" >> {log}
[ "$CNI_COMMAND" = ADD ] && echo '{{"cniVersion":"1.0.0"}}'
exit 0
"""

SERIAL_WORKER = textwrap.dedent(
    """
    import os, sys, time
    import pycni
    bin_dir, cache_dir, go, container, ifname, cycles = sys.argv[1:7]
    conf = pycni.NetworkConfigList.from_bytes(
        b'{"cniVersion":"1.0.0","name":"net","plugins":[{"type":"rec"},{"type":"rec"}]}')
    cni = pycni.CNIConfig(path=[bin_dir], cache_dir=cache_dir)
    rt = pycni.RuntimeConf(container, "/var/run/netns/x", ifname)
    open(f"{go}.ready.{os.getpid()}", "w").close()
    while not os.path.exists(go):
        time.sleep(0.001)
    for _ in range(int(cycles)):
        cni.add_network_list(conf, rt, timeout=30)
        cni.del_network_list(conf, rt, timeout=30)
    """
)


def _intervals(log: Path) -> list[tuple[int, int, str]]:
    """(enter, exit, who) of every plugin invocation, from the log's enter/exit lines."""
    open_calls: dict[str, int] = {}
    out = []
    for line in log.read_text().splitlines():
        kind, stamp, command, container, pid = line.split()
        if kind == "enter":
            open_calls[pid] = int(stamp)
        else:
            out.append((open_calls.pop(pid), int(stamp), f"{command} {container} {pid}"))
    assert not open_calls, f"unfinished invocations: {open_calls}"
    return sorted(out)


def _overlaps(intervals: list[tuple[int, int, str]]) -> list[tuple[str, str]]:
    return [
        (a[2], b[2]) for a, b in itertools.pairwise(intervals) if b[0] < a[1]
    ]  # sorted by start: any overlap shows between neighbours


def _run_pair(tmp_path: Path, attachments: list[tuple[str, str]], cycles: int) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    log = tmp_path / "log"
    (bin_dir / "rec").write_text(PLUGIN.format(log=log))
    (bin_dir / "rec").chmod(0o755)
    go = tmp_path / "go"
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                SERIAL_WORKER,
                str(bin_dir),
                str(tmp_path / "cache"),
                str(go),
                container,
                ifname,
                str(cycles),
            ]
        )
        for container, ifname in attachments
    ]
    ready = lambda: len(list(tmp_path.glob("go.ready.*"))) == len(workers)  # noqa: E731
    assert wait_until(ready, 30), "workers did not start"
    go.touch()
    assert [w.wait(timeout=60) for w in workers] == [0] * len(workers)
    return log


def test_same_attachment_is_serialised(tmp_path: Path) -> None:
    """Two processes x 4 ADD+DEL of one attachment (2-plugin chain): no plugin invocations
    overlap, and every one of the 32 ran."""
    log = _run_pair(tmp_path, [("ctr", "eth0"), ("ctr", "eth0")], cycles=4)
    intervals = _intervals(log)
    assert len(intervals) == 2 * 4 * 2 * 2
    assert _overlaps(intervals) == []
    assert not (tmp_path / "cache" / "results" / "net-ctr-eth0").exists()


def test_control_different_attachments_do_overlap(tmp_path: Path) -> None:
    """Control: two different attachments run in parallel, and the log shows it (so the
    serialisation above is the lock's doing)."""
    log = _run_pair(tmp_path, [("ctr", "eth0"), ("ctr1", "eth0")], cycles=4)
    assert _overlaps(_intervals(log)) != []


GC_WORKER = textwrap.dedent(
    """
    import json, os, sys, time
    import pycni
    from pycni.version import decode_plugin_info

    role, cache_dir, state, valid_file, done_file, count, unlocked = sys.argv[1:8]
    if unlocked == "1":  # the control run: no pycni locks at all
        import contextlib
        from pycni import locks, runtime
        runtime.locks.attachment_lock = lambda *a, **k: contextlib.nullcontext()
        runtime.locks.network_lock = lambda *a, **k: contextlib.nullcontext()

    class Allocator:
        snapshot = None  # the valid set of the GC in progress (GC workers only)
        def find_in_path(self, plugin_type, paths):
            return "/fake/" + plugin_type
        def decode_version(self, data):
            return decode_plugin_info(data)
        def exec_plugin(self, path, stdin, environ, *, timeout=None):
            conf = json.loads(stdin)
            command = environ["CNI_COMMAND"]
            key = os.path.join(state, environ["CNI_CONTAINERID"])
            if command == "ADD":
                open(key, "w").close()
                time.sleep(0.01)  # an ADD takes a while between allocating and returning
                return b'{"cniVersion":"1.1.0"}'
            if command == "DEL":
                if self.snapshot is not None:
                    with open(os.path.join(os.path.dirname(state), "gc-dels"), "a") as f:
                        cid = environ["CNI_CONTAINERID"]
                        f.write(f"{cid} {int(cid in self.snapshot)}\\n")
                if os.path.exists(key):
                    os.unlink(key)
            if command == "GC":
                valid = {a["containerID"] for a in conf.get("cni.dev/valid-attachments") or []}
                for name in os.listdir(state):
                    if name not in valid:
                        try:
                            os.unlink(os.path.join(state, name))
                        except FileNotFoundError:
                            pass
            return b""

    conf = pycni.NetworkConfigList.from_bytes(
        b'{"cniVersion":"1.1.0","name":"net","plugins":[{"type":"alloc"}]}')
    executor = Allocator()
    cni = pycni.CNIConfig(path=["/fake"], cache_dir=cache_dir, executor=executor)
    if role == "adder":
        for i in range(int(count)):
            container = f"c{i}"
            with open(valid_file, "a") as f:  # announce before ADD, as a runtime must
                f.write(container + "\\n")
            cni.add_network_list(conf, pycni.RuntimeConf(container, "/n", "eth0"), timeout=30)
            with open(done_file, "a") as f:
                f.write(container + "\\n")
    else:
        while not os.path.exists(done_file + ".stop"):
            with open(valid_file) as f:
                valid = [(c, "eth0") for c in f.read().split()]
            executor.snapshot = {c for c, _ in valid}
            try:
                cni.gc_network_list(conf, pycni.GCArgs(valid), timeout=30)
            except pycni.GCError:
                pass
    """
)


def _gc_race(tmp_path: Path, *, unlocked: bool, count: int) -> list[str]:
    """Run one adder and two GC loops; return the containers left half-deleted, after checking
    that no GC ever DELeted a container of its own valid set."""
    cache_dir = tmp_path / "cache"
    state = tmp_path / "state"
    state.mkdir()
    valid = tmp_path / "valid"
    valid.write_text("")
    done = tmp_path / "done"
    done.write_text("")

    def start(role: str) -> subprocess.Popen[bytes]:
        args = [str(cache_dir), str(state), str(valid), str(done), str(count), str(int(unlocked))]
        return subprocess.Popen([sys.executable, "-c", GC_WORKER, role, *args])

    collectors = [start("gc"), start("gc")]
    time.sleep(0.3)
    adder = start("adder")
    assert adder.wait(timeout=120) == 0
    (tmp_path / "done.stop").touch()
    assert [c.wait(timeout=60) for c in collectors] == [0, 0]
    gc_dels = tmp_path / "gc-dels"
    deleted = (
        [line.split() for line in gc_dels.read_text().splitlines()] if gc_dels.exists() else []
    )
    assert [c for c, in_valid in deleted if in_valid == "1"] == []

    broken = []
    for container in done.read_text().split():
        entry = (cache_dir / "results" / cache.entry_name("net", container, "eth0")).exists()
        allocated = (state / container).exists()
        if entry != allocated:
            broken.append(container)
        if entry:  # announced before its ADD, so GC must never have deleted it
            doc = json.loads((cache_dir / "results" / f"net-{container}-eth0").read_bytes())
            assert doc["containerId"] == container
    return broken


def test_gc_never_splits_an_add(tmp_path: Path) -> None:
    """With pycni's locks, a GC never runs while an ADD is in flight: every successful ADD ends
    with both its cache entry and its allocation, or with neither (a GC whose valid set predates
    the announcement removed it with a full DEL); no GC touched an attachment it was told is
    valid."""
    assert _gc_race(tmp_path, unlocked=False, count=60) == []


def test_control_without_locks_gc_frees_allocations_mid_add(tmp_path: Path) -> None:
    """Control: the same race with the locks disabled loses allocations of in-flight ADDs."""
    assert _gc_race(tmp_path, unlocked=True, count=60) != []
