"""Results of spec 1.0.0 and 1.1.0 (the types did not change between them).

JSON: ``{cniVersion, interfaces?: [{name, mac?, mtu?, sandbox?, socketPath?, pciID?}],
ips?: [{interface?, address, gateway?}], routes?, dns?}``: ips carry no ``version`` and ``dns`` is
omitted when empty. libcni writes these results with sorted keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

import attrs

from .base import Result, family_version_error
from .common import (
    ALWAYS,
    CIDR,
    DNS,
    IPAddress,
    Route,
    format_cidr,
    json_name,
    to_cidr,
    to_optional_ip,
)

VERSIONS = ("1.0.0", "1.1.0")
IMPLEMENTED = "1.1.0"


@attrs.frozen(kw_only=True)
class Interface100:
    """An interface: ``name`` (always emitted), ``mac``, ``mtu``, ``sandbox``, ``socketPath``,
    ``pciID`` (the last three are new in 1.x and lost when converting to 0.x)."""

    GO_TYPE = "types100.Interface"

    name: str = attrs.field(default="", metadata=ALWAYS)
    mac: str = ""
    mtu: int = 0
    sandbox: str = ""
    socket_path: str = attrs.field(default="", metadata=json_name("socketPath"))
    pci_id: str = attrs.field(default="", metadata=json_name("pciID"))

    def brief(self) -> str:
        return self.name


@attrs.frozen(kw_only=True)
class IPConfig100:
    """An IP configuration: optional interface index (0 kept), address (CIDR), gateway."""

    GO_TYPE = "types100.IPConfig"

    interface: int | None = None
    address: CIDR = attrs.field(converter=to_cidr)
    gateway: IPAddress | None = attrs.field(default=None, converter=to_optional_ip)

    def brief(self) -> str:
        text = format_cidr(self.address)
        return f"{text} gw {self.gateway}" if self.gateway is not None else text


def _interfaces(values: Iterable[Interface100]) -> tuple[Interface100, ...]:
    return tuple(values)


def _ips(values: Iterable[IPConfig100]) -> tuple[IPConfig100, ...]:
    return tuple(values)


def _routes(values: Iterable[Route]) -> tuple[Route, ...]:
    return tuple(values)


def _check_version(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in VERSIONS:
        raise family_version_error(Result100, value)


@attrs.frozen(kw_only=True, repr=False)
class Result100(Result):
    """A 1.0.0 / 1.1.0 result."""

    GO_TYPE = "types100.Result"
    FAMILY_VERSIONS: ClassVar[tuple[str, ...]] = VERSIONS
    IMPLEMENTED_VERSION: ClassVar[str] = IMPLEMENTED
    SORT_KEYS: ClassVar[bool] = True

    cni_version: str = attrs.field(
        default=IMPLEMENTED,
        validator=_check_version,
        metadata={**json_name("cniVersion"), **ALWAYS},
    )
    interfaces: tuple[Interface100, ...] = attrs.field(default=(), converter=_interfaces)
    ips: tuple[IPConfig100, ...] = attrs.field(default=(), converter=_ips)
    routes: tuple[Route, ...] = attrs.field(default=(), converter=_routes)
    dns: DNS = attrs.field(factory=DNS)
