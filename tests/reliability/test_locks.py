"""Attachment locks (issue 17 items 3 and 4): no head-of-line blocking between different
attachments, a bounded number of lock files, the lock kept by a plugin that outlives its runtime,
and no cache write after its lock is released."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import pytest
from reliability_support import AsyncInProcessExecutor, InProcessExecutor, ok_handler, wait_until

import pycni
from pycni import cache, locks


def _conf(name: str = "net", plugin_type: str = "p") -> pycni.NetworkConfigList:
    doc = {"cniVersion": "1.0.0", "name": name, "plugins": [{"type": plugin_type}]}
    return pycni.NetworkConfigList.from_bytes(json.dumps(doc).encode())


def _old_stripe(container: str) -> int:
    """The stripe the 256-file scheme (before issue 17) put an attachment on."""
    return zlib.crc32(cache.entry_name("net", container, "eth0").encode()) % 256


def _sharing_pair() -> tuple[str, str]:
    seen: dict[int, str] = {}
    for i in range(10_000):
        container = f"pod{i}"
        stripe = _old_stripe(container)
        if stripe in seen:
            return seen[stripe], container
        seen[stripe] = container
    raise AssertionError("no collision in 10,000 names")  # pragma: no cover


def test_attachments_that_shared_a_stripe_never_wait_on_each_other(tmp_path: Path) -> None:
    """Two pods that hashed onto one of the 256 stripes: while the first holds its lock (a slow
    plugin), the second takes its own at once. It used to time out with LockTimeoutError."""
    first, second = _sharing_pair()
    cache_dir = str(tmp_path)
    held = pycni.RuntimeConf(first, "/n", "eth0")
    with locks.attachment_lock(cache_dir, "net", held, None):
        other = pycni.RuntimeConf(second, "/n", "eth0")
        with locks.attachment_lock(cache_dir, "net", other, time.monotonic() + 0.5) as fd:
            assert fd is not None
        late = time.monotonic() + 0.2
        with (  # the same attachment still waits
            pytest.raises(pycni.LockTimeoutError),
            locks.attachment_lock(cache_dir, "net", held, late),
        ):
            pass


def test_async_attachments_that_shared_a_stripe_never_wait(tmp_path: Path) -> None:
    first, second = _sharing_pair()

    async def main() -> None:
        held = pycni.RuntimeConf(first, "/n", "eth0")
        async with locks.async_attachment_lock(str(tmp_path), "net", held, None):
            other = pycni.RuntimeConf(second, "/n", "eth0")
            deadline = time.monotonic() + 0.5
            async with locks.async_attachment_lock(str(tmp_path), "net", other, deadline):
                pass

    asyncio.run(main())


def test_lock_files_exist_only_for_cached_attachments(tmp_path: Path) -> None:
    """The lock directory holds one file per cached attachment (plus the network lock), and
    none once every attachment is deleted or failed: it does not grow with every pod."""
    cni = pycni.CNIConfig(
        path=["/fake"],
        cache_dir=tmp_path,
        executor=InProcessExecutor({"p": ok_handler, "bad": lambda *a: (1, b"", b"no")}),
    )
    rts = [pycni.RuntimeConf(f"c{i}", "/n", "eth0") for i in range(20)]
    for rt in rts:
        cni.add_network_list(_conf(), rt)
    lock_dir = tmp_path / "results" / ".locks"
    attachment_locks = sorted(p.name for p in lock_dir.glob("att-*"))
    assert attachment_locks == sorted(f"att-net-c{i}-eth0.lock" for i in range(20))
    for rt in rts:
        cni.del_network_list(_conf(), rt)
    with pytest.raises(pycni.ChainError):
        cni.add_network_list(_conf("net", "bad"), pycni.RuntimeConf("failed", "/n", "eth0"))
    assert sorted(p.name for p in lock_dir.iterdir()) == ["net-net.lock"]


def test_removed_lock_files_are_never_shared_by_two_holders(tmp_path: Path) -> None:
    """Many threads ADD and DEL one attachment (each DEL removes the lock file): the plugin
    invocations never overlap, though waiters held descriptors of removed files."""
    active = 0
    overlaps = 0
    guard = threading.Lock()

    def handler(command: str, environ: object, stdin: bytes) -> tuple[int, bytes, bytes]:
        nonlocal active, overlaps
        with guard:
            active += 1
            overlaps += active > 1
        time.sleep(0.002)
        with guard:
            active -= 1
        return ok_handler(command, environ, stdin)  # type: ignore[arg-type]

    cni = pycni.CNIConfig(
        path=["/fake"], cache_dir=tmp_path, executor=InProcessExecutor({"p": handler})
    )
    rt = pycni.RuntimeConf("ctr", "/n", "eth0")

    def cycle() -> None:
        for _ in range(15):
            cni.add_network_list(_conf(), rt)
            cni.del_network_list(_conf(), rt)

    threads = [threading.Thread(target=cycle) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == 0
    assert not (tmp_path / "results" / "net-ctr-eth0").exists()


_SLOW_PLUGIN = """#!{python}
import os, sys, time
log = {log!r}
command = os.environ["CNI_COMMAND"]
with open(log, "a") as f:
    f.write(f"start {{command}}\\n")
if command == "ADD":
    time.sleep(1.5)
with open(log, "a") as f:
    f.write(f"end {{command}}\\n")
if command == "ADD":
    sys.stdout.write('{{"cniVersion":"1.0.0","ips":[{{"address":"10.0.0.2/24"}}]}}')
"""

_RUNTIME = """
import json, sys
import pycni
bin_dir, cache_dir, verb = sys.argv[1:4]
conf = pycni.NetworkConfigList.from_bytes(json.dumps(
    {"cniVersion": "1.0.0", "name": "net", "plugins": [{"type": "slow"}]}).encode())
cni = pycni.CNIConfig(path=[bin_dir], cache_dir=cache_dir)
rt = pycni.RuntimeConf("ctr", "/proc/self/ns/net", "eth0")
getattr(cni, verb)(conf, rt, timeout=30)
print("done")
"""


def test_a_plugin_keeps_the_lock_after_its_runtime_is_killed(tmp_path: Path) -> None:
    """SIGKILL the runtime while its plugin's ADD runs: the plugin (which inherited the lock as
    descriptor 3) keeps the attachment locked, so another process's DEL starts only after that
    ADD finished. It used to run concurrently, and the allocation survived DEL and GC."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "log"
    log.write_text("")
    plugin = bin_dir / "slow"
    plugin.write_text(_SLOW_PLUGIN.format(python=sys.executable, log=str(log)))
    plugin.chmod(0o755)
    cache_dir = tmp_path / "cache"
    adder = subprocess.Popen(
        [sys.executable, "-c", _RUNTIME, str(bin_dir), str(cache_dir), "add_network_list"]
    )
    try:
        assert wait_until(lambda: "start ADD" in log.read_text(), 30)
        adder.send_signal(signal.SIGKILL)
        adder.wait(timeout=30)
        deleter = subprocess.run(
            [sys.executable, "-c", _RUNTIME, str(bin_dir), str(cache_dir), "del_network_list"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        if adder.poll() is None:
            adder.kill()
    assert deleter.returncode == 0, deleter.stderr
    assert log.read_text().splitlines() == ["start ADD", "end ADD", "start DEL", "end DEL"]


def test_a_cancelled_async_add_never_writes_after_its_lock_is_released(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cache write of an ADD cancelled mid-fsync finishes before the lock is released, so a
    DEL that follows sees the entry and removes it; no entry appears afterwards. Before, the
    write completed after the DEL, leaving an entry for an attachment that no longer existed."""
    writing = threading.Event()
    real_fsync = os.fsync

    def slow_fsync(fd: int) -> None:
        writing.set()
        time.sleep(0.5)
        real_fsync(fd)

    monkeypatch.setattr(cache.os, "fsync", slow_fsync)
    executor = AsyncInProcessExecutor({"p": ok_handler})
    acni = pycni.AsyncCNIConfig(path=["/fake"], cache_dir=tmp_path, executor=executor)
    rt = pycni.RuntimeConf("ctr", "/n", "eth0")

    async def main() -> None:
        add = asyncio.ensure_future(acni.add_network_list(_conf(), rt))
        while not writing.is_set():
            await asyncio.sleep(0.005)
        add.cancel()
        with pytest.raises(asyncio.CancelledError):
            await add
        await acni.del_network_list(_conf(), rt)

    asyncio.run(main())
    time.sleep(0.6)  # let any write still running in a thread land (it must not exist)
    assert not (tmp_path / "results" / "net-ctr-eth0").exists()
