"""The ``pycni-ipam`` example plugin: hands out addresses from a range, one per attachment.

Configuration (the ``ipam`` object of the plugin that delegates to it)::

    "ipam": {
        "type": "pycni-ipam",
        "subnet": "10.88.0.0/24",          # required; IPv4 or IPv6
        "rangeStart": "10.88.0.10",        # optional, default: first host
        "rangeEnd": "10.88.0.250",         # optional, default: last host
        "gateway": "10.88.0.1",            # optional, default: first host; never handed out
        "routes": [{"dst": "0.0.0.0/0"}],  # optional; "gw" defaults to the gateway
        "dataDir": "/var/lib/cni/pycni-ipam"
    }

State lives in ``<dataDir>/<network name>/``: one file per allocated address (named after it,
holding the container ID and interface name) and ``last_reserved_ip`` so addresses are not reused
right away, all under an exclusive ``flock`` so concurrent invocations never hand out one address
twice. ``dataDir`` defaults to ``$PYCNI_IPAM_DATA_DIR``, else ``/var/lib/cni/pycni-ipam`` for root,
else ``<tmp>/pycni-ipam-<uid>``.

ADD returns the attachment's address (the same one again if it already has one), DEL releases it
(and succeeds when there is nothing to release), CHECK fails with code 3 when the attachment holds
no address, GC releases every address whose attachment is not in ``cni.dev/valid-attachments``
(nothing when the key is absent or null), STATUS fails with code 50 when the range is exhausted.
"""

from __future__ import annotations

import ipaddress
import itertools
import os
import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pycni.errors import CNIError, ErrorCode
from pycni.skel import plugin_main

if TYPE_CHECKING:  # pragma: no cover
    from pycni.skel import CmdArgs
    from pycni.types import Result

ABOUT = "pycni example plugin pycni-ipam (addresses from a range, state in a directory)"

#: Plugin-specific error code: no free address left in the range.
ERR_RANGE_FULL = 100

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_LAST_RESERVED = "last_reserved_ip"
_LOCK = "lock"


def _config_error(msg: str, details: str = "") -> CNIError:
    return CNIError(ErrorCode.INVALID_NETWORK_CONFIG, f"pycni-ipam: {msg}", details)


class Pool:
    """The address range of one network and its allocations on disk."""

    def __init__(self, config: dict[str, Any]) -> None:
        ipam = config.get("ipam")
        if not isinstance(ipam, dict):
            raise _config_error("missing ipam configuration")
        self.network_name = str(config.get("name", ""))
        self.subnet = self._network(ipam.get("subnet"))
        hosts = self._first_last()
        self.gateway = self._address(ipam, "gateway", hosts[0])
        self.start = self._address(ipam, "rangeStart", hosts[0])
        self.end = self._address(ipam, "rangeEnd", hosts[1])
        if int(self.start) > int(self.end):
            raise _config_error("rangeStart is after rangeEnd", f"{self.start} > {self.end}")
        self.routes = self._routes(ipam.get("routes", []))
        data_dir = ipam.get("dataDir") or _default_data_dir()
        if not isinstance(data_dir, str):
            raise _config_error("dataDir must be a string")
        self.dir = os.path.join(data_dir, self.network_name)

    def _network(self, value: Any) -> Network:
        if not isinstance(value, str):
            raise _config_error("subnet must be a CIDR string", repr(value))
        try:
            return ipaddress.ip_network(value, strict=False)
        except ValueError as exc:
            raise _config_error("invalid subnet", str(exc)) from None

    def _first_last(self) -> tuple[Address, Address]:
        first = self.subnet.network_address + 1
        last = self.subnet.broadcast_address - (1 if self.subnet.version == 4 else 0)
        if self.subnet.prefixlen >= self.subnet.max_prefixlen - 1:
            first, last = self.subnet.network_address, self.subnet.broadcast_address
        return first, last

    def _address(self, ipam: dict[str, Any], key: str, default: Address) -> Address:
        value = ipam.get(key)
        if value is None or value == "":
            return default
        try:
            address = ipaddress.ip_address(value)
        except (TypeError, ValueError):
            raise _config_error(f"invalid {key}", repr(value)) from None
        if address not in self.subnet:
            raise _config_error(f"{key} {address} is outside subnet {self.subnet}")
        return address

    def _routes(self, routes: Any) -> list[dict[str, str]]:
        if not isinstance(routes, list):
            raise _config_error("routes must be a list")
        out = []
        for route in routes:
            if not isinstance(route, dict) or not isinstance(route.get("dst"), str):
                raise _config_error("each route needs a dst", repr(route))
            out.append({"dst": route["dst"], "gw": str(route.get("gw") or self.gateway)})
        return out

    # -- state --------------------------------------------------------------------------------

    def lock(self) -> Any:
        """An exclusive lock over this network's state (created on first use; 30 s at most)."""
        import time

        from .._dirs import make_dirs
        from ..locks import exclusive_lock

        make_dirs(self.dir, 0o700)
        return exclusive_lock(os.path.join(self.dir, _LOCK), time.monotonic() + 30)

    def allocations(self) -> Iterator[tuple[Address, str, str]]:
        """``(address, container_id, ifname)`` of every allocation."""
        try:
            names = sorted(os.listdir(self.dir))
        except FileNotFoundError:
            return
        for name in names:
            try:
                address = ipaddress.ip_address(name)
            except ValueError:
                continue
            with open(os.path.join(self.dir, name), encoding="utf-8") as handle:
                owner = handle.read().split("\n")
            yield address, owner[0], owner[1] if len(owner) > 1 else ""

    def find(self, container_id: str, ifname: str) -> Address | None:
        for address, cid, name in self.allocations():
            if (cid, name) == (container_id, ifname):
                return address
        return None

    def candidates(self) -> Iterator[Address]:
        """Every assignable address, starting after the last one reserved."""
        start, end = int(self.start), int(self.end)
        last = self._last_reserved()
        first = last + 1 if last is not None and start <= last < end else start
        reserved = {int(self.gateway), int(self.subnet.network_address)}
        if self.subnet.version == 4:
            reserved.add(int(self.subnet.broadcast_address))
        for value in itertools.chain(range(first, end + 1), range(start, first)):
            if value not in reserved:
                yield ipaddress.ip_address(value)

    def _last_reserved(self) -> int | None:
        try:
            with open(os.path.join(self.dir, _LAST_RESERVED), encoding="utf-8") as handle:
                return int(ipaddress.ip_address(handle.read().strip()))
        except (OSError, ValueError):
            return None

    def reserve(self, container_id: str, ifname: str) -> Address:
        """The attachment's address, allocating the next free one (caller holds the lock)."""
        existing = self.find(container_id, ifname)
        if existing is not None:
            return existing
        taken = {a for a, _, _ in self.allocations()}
        for address in self.candidates():
            if address in taken:
                continue
            path = os.path.join(self.dir, str(address))
            with open(path, "x", encoding="utf-8") as handle:
                handle.write(f"{container_id}\n{ifname}")
            with open(os.path.join(self.dir, _LAST_RESERVED), "w", encoding="utf-8") as handle:
                handle.write(str(address))
            return address
        raise CNIError(
            ERR_RANGE_FULL,
            "pycni-ipam: no IP addresses available in range",
            f"{self.start}-{self.end} of network {self.network_name}",
        )

    def release(self, keep: Any) -> list[Address]:
        """Release every allocation for which ``keep(container_id, ifname)`` is false."""
        released = []
        for address, cid, name in list(self.allocations()):
            if not keep(cid, name):
                try:
                    os.unlink(os.path.join(self.dir, str(address)))
                except FileNotFoundError:
                    continue
                released.append(address)
        return released

    def has_free_address(self) -> bool:
        taken = {a for a, _, _ in self.allocations()}
        return any(a not in taken for a in self.candidates())

    def result(self, address: Address) -> Result:
        from pycni.types import create_result

        data = {
            "cniVersion": "1.1.0",
            "ips": [
                {"address": f"{address}/{self.subnet.prefixlen}", "gateway": str(self.gateway)}
            ],
            "routes": self.routes,
        }
        return create_result("1.1.0", data)


def _default_data_dir() -> str:
    configured = os.environ.get("PYCNI_IPAM_DATA_DIR")
    if configured:
        return configured
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return "/var/lib/cni/pycni-ipam"
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return os.path.join(tempfile.gettempdir(), f"pycni-ipam-{uid}")


def add(args: CmdArgs) -> Result:
    """Reserve (or find again) the attachment's address."""
    pool = Pool(args.config())
    with pool.lock():
        address = pool.reserve(args.container_id, args.ifname)
    return pool.result(address)


def delete(args: CmdArgs) -> None:
    """Release the attachment's address (nothing to release is fine)."""
    pool = Pool(args.config())
    with pool.lock():
        pool.release(lambda cid, ifname: (cid, ifname) != (args.container_id, args.ifname))


def check(args: CmdArgs) -> None:
    """The attachment must still hold an address."""
    pool = Pool(args.config())
    with pool.lock():
        address = pool.find(args.container_id, args.ifname)
    if address is None:
        raise CNIError(
            ErrorCode.UNKNOWN_CONTAINER,
            "pycni-ipam: no address allocated",
            f"container {args.container_id} interface {args.ifname}",
        )


def gc(args: CmdArgs) -> None:
    """Release every allocation whose attachment is not listed as valid."""
    config = args.config()
    valid = config.get("cni.dev/valid-attachments")
    if valid is None:
        return
    if not isinstance(valid, list):
        raise _config_error("cni.dev/valid-attachments must be a list")
    keep = {
        (str(a.get("containerID", "")), str(a.get("ifname", "")))
        for a in valid
        if isinstance(a, dict)
    }
    pool = Pool(config)
    with pool.lock():
        pool.release(lambda cid, ifname: (cid, ifname) in keep)


def status(args: CmdArgs) -> None:
    """Ready when the state directory is usable and the range has a free address."""
    pool = Pool(args.config())
    try:
        with pool.lock():
            free = pool.has_free_address()
    except OSError as exc:
        raise CNIError(
            ErrorCode.PLUGIN_NOT_AVAILABLE, "pycni-ipam: state directory unusable", str(exc)
        ) from None
    if not free:
        raise CNIError(
            ErrorCode.PLUGIN_NOT_AVAILABLE,
            "pycni-ipam: no IP addresses available in range",
            f"{pool.start}-{pool.end}",
        )


def main() -> None:
    """Serve one invocation (every spec version is supported)."""
    plugin_main(add=add, check=check, delete=delete, gc=gc, status=status, about=ABOUT)
