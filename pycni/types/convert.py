"""Conversion between every ordered pair of spec versions (libcni ``internal/convert``).

Within a family only ``cniVersion`` changes. Across families:

* 0.1/0.2 -> 0.3/0.4: ``ip4`` then ``ip6`` become ``ips`` tagged ``"4"``/``"6"``; their routes
  become one list (IPv4 first), every attribute kept.
* 0.3/0.4 -> 0.1/0.2 (lossy): the first ip tagged ``"4"`` becomes ``ip4`` and the first tagged
  ``"6"`` becomes ``ip6`` (by the tag, not the address); interfaces and indexes are dropped; each
  route goes to ``ip4`` if its destination is IPv4 (else ``ip6``), keeping only ``dst`` and ``gw``;
  no ip4 and no ip6 is ``cannot convert: no valid IP addresses``.
* 0.3/0.4 -> 1.x: ips lose ``version``; everything else is copied.
* 1.x -> 0.3/0.4 (lossy): interfaces lose ``mtu``/``socketPath``/``pciID``; ips gain ``version``
  from the address family.
* 0.1/0.2 <-> 1.x go through 0.4.0.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from ..errors import ConversionError
from ..version import ALL
from .base import Result
from .common import Route
from .v020 import IPConfig020, Result020
from .v040 import Interface040, IPConfig040, Result040
from .v100 import Interface100, IPConfig100, Result100


def _020_to_040(src: Result020, version: str) -> Result040:
    ips = []
    for tag, config in (("4", src.ip4), ("6", src.ip6)):
        if config is not None:
            ips.append(IPConfig040(version=tag, address=config.ip, gateway=config.gateway))
    return Result040(cni_version=version, ips=ips, routes=src.routes, dns=src.dns)


def _040_to_020(src: Result040, version: str) -> Result020:
    ip4 = next((c for c in src.ips if c.version == "4"), None)
    ip6 = next((c for c in src.ips if c.version == "6"), None)
    routes4: list[Route] = []
    routes6: list[Route] = []
    for route in src.routes:
        is4 = route.dst.version == 4
        if is4 and ip4 is not None:
            routes4.append(Route(dst=route.dst, gw=route.gw))
        elif not is4 and ip6 is not None:
            routes6.append(Route(dst=route.dst, gw=route.gw))
    if ip4 is None and ip6 is None:
        raise ConversionError("cannot convert: no valid IP addresses")
    return Result020(
        cni_version=version,
        ip4=None
        if ip4 is None
        else IPConfig020(ip=ip4.address, gateway=ip4.gateway, routes=routes4),
        ip6=None
        if ip6 is None
        else IPConfig020(ip=ip6.address, gateway=ip6.gateway, routes=routes6),
        dns=src.dns,
    )


def _040_to_100(src: Result040, version: str) -> Result100:
    return Result100(
        cni_version=version,
        interfaces=[
            Interface100(name=i.name, mac=i.mac, sandbox=i.sandbox) for i in src.interfaces
        ],
        ips=[
            IPConfig100(interface=c.interface, address=c.address, gateway=c.gateway)
            for c in src.ips
        ],
        routes=src.routes,
        dns=src.dns,
    )


def _100_to_040(src: Result100, version: str) -> Result040:
    return Result040(
        cni_version=version,
        interfaces=[
            Interface040(name=i.name, mac=i.mac, sandbox=i.sandbox) for i in src.interfaces
        ],
        ips=[
            IPConfig040(
                version=str(c.address.version),
                interface=c.interface,
                address=c.address,
                gateway=c.gateway,
            )
            for c in src.ips
        ],
        routes=src.routes,
        dns=src.dns,
    )


def _retag(src: Result, version: str) -> Result:
    return attrs.evolve(src, cni_version=version)  # type: ignore[misc]


def _to_020(src: Result, version: str) -> Result:
    if isinstance(src, Result100):
        src = _100_to_040(src, "0.4.0")
    assert isinstance(src, Result040)
    return _040_to_020(src, version)


def _to_040(src: Result, version: str) -> Result:
    if isinstance(src, Result020):
        return _020_to_040(src, version)
    assert isinstance(src, Result100)
    return _100_to_040(src, version)


def _to_100(src: Result, version: str) -> Result:
    if isinstance(src, Result020):
        src = _020_to_040(src, "0.4.0")
    assert isinstance(src, Result040)
    return _040_to_100(src, version)


_FAMILIES: tuple[type[Result], ...] = (Result020, Result040, Result100)
_TO_FAMILY: dict[type[Result], Callable[[Result, str], Result]] = {
    Result020: _to_020,
    Result040: _to_040,
    Result100: _to_100,
}


def family_for(version: str) -> type[Result] | None:
    """The result class whose family includes ``version`` (``""`` is 0.1.0), or ``None``."""
    for cls in _FAMILIES:
        if version in cls.FAMILY_VERSIONS:
            return cls
    return None


def convert(result: Result, version: str) -> Result:
    """``result`` in spec ``version``; see the module docstring for what each direction keeps."""
    target = version or "0.1.0"
    if result.cni_version == target:
        return result
    target_cls = family_for(target) if target in ALL else None
    if target_cls is None or result.cni_version not in ALL:
        raise ConversionError(
            f"no converter for CNI result version {result.cni_version} to {target}"
        )
    if type(result) is target_cls:
        return _retag(result, target)
    return _TO_FAMILY[target_cls](result, target)
