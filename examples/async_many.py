"""Attach many containers at once with :class:`pycni.AsyncCNIConfig`, then detach them all.

Runs anywhere, without root: the plugins are pycni's bundled examples (``noop`` with the
``pycni-ipam`` address allocator), installed into a temporary directory::

    python examples/async_many.py              # 10 containers
    python examples/async_many.py --count 50 --concurrency 8

Every ADD and DEL is a real chain of plugin processes, run by asyncio without a thread per call.
``--concurrency`` bounds how many chains run at the same time (plugins are processes: a few per
CPU is plenty). Each container gets its own address; the script checks that no address was handed
out twice, that the cache holds one entry per container after ADD, and none after DEL.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time

import pycni
import pycni.demo


async def attach_all(
    cni: pycni.AsyncCNIConfig, conf: pycni.NetworkConfigList, count: int, concurrency: int
) -> dict[str, str]:
    """ADD ``count`` containers, at most ``concurrency`` at a time; container ID -> address."""
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int) -> tuple[str, str]:
        rt = runtime_conf(index)
        async with gate:
            result = await cni.add_network_list(conf, rt, timeout=60)
        assert result is not None
        return rt.container_id, str(result.ips[0].address)

    return dict(await asyncio.gather(*(one(i) for i in range(count))))


async def detach_all(
    cni: pycni.AsyncCNIConfig, conf: pycni.NetworkConfigList, count: int, concurrency: int
) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int) -> None:
        async with gate:
            await cni.del_network_list(conf, runtime_conf(index), timeout=60)

    await asyncio.gather(*(one(i) for i in range(count)))


def runtime_conf(index: int) -> pycni.RuntimeConf:
    container_id = f"many-{index:04d}"
    return pycni.RuntimeConf(
        container_id=container_id, netns=f"/run/netns/{container_id}", ifname="eth0"
    )


async def run(count: int, concurrency: int, workdir: str) -> int:
    bin_dir = os.path.join(workdir, "bin")
    pycni.demo.install_plugins(bin_dir)
    conf = pycni.NetworkConfigList.from_bytes(
        pycni.demo.conflist_bytes(data_dir=os.path.join(workdir, "ipam"))
    )
    cni = pycni.AsyncCNIConfig(path=[bin_dir], cache_dir=os.path.join(workdir, "cache"))

    started = time.monotonic()
    addresses = await attach_all(cni, conf, count, concurrency)
    took = time.monotonic() - started
    for container_id, address in sorted(addresses.items()):
        print(f"{container_id}  {address}")
    print(f"attached {count} containers in {took:.2f}s ({concurrency} at a time)")

    if len(set(addresses.values())) != count:
        print("error: an address was handed out twice", file=sys.stderr)
        return 1
    cached = await cni.get_cached_attachments()
    if len(cached) != count:
        print(f"error: {len(cached)} cache entries for {count} containers", file=sys.stderr)
        return 1

    started = time.monotonic()
    await detach_all(cni, conf, count, concurrency)
    print(f"detached them in {time.monotonic() - started:.2f}s")
    if await cni.get_cached_attachments():
        print("error: cache entries left after DEL", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10, help="containers (default: %(default)s)")
    parser.add_argument(
        "--concurrency", type=int, default=4, help="chains at a time (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.count <= 240:
        parser.error("--count must be between 1 and 240 (the demo IPAM range)")
    if args.concurrency < 1:
        parser.error("--concurrency must be at least 1")
    with tempfile.TemporaryDirectory(prefix="pycni-async-") as workdir:
        return asyncio.run(run(args.count, args.concurrency, workdir))


if __name__ == "__main__":
    sys.exit(main())
