"""A daemon-style soak: 2,000 ADD/DEL cycles through one runtime object with an in-process plugin;
open file descriptors and resident memory stay flat after warm-up (issue 10). The numbers are
printed (``pytest -s``) and attached to the test report as user properties."""

from __future__ import annotations

import asyncio
import gc
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reliability_support import AsyncInProcessExecutor, InProcessExecutor, ok_handler

import pycni

#: ADD/DEL cycles (``PYCNI_SOAK_CYCLES`` raises it for a long run).
CYCLES = int(os.environ.get("PYCNI_SOAK_CYCLES", "2000"))
WARM_UP = 200
RSS_GROWTH_LIMIT = 10 * 1024 * 1024
CONF = pycni.NetworkConfigList.from_bytes(
    b'{"cniVersion":"1.1.0","name":"soak","plugins":[{"type":"a"},{"type":"b"},{"type":"c"}]}'
)


def rss_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


def soak(cycle: Callable[[int], None]) -> dict[str, Any]:
    """Run ``cycle(i)`` CYCLES times; measure fds and RSS after warm-up and at the end."""
    started = time.monotonic()
    for i in range(WARM_UP):
        cycle(i)
    gc.collect()
    fds_warm, rss_warm = fd_count(), rss_bytes()
    for i in range(WARM_UP, CYCLES):
        cycle(i)
    gc.collect()
    return {
        "cycles": CYCLES,
        "seconds": round(time.monotonic() - started, 2),
        "fds_after_warm_up": fds_warm,
        "fds_at_end": fd_count(),
        "rss_after_warm_up_kib": rss_warm // 1024,
        "rss_at_end_kib": rss_bytes() // 1024,
        "rss_growth_kib": (rss_bytes() - rss_warm) // 1024,
    }


def check(report: dict[str, Any], record_property: Callable[[str, Any], None]) -> None:
    for key, value in report.items():
        record_property(key, value)
    print(f"\nsoak: {report}")
    assert report["fds_at_end"] == report["fds_after_warm_up"], report
    assert report["rss_growth_kib"] * 1024 < RSS_GROWTH_LIMIT, report


def test_soak_cniconfig(tmp_path: Path, record_property: Callable[[str, Any], None]) -> None:
    """2,000 ADD + CHECK + DEL cycles (3-plugin chain) of rotating attachments through one
    CNIConfig, with a GC every 100 cycles: fds equal, RSS growth < 10 MB after warm-up; the
    cache is empty at the end."""
    cni = pycni.CNIConfig(
        path=["/fake"], cache_dir=tmp_path, executor=InProcessExecutor({"*": ok_handler})
    )

    def cycle(i: int) -> None:
        rt = pycni.RuntimeConf(f"ctr-{i % 50}", f"/var/run/netns/{i}", "eth0", args=[("I", str(i))])
        assert cni.add_network_list(CONF, rt, timeout=10) is not None
        cni.check_network_list(CONF, rt, timeout=10)
        cni.del_network_list(CONF, rt, timeout=10)
        if i % 100 == 0:
            cni.gc_network_list(CONF, pycni.GCArgs([]), timeout=10)

    check(soak(cycle), record_property)
    assert cni.get_cached_attachments() == []


def test_soak_async_cniconfig(tmp_path: Path, record_property: Callable[[str, Any], None]) -> None:
    """The same soak through one AsyncCNIConfig on one event loop (locks polled, fsync in a
    worker thread)."""
    cni = pycni.AsyncCNIConfig(
        path=["/fake"], cache_dir=tmp_path, executor=AsyncInProcessExecutor({"*": ok_handler})
    )

    async def main() -> dict[str, Any]:
        async def one(i: int) -> None:
            rt = pycni.RuntimeConf(f"ctr-{i % 50}", "/var/run/netns/x", "eth0")
            await cni.add_network_list(CONF, rt, timeout=10)
            await cni.del_network_list(CONF, rt, timeout=10)

        started = time.monotonic()
        for i in range(WARM_UP):
            await one(i)
        gc.collect()
        fds_warm, rss_warm = fd_count(), rss_bytes()
        for i in range(WARM_UP, CYCLES):
            await one(i)
        gc.collect()
        return {
            "cycles": CYCLES,
            "seconds": round(time.monotonic() - started, 2),
            "fds_after_warm_up": fds_warm,
            "fds_at_end": fd_count(),
            "rss_after_warm_up_kib": rss_warm // 1024,
            "rss_at_end_kib": rss_bytes() // 1024,
            "rss_growth_kib": (rss_bytes() - rss_warm) // 1024,
        }

    check(asyncio.run(main()), record_property)


def test_soak_detects_a_leak() -> None:
    """The probes themselves: a leaked descriptor per cycle is seen by the fd check."""
    leaked: list[int] = []

    def cycle(i: int) -> None:
        if i >= WARM_UP and i % 100 == 0:
            leaked.append(os.open("/dev/null", os.O_RDONLY))

    try:
        report = soak(cycle)
        assert report["fds_at_end"] > report["fds_after_warm_up"]
    finally:
        for fd in leaked:
            os.close(fd)
