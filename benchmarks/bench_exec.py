"""Per-invocation overhead of pycni's executors over a bare ``subprocess.run``.

Runs the same tiny plugin (``cat >/dev/null; echo '{}'``) with the same stdin and environment
through ``subprocess.run``, :class:`pycni.exec.SubprocessExecutor` and
:class:`pycni.exec.AsyncSubprocessExecutor`, interleaving the three so machine noise hits them
alike, and prints the median time per call and the ratio to the bare run.

    python benchmarks/bench_exec.py [iterations]
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

from pycni.exec import AsyncSubprocessExecutor, SubprocessExecutor
from pycni.invoke import cni_env, plugin_environ

PLUGIN = "#!/bin/sh\ncat >/dev/null; echo '{}'\n"
STDIN = b'{"cniVersion":"1.1.0","name":"bench","type":"tiny","bridge":"cni0"}'


def main(iterations: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "tiny")
        with open(path, "w") as f:
            f.write(PLUGIN)
        os.chmod(path, 0o755)
        env = plugin_environ(
            cni_env("ADD", container_id="c1", netns="/run/netns/c1", ifname="eth0")
        )
        sync_executor = SubprocessExecutor()
        async_executor = AsyncSubprocessExecutor()
        loop = asyncio.new_event_loop()

        def bare() -> bytes:
            done = subprocess.run([path], input=STDIN, capture_output=True, env=env, check=True)
            return done.stdout

        def sync() -> bytes:
            return sync_executor.exec_plugin(path, STDIN, env)

        def async_() -> bytes:
            return loop.run_until_complete(async_executor.exec_plugin(path, STDIN, env))

        runs: dict[str, Callable[[], bytes]] = {
            "subprocess.run": bare,
            "SubprocessExecutor": sync,
            "AsyncSubprocessExecutor": async_,
        }
        times: dict[str, list[float]] = {name: [] for name in runs}
        for fn in runs.values():  # warm up (page cache, imports, first loop iteration)
            for _ in range(5):
                assert fn() == b"{}\n"
        for _ in range(iterations):
            for name, fn in runs.items():
                started = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - started)
        loop.close()

    base = statistics.median(times["subprocess.run"])
    print(f"{iterations} invocations each, median per call:")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"  {name:<24} {median * 1e3:8.3f} ms   ratio {median / base:5.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
