"""Many real pods at once: runc containers networked concurrently by pycni's ``AsyncSandbox``.

The asyncio twin of ``runc_pod.py`` (same network, same container, same helpers, imported from
it): ``--count`` pods (default 10) are started concurrently, each with its own network namespace,
``eth0`` on the shared bridge and its own hostPort (``--port``, ``--port + 1``, ...); the script
fetches every pod's page through its hostPort on 127.0.0.1, prints each pod's setup and teardown
times, and tears everything down concurrently, in the same order per pod (container, networking,
namespace), then the bridge::

    sudo python3 examples/runc_pods_async.py
    sudo python3 examples/runc_pods_async.py --count 50 --egress 20M

Ctrl-C or SIGTERM cancels the pods' setups (not the main task, which must still await the
teardowns): ``AsyncSandbox.setup`` kills running plugins and rolls back, then every pod that got
a namespace is torn down (further signals are only noted meanwhile); the exit status is 128 plus
the signal's number.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import runc_pod  # the helpers of the one-pod example, next to this file

import pycni


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10, help="pods (default: %(default)s)")
    parser.add_argument("--port", type=int, default=18100, help="first hostPort (default: 18100)")
    parser.add_argument("--ingress", help="kubernetes.io/ingress-bandwidth of every pod, e.g. 10M")
    parser.add_argument("--egress", help="kubernetes.io/egress-bandwidth of every pod, e.g. 10M")
    parser.add_argument("--burst", type=int, default=100_000, help="burst in bits per rate")
    parser.add_argument("--name", default="pycni-pods", help="pod name prefix (<name>-<n>)")
    parser.add_argument("--network", default="pycni-pods", help="CNI network name")
    parser.add_argument(
        "--bridge", default="pycni-pods0", help="bridge name (default: %(default)s)"
    )
    parser.add_argument(
        "--subnet", default="10.213.19.0/24", type=ipaddress.IPv4Network, help="pod subnet"
    )
    parser.add_argument("--cni-path", action="append", help="plugin directory, repeatable")
    parser.add_argument("--state-dir", help="cache, IPAM, bundles and runc state (default: temp)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per CNI call")
    args = parser.parse_args(argv)
    if not 1 <= args.count <= min(200, args.subnet.num_addresses - 3):
        parser.error("--count must be between 1 and 200 and fit the subnet")
    if not 1 <= args.port <= 65536 - args.count:
        parser.error("--port + --count must stay within 1-65535")
    return args


class PodRun:
    """One pod of the batch: its names, what it got, and how long each step took."""

    def __init__(self, name: str, host_port: int, state: Path) -> None:
        self.id = name
        self.netns = f"/run/netns/{name}"
        self.host_port = host_port
        self.bundle = state / "bundles" / name
        self.page = f"{runc_pod.PAGE}<p>pod {name}</p>\n"
        self.started = False
        self.address = ""
        self.times: dict[str, float] = {}
        self.body = ""


async def runc(state: Path, *argv: str, check: bool = True) -> int:
    """runc with the batch's own state root; stdio to a log (a detached container keeps it)."""
    full = ["runc", "--root", str(state / "runc"), *argv]
    with open(state / "runc.log", "ab") as log:
        proc = await asyncio.create_subprocess_exec(
            *full, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
        )
        finished = asyncio.ensure_future(proc.wait())
        try:
            code = await asyncio.shield(finished)
        except asyncio.CancelledError:
            await finished  # never cut runc short: teardown must see what it did
            raise
    if check and code != 0:
        raise RuntimeError(f"{' '.join(full)} exited {code} (see {state / 'runc.log'})")
    return code


async def start_pod(
    pod: PodRun, sandbox: pycni.AsyncSandbox, args: argparse.Namespace, state: Path
) -> None:
    spec = runc_pod.pod_spec(pod.id, pod.host_port, args.ingress, args.egress)
    cni_args, caps = runc_pod.cni_arguments(spec, pod.id, args.burst)  # may reject the pod
    began = time.monotonic()
    # Synchronous on purpose: ``ip netns add`` takes milliseconds, and a thread cannot be
    # cancelled, so a namespace could appear after the teardown that was meant to delete it.
    pycni.create_netns(pod.id)
    pod.started = True  # from here on, teardown has something to do

    result = await sandbox.setup(pod.id, pod.netns, args=cni_args, capability_args=caps)
    primary = result.primary_ip()
    pod.address = str(primary.ip) if primary else "?"
    networked = time.monotonic()
    pod.times["network"] = networked - began

    await asyncio.to_thread(runc_pod.make_bundle, pod.bundle, pod.netns, pod.id, pod.page)
    await runc(state, "run", "--detach", "--bundle", str(pod.bundle), pod.id)
    url = f"http://127.0.0.1:{pod.host_port}/"
    pod.body = await asyncio.to_thread(runc_pod.fetch, url, time.monotonic() + 20)
    pod.times["container"] = time.monotonic() - networked
    pod.times["setup"] = time.monotonic() - began


async def stop_pod(pod: PodRun, sandbox: pycni.AsyncSandbox, state: Path) -> list[str]:
    """Container, networking, namespace: each step attempted, problems returned."""
    problems = []
    began = time.monotonic()
    if await runc(state, "state", pod.id, check=False) == 0:
        await runc(state, "kill", pod.id, "KILL", check=False)
        if await runc(state, "delete", "--force", pod.id, check=False) != 0:
            problems.append(f"{pod.id}: runc delete failed (see {state / 'runc.log'})")
    try:
        await sandbox.teardown(pod.id, pod.netns)
    except pycni.PycniError as err:
        problems.append(f"{pod.id}: CNI teardown: {err}")
    try:
        await asyncio.to_thread(pycni.delete_netns, pod.netns)
    except pycni.NetnsError as err:
        problems.append(f"{pod.id}: {err}")
    pod.times["teardown"] = time.monotonic() - began
    return problems


async def run_batch(args: argparse.Namespace, state: Path) -> int:
    loop = asyncio.get_running_loop()
    caught: list[str] = []
    setup: asyncio.Future[list[object]] | None = None

    def on_signal(signum: int) -> None:
        """Cancel the setup in flight (plugins are killed, networks rolled back); a signal at
        any other time is noted and ends the script before the next step."""
        caught.append(signal.Signals(signum).name)
        if setup is not None:
            setup.cancel()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal, signum)

    paths = args.cni_path or runc_pod.CNI_PATHS
    bridge_existed = os.path.exists(f"/sys/class/net/{args.bridge}")
    forwarding = runc_pod.read_forwarding()
    runc_pod.write_network(state / "net.d", args.network, args.bridge, args.subnet, state / "ipam")
    sandbox = pycni.AsyncSandbox(
        state / "net.d", paths, cache_dir=state / "cache", timeout=args.timeout
    )
    pods = [PodRun(f"{args.name}-{n}", args.port + n, state) for n in range(args.count)]
    status = 0
    try:
        print(f"setting up pod networking for {len(pods)} pods", flush=True)  # tests wait for it
        began = time.monotonic()
        setup = asyncio.gather(
            *(start_pod(pod, sandbox, args, state) for pod in pods), return_exceptions=True
        )
        if caught:  # a signal before the setup started
            setup.cancel()
        outcomes = await setup
        print(f"{len(pods)} pods set up in {time.monotonic() - began:.2f}s")
        for pod, outcome in zip(pods, outcomes):
            if isinstance(outcome, BaseException):
                print(f"{pod.id}: setup failed: {outcome}", file=sys.stderr)
                status = 1
                continue
            t = pod.times
            print(
                f"{pod.id}  {pod.address:15} setup {t['setup']:.2f}s (network {t['network']:.2f}s,"
                f" container {t['container']:.2f}s)  GET :{pod.host_port} -> {json.dumps(pod.body)}"
            )
        if caught:
            raise asyncio.CancelledError
    except asyncio.CancelledError:
        name = caught[0] if caught else "SIGINT"
        print(f"interrupted ({name}) during setup; tearing down", flush=True)
        status = 128 + signal.Signals[name].value  # 130 for SIGINT, 143 for SIGTERM
    finally:
        setup = None  # from now on signals are only noted: teardown must not be cut short
        began = time.monotonic()
        started = [pod for pod in pods if pod.started]
        reports = await asyncio.gather(*(stop_pod(pod, sandbox, state) for pod in started))
        problems = [problem for report in reports for problem in report]
        for pod in started:
            print(f"{pod.id}  teardown {pod.times['teardown']:.2f}s")
        print(f"{len(started)} pods torn down in {time.monotonic() - began:.2f}s", flush=True)
        if not bridge_existed and os.path.exists(f"/sys/class/net/{args.bridge}"):
            subprocess.run(["ip", "link", "delete", args.bridge], check=False)
        if forwarding == "0" and runc_pod.read_forwarding() == "1":
            runc_pod.FORWARDING.write_text("0\n")
        for problem in problems:
            print(f"runc_pods_async: teardown: {problem}", file=sys.stderr)
        if problems:
            status = status or 1
    return status


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    why = runc_pod.preflight(args.subnet, args.bridge, args.cni_path or runc_pod.CNI_PATHS)
    if why:
        print(f"runc_pods_async: cannot run here: {why}", file=sys.stderr)
        return 2
    taken = [n for n in range(args.count) if os.path.lexists(f"/run/netns/{args.name}-{n}")]
    if taken:
        print(f"runc_pods_async: namespace {args.name}-{taken[0]} already exists", file=sys.stderr)
        return 2
    state = Path(args.state_dir or tempfile.mkdtemp(prefix="pycni-pods-"))
    state.mkdir(parents=True, exist_ok=True)
    try:
        status = asyncio.run(run_batch(args, state))
    finally:
        if not args.state_dir:
            shutil.rmtree(state, ignore_errors=True)
    if status == 0:
        print("done: containers, networking, namespaces and bridge removed")
    return status


if __name__ == "__main__":
    sys.exit(main())
