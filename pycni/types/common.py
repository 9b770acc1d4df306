"""Building blocks shared by every result family: addresses, routes and DNS settings.

Addresses follow libcni's JSON rules, which differ from what most Python code expects:

* a CIDR keeps its host bits (``10.1.2.3/24`` stays ``10.1.2.3/24``), so it is an
  :class:`ipaddress.IPv4Interface` / :class:`~ipaddress.IPv6Interface`, never a network;
* an address without ``/prefix``, a netmask written as an address, or an IPv6 zone is invalid;
* IPv6 is printed in canonical compressed form and an IPv4-mapped IPv6 address (``::ffff:1.2.3.4``)
  is an IPv4 address, printed dotted (a mapped CIDR keeps ``prefix - 96`` bits, as Go prints it).

The attrs converters on the models accept either strings or :mod:`ipaddress` objects, so results
can be built in Python as easily as they are parsed from JSON.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable
from typing import NewType

import attrs

from ..errors import ResultError

#: A CIDR with its host address kept (``10.1.2.3/24``).
CIDR = ipaddress.IPv4Interface | ipaddress.IPv6Interface
#: A single IP address.
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: A JSON integer that must not be negative (Go ``uint``).
UInt = NewType("UInt", int)

_PREFIX_LIMIT = 0xFFFFFF  # Go's dtoi gives up on larger numbers


class InvalidValue(ValueError):
    """A field's value is of the right JSON type but not valid (``invalid CIDR address: x``)."""


def _unmap(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _parse_address(text: str) -> IPAddress | None:
    if "%" in text:  # zones are rejected by Go's parsers
        return None
    try:
        return _unmap(ipaddress.ip_address(text))
    except ValueError:
        return None


@functools.lru_cache(maxsize=4096)
def parse_cidr(text: str) -> CIDR:
    """Parse ``ip/prefix`` keeping the host address (libcni ``types.ParseCIDR``).

    Cached: a chain parses the same addresses once per plugin (prevResult threading), and the
    :mod:`ipaddress` objects returned are immutable.

    Raises :class:`InvalidValue` ``invalid CIDR address: <text>`` (a ``ValueError``).
    """
    address_text, slash, prefix_text = text.partition("/")
    address = _parse_address(address_text) if slash else None
    if (
        address is None
        or not prefix_text
        or not all("0" <= c <= "9" for c in prefix_text)
        or int(prefix_text) > _PREFIX_LIMIT
    ):
        raise InvalidValue(f"invalid CIDR address: {text}")
    prefix = int(prefix_text)
    if address.version == 4 and ":" in address_text:  # IPv4-mapped IPv6: keep the low 32 bits
        if prefix > 128:
            raise InvalidValue(f"invalid CIDR address: {text}")
        prefix = max(0, prefix - 96)
    if prefix > address.max_prefixlen:
        raise InvalidValue(f"invalid CIDR address: {text}")
    return ipaddress.ip_interface((address, prefix))


@functools.lru_cache(maxsize=4096)
def parse_ip(text: str) -> IPAddress:
    """Parse one IP address; raises :class:`InvalidValue` ``invalid IP address: <text>``."""
    address = _parse_address(text)
    if address is None:
        raise InvalidValue(f"invalid IP address: {text}")
    return address


def format_cidr(value: CIDR) -> str:
    """``ip/prefix`` with the host bits kept and IPv6 compressed."""
    return f"{value.ip}/{value.network.prefixlen}"


def to_cidr(value: str | CIDR) -> CIDR:
    """attrs converter: a CIDR from a string or an :mod:`ipaddress` interface object."""
    if isinstance(value, str):
        try:
            return parse_cidr(value)
        except InvalidValue as exc:
            raise ResultError(str(exc)) from None
    if isinstance(value, (ipaddress.IPv4Interface, ipaddress.IPv6Interface)):
        if "%" in str(value.ip):
            raise ResultError(f"invalid CIDR address: {value}")
        mapped = value.ip.ipv4_mapped if isinstance(value, ipaddress.IPv6Interface) else None
        if mapped is not None:
            return ipaddress.IPv4Interface((mapped, max(0, value.network.prefixlen - 96)))
        return value
    raise ResultError(f"invalid CIDR address: {value!r} is not a string or ipaddress interface")


def to_optional_ip(value: str | IPAddress | None) -> IPAddress | None:
    """attrs converter: an IP from a string or address object; ``None`` and ``""`` mean absent."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return parse_ip(value)
        except InvalidValue as exc:
            raise ResultError(str(exc)) from None
    if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        if "%" in str(value):
            raise ResultError(f"invalid IP address: {value}")
        return _unmap(value)
    raise ResultError(f"invalid IP address: {value!r} is not a string or ipaddress address")


def to_str_tuple(values: Iterable[str]) -> tuple[str, ...]:
    """attrs converter for lists of strings (a bare string is refused, not split into letters)."""
    if isinstance(values, str):
        raise ResultError(f"expected a list of strings, got the string {values!r}")
    return tuple(values)


def json_name(name: str) -> dict[str, str]:
    """Field metadata naming the JSON key when it differs from the attribute name."""
    return {"json": name}


#: Field metadata: emit the key even when the value equals the default.
ALWAYS: dict[str, bool] = {"always": True}


@attrs.frozen(kw_only=True)
class Route:
    """A route (libcni ``types.Route``), the same in every result family.

    ``priority``, ``mtu`` and ``advmss`` are omitted from JSON when 0; ``table`` and ``scope`` are
    optional integers emitted whenever set, even to 0 (scope 0 is "global").
    """

    GO_TYPE = "types.Route"

    dst: CIDR = attrs.field(converter=to_cidr)
    gw: IPAddress | None = attrs.field(default=None, converter=to_optional_ip)
    mtu: int = 0
    advmss: int = 0
    priority: int = 0
    table: int | None = None
    scope: int | None = None

    def brief(self) -> str:
        """``dst via gw`` for readable reprs."""
        text = format_cidr(self.dst)
        return f"{text} via {self.gw}" if self.gw is not None else text


@attrs.frozen(kw_only=True)
class DNS:
    """DNS settings (libcni ``types.DNS``); every key is omitted from JSON when empty."""

    GO_TYPE = "types.DNS"
    NULL_IS_EMPTY = True  # a struct value in Go: ``"dns": null`` leaves it empty

    nameservers: tuple[str, ...] = attrs.field(default=(), converter=to_str_tuple)
    domain: str = ""
    search: tuple[str, ...] = attrs.field(default=(), converter=to_str_tuple)
    options: tuple[str, ...] = attrs.field(default=(), converter=to_str_tuple)

    def is_empty(self) -> bool:
        """True when no key is set (libcni ``DNS.IsEmpty``)."""
        return not (self.nameservers or self.domain or self.search or self.options)

    def brief(self) -> str:
        parts = []
        if self.nameservers:
            parts.append(f"nameservers=[{' '.join(self.nameservers)}]")
        if self.domain:
            parts.append(f"domain={self.domain}")
        if self.search:
            parts.append(f"search=[{' '.join(self.search)}]")
        if self.options:
            parts.append(f"options=[{' '.join(self.options)}]")
        return "{" + ", ".join(parts) + "}"
