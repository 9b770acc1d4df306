"""Attach a fresh network namespace to a bridge network, run a command inside, tear it all down.

Needs Linux, root and the reference CNI plugins (``loopback``, ``bridge``, ``host-local``; Debian's
``containernetworking-plugins`` package puts them in ``/usr/lib/cni``)::

    sudo python examples/attach_netns.py
    sudo python examples/attach_netns.py --subnet 10.213.7.0/24 -- ping -c 1 10.213.7.1

What it does, in the order a container runtime does it:

1. creates a network namespace (``pycni.netns.create_netns``);
2. brings up ``lo`` inside it with the ``loopback`` plugin;
3. attaches ``eth0`` to a Linux bridge with the ``bridge`` plugin, which asks ``host-local`` for an
   address from ``--subnet`` and makes the bridge the gateway (no NAT, nothing outside the subnet);
4. prints the result and runs a command inside the namespace (default: ``ip address`` and
   ``ip route``);
5. detaches both networks (DEL, in reverse order), deletes the namespace and, if this script
   created it, the bridge.

State (the result cache and host-local's allocations) lives in a temporary directory unless
``--state-dir`` is given, so nothing is left in ``/var/lib/cni``. Teardown runs even when a step
fails or the command is interrupted with Ctrl-C.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import pycni
from pycni import netns

DEFAULT_PATHS = ["/usr/lib/cni", "/opt/cni/bin"]
NEEDED = ("loopback", "bridge", "host-local")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cni-path",
        action="append",
        help="plugin directory, repeatable (default: /usr/lib/cni, /opt/cni/bin)",
    )
    parser.add_argument("--name", help="namespace name (default: pycni-example-<random>)")
    parser.add_argument("--bridge", default="pycni-ex0", help="bridge name (default: %(default)s)")
    parser.add_argument(
        "--subnet",
        default="10.213.0.0/24",
        type=ipaddress.IPv4Network,
        help="subnet for host-local (default: %(default)s); must not be in use on this host",
    )
    parser.add_argument("--state-dir", help="cache and IPAM directory (default: a temporary one)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per CNI call")
    parser.add_argument("command", nargs="*", help="command to run inside (after --)")
    return parser.parse_args(argv)


def preflight(args: argparse.Namespace, paths: list[str]) -> str | None:
    """Why this example cannot run here, or None."""
    available, why = netns.netns_available()
    if not available:
        return why
    for plugin in NEEDED:
        try:
            pycni.find_in_path(plugin, paths)
        except pycni.PluginNotFoundError as err:
            return f"{err} (install containernetworking-plugins or pass --cni-path)"
    for used in host_networks():
        if used.overlaps(args.subnet):
            return f"subnet {args.subnet} overlaps {used}, which this host uses; pass --subnet"
    return None


def host_networks() -> list[ipaddress.IPv4Network]:
    """IPv4 networks the host routes or has addresses in (default routes excluded)."""
    found = []
    routes = subprocess.run(["ip", "-j", "-4", "route"], capture_output=True, text=True, check=True)
    for route in json.loads(routes.stdout or "[]"):
        if route.get("dst") not in (None, "default"):
            found.append(ipaddress.IPv4Network(route["dst"], strict=False))
    return found


def network(name: str, plugins: list[dict[str, Any]]) -> pycni.NetworkConfigList:
    document = {"cniVersion": "1.0.0", "name": name, "plugins": plugins}
    return pycni.NetworkConfigList.from_bytes(json.dumps(document))


@contextmanager
def bridge_cleanup(bridge: str) -> Iterator[None]:
    """Delete the bridge at the end if it did not exist at the start (the plugin never does)."""
    existed = os.path.exists(f"/sys/class/net/{bridge}")
    try:
        yield
    finally:
        if not existed and os.path.exists(f"/sys/class/net/{bridge}"):
            subprocess.run(["ip", "link", "delete", bridge], check=False)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    paths = args.cni_path or DEFAULT_PATHS
    problem = preflight(args, paths)
    if problem:
        print(f"attach_netns: cannot run here: {problem}", file=sys.stderr)
        return 2

    with ExitStack() as stack:
        if args.state_dir:
            state = args.state_dir
            os.makedirs(state, exist_ok=True)
        else:
            state = stack.enter_context(tempfile.TemporaryDirectory(prefix="pycni-example-"))
        cni = pycni.CNIConfig(path=paths, cache_dir=os.path.join(state, "cache"))

        name = args.name or f"pycni-example-{secrets.token_hex(3)}"
        path = netns.create_netns(name)
        stack.callback(netns.delete_netns, path)  # callbacks run last-in, first-out
        print(f"created network namespace {name} ({path})")

        loopback = network("pycni-example-lo", [{"type": "loopback"}])
        bridge = network(
            "pycni-example",
            [
                {
                    "type": "bridge",
                    "bridge": args.bridge,
                    "isGateway": True,
                    "ipMasq": False,
                    "ipam": {
                        "type": "host-local",
                        "dataDir": os.path.join(state, "ipam"),
                        "ranges": [[{"subnet": str(args.subnet)}]],
                    },
                }
            ],
        )
        stack.enter_context(bridge_cleanup(args.bridge))
        container_id = name
        lo_rt = pycni.RuntimeConf(container_id=container_id, netns=path, ifname="lo")
        eth_rt = pycni.RuntimeConf(container_id=container_id, netns=path, ifname="eth0")

        # attach() runs DEL when the block ends, also after an error or Ctrl-C.
        stack.enter_context(cni.attach(loopback, lo_rt, timeout=args.timeout))
        result = stack.enter_context(cni.attach(bridge, eth_rt, timeout=args.timeout))
        print(f"attached eth0 to bridge {args.bridge}: {result!r}")
        print(result)  # the result JSON, as a plugin prints it

        commands = [args.command] if args.command else [["ip", "address"], ["ip", "route"]]
        for command in commands:
            print(f"$ ip netns exec {name} {' '.join(command)}", flush=True)
            done = netns.run_in_netns(path, command, timeout=60)
            if done.returncode != 0:
                print(f"command exited {done.returncode}", file=sys.stderr)
                return done.returncode
        print("detaching and removing the namespace")
    if os.path.exists(path):
        print(f"warning: namespace {name} still exists", file=sys.stderr)
        return 1
    print("done: namespace, attachments and bridge removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
