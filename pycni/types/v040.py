"""Results of spec 0.3.0, 0.3.1 and 0.4.0: interfaces, a list of IPs tagged ``version``, routes.

JSON: ``{cniVersion, interfaces?, ips?: [{version, interface?, address, gateway?}], routes?, dns}``
where ``dns`` is always present (``{}`` when empty) and each ip's ``version`` is always emitted,
even when ``""``. ``interface`` is an optional index: 0 is kept, absent is omitted.
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

VERSIONS = ("0.3.0", "0.3.1", "0.4.0")
IMPLEMENTED = "0.4.0"


@attrs.frozen(kw_only=True)
class Interface040:
    """An interface created by a plugin: ``name`` (always emitted), ``mac``, ``sandbox``."""

    GO_TYPE = "types040.Interface"

    name: str = attrs.field(default="", metadata=ALWAYS)
    mac: str = ""
    sandbox: str = ""

    def brief(self) -> str:
        return self.name


@attrs.frozen(kw_only=True)
class IPConfig040:
    """An IP configuration; ``version`` is ``"4"`` or ``"6"`` (libcni does not check it)."""

    GO_TYPE = "types040.IPConfig"

    version: str = attrs.field(default="", metadata=ALWAYS)
    interface: int | None = None
    address: CIDR = attrs.field(converter=to_cidr)
    gateway: IPAddress | None = attrs.field(default=None, converter=to_optional_ip)

    def brief(self) -> str:
        text = format_cidr(self.address)
        return f"{text} gw {self.gateway}" if self.gateway is not None else text


def _interfaces(values: Iterable[Interface040]) -> tuple[Interface040, ...]:
    return tuple(values)


def _ips(values: Iterable[IPConfig040]) -> tuple[IPConfig040, ...]:
    return tuple(values)


def _routes(values: Iterable[Route]) -> tuple[Route, ...]:
    return tuple(values)


def _check_version(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in VERSIONS:
        raise family_version_error(Result040, value)


@attrs.frozen(kw_only=True, repr=False)
class Result040(Result):
    """A 0.3.0 / 0.3.1 / 0.4.0 result."""

    GO_TYPE = "types040.Result"
    FAMILY_VERSIONS: ClassVar[tuple[str, ...]] = VERSIONS
    IMPLEMENTED_VERSION: ClassVar[str] = IMPLEMENTED

    cni_version: str = attrs.field(
        default=IMPLEMENTED,
        validator=_check_version,
        metadata={**json_name("cniVersion"), **ALWAYS},
    )
    interfaces: tuple[Interface040, ...] = attrs.field(default=(), converter=_interfaces)
    ips: tuple[IPConfig040, ...] = attrs.field(default=(), converter=_ips)
    routes: tuple[Route, ...] = attrs.field(default=(), converter=_routes)
    dns: DNS = attrs.field(factory=DNS, metadata=ALWAYS)
