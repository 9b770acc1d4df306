"""Host-side helpers for the real-plugin suite: commands, namespaces, links, addresses, qdiscs,
iptables snapshots, ICMP echo.

Everything here only reads the host, or changes objects the suite itself named (the ``pcnit``
prefix) or that a snapshot taken at the start of the session shows the suite created. Traffic
helpers take explicit addresses; the tests only pass addresses of namespaces and bridges they made.
"""

from __future__ import annotations

import ipaddress
import json
import os
import select
import shlex
import shutil
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from typing import Any

from pycni import netns as pycni_netns

PREFIX = "pcnit"
"""Every namespace, bridge, container ID and network name the suite creates starts with this."""

TEST_RANGE = ipaddress.IPv4Network("10.250.0.0/16")
"""The private range the suite owns: each test takes /24s out of it."""

# the legacy backend's tables too, where installed: a plugin built against it writes there
_LEGACY = tuple(c for c in ("iptables-legacy", "ip6tables-legacy") if shutil.which(f"{c}-save"))
IPTABLES = ("iptables", "ip6tables", *_LEGACY)
NEEDED_COMMANDS = ("ip", "tc", "iptables", "iptables-save", "ip6tables-save")


class HostCommandError(AssertionError):
    """A host command the suite relies on failed (an assertion failure of the test)."""


def sh(*argv: str, check: bool = True, timeout: float = 30, netns: str | None = None) -> str:
    """Run ``argv`` (inside ``netns`` when given) and return its stdout."""
    full = ["ip", "netns", "exec", netns, *argv] if netns else list(argv)
    proc = subprocess.run(full, capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise HostCommandError(
            f"{shlex.join(full)} exited {proc.returncode}: {proc.stderr.strip() or proc.stdout}"
        )
    return proc.stdout


def _json(*argv: str, netns: str | None = None) -> list[dict[str, Any]]:
    out = sh(*argv, netns=netns).strip()
    return json.loads(out) if out else []


# --------------------------------------------------------------------------------------------
# Can the suite run here?
# --------------------------------------------------------------------------------------------


def unavailable_reason(cni_path: str, plugins: Iterable[str]) -> str | None:
    """Why real plugins cannot be run in network namespaces here, or ``None`` when they can."""
    if not sys.platform.startswith("linux"):
        return f"real-plugin tests need Linux network namespaces (platform is {sys.platform})"
    if os.geteuid() != 0:
        return "real-plugin tests need root (network namespaces, bridges, iptables)"
    missing = [cmd for cmd in NEEDED_COMMANDS if shutil.which(cmd) is None]
    if missing:
        return f"missing commands {', '.join(missing)} (install iproute2 and iptables)"
    absent = [p for p in plugins if not os.access(os.path.join(cni_path, p), os.X_OK)]
    if absent:
        return (
            f"CNI plugins {', '.join(absent)} not found in {cni_path} "
            "(install containernetworking-plugins or set PYCNI_TEST_CNI_PATH)"
        )
    usable, why = pycni_netns.netns_available()
    return None if usable else why


# --------------------------------------------------------------------------------------------
# Namespaces, links, addresses, routes, qdiscs, sysctls
# --------------------------------------------------------------------------------------------


def netns_names() -> set[str]:
    """Names of the named network namespaces (``/run/netns``)."""
    return set(pycni_netns.list_netns())


def add_netns(name: str) -> str:
    """Create a named namespace; return its path."""
    return pycni_netns.create_netns(name)


def delete_netns(name: str) -> None:
    """Delete a namespace if it exists."""
    pycni_netns.delete_netns(name)


def links(netns: str | None = None, *, master: str | None = None) -> list[dict[str, Any]]:
    """``ip -j link show`` (optionally only the ports of bridge ``master``)."""
    argv = ["ip", "-j", "link", "show"]
    if master:
        argv += ["master", master]
    return _json(*argv, netns=netns)


def link_names(netns: str | None = None) -> set[str]:
    return {link["ifname"] for link in links(netns)}


def link(ifname: str, netns: str | None = None) -> dict[str, Any] | None:
    """One link's ``ip -j link`` record, ``None`` when it does not exist."""
    return next((entry for entry in links(netns) if entry["ifname"] == ifname), None)


def delete_link(ifname: str) -> None:
    if ifname in link_names():
        sh("ip", "link", "delete", ifname)


def ipv4_addresses(ifname: str, netns: str | None = None) -> list[ipaddress.IPv4Interface]:
    """IPv4 addresses of ``ifname`` as interfaces (address/prefix)."""
    out: list[ipaddress.IPv4Interface] = []
    for entry in _json("ip", "-j", "-4", "addr", "show", "dev", ifname, netns=netns):
        for info in entry.get("addr_info", []):
            out.append(ipaddress.IPv4Interface(f"{info['local']}/{info['prefixlen']}"))
    return out


def ipv4_routes(netns: str | None = None) -> list[dict[str, Any]]:
    return _json("ip", "-j", "-4", "route", "show", netns=netns)


def qdiscs(dev: str) -> list[dict[str, Any]]:
    """``tc -j qdisc show dev`` on the host."""
    return _json("tc", "-j", "qdisc", "show", "dev", dev)


def sysctl(name: str, netns: str | None = None) -> str:
    path = "/proc/sys/" + name.replace(".", "/")
    return sh("cat", path, netns=netns).strip()


def set_sysctl(name: str, value: str, netns: str | None = None) -> None:
    sh("sysctl", "-q", "-w", f"{name}={value}", netns=netns)


def used_ipv4_networks() -> list[ipaddress.IPv4Network]:
    """Every IPv4 network the host routes or holds an address in, except default routes."""
    nets = []
    for route in ipv4_routes():
        if route.get("dst") not in (None, "default"):
            nets.append(ipaddress.IPv4Network(route["dst"], strict=False))
    for entry in _json("ip", "-j", "-4", "addr", "show"):
        for info in entry.get("addr_info", []):
            nets.append(ipaddress.IPv4Network(f"{info['local']}/{info['prefixlen']}", strict=False))
    return nets


# --------------------------------------------------------------------------------------------
# iptables: snapshot and undo what the plugins added during the session
# --------------------------------------------------------------------------------------------

Entry = tuple[str, str, str, str]
"""(command, table, kind, text): kind "chain" (text = chain name) or "rule" (text = ``-A ...``)."""


def iptables_snapshot() -> frozenset[Entry]:
    """Chains and rules of every iptables and ip6tables table (``*-save``, which creates nothing)."""
    entries: set[Entry] = set()
    for command in IPTABLES:
        table = ""
        for line in sh(f"{command}-save").splitlines():
            if line.startswith("*"):
                table = line[1:]
            elif line.startswith(":"):
                entries.add((command, table, "chain", line[1:].split()[0]))
            elif line.startswith("-A "):
                entries.add((command, table, "rule", line))
    return frozenset(entries)


def undo_iptables(before: frozenset[Entry]) -> list[str]:
    """Remove the CNI rules and chains that appeared since ``before``; return what was done.

    Only entries that mention a ``CNI-`` chain and were not in the snapshot are touched: jump
    rules first, then the new chains are flushed and deleted.
    """
    done: list[str] = []
    added = [e for e in iptables_snapshot() - before if "CNI-" in e[3]]
    new_chains = [(cmd, table, name) for cmd, table, kind, name in added if kind == "chain"]
    new_chain_set = set(new_chains)
    for cmd, table, kind, text in added:
        if kind != "rule":
            continue
        chain = text.split()[1]
        if (cmd, table, chain) in new_chain_set:
            continue  # goes with the flush below
        argv = [cmd, "-t", table, "-D", *shlex.split(text)[1:]]
        sh(*argv, check=False)
        done.append(shlex.join(argv))
    for cmd, table, name in new_chains:
        sh(cmd, "-t", table, "-F", name, check=False)
    for cmd, table, name in new_chains:
        sh(cmd, "-t", table, "-X", name, check=False)
        done.append(f"{cmd} -t {table} -X {name}")
    return done


def nft_tables() -> set[str]:
    """``nft list tables`` lines (empty when nft is not installed)."""
    if shutil.which("nft") is None:
        return set()
    return {line.strip() for line in sh("nft", "list", "tables").splitlines() if line.strip()}


def undo_nft_tables(before: set[str]) -> list[str]:
    """Delete nftables tables that appeared since ``before`` and hold no rules.

    With the nf_tables iptables backend the plugins' first ``iptables`` call creates the table
    (``ip nat``, ``ip filter``, ``ip6 nat``); once their chains are gone the table is empty.
    """
    done = []
    for line in sorted(nft_tables() - before):
        words = line.split()  # "table ip nat"
        if len(words) != 3 or words[0] != "table":
            continue
        body = sh("nft", "list", "table", words[1], words[2])
        if any(
            stmt.strip()
            and not stmt.strip().startswith(("table ", "chain ", "type ", "}", "policy"))
            for stmt in body.splitlines()
        ):
            continue  # a table with rules is somebody's business
        sh("nft", "delete", "table", words[1], words[2], check=False)
        done.append(f"nft delete table {words[1]} {words[2]}")
    return done


def iptables_rules(table: str, command: str = "iptables") -> list[str]:
    """``-A`` lines of one table (``iptables -t TABLE -S``)."""
    return [ln for ln in sh(command, "-t", table, "-S").splitlines() if ln.startswith("-A ")]


# --------------------------------------------------------------------------------------------
# Traffic
# --------------------------------------------------------------------------------------------


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def _echo_request(ident: int, seq: int) -> bytes:
    payload = b"pycni-integration"
    header = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    return struct.pack("!BBHHH", 8, 0, _checksum(header + payload), ident, seq) + payload


def ping_all(addresses: Sequence[str], timeout: float = 1.0) -> set[str]:
    """Send one ICMP echo request to every address at once and return those that answered
    within ``timeout`` seconds (``ping -c1 -W1`` to each, in parallel, without needing ``ping``).
    """
    ident = os.getpid() & 0xFFFF
    pending = {seq: addr for seq, addr in enumerate(addresses)}
    answered: set[str] = set()
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as sock:
        for seq, addr in pending.items():
            sock.sendto(_echo_request(ident, seq), (addr, 0))
        deadline = time.monotonic() + timeout
        while pending and (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([sock], [], [], left)
            if not ready:
                break
            packet, (source, _) = sock.recvfrom(4096)
            icmp = packet[(packet[0] & 0x0F) * 4 :]
            kind, _, _, reply_id, seq = struct.unpack("!BBHHH", icmp[:8])
            if kind == 0 and reply_id == ident and pending.get(seq) == source:
                answered.add(pending.pop(seq))
    return answered


def free_tcp_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (used as a hostPort)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
