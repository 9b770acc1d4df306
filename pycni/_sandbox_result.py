"""The aggregated result of a sandbox setup: every network's result, merged by interface.

go-cni merges the results of a pod's networks into one view keyed by interface name; pycni does
the same with two fixes its users asked for: IPs that name no interface are attributed to the
interface the network was *asked* to create (not blindly to ``eth0``, nomad#9895), and host-side
interfaces (a bridge, a veth peer: no ``sandbox``) are kept apart so two networks on the same
bridge do not overwrite each other. Each network's own result stays available unchanged.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import attrs

from ._sandbox_core import SandboxNetwork
from .types import CIDR, DNS, IPAddress, Result, Route, format_cidr

__all__ = ["InterfaceInfo", "IPInfo", "NetworkResult", "SandboxResult", "aggregate"]


@attrs.frozen
class IPInfo:
    """An address of an interface, with its gateway and the network that assigned it."""

    address: CIDR
    gateway: IPAddress | None
    network: str

    @property
    def ip(self) -> IPAddress:
        return self.address.ip

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"address": format_cidr(self.address), "network": self.network}
        if self.gateway is not None:
            out["gateway"] = str(self.gateway)
        return out


@attrs.frozen
class InterfaceInfo:
    """An interface reported by a network's result (1.x fields), with its addresses."""

    name: str
    network: str
    mac: str = ""
    mtu: int = 0
    sandbox: str = ""
    pci_id: str = ""
    socket_path: str = ""
    ips: tuple[IPInfo, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "network": self.network}
        for key, value in (
            ("mac", self.mac),
            ("mtu", self.mtu),
            ("sandbox", self.sandbox),
            ("pciID", self.pci_id),
            ("socketPath", self.socket_path),
        ):
            if value:
                out[key] = value
        out["ips"] = [ip.to_dict() for ip in self.ips]
        return out


@attrs.frozen
class NetworkResult:
    """One network's part: its name, interface, where its config came from and its own result
    (exactly as the plugin chain returned it, in the network's spec version; ``None`` when the
    chain printed nothing)."""

    network: str
    ifname: str
    source: str
    result: Result | None


@attrs.frozen
class SandboxResult:
    """Everything a sandbox setup produced.

    ``interfaces`` maps container-side interface names to :class:`InterfaceInfo` (with IPs);
    ``host_interfaces`` lists host-side ones; ``routes`` and ``dns`` are ``(network, value)``
    pairs in network order; ``networks`` holds each network's own result.
    """

    container_id: str
    netns: str
    interfaces: Mapping[str, InterfaceInfo]
    host_interfaces: tuple[InterfaceInfo, ...]
    routes: tuple[tuple[str, Route], ...]
    dns: tuple[tuple[str, DNS], ...]
    networks: tuple[NetworkResult, ...]

    def result(self, network: str) -> Result | None:
        """The result of ``network`` as its plugin chain returned it."""
        for item in self.networks:
            if item.network == network:
                return item.result
        raise KeyError(network)

    def ips(self, family: Literal[4, 6] | None = None) -> list[IPInfo]:
        """Every container address in network order (optionally of one IP family)."""
        out = [ip for iface in self.interfaces.values() for ip in iface.ips]
        return [ip for ip in out if family is None or ip.address.version == family]

    def primary_ip(self, prefer: Literal["ipv4", "ipv6", "cni"] = "ipv4") -> IPInfo | None:
        """The pod IP as containerd picks it: the first address of the first non-loopback
        interface, preferring IPv4 (or IPv6, or simply the first with ``"cni"``)."""
        candidates = [ip for ip in self.ips() if not ip.address.ip.is_loopback]
        if prefer != "cni":
            version = 4 if prefer == "ipv4" else 6
            for ip in candidates:
                if ip.address.version == version:
                    return ip
        return candidates[0] if candidates else None

    def merged_dns(self) -> DNS:
        """The DNS settings of all networks merged (first domain, de-duplicated lists)."""
        servers: dict[str, None] = {}
        search: dict[str, None] = {}
        options: dict[str, None] = {}
        domain = ""
        for _, item in self.dns:
            servers.update(dict.fromkeys(item.nameservers))
            search.update(dict.fromkeys(item.search))
            options.update(dict.fromkeys(item.options))
            domain = domain or item.domain
        return DNS(
            nameservers=tuple(servers), domain=domain, search=tuple(search), options=tuple(options)
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data: interfaces, host interfaces, routes, DNS and each network's result."""
        return {
            "containerID": self.container_id,
            "netns": self.netns,
            "interfaces": {name: iface.to_dict() for name, iface in self.interfaces.items()},
            "hostInterfaces": [iface.to_dict() for iface in self.host_interfaces],
            "routes": [
                {"network": net, "dst": format_cidr(r.dst), **({"gw": str(r.gw)} if r.gw else {})}
                for net, r in self.routes
            ],
            "dns": [
                {
                    "network": net,
                    "nameservers": list(d.nameservers),
                    "domain": d.domain,
                    "search": list(d.search),
                    "options": list(d.options),
                }
                for net, d in self.dns
            ],
            "networks": [
                {
                    "network": item.network,
                    "ifname": item.ifname,
                    "source": item.source,
                    "result": item.result.to_dict() if item.result is not None else None,
                }
                for item in self.networks
            ],
        }

    def __repr__(self) -> str:
        parts = []
        for name, iface in self.interfaces.items():
            addresses = ", ".join(format_cidr(ip.address) for ip in iface.ips) or "no IP"
            parts.append(f"{name}[{iface.network}]: {addresses}")
        return f"SandboxResult({self.container_id}: {'; '.join(parts) or 'no interfaces'})"

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = []
        for name, iface in self.interfaces.items():
            ips = "<br>".join(esc(format_cidr(ip.address)) for ip in iface.ips)
            gws = "<br>".join(esc(str(ip.gateway or "")) for ip in iface.ips)
            rows.append(
                f"<tr><td>{esc(name)}</td><td>{esc(iface.network)}</td><td>{esc(iface.mac)}</td>"
                f"<td>{ips}</td><td>{gws}</td></tr>"
            )
        routes = "".join(
            f"<li>{esc(format_cidr(r.dst))}{' via ' + esc(str(r.gw)) if r.gw else ''} "
            f"({esc(net)})</li>"
            for net, r in self.routes
        )
        return (
            f"<div><strong>sandbox {esc(self.container_id)}</strong> {esc(self.netns)}"
            "<table><thead><tr><th>interface</th><th>network</th><th>mac</th><th>addresses</th>"
            f"<th>gateways</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
            f"{'<p>routes:</p><ul>' + routes + '</ul>' if routes else ''}</div>"
        )


def _typed(result: Result | None) -> Any:
    """The result in the 1.x model (every version converts up without loss)."""
    if result is None:
        return None
    return result.convert_to("1.1.0")


def aggregate(
    container_id: str, netns: str, items: Sequence[tuple[SandboxNetwork, Result | None]]
) -> SandboxResult:
    """Merge the results of a sandbox's networks (pure)."""
    interfaces: dict[str, InterfaceInfo] = {}
    host: list[InterfaceInfo] = []
    routes: list[tuple[str, Route]] = []
    dns: list[tuple[str, DNS]] = []
    for network, result in items:
        typed = _typed(result)
        if typed is None:
            interfaces.setdefault(network.ifname, InterfaceInfo(network.ifname, network.name))
            continue
        listed = list(typed.interfaces)
        by_index: dict[int, str] = {}
        for index, iface in enumerate(listed):
            info = InterfaceInfo(
                name=iface.name,
                network=network.name,
                mac=iface.mac,
                mtu=iface.mtu,
                sandbox=iface.sandbox,
                pci_id=iface.pci_id,
                socket_path=iface.socket_path,
            )
            if iface.sandbox:
                interfaces[iface.name] = info
                by_index[index] = iface.name
            else:
                host.append(info)
        for ip in typed.ips:
            target = by_index.get(ip.interface) if ip.interface is not None else None
            name = target or network.ifname
            current = interfaces.get(name) or InterfaceInfo(name, network.name)
            interfaces[name] = attrs.evolve(
                current, ips=(*current.ips, IPInfo(ip.address, ip.gateway, network.name))
            )
        if network.ifname not in interfaces and not network.loopback:
            interfaces[network.ifname] = InterfaceInfo(network.ifname, network.name)
        routes.extend((network.name, route) for route in typed.routes)
        if not typed.dns.is_empty():
            dns.append((network.name, typed.dns))
    return SandboxResult(
        container_id=container_id,
        netns=netns,
        interfaces=interfaces,
        host_interfaces=tuple(host),
        routes=tuple(routes),
        dns=tuple(dns),
        networks=tuple(NetworkResult(n.name, n.ifname, n.source, r) for n, r in items),
    )
