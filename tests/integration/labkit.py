"""The per-test workbench of the real-plugin suite: names, subnets, directories, runtimes."""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import realnet

import pycni

CNI_PATH = os.environ.get("PYCNI_TEST_CNI_PATH", "/usr/lib/cni")
PLUGINS = ("bridge", "host-local", "loopback", "portmap", "bandwidth", "firewall", "tuning")


Pending = dict[tuple[str, str, str], tuple[pycni.NetworkConfigList, pycni.RuntimeConf]]
"""ADDs tried and not deleted since, by (network, container ID, ifname)."""


def _key(conf: pycni.NetworkConfigList, rt: pycni.RuntimeConf) -> tuple[str, str, str]:
    return (conf.name, rt.container_id, rt.ifname)


class _TrackedCNIConfig(pycni.CNIConfig):
    """``CNIConfig`` that remembers ADDs (even failed ones, which leave state the spec says a
    DEL must remove) until a DEL of the same attachment succeeds."""

    def __init__(self, pending: Pending, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pending = pending

    def add_network_list(
        self, conf: pycni.NetworkConfigList, rt: pycni.RuntimeConf, *, timeout: float | None = None
    ) -> pycni.Result | None:
        self._pending[_key(conf, rt)] = (conf, rt)
        return super().add_network_list(conf, rt, timeout=timeout)

    def del_network_list(
        self,
        conf: pycni.NetworkConfigList,
        rt: pycni.RuntimeConf,
        *,
        timeout: float | None = None,
        best_effort: bool = False,
    ) -> None:
        super().del_network_list(conf, rt, timeout=timeout, best_effort=best_effort)
        self._pending.pop(_key(conf, rt), None)


class _TrackedAsyncCNIConfig(pycni.AsyncCNIConfig):
    """The asyncio counterpart of :class:`_TrackedCNIConfig`."""

    def __init__(self, pending: Pending, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pending = pending

    async def add_network_list(
        self, conf: pycni.NetworkConfigList, rt: pycni.RuntimeConf, *, timeout: float | None = None
    ) -> pycni.Result | None:
        self._pending[_key(conf, rt)] = (conf, rt)
        return await super().add_network_list(conf, rt, timeout=timeout)

    async def del_network_list(
        self,
        conf: pycni.NetworkConfigList,
        rt: pycni.RuntimeConf,
        *,
        timeout: float | None = None,
        best_effort: bool = False,
    ) -> None:
        await super().del_network_list(conf, rt, timeout=timeout, best_effort=best_effort)
        self._pending.pop(_key(conf, rt), None)


class Suite:
    """What the host guard hands every test: /24s of the suite's range that no route or address
    on the host overlaps, and the name prefixes of its tests, so that the end of the suite checks
    exactly the namespaces and links this run named (never another run's)."""

    def __init__(self) -> None:
        self._next = 1
        self.prefixes: set[tuple[str, str]] = set()

    def take_subnet(self) -> ipaddress.IPv4Network:
        used = realnet.used_ipv4_networks()
        while self._next < 250:  # 10.250.250.0/24 and up are left to `pycni demo --real`
            candidate = ipaddress.IPv4Network(f"10.250.{self._next}.0/24")
            self._next += 1
            if not any(candidate.overlaps(net) for net in used):
                return candidate
        raise RuntimeError("the suite's range 10.250.0.0/16 is exhausted or in use on this host")

    def leftovers(self) -> tuple[set[str], set[str]]:
        """Namespaces and links named by this session's tests that still exist."""
        if not self.prefixes:
            return set(), set()
        netns_prefixes = tuple(p for p, _ in self.prefixes)
        link_prefixes = tuple(p for _, p in self.prefixes)
        return (
            {n for n in realnet.netns_names() if n.startswith(netns_prefixes)},
            {n for n in realnet.link_names() if n.startswith(link_prefixes)},
        )


class Namespace:
    """A network namespace a test created: ``name`` for ``ip netns exec``, ``path`` for CNI."""

    def __init__(self, name: str, path: str) -> None:
        self.name = name
        self.path = path

    def __repr__(self) -> str:
        return f"Namespace({self.name!r})"


class Lab:
    """Per-test names, subnets, directories and runtimes; cleans up whatever the test made."""

    def __init__(self, tmp_path: Path, suite: Suite) -> None:
        self.token = secrets.token_hex(3)
        self.prefix = f"{realnet.PREFIX}-{self.token}"
        """Prefix of the test's namespaces, container IDs and networks (``pcnit-<token>``)."""
        self.link_prefix = f"{realnet.PREFIX}{self.token}"
        """Prefix of the test's bridges (``pcnit<token>``: interface names have 15 bytes)."""
        suite.prefixes.add((self.prefix, self.link_prefix))
        self.cache_dir = tmp_path / "cache"
        self.ipam_dir = tmp_path / "ipam"
        self._suite = suite
        self._namespaces: list[Namespace] = []
        self._bridges: list[str] = []
        self._pending: Pending = {}

    # --- names ----------------------------------------------------------------------------

    def container_id(self, n: int = 0) -> str:
        return f"{self.prefix}-c{n}"

    def network_name(self, n: int = 0) -> str:
        return f"{self.prefix}-net{n}"

    def bridge(self) -> str:
        """A new bridge name (at most 15 characters); deleted after the test."""
        name = f"{self.link_prefix}b{len(self._bridges)}"
        self._bridges.append(name)
        return name

    def subnet(self) -> ipaddress.IPv4Network:
        return self._suite.take_subnet()

    def netns(self) -> Namespace:
        """A new, empty network namespace; deleted after the test."""
        name = f"{self.prefix}-ns{len(self._namespaces)}"
        ns = Namespace(name, realnet.add_netns(name))
        self._namespaces.append(ns)
        return ns

    def namespaces(self, count: int) -> list[Namespace]:
        return [self.netns() for _ in range(count)]

    # --- CNI ------------------------------------------------------------------------------

    def cni(self, *, negotiate_versions: bool = False) -> pycni.CNIConfig:
        """A sync runtime on the real plugins; its ADDs are undone after the test if need be."""
        return _TrackedCNIConfig(
            self._pending,
            path=[CNI_PATH],
            cache_dir=str(self.cache_dir),
            negotiate_versions=negotiate_versions,
        )

    def acni(self) -> pycni.AsyncCNIConfig:
        """The asyncio runtime on the real plugins, tracked like :meth:`cni`."""
        return _TrackedAsyncCNIConfig(self._pending, path=[CNI_PATH], cache_dir=str(self.cache_dir))

    def ipam(self, subnet: ipaddress.IPv4Network) -> dict[str, Any]:
        """host-local IPAM keeping its allocations under the test's tmp directory."""
        return {
            "type": "host-local",
            "dataDir": str(self.ipam_dir),
            "ranges": [[{"subnet": str(subnet)}]],
            "routes": [{"dst": "0.0.0.0/0"}],
        }

    def bridge_plugin(self, bridge: str, subnet: ipaddress.IPv4Network) -> dict[str, Any]:
        return {
            "type": "bridge",
            "bridge": bridge,
            "isGateway": True,
            "ipMasq": False,
            "ipam": self.ipam(subnet),
        }

    def conf_list(
        self,
        version: str,
        plugins: Sequence[dict[str, Any]],
        *,
        name: str | None = None,
        **top: Any,
    ) -> pycni.NetworkConfigList:
        doc = {"cniVersion": version, "name": name or self.network_name(), **top}
        doc["plugins"] = list(plugins)
        return pycni.NetworkConfigList.from_bytes(json.dumps(doc).encode())

    def allocations(self, network: str | None = None) -> dict[str, str]:
        """host-local's allocation files of a network: address -> container ID."""
        folder = self.ipam_dir / (network or self.network_name())
        out = {}
        if folder.is_dir():
            for entry in folder.iterdir():
                try:
                    ipaddress.ip_address(entry.name)
                except ValueError:
                    continue
                out[entry.name] = entry.read_text().split()[0]
        return out

    # --- clean-up -------------------------------------------------------------------------

    def cleanup(self) -> None:
        """DEL every attachment whose ADD was tried and that was not deleted since (a test that
        failed half-way) and every attachment still in the test's result cache, then delete the
        namespaces and links named with the test's prefixes."""
        errors = []
        # negotiating, so that lists offering versions the plugins lack can still be deleted;
        # where negotiation fails, the ADD failed the same way before any plugin ran
        cni = pycni.CNIConfig(
            path=[CNI_PATH], cache_dir=str(self.cache_dir), negotiate_versions=True
        )
        for conf, rt in list(self._pending.values()):
            try:
                cni.del_network_list(conf, rt, timeout=30)
            except pycni.NegotiationError:
                pass
            except pycni.PycniError as exc:
                errors.append(f"DEL {rt.container_id}/{rt.ifname}: {exc}")
        for att in cni.get_cached_attachments():  # e.g. made by a Sandbox of the test
            try:
                conf = pycni.NetworkConfigList.from_bytes(att.config)
                cni.del_network_list(conf, att.runtime_conf(), timeout=30)
            except pycni.PycniError as exc:
                errors.append(f"DEL cached {att.container_id}/{att.ifname}: {exc}")
        # everything named with the test's prefixes, also by code under test given those names
        for name in realnet.netns_names():
            if name.startswith(self.prefix):
                realnet.delete_netns(name)
        for name in realnet.link_names():
            if name.startswith(self.link_prefix):
                realnet.delete_link(name)
        assert not errors, errors


def failing_plugin(exc: BaseException) -> str:
    """The plugin type a CHECK/ADD failure names (``ChainError`` wraps, CHECK does not)."""
    if isinstance(exc, pycni.ChainError):
        return exc.plugin_type
    if isinstance(exc, pycni.PluginError):
        return exc.plugin_type
    raise AssertionError(f"not a plugin failure: {exc!r}")
