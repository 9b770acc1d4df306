"""A real pod: a runc container whose networking pycni sets up with the reference CNI plugins.

Needs Linux, root, ``runc``, a static busybox and the reference plugins (Debian:
``apt-get install runc busybox-static containernetworking-plugins``)::

    sudo python3 examples/runc_pod.py
    sudo python3 examples/runc_pod.py --port 18080 --ingress 10M --egress 5M
    sudo python3 examples/runc_pod.py --keep      # leave it running; prints how to remove it

What it does, in the order a container runtime does it (containerd's RunPodSandbox, then a
container, then StopPodSandbox and RemovePodSandbox):

1. creates a network namespace for the pod (``pycni.create_netns``);
2. writes a network configuration (bridge + host-local, portmap, bandwidth) and attaches the
   namespace with ``pycni.Sandbox``: loopback first, then ``eth0``; the pod's ``hostPort`` and its
   ``kubernetes.io/ingress-bandwidth``/``egress-bandwidth`` annotations travel as the
   ``portMappings`` and ``bandwidth`` capability arguments, built as containerd builds them;
3. builds a minimal root filesystem from the static busybox and an OCI ``config.json`` whose
   network namespace is the pod's, then starts ``httpd`` in it with ``runc run -d``;
4. fetches ``http://127.0.0.1:<hostPort>/`` from the host (portmap's DNAT, with ``snat`` so that
   a connection from the host's loopback reaches the pod) and prints the page and the pod's
   addresses;
5. tears down in the reverse order: the container (``runc kill``/``delete``), the networking
   (``Sandbox.teardown``: DEL from the result cache), the namespace, the bridge.

Teardown runs when a step fails and on Ctrl-C or SIGTERM (both end the script through
``KeyboardInterrupt``; further signals are ignored until teardown is done). The result cache,
host-local's allocations, the bundle and runc's state live in one state directory (a temporary
one by default), so nothing is written to ``/var/lib/cni``. All traffic stays on the host's
loopback and the bridge the script creates.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import pycni
from pycni import k8s

CNI_PATHS = ["/usr/lib/cni", "/opt/cni/bin"]
PLUGINS = ("loopback", "bridge", "host-local", "portmap", "bandwidth")
BUSYBOX = "/bin/busybox"
CONTAINER_PORT = 80
PAGE = "<h1>Hello from a runc container</h1>\n<p>networked by pycni</p>\n"
STATE_FILE = "pod.json"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=18080, help="hostPort (default: %(default)s)")
    parser.add_argument(
        "--ingress", help="kubernetes.io/ingress-bandwidth annotation, e.g. 10M (bits/s)"
    )
    parser.add_argument(
        "--egress", help="kubernetes.io/egress-bandwidth annotation, e.g. 10M (bits/s)"
    )
    parser.add_argument(
        "--burst",
        type=int,
        default=100_000,
        help="burst in bits sent with each rate (default: %(default)s; containerd sends 2**32-1, "
        "which lets a short transfer through unshaped)",
    )
    parser.add_argument("--name", help="container and namespace name (default: pycni-pod-<hex>)")
    parser.add_argument("--network", default="pycni-pods", help="CNI network name")
    parser.add_argument(
        "--bridge", default="pycni-pods0", help="bridge name (default: %(default)s)"
    )
    parser.add_argument(
        "--subnet",
        default="10.213.19.0/24",
        type=ipaddress.IPv4Network,
        help="pod subnet (default: %(default)s); must not be in use on this host",
    )
    parser.add_argument(
        "--cni-path", action="append", help="plugin directory, repeatable (default: /usr/lib/cni)"
    )
    parser.add_argument("--state-dir", help="cache, IPAM, bundle and runc state (default: temp)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per CNI call")
    parser.add_argument(
        "--keep", action="store_true", help="leave the pod running; print how to remove it"
    )
    parser.add_argument(
        "--remove", metavar="STATE_DIR", help="remove a pod left by --keep, then exit"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.port <= 65535:
        parser.error("--port must be 1-65535")
    return args


# --- the host ---------------------------------------------------------------------------------


def host_networks() -> list[ipaddress.IPv4Network]:
    """IPv4 networks the host routes (default routes excluded)."""
    routes = subprocess.run(["ip", "-j", "-4", "route"], capture_output=True, text=True, check=True)
    return [
        ipaddress.IPv4Network(route["dst"], strict=False)
        for route in json.loads(routes.stdout or "[]")
        if route.get("dst") not in (None, "default")
    ]


def preflight(subnet: ipaddress.IPv4Network, bridge: str, paths: list[str]) -> str | None:
    """Why this example cannot run here, or None."""
    available, why = pycni.netns_available()
    if not available:
        return why
    if shutil.which("runc") is None:
        return "runc is not installed (apt-get install runc)"
    if not os.access(BUSYBOX, os.X_OK):
        return f"{BUSYBOX} is missing (apt-get install busybox-static)"
    for plugin in PLUGINS:
        try:
            pycni.find_in_path(plugin, paths)
        except pycni.PluginNotFoundError as err:
            return f"{err} (apt-get install containernetworking-plugins, or pass --cni-path)"
    if not os.path.exists(f"/sys/class/net/{bridge}"):  # an existing bridge may hold the subnet
        for used in host_networks():
            if used.overlaps(subnet):
                return f"subnet {subnet} overlaps {used}, which this host uses; pass --subnet"
    return None


def run(argv: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a program in its own session, so that a Ctrl-C meant for us cannot cut it short."""
    done = subprocess.run(
        argv, capture_output=True, text=True, start_new_session=True, check=False, timeout=60
    )
    if check and done.returncode != 0:
        raise RuntimeError(f"{shlex.join(argv)} exited {done.returncode}: {done.stderr.strip()}")
    return done


def interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def catch_signals() -> None:
    """SIGINT and SIGTERM both raise KeyboardInterrupt, so every ``finally`` runs."""
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)


def ignore_signals() -> None:
    """During teardown: a second Ctrl-C must not leave half a pod behind."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


# --- CNI: the network configuration and the pod's arguments --------------------------------------


def write_network(
    conf_dir: Path, name: str, bridge: str, subnet: ipaddress.IPv4Network, ipam_dir: Path
) -> None:
    """The pod network, as a CNI plugin's installer would drop it into /etc/cni/net.d."""
    conf = {
        "cniVersion": "1.0.0",
        "name": name,
        "plugins": [
            {
                "type": "bridge",
                "bridge": bridge,
                "isGateway": True,  # the bridge holds the gateway address: the host's route in
                "ipMasq": False,  # nothing leaves the host
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "dataDir": str(ipam_dir),
                    "ranges": [[{"subnet": str(subnet)}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                },
            },
            # snat: masquerade hostPort connections from the host itself, so that 127.0.0.1 works
            {"type": "portmap", "capabilities": {"portMappings": True}, "snat": True},
            {"type": "bandwidth", "capabilities": {"bandwidth": True}},
        ],
    }
    conf_dir.mkdir(parents=True, exist_ok=True)
    (conf_dir / "10-pods.conflist").write_text(json.dumps(conf, indent=2))


def pod_spec(name: str, host_port: int, ingress: str | None, egress: str | None) -> dict[str, Any]:
    """The parts of a Kubernetes Pod that reach CNI."""
    annotations = {}
    if ingress:
        annotations[k8s.INGRESS_BANDWIDTH_ANNOTATION] = ingress
    if egress:
        annotations[k8s.EGRESS_BANDWIDTH_ANNOTATION] = egress
    return {
        "metadata": {"namespace": "default", "name": name, "annotations": annotations},
        "ports": [{"containerPort": CONTAINER_PORT, "hostPort": host_port, "protocol": "TCP"}],
    }


def cni_arguments(
    pod: dict[str, Any], sandbox_id: str, burst: int
) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """CNI_ARGS and capability arguments, as containerd derives them from the pod."""
    meta = pod["metadata"]
    args = k8s.pod_cni_args(meta["namespace"], meta["name"], sandbox_id)
    caps = k8s.pod_capability_args(meta["annotations"], port_mappings=pod["ports"], burst=burst)
    return args, caps


# --- the container ------------------------------------------------------------------------------


def make_bundle(bundle: Path, netns_path: str, hostname: str, page: str = PAGE) -> None:
    """A rootfs of one static busybox and an OCI config that joins the pod's namespace."""
    shutil.rmtree(bundle, ignore_errors=True)  # a state directory may be reused
    rootfs = bundle / "rootfs"
    for sub in ("bin", "www", "proc", "dev", "sys", "tmp", "etc"):
        (rootfs / sub).mkdir(parents=True, exist_ok=True)
    shutil.copy2(BUSYBOX, rootfs / "bin" / "busybox")
    for applet in ("sh", "httpd", "ip", "ls", "cat"):
        (rootfs / "bin" / applet).symlink_to("busybox")
    (rootfs / "www" / "index.html").write_text(page)
    run(["runc", "spec", "--bundle", str(bundle)])
    config_path = bundle / "config.json"
    config = json.loads(config_path.read_text())
    config["process"]["terminal"] = False
    config["process"]["args"] = ["httpd", "-f", "-p", str(CONTAINER_PORT), "-h", "/www"]
    config["process"]["cwd"] = "/"
    config["root"] = {"path": "rootfs", "readonly": True}
    config["hostname"] = hostname
    namespaces = [ns for ns in config["linux"]["namespaces"] if ns["type"] != "network"]
    namespaces.append({"type": "network", "path": netns_path})  # join, do not create
    config["linux"]["namespaces"] = namespaces
    config_path.write_text(json.dumps(config, indent=2))


def runc(state: Path, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run(["runc", "--root", str(state / "runc"), *argv], check=check)


def start_container(state: Path, bundle: Path, container_id: str) -> None:
    """``runc run --detach``: without a terminal the container inherits runc's stdio, so give
    it a log file (a pipe would keep us waiting for the container to exit)."""
    argv = ["runc", "--root", str(state / "runc"), "run", "--detach", "--bundle", str(bundle)]
    with open(state / "container.log", "ab") as log:
        done = subprocess.run(
            [*argv, container_id],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            check=False,
            timeout=60,
        )
    if done.returncode != 0:
        output = (state / "container.log").read_text(errors="replace").strip()
        raise RuntimeError(f"runc run exited {done.returncode}: {output}")


def remove_container(state: Path, container_id: str) -> None:
    """runc kill, then delete (busybox httpd as PID 1 ignores SIGTERM, so KILL)."""
    if runc(state, "state", container_id, check=False).returncode != 0:
        return  # never created, or already gone
    runc(state, "kill", container_id, "KILL", check=False)
    runc(state, "delete", "--force", container_id)


def fetch(url: str, deadline: float) -> str:
    """GET ``url``, retrying until httpd listens or ``deadline`` (time.monotonic()) passes."""
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                body: bytes = response.read()
                return body.decode()
        except (urllib.error.URLError, ConnectionError) as err:
            if time.monotonic() > deadline:
                raise RuntimeError(f"GET {url} failed: {err}") from None
            time.sleep(0.05)


# --- the pod's life ----------------------------------------------------------------------------


class Pod:
    """One pod's facts, saved in the state directory so that ``--remove`` can tear it down."""

    def __init__(self, state: Path, facts: dict[str, Any]) -> None:
        self.state = state
        self.facts = facts
        self.id: str = facts["id"]
        self.netns: str = facts["netns"]
        self.bridge: str = facts["bridge"]
        self.paths: list[str] = facts["cni_paths"]

    def save(self) -> None:
        (self.state / STATE_FILE).write_text(json.dumps(self.facts, indent=2))

    @classmethod
    def load(cls, state: Path) -> Pod:
        return cls(state, json.loads((state / STATE_FILE).read_text()))

    def sandbox(self, timeout: float) -> pycni.Sandbox:
        return pycni.Sandbox(
            self.state / "net.d", self.paths, cache_dir=self.state / "cache", timeout=timeout
        )


def teardown(pod: Pod, timeout: float, *, remove_state: bool) -> list[str]:
    """Container, then networking, then namespace, then bridge; every step is attempted."""
    problems = []
    steps: list[tuple[str, Callable[[], object]]] = [
        ("runc delete", lambda: remove_container(pod.state, pod.id)),
        ("CNI teardown", lambda: report_teardown(pod.sandbox(timeout).teardown(pod.id, pod.netns))),
        ("netns delete", lambda: pycni.delete_netns(pod.netns)),
        ("bridge delete", lambda: delete_bridge(pod)),
        ("ip_forward", lambda: restore_host(pod)),
    ]
    for what, step in steps:
        try:
            step()
        except (pycni.PycniError, RuntimeError, OSError, subprocess.SubprocessError) as err:
            problems.append(f"{what}: {err}")
    if remove_state and not problems:
        shutil.rmtree(pod.state, ignore_errors=True)
    return problems


def report_teardown(report: pycni.TeardownReport) -> None:
    done = ", ".join(f"{s.network} ({s.ifname}) {s.outcome.status}" for s in report.networks)
    print(f"networking removed: {done}", flush=True)


FORWARDING = Path("/proc/sys/net/ipv4/ip_forward")


def read_forwarding() -> str:
    return FORWARDING.read_text().strip()


def restore_host(pod: Pod) -> None:
    """The bridge plugin (isGateway) turns on IPv4 forwarding host-wide; undo it if it was off."""
    if pod.facts["forwarding"] == "0" and read_forwarding() == "1":
        FORWARDING.write_text("0\n")


def delete_bridge(pod: Pod) -> None:
    """The bridge plugin creates the bridge and never deletes it; the script that made it does."""
    if pod.facts["bridge_created"] and os.path.exists(f"/sys/class/net/{pod.bridge}"):
        run(["ip", "link", "delete", pod.bridge])


def print_addresses(result: pycni.SandboxResult) -> None:
    print("pod addresses:")
    for name, iface in result.interfaces.items():
        for ip in iface.ips:
            print(f"  {name:5} {ip.address}" + (f" via {ip.gateway}" if ip.gateway else ""))
    primary = result.primary_ip()
    if primary is not None:
        print(f"pod IP (as containerd picks it): {primary.ip}")


def health(sandbox: pycni.Sandbox, container_id: str, netns_path: str) -> None:
    """STATUS (is the network ready for pods?) and CHECK (is this pod's attachment intact?).

    A runtime would recreate a sandbox whose CHECK fails; here a failure is only reported,
    because Debian 12's portmap 1.1.1 fails CHECK for every IPv4-only pod (plugins#819).
    """
    status = sandbox.status()
    print(f"network status: {'ready' if status else 'not ready: ' + status.reason}")
    try:
        sandbox.check(container_id, netns_path)
    except pycni.SandboxError as err:
        failed = ", ".join(f"{s.network}: {s.outcome.error}" for s in err.failed)
        print(f"CHECK reported a problem (the pod keeps running): {failed}")
    else:
        print("CHECK: every plugin confirms the attachment")


def start(args: argparse.Namespace, state: Path, phase: list[str]) -> Pod:
    container_id = args.name or f"pycni-pod-{secrets.token_hex(3)}"
    # the pod's CNI arguments first: a bad annotation rejects the pod before anything exists
    spec = pod_spec(container_id, args.port, args.ingress, args.egress)
    cni_args, caps = cni_arguments(spec, container_id, args.burst)
    paths = args.cni_path or CNI_PATHS
    facts = {
        "id": container_id,
        "netns": f"/run/netns/{container_id}",
        "bridge": args.bridge,
        "bridge_created": not os.path.exists(f"/sys/class/net/{args.bridge}"),
        "cni_paths": paths,
        "port": args.port,
        "temporary_state": not args.state_dir,  # --remove deletes a directory it chose
        "forwarding": read_forwarding(),  # the bridge plugin (isGateway) turns it on
    }
    pod = Pod(state, facts)
    pod.save()

    phase[0] = "network namespace"
    pycni.create_netns(container_id)
    print(f"created network namespace {pod.netns}", flush=True)

    phase[0] = "networking setup"
    write_network(state / "net.d", args.network, args.bridge, args.subnet, state / "ipam")
    sandbox = pod.sandbox(args.timeout)
    print(f"setting up pod networking for {container_id}", flush=True)  # the tests wait for this
    print(f"  capability args: {json.dumps(caps, sort_keys=True)}")
    result = sandbox.setup(container_id, pod.netns, args=cni_args, capability_args=caps)
    print_addresses(result)

    phase[0] = "container start"
    bundle = state / "bundle"
    make_bundle(bundle, pod.netns, container_id[:63])
    start_container(state, bundle, container_id)
    print(f"started container {container_id} (runc, httpd on port {CONTAINER_PORT})")
    print(f"  bundle {bundle}, pages served from {bundle / 'rootfs' / 'www'}", flush=True)

    phase[0] = "health check"
    health(sandbox, container_id, pod.netns)
    phase[0] = "fetch"
    url = f"http://127.0.0.1:{args.port}/"
    body = fetch(url, time.monotonic() + 20)
    print(f"GET {url} ->")
    print(body, end="" if body.endswith("\n") else "\n", flush=True)
    return pod


def print_removal(pod: Pod, network: str) -> None:
    """The commands that remove a pod left running by --keep."""
    command = [sys.executable, os.path.abspath(__file__), "--remove", str(pod.state)]
    print(f"the pod keeps running; remove it with:\n  {shlex.join(command)}")
    print("which runs, in this order:")
    print(f"  runc --root {pod.state / 'runc'} delete --force {pod.id}")
    print(f"  Sandbox.teardown({pod.id!r}, {pod.netns!r})  # CNI DEL of {network} and loopback")
    print(f"  ip netns delete {pod.id}")
    if pod.facts["bridge_created"]:
        print(f"  ip link delete {pod.bridge}")
    if pod.facts["temporary_state"]:
        print(f"  rm -r {pod.state}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    catch_signals()
    if args.remove:
        ignore_signals()
        left = Pod.load(Path(args.remove))
        problems = teardown(left, args.timeout, remove_state=left.facts["temporary_state"])
        for problem in problems:
            print(f"runc_pod: {problem}", file=sys.stderr)
        return 1 if problems else 0

    why = preflight(args.subnet, args.bridge, args.cni_path or CNI_PATHS)
    if why:
        print(f"runc_pod: cannot run here: {why}", file=sys.stderr)
        return 2
    if args.name and os.path.lexists(f"/run/netns/{args.name}"):  # teardown would delete it
        print(f"runc_pod: network namespace {args.name} already exists", file=sys.stderr)
        return 2
    state = Path(args.state_dir or tempfile.mkdtemp(prefix="pycni-pod-"))
    state.mkdir(parents=True, exist_ok=True)
    phase = ["pod spec"]
    pod: Pod | None = None
    status = 0
    try:
        pod = start(args, state, phase)
        if args.keep:
            print_removal(pod, args.network)
            return 0
    except KeyboardInterrupt as stop:
        name = str(stop) or "SIGINT"  # a bare KeyboardInterrupt: Ctrl-C before our handler
        print(f"interrupted ({name}) during {phase[0]}; tearing down", flush=True)
        status = 128 + signal.Signals[name].value  # 130 for SIGINT, 143 for SIGTERM
    except (pycni.PycniError, RuntimeError, OSError, subprocess.SubprocessError) as err:
        print(f"runc_pod: {phase[0]} failed: {err}", file=sys.stderr)
        status = 1
    finally:
        ignore_signals()
        if not (args.keep and status == 0):
            pod = pod or (Pod.load(state) if (state / STATE_FILE).exists() else None)
            if pod is not None:
                problems = teardown(pod, args.timeout, remove_state=not args.state_dir)
                for problem in problems:
                    print(f"runc_pod: teardown: {problem}", file=sys.stderr)
                    status = status or 1
            elif not args.state_dir:
                shutil.rmtree(state, ignore_errors=True)
    if status == 0:
        print("done: container, networking, namespace and bridge removed")
    return status


if __name__ == "__main__":
    sys.exit(main())
