"""Results of spec 0.1.0 and 0.2.0: at most one IPv4 and one IPv6 configuration (``ip4``/``ip6``).

JSON: ``{cniVersion, ip4?: {ip, gateway?, routes?}, ip6?: {...}, dns}`` where ``dns`` is always
present (``{}`` when empty). A ``cniVersion`` of ``""`` means 0.1.0.
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

VERSIONS = ("", "0.1.0", "0.2.0")
IMPLEMENTED = "0.2.0"


def _routes(values: Iterable[Route]) -> tuple[Route, ...]:
    return tuple(values)


@attrs.frozen(kw_only=True)
class IPConfig020:
    """``ip4``/``ip6`` of a 0.1/0.2 result: the address (CIDR), gateway and that family's routes."""

    GO_TYPE = "types020.IPConfig"

    ip: CIDR = attrs.field(converter=to_cidr)
    gateway: IPAddress | None = attrs.field(default=None, converter=to_optional_ip)
    routes: tuple[Route, ...] = attrs.field(default=(), converter=_routes)

    def brief(self) -> str:
        text = format_cidr(self.ip)
        return f"{text} gw {self.gateway}" if self.gateway is not None else text


def _version(value: str) -> str:
    return "0.1.0" if value == "" else value


def _check_version(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in VERSIONS:
        raise family_version_error(Result020, value)


@attrs.frozen(kw_only=True, repr=False)
class Result020(Result):
    """A 0.1.0 / 0.2.0 result."""

    GO_TYPE = "types020.Result"
    FAMILY_VERSIONS: ClassVar[tuple[str, ...]] = VERSIONS
    IMPLEMENTED_VERSION: ClassVar[str] = IMPLEMENTED

    cni_version: str = attrs.field(
        default=IMPLEMENTED,
        converter=_version,
        validator=_check_version,
        metadata={**json_name("cniVersion"), **ALWAYS},
    )
    ip4: IPConfig020 | None = None
    ip6: IPConfig020 | None = None
    dns: DNS = attrs.field(factory=DNS, metadata=ALWAYS)

    @property
    def interfaces(self) -> tuple[()]:
        """0.1/0.2 results name no interfaces."""
        return ()

    @property
    def ips(self) -> tuple[IPConfig020, ...]:
        """``ip4`` then ``ip6``, those present."""
        return tuple(c for c in (self.ip4, self.ip6) if c is not None)

    @property
    def routes(self) -> tuple[Route, ...]:
        """The routes of ``ip4`` followed by those of ``ip6``."""
        return tuple(r for c in self.ips for r in c.routes)
