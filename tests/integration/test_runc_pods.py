"""Issue 19: the runc examples, run as users run them, against real containers and plugins.

``examples/runc_pod.py`` and ``examples/runc_pods_async.py`` run as subprocesses with the test's
names (``pcnit-<token>`` namespaces and bridge, a 10.250.x.0/24 subnet, free host ports) and the
test's tmp directory as their state directory, so that the lab's clean-up finds their result cache
and host-local allocations if a script dies half-way. Every HTTP request goes to 127.0.0.1, the
hostPort path through portmap's DNAT into a pod on the test's bridge.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import realnet
from labkit import CNI_PATH, Lab

import pycni

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BUSYBOX = "/bin/busybox"
PAGE_MARK = "<h1>Hello from a runc container</h1>"
REQUIRE = os.environ.get("PYCNI_REQUIRE_INTEGRATION", "") not in ("", "0")
HOST_LOCAL_DEFAULT = Path("/var/lib/cni/networks")

EGRESS = "16M"  # the pod's kubernetes.io/egress-bandwidth annotation
EGRESS_BITS = 16_000_000
INGRESS = "24M"
INGRESS_BITS = 24_000_000
BULK = 3_000_000  # bytes: about 1.5 s at the egress limit
TOLERANCE = 1.3  # shaping caps the rate; a TCP measurement may exceed it a little, never by 30%


def _missing() -> str | None:
    if shutil.which("runc") is None:
        return "runc is not installed (apt-get install runc)"
    if not os.access(BUSYBOX, os.X_OK):
        return f"{BUSYBOX} is missing (apt-get install busybox-static)"
    return None


@pytest.fixture(autouse=True)
def runc_available() -> None:
    reason = _missing()
    if reason is not None:
        if REQUIRE:
            pytest.fail(f"PYCNI_REQUIRE_INTEGRATION is set but: {reason}")
        pytest.skip(reason)


class Host:
    """What the scripts may change on the host, taken before a test: it must be so again after."""

    def __init__(self) -> None:
        self.netns = realnet.netns_names()
        self.links = realnet.link_names()
        self.rules = realnet.iptables_snapshot()
        self.host_local = sorted(str(p) for p in HOST_LOCAL_DEFAULT.rglob("*"))

    def differences(self, lab: Lab, network: str, subnet: ipaddress.IPv4Network) -> list[str]:
        problems = []
        if realnet.netns_names() != self.netns:
            problems.append(f"namespaces: {sorted(realnet.netns_names() ^ self.netns)}")
        if realnet.link_names() != self.links:
            problems.append(f"links: {sorted(realnet.link_names() ^ self.links)}")
        rules = realnet.iptables_snapshot()
        if self.rules - rules:
            problems.append(f"iptables entries removed: {sorted(self.rules - rules)}")
        # portmap's shared chains (CNI-HOSTPORT-*) stay by design; nothing of a pod may
        marks = ("CNI-DN-", str(subnet.network_address)[:-1], lab.prefix)
        left = [e for e in rules - self.rules if any(mark in e[3] for mark in marks)]
        if left:
            problems.append(f"per-pod iptables entries left: {sorted(left)}")
        if sorted(str(p) for p in HOST_LOCAL_DEFAULT.rglob("*")) != self.host_local:
            problems.append(f"something was written to {HOST_LOCAL_DEFAULT}")
        if lab.allocations(network):
            problems.append(f"host-local allocations left: {lab.allocations(network)}")
        cached = pycni.CNIConfig(path=[CNI_PATH], cache_dir=str(lab.cache_dir))
        if cached.get_cached_attachments():
            problems.append(f"cached attachments left: {cached.get_cached_attachments()}")
        return problems


@pytest.fixture
def host(lab: Lab, tmp_path: Path) -> Iterator[Host]:
    """The host before the test; afterwards any container runc still knows of is deleted
    (before the lab deletes networks, namespaces and links)."""
    before = Host()
    try:
        yield before
    finally:
        root = tmp_path / "runc"
        if root.is_dir():
            listed = subprocess.run(
                ["runc", "--root", str(root), "list", "-q"],
                capture_output=True,
                text=True,
                check=False,
            )
            for container in listed.stdout.split():
                argv = ["runc", "--root", str(root), "delete", "--force", container]
                subprocess.run(argv, capture_output=True, check=False)


def free_ports(count: int) -> int:
    """The first of ``count`` consecutive TCP ports nothing listens on at 127.0.0.1."""
    for _ in range(100):
        base = 20000 + secrets.randbelow(20000)
        socks = []
        try:
            for port in range(base, base + count):
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise AssertionError(f"no {count} consecutive free ports")


def script_args(lab: Lab, tmp_path: Path, subnet: ipaddress.IPv4Network) -> list[str]:
    return [
        "--cni-path",
        CNI_PATH,
        "--network",
        lab.network_name(),
        "--bridge",
        lab.bridge(),
        "--subnet",
        str(subnet),
        "--state-dir",
        str(tmp_path),  # cache and ipam land where the lab's clean-up looks
    ]


def run_script(*argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *argv], capture_output=True, text=True, timeout=timeout, check=False
    )


def tbf_rate(dev: str) -> int | None:
    """The rate (bytes/s) of the tbf qdisc on ``dev``, ``None`` without one."""
    for qdisc in realnet.qdiscs(dev):
        if qdisc["kind"] == "tbf":
            return int(qdisc["options"]["rate"])
    return None


def download_rate(url: str) -> tuple[int, float]:
    """GET ``url``; return (bytes, bits per second measured after the first chunk arrived)."""
    with urllib.request.urlopen(url, timeout=30) as response:
        total = len(response.read1(65536))
        start = time.monotonic()
        counted = 0
        while chunk := response.read1(65536):
            counted += len(chunk)
        elapsed = time.monotonic() - start
    return total + counted, counted * 8 / elapsed


def test_runc_pod_answers_on_its_host_port_and_is_shaped(
    lab: Lab, tmp_path: Path, host: Host
) -> None:
    """The page served by httpd in the container arrives at 127.0.0.1:<hostPort>; the pod's
    bandwidth annotations are in force (tbf on the host veth for ingress and on the ifb for
    egress, and a bulk download from the pod stays under the egress limit); ``--keep`` leaves
    it running and the printed command removes it, leaving the host as it was."""
    subnet, port, name = lab.subnet(), realnet.free_tcp_port(), f"{lab.prefix}-pod"
    base = script_args(lab, tmp_path, subnet)
    bridge = base[base.index("--bridge") + 1]
    shaping = ["--ingress", INGRESS, "--egress", EGRESS, "--burst", "100000"]
    done = run_script(
        str(EXAMPLES / "runc_pod.py"),
        *base,
        "--name",
        name,
        "--port",
        str(port),
        *shaping,
        "--keep",
    )
    removal = re.search(r"remove it with:\n  (.+)\n", done.stdout)
    try:
        assert done.returncode == 0, done.stderr + done.stdout
        assert f"GET http://127.0.0.1:{port}/ ->\n{PAGE_MARK}" in done.stdout
        address = re.search(r"^  eth0  (\S+) via", done.stdout, re.M)
        assert address is not None, done.stdout
        assert ipaddress.IPv4Interface(address[1]).network == subnet
        assert "network status: ready" in done.stdout
        assert removal is not None, done.stdout

        # the bandwidth plugin's qdiscs, at the rates of the annotations (tc reports bytes/s)
        [veth] = [entry["ifname"] for entry in realnet.links(master=bridge)]
        assert tbf_rate(veth) == INGRESS_BITS // 8
        ifbs = [n for n in realnet.link_names() - host.links if n.startswith("bwp")]
        assert [tbf_rate(ifb) for ifb in ifbs] == [EGRESS_BITS // 8]

        # a bulk transfer out of the pod (its egress) through the hostPort
        www = tmp_path / "bundle" / "rootfs" / "www"
        assert f"pages served from {www}" in done.stdout
        (www / "bulk.bin").write_bytes(os.urandom(BULK))
        received, rate = download_rate(f"http://127.0.0.1:{port}/bulk.bin")
        assert received == BULK
        assert rate <= TOLERANCE * EGRESS_BITS, f"measured {rate / 1e6:.1f} Mbit/s"
    finally:
        if removal is not None:
            removed = subprocess.run(
                removal[1], shell=True, capture_output=True, text=True, timeout=60, check=False
            )
            assert removed.returncode == 0, removed.stderr + removed.stdout
    assert "networking removed:" in removed.stdout
    assert host.differences(lab, lab.network_name(), subnet) == []


def test_runc_pods_async_every_pod_answers_on_its_own_host_port(
    lab: Lab, tmp_path: Path, host: Host
) -> None:
    """Six pods set up concurrently: each answers with its own page on its own hostPort, with
    its own address, each reports setup and teardown times, and nothing is left behind."""
    count, subnet = 6, lab.subnet()
    port, prefix = free_ports(count), f"{lab.prefix}-p"
    done = run_script(
        str(EXAMPLES / "runc_pods_async.py"),
        *script_args(lab, tmp_path, subnet),
        "--count",
        str(count),
        "--port",
        str(port),
        "--name",
        prefix,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    addresses = set()
    for n in range(count):
        line = re.search(
            rf"^{prefix}-{n}  (\S+) +setup \d+\.\d+s \(network \d+\.\d+s, container \d+\.\d+s\)"
            rf"  GET :{port + n} -> (.*)$",
            done.stdout,
            re.M,
        )
        assert line is not None, done.stdout
        assert ipaddress.IPv4Address(line[1]) in subnet
        addresses.add(line[1])
        assert PAGE_MARK in line[2] and f"pod {prefix}-{n}<" in line[2]
        assert re.search(rf"^{prefix}-{n}  teardown \d+\.\d+s$", done.stdout, re.M)
    assert len(addresses) == count
    assert "done: containers, networking, namespaces and bridge removed" in done.stdout
    assert host.differences(lab, lab.network_name(), subnet) == []


def read_until(proc: subprocess.Popen[str], marker: str, timeout: float) -> str:
    """The script's output up to and including the line starting with ``marker``."""
    assert proc.stdout is not None
    seen = ""
    deadline = time.monotonic() + timeout
    while not any(line.startswith(marker) for line in seen.split("\n")[:-1]):  # whole lines
        ready, _, _ = select.select([proc.stdout], [], [], max(deadline - time.monotonic(), 0))
        if not ready:
            raise AssertionError(f"no line starting {marker!r} within {timeout}s: {seen!r}")
        chunk = os.read(proc.stdout.fileno(), 65536).decode()
        if not chunk:
            raise AssertionError(f"the script ended before {marker!r}: {seen!r}")
        seen += chunk
    return seen


@pytest.mark.parametrize(
    ("script", "marker", "said", "signum"),
    [
        ("runc_pod.py", "setting up pod networking for", "during networking setup", signal.SIGINT),
        ("runc_pod.py", "setting up pod networking for", "during networking setup", signal.SIGTERM),
        (
            "runc_pods_async.py",
            "setting up pod networking for 4 pods",
            "during setup",
            signal.SIGINT,
        ),
    ],
    ids=["sync-SIGINT", "sync-SIGTERM", "async-SIGINT"],
)
def test_a_signal_during_setup_still_tears_down(
    lab: Lab,
    tmp_path: Path,
    host: Host,
    script: str,
    marker: str,
    said: str,
    signum: signal.Signals,
) -> None:
    """SIGINT (or SIGTERM) as soon as the script says it starts setting up the pod networking:
    it reports the interruption, exits 128 + the signal number and leaves the host as it found
    it."""
    subnet = lab.subnet()
    argv = [*script_args(lab, tmp_path, subnet), "--port", str(free_ports(4))]
    if script == "runc_pod.py":
        argv += ["--name", f"{lab.prefix}-pod"]
    else:
        argv += ["--name", f"{lab.prefix}-p", "--count", "4"]
    proc = subprocess.Popen(
        [sys.executable, str(EXAMPLES / script), *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        seen = read_until(proc, marker, 30)
        proc.send_signal(signum)
        rest, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = seen + rest
    assert proc.returncode == 128 + signum, output
    assert f"interrupted ({signum.name}) {said}; tearing down" in output
    assert PAGE_MARK not in output  # it never got as far as serving
    assert host.differences(lab, lab.network_name(), subnet) == []


def test_a_bad_bandwidth_annotation_rejects_the_pod_before_anything_exists(
    lab: Lab, tmp_path: Path, host: Host
) -> None:
    subnet = lab.subnet()
    done = run_script(
        str(EXAMPLES / "runc_pod.py"),
        *script_args(lab, tmp_path, subnet),
        "--name",
        f"{lab.prefix}-pod",
        "--egress",
        "10 furlongs",
    )
    assert done.returncode == 1, done.stderr + done.stdout
    assert "kubernetes.io/egress-bandwidth" in done.stderr
    assert "created network namespace" not in done.stdout
    assert host.differences(lab, lab.network_name(), subnet) == []
