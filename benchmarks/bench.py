"""pycni benchmarks: each figure against its physical floor, printed as a table of ratios.

Run with ``nox -s bench`` (or ``python benchmarks/bench.py``). Needs ``cc`` for the tiny C plugin
and the C floor driver. Figures are medians of several rounds; absolute times vary by machine,
ratios measured in one run are what to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = HERE / "bin"


def build() -> None:
    """Compile the C plugin and the floor driver (idempotent)."""
    BIN.mkdir(exist_ok=True)
    for name, source in (("echo", "echo_plugin.c"), ("floor", "floor.c")):
        target = BIN / name
        src = HERE / source
        if not target.exists() or target.stat().st_mtime < src.stat().st_mtime:
            subprocess.run(["cc", "-O2", "-o", str(target), str(src)], check=True)


def median_time(func: Callable[[], object], rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        func()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def chain_conf(plugins: int) -> bytes:
    return json.dumps(
        {
            "cniVersion": "1.0.0",
            "name": "bench",
            "plugins": [{"type": "echo", "index": i} for i in range(plugins)],
        }
    ).encode()


def floor_seconds(executions: int, stdin: bytes, env: dict[str, str]) -> float:
    """Time for the C driver to fork/exec the plugin ``executions`` times."""
    with tempfile.NamedTemporaryFile() as f:
        f.write(stdin)
        f.flush()
        out = subprocess.run(
            [str(BIN / "floor"), str(BIN / "echo"), str(executions), f.name]
            + [f"{k}={v}" for k, v in env.items()],
            check=True,
            capture_output=True,
            text=True,
        )
    return float(out.stdout)


def bench_chain(rounds: int) -> list[tuple[str, str, str]]:
    """1. A 10-plugin ADD+DEL through CNIConfig and AsyncCNIConfig vs 20 bare executions.

    Each round measures the floor, the sync and the async runtime back to back (5 cycles each)
    and the ratios of that round are kept; the median ratio is reported, which is far steadier
    than a ratio of medians on a noisy machine.
    """
    import pycni

    conf = pycni.NetworkConfigList.from_bytes(chain_conf(10))
    cycles = 5
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ)
        env.update(CNI_COMMAND="ADD", CNI_CONTAINERID="c1", CNI_NETNS="/x", CNI_IFNAME="eth0")
        sample_stdin = conf.plugins[5].bytes
        cni = pycni.CNIConfig(path=[str(BIN)], cache_dir=cache)
        acni = pycni.AsyncCNIConfig(path=[str(BIN)], cache_dir=cache)
        rt = pycni.RuntimeConf("c1", "/x", "eth0")

        def sync_cycles() -> None:
            for _ in range(cycles):
                cni.add_network_list(conf, rt)
                cni.del_network_list(conf, rt)

        async def async_cycles() -> None:
            for _ in range(cycles):
                await acni.add_network_list(conf, rt)
                await acni.del_network_list(conf, rt)

        sync_cycles()
        sync_ratios, async_ratios, floors = [], [], []
        for _ in range(rounds):
            floor = floor_seconds(20 * cycles, sample_stdin, env)
            t_sync = median_time(sync_cycles, 1)
            t_async = median_time(lambda: asyncio.run(async_cycles()), 1)
            floors.append(floor)
            sync_ratios.append(t_sync / floor)
            async_ratios.append(t_async / floor)
        floor_ms = statistics.median(floors) * 1000 / cycles
    return [
        (
            "chain 10 plugins ADD+DEL, sync / floor",
            f"{statistics.median(sync_ratios):.2f}",
            "<= 1.10",
        ),
        (
            "chain 10 plugins ADD+DEL, async / floor",
            f"{statistics.median(async_ratios):.2f}",
            "<= 1.10",
        ),
        ("  (floor: 20 fork/exec of the C plugin, ms)", f"{floor_ms:.1f}", ""),
    ]


def bench_executor(rounds: int) -> list[tuple[str, str, str]]:
    """2. One invocation through SubprocessExecutor vs a bare subprocess.run."""
    from pycni.exec import SubprocessExecutor
    from pycni.invoke import cni_env, plugin_environ

    stdin = chain_conf(1)
    environ = plugin_environ(cni_env("DEL", container_id="c1", netns="/x", ifname="eth0"))
    executor = SubprocessExecutor()
    plugin = str(BIN / "echo")
    n = 50

    def through_pycni() -> None:
        for _ in range(n):
            executor.exec_plugin(plugin, stdin, environ)

    def bare() -> None:
        for _ in range(n):
            subprocess.run([plugin], input=stdin, env=environ, capture_output=True, check=True)

    t_pycni = median_time(through_pycni, rounds)
    t_bare = median_time(bare, rounds)
    return [("executor invocation / bare subprocess.run", f"{t_pycni / t_bare:.2f}", "~1.0")]


def bench_config(rounds: int) -> list[tuple[str, str, str]]:
    """3. load_conf_list of the last of 1,000 conflists, and a full scan_conf_dir."""
    import pycni

    rows = []
    with tempfile.TemporaryDirectory() as conf_dir:
        for i in range(1000):
            doc = {
                "cniVersion": "1.0.0",
                "name": f"net{i:04d}",
                "plugins": [
                    {
                        "type": "bridge",
                        "bridge": f"cni{i}",
                        "isGateway": True,
                        "ipMasq": True,
                        "ipam": {
                            "type": "host-local",
                            "ranges": [[{"subnet": f"10.{i // 250}.{i % 250}.0/24"}]],
                            "routes": [{"dst": "0.0.0.0/0"}],
                        },
                    },
                    {"type": "portmap", "capabilities": {"portMappings": True}, "snat": True},
                    {"type": "bandwidth", "capabilities": {"bandwidth": True}},
                ],
            }
            Path(conf_dir, f"{i:04d}-net.conflist").write_text(json.dumps(doc, indent=2))
        t_lookup = median_time(lambda: pycni.load_conf_list(conf_dir, "net0999"), rounds)
        t_scan = median_time(lambda: pycni.scan_conf_dir(conf_dir), rounds)
        rows.append(
            ("load_conf_list (1,000 files), us per file", f"{t_lookup * 1e6 / 1000:.1f}", "< 40")
        )
        rows.append(("scan_conf_dir (1,000 files), us per file", f"{t_scan * 1e6 / 1000:.1f}", ""))
    return rows


def bench_concurrency(rounds: int) -> list[tuple[str, str, str]]:
    """4. 200 attachments (ADD+DEL, 1 plugin) at concurrency 1, 4 and 16, async and threads."""
    from concurrent.futures import ThreadPoolExecutor

    import pycni

    conf = pycni.NetworkConfigList.from_bytes(chain_conf(1))
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        acni = pycni.AsyncCNIConfig(path=[str(BIN)], cache_dir=cache)
        cni = pycni.CNIConfig(path=[str(BIN)], cache_dir=cache)

        async def one(i: int, sem: asyncio.Semaphore) -> None:
            async with sem:
                rt = pycni.RuntimeConf(f"c{i}", "/x", "eth0")
                await acni.add_network_list(conf, rt)
                await acni.del_network_list(conf, rt)

        async def run(concurrency: int) -> None:
            sem = asyncio.Semaphore(concurrency)
            await asyncio.gather(*(one(i, sem) for i in range(200)))

        def threads(concurrency: int) -> None:
            def work(i: int) -> None:
                rt = pycni.RuntimeConf(f"t{i}", "/x", "eth0")
                cni.add_network_list(conf, rt)
                cni.del_network_list(conf, rt)

            with ThreadPoolExecutor(concurrency) as pool:
                list(pool.map(work, range(200)))

        base = median_time(lambda: asyncio.run(run(1)), 1)
        rows.append(("async 200 attachments, concurrency 1 (att/s)", f"{200 / base:.0f}", ""))
        for c in (4, 16):
            t = median_time(lambda c=c: asyncio.run(run(c)), 1)
            rows.append(
                (f"async concurrency {c}: att/s (speed-up)", f"{200 / t:.0f} ({base / t:.2f}x)", "")
            )
        tbase = median_time(lambda: threads(1), 1)
        for c in (4, 16):
            t = median_time(lambda c=c: threads(c), 1)
            rows.append(
                (
                    f"threads concurrency {c}: att/s (speed-up)",
                    f"{200 / t:.0f} ({tbase / t:.2f}x)",
                    "",
                )
            )
    return rows


CACHE_SCALE_SCRIPT = r"""
import json, resource, sys, tempfile, time
import pycni
from pycni import cache
from pycni.runtime_conf import RuntimeConf
d = tempfile.mkdtemp()
conf = pycni.NetworkConfigList.from_bytes(
    b'{"cniVersion":"1.1.0","name":"net","plugins":[{"type":"none"}],"disableGC":false}')
result = {"cniVersion": "1.1.0", "ips": [{"address": "10.0.0.2/24"}]}
for i in range(10000):
    rt = RuntimeConf(f"c{i}", f"/run/netns/c{i}", "eth0", [("K8S_POD_NAME", f"p{i}")])
    name = cache.entry_name("other" if i % 2 else "net", rt.container_id, rt.ifname)
    cache.write_entry(d, name, cache.encode_entry(conf.bytes, "net", rt, result))
class Quiet:
    def find_in_path(self, t, p): return "/none/" + t
    def exec_plugin(self, path, stdin, env, *, timeout=None): return b""
    def decode_version(self, data): raise AssertionError
cni = pycni.CNIConfig(path=["/none"], cache_dir=d, executor=Quiet())
t = time.perf_counter(); n = len(cni.get_cached_attachments()); t_list = time.perf_counter() - t
valid = pycni.GCArgs(valid_attachments=[(f"c{i}", "eth0") for i in range(0, 10000, 2)])
t = time.perf_counter(); cni.gc_network_list(conf, valid); t_gc = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"n": n, "list": t_list, "gc": t_gc, "rss_mb": rss}))
"""


def bench_cache_scale() -> list[tuple[str, str, str]]:
    """5. get_cached_attachments and gc_network_list over 10,000 cached attachments."""
    out = subprocess.run(
        [sys.executable, "-c", CACHE_SCALE_SCRIPT], check=True, capture_output=True, text=True
    )
    data = json.loads(out.stdout)
    return [
        ("get_cached_attachments, 10,000 entries (s)", f"{data['list']:.2f}", "< 1"),
        ("gc_network_list, 10,000 entries (s)", f"{data['gc']:.2f}", "< 1"),
        ("  peak RSS of that process (MB)", f"{data['rss_mb']:.0f}", "< 100"),
    ]


HOSTILE_SCRIPT = r"""
import json, logging, os, resource, sys, tempfile, time
import pycni
d = tempfile.mkdtemp()
mib = int(sys.argv[1])
for name, body in (
    ("garbage", f"os.write(1, b'\\xff' * ({mib} << 20))\nsys.exit(1)\n"),
    ("noisy", f"os.write(2, b'line of noise\\n' * (({mib} << 20) // 14))\nprint('{{}}')\n"),
):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(f"#!{sys.executable}\nimport os, sys\n{body}")
    os.chmod(path, 0o755)
logging.getLogger("pycni.plugin").setLevel(logging.INFO)
records = []
class Count(logging.Handler):
    def emit(self, record): records.append(1)
logging.getLogger("pycni.plugin").addHandler(Count())
cni = pycni.CNIConfig(path=[d], cache_dir=os.path.join(d, "cache"))
rt = pycni.RuntimeConf("ctr", "/proc/self/ns/net", "eth0")
def conf(t):
    return pycni.NetworkConfigList.from_bytes(json.dumps(
        {"cniVersion": "1.0.0", "name": "n" + t, "plugins": [{"type": t}]}).encode())
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
cpu = time.process_time()
try:
    cni.add_network_list(conf("garbage"), rt)
except pycni.PycniError as exc:
    length = len(str(exc))
cpu_garbage = time.process_time() - cpu
rss = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024
cpu = time.process_time()
cni.add_network_list(conf("noisy"), rt)
print(json.dumps({"len": length, "cpu": cpu_garbage, "rss": rss,
                  "records": len(records), "cpu_noisy": time.process_time() - cpu}))
"""


def bench_hostile() -> list[tuple[str, str, str]]:
    """7. A plugin failing with 60 MiB of 0xff on stdout, one writing 50 MiB of stderr lines."""
    out = subprocess.run(
        [sys.executable, "-c", HOSTILE_SCRIPT, "60"], check=True, capture_output=True, text=True
    )
    data = json.loads(out.stdout)
    return [
        ("60 MiB failure: RSS growth of the runtime (MB)", f"{data['rss']:.0f}", "< 100"),
        ("60 MiB failure: runtime CPU (s)", f"{data['cpu']:.2f}", "bounded, linear"),
        ("60 MiB failure: characters in str(error)", f"{data['len']}", "< 100,000"),
        ("60 MiB of stderr lines: pycni.plugin log records", f"{data['records']}", "< 40,000"),
        ("60 MiB of stderr lines: runtime CPU (s)", f"{data['cpu_noisy']:.2f}", ""),
    ]


def bench_startup(rounds: int) -> list[tuple[str, str, str]]:
    """6. Import time of pycni (and of python itself), and a skel plugin's VERSION answer."""

    def run(args: list[str], env: dict[str, str] | None = None) -> None:
        subprocess.run(args, check=True, capture_output=True, env=env)

    t_python = median_time(lambda: run([sys.executable, "-c", "pass"]), rounds)
    t_import = median_time(lambda: run([sys.executable, "-c", "import pycni"]), rounds)
    rows = [
        ("import pycni, ms above python -c pass", f"{(t_import - t_python) * 1000:.1f}", "< 60"),
    ]
    plugin = HERE / "bin" / "skel_version_plugin.py"
    plugin.write_text(
        "from pycni.skel import plugin_main\n"
        "plugin_main(add=lambda args: None, versions=['1.0.0'])\n"
    )
    env = dict(os.environ, CNI_COMMAND="VERSION")
    try:
        t_skel = median_time(lambda: run([sys.executable, str(plugin)], env), rounds)
        rows.append(("skel plugin VERSION / python -c pass", f"{t_skel / t_python:.2f}", "< 2"))
    except (subprocess.CalledProcessError, ImportError):
        rows.append(("skel plugin VERSION / python -c pass", "n/a (pycni.skel missing)", "< 2"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument(
        "--only",
        nargs="*",
        default=[],
        help="chain executor config concurrency cache startup hostile",
    )
    opts = parser.parse_args()
    build()
    sections: dict[str, Callable[[], list[tuple[str, str, str]]]] = {
        "chain": lambda: bench_chain(opts.rounds),
        "executor": lambda: bench_executor(opts.rounds),
        "config": lambda: bench_config(opts.rounds),
        "concurrency": lambda: bench_concurrency(opts.rounds),
        "cache": bench_cache_scale,
        "startup": lambda: bench_startup(opts.rounds * 3),
        "hostile": bench_hostile,
    }
    rows: list[tuple[str, str, str]] = []
    for name, func in sections.items():
        if not opts.only or name in opts.only:
            rows.extend(func())
    width = max(len(r[0]) for r in rows)
    print(f"{'benchmark'.ljust(width)}  {'figure':>18}  target")
    for label, value, target in rows:
        print(f"{label.ljust(width)}  {value:>18}  {target}")
    print(
        f"(max RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB)"
    )


if __name__ == "__main__":
    main()
