"""Typed helpers for the capability arguments a Kubernetes runtime passes to CNI plugins.

A runtime hands plugins per-pod facts through ``RuntimeConf.capability_args`` (copied into a
plugin's ``runtimeConfig`` only when the plugin declares the capability). The shapes are fixed by
the CNI conventions document; these helpers build them from Kubernetes-style input, validate every
value and raise :class:`CapabilityError` (a :class:`~pycni.errors.PycniError`) naming the field.

* ``portMappings`` (hostPort): :class:`PortMapping`, :func:`port_mappings`;
* ``bandwidth`` (traffic shaping): :class:`Bandwidth`, :func:`parse_bandwidth`,
  :func:`bandwidth_from_annotations` -- kubelet's parsing and limits, containerd's bursts;
* ``ipRanges``, ``dns``, ``ips``, ``mac``, ``infinibandGUID``, ``deviceID``, ``aliases``,
  ``cgroupPath``: one function each;
* :func:`capability_args` / :func:`pod_capability_args` assemble a whole mapping, and
  :func:`pod_cni_args` the ``K8S_POD_*`` CNI_ARGS labels containerd sends.

Everything here is pure. See docs/kubernetes.md for the rules and where they come from.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from .errors import PycniError
from .quantity import MAX_BANDWIDTH, MIN_BANDWIDTH, QuantityError, parse_bandwidth

__all__ = [
    "CONTAINERD_BURST",
    "EGRESS_BANDWIDTH_ANNOTATION",
    "INGRESS_BANDWIDTH_ANNOTATION",
    "KUBELET_BURST",
    "MAX_BANDWIDTH",
    "MIN_BANDWIDTH",
    "POD_ANNOTATIONS_CAPABILITY",
    "PROTOCOLS",
    "WELL_KNOWN_CAPABILITIES",
    "Bandwidth",
    "CapabilityError",
    "IPRange",
    "PortMapping",
    "aliases",
    "bandwidth_from_annotations",
    "capability_args",
    "cgroup_path",
    "device_id",
    "dns",
    "infiniband_guid",
    "ip_ranges",
    "ips",
    "mac",
    "parse_bandwidth",
    "pod_capability_args",
    "pod_cni_args",
    "port_mappings",
]

#: The capabilities listed by the CNI conventions document.
WELL_KNOWN_CAPABILITIES: tuple[str, ...] = (
    "portMappings",
    "ipRanges",
    "bandwidth",
    "dns",
    "ips",
    "mac",
    "infinibandGUID",
    "deviceID",
    "aliases",
    "cgroupPath",
)
#: containerd passes the pod's annotations to plugins that declare this capability.
POD_ANNOTATIONS_CAPABILITY = "io.kubernetes.cri.pod-annotations"
INGRESS_BANDWIDTH_ANNOTATION = "kubernetes.io/ingress-bandwidth"
EGRESS_BANDWIDTH_ANNOTATION = "kubernetes.io/egress-bandwidth"
#: The burst containerd (and CRI-O) send with an annotated rate: 2**32 - 1 bits, i.e. "no limit".
CONTAINERD_BURST = 2**32 - 1
#: The burst kubelet's own CNI code (dockershim, before Kubernetes 1.24) sent: 2**31 - 1 bits.
KUBELET_BURST = 2**31 - 1
#: Protocols accepted in port mappings (sent lower-cased, as the portmap plugin expects).
PROTOCOLS: tuple[str, ...] = ("tcp", "udp", "sctp")
_UINT64_MAX = 2**64 - 1


class CapabilityError(PycniError, ValueError):
    """A capability argument is invalid; ``capability`` and ``field`` name what, ``value`` holds it."""

    def __init__(
        self, message: str, *, capability: str, field: str | None = None, value: Any = None
    ) -> None:
        self.message = message
        self.capability = capability
        self.field = field or capability
        self.value = value
        super().__init__(f"{self.field}: {message}")


def _fail(capability: str, field: str, message: str, value: Any = None) -> CapabilityError:
    return CapabilityError(message, capability=capability, field=field, value=value)


# --------------------------------------------------------------------------------------------
# portMappings
# --------------------------------------------------------------------------------------------


def _port(value: Any, field: str, *, allow_zero: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail("portMappings", field, f"must be an integer port, not {value!r}", value)
    low = 0 if allow_zero else 1
    if not low <= value <= 65535:
        raise _fail("portMappings", field, f"{value} is not a valid port (1-65535)", value)
    return value


def _protocol(value: Any) -> str:
    if not isinstance(value, str) or value.lower() not in PROTOCOLS:
        raise _fail("portMappings", "protocol", f"{value!r} is not one of tcp, udp, sctp", value)
    return value.lower()


def _host_ip(value: Any) -> str:
    if value is None or value == "":
        return ""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise _fail("portMappings", "hostIP", f"{value!r} is not an IP address", value) from None


def _check_port(instance: PortMapping, attribute: attrs.Attribute[int], value: int) -> None:
    _port(value, attribute.name)


@attrs.frozen
class PortMapping:
    """One hostPort mapping (CNI ``portMappings`` entry; CRI ``PortMapping``).

    ``protocol`` is lower-cased (``"TCP"`` becomes ``"tcp"``); ``host_ip`` is an address to bind on
    the host, empty for all addresses.
    """

    host_port: int = attrs.field(validator=_check_port)
    container_port: int = attrs.field(validator=_check_port)
    protocol: str = attrs.field(default="tcp", converter=_protocol)
    host_ip: str = attrs.field(default="", converter=_host_ip)

    def to_dict(self) -> dict[str, Any]:
        """``{"hostPort", "containerPort", "protocol", "hostIP"?}`` (``hostIP`` only when set)."""
        data: dict[str, Any] = _converter.unstructure(self)
        return data


# Accepted keys of a port spec (Kubernetes' camelCase, CRI's ``hostIp``, Python's snake_case);
# a Kubernetes ContainerPort's ``name`` is accepted and ignored.
_SPEC_KEYS: dict[str, str | None] = {
    **{k: "host_port" for k in ("hostPort", "host_port")},
    **{k: "container_port" for k in ("containerPort", "container_port")},
    **{k: "host_ip" for k in ("hostIP", "hostIp", "host_ip")},
    **{"protocol": "protocol", "name": None},
}


def _mapping_from_spec(spec: Mapping[str, Any], index: int) -> PortMapping | None:
    values: dict[str, Any] = {}
    for key, value in spec.items():
        if key not in _SPEC_KEYS:
            raise _fail("portMappings", f"portMappings[{index}]", f"unknown key {key!r}", spec)
        target = _SPEC_KEYS[key]
        if target is not None:
            values[target] = value
    if "container_port" not in values:
        raise _fail("portMappings", f"portMappings[{index}].containerPort", "is required", spec)
    host_port = _port(
        values.get("host_port", 0), f"portMappings[{index}].hostPort", allow_zero=True
    )
    if host_port == 0:
        return None  # a container port without a host port publishes nothing (containerd skips it)
    try:
        return PortMapping(
            host_port=host_port,
            container_port=values["container_port"],
            protocol=values.get("protocol") or "tcp",
            host_ip=values.get("host_ip") or "",
        )
    except CapabilityError as exc:
        raise _fail(
            "portMappings", f"portMappings[{index}].{exc.field}", exc.message, exc.value
        ) from None


def port_mappings(specs: Iterable[PortMapping | Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The ``portMappings`` capability value from :class:`PortMapping` objects or Kubernetes-style
    port specs (``{"containerPort": 80, "hostPort": 8080, "protocol": "TCP", "hostIP": ...}``).

    Specs without a host port (or with ``hostPort: 0``) are skipped, as containerd does. Ports
    must be 1-65535, the protocol tcp, udp or sctp in any case (sent lower-cased). Two mappings of
    the same host port and protocol that would bind the same address are refused.
    """
    out: list[PortMapping] = []
    if isinstance(specs, (str, bytes, Mapping)):
        raise _fail("portMappings", "portMappings", "expected a list of port specs", specs)
    for index, spec in enumerate(specs):
        if isinstance(spec, PortMapping):
            mapping: PortMapping | None = spec
        elif isinstance(spec, Mapping):
            mapping = _mapping_from_spec(spec, index)
        else:
            raise _fail("portMappings", f"portMappings[{index}]", "expected a port spec", spec)
        if mapping is None:
            continue
        for other in out:
            same_ip = not other.host_ip or not mapping.host_ip or other.host_ip == mapping.host_ip
            if (other.host_port, other.protocol) == (
                mapping.host_port,
                mapping.protocol,
            ) and same_ip:
                raise _fail(
                    "portMappings",
                    f"portMappings[{index}]",
                    f"host port {mapping.host_port}/{mapping.protocol} is mapped twice",
                    spec,
                )
        out.append(mapping)
    return [m.to_dict() for m in out]


# --------------------------------------------------------------------------------------------
# bandwidth
# --------------------------------------------------------------------------------------------


def _check_uint64(instance: Bandwidth, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _UINT64_MAX:
        raise _fail(
            "bandwidth", attribute.name, f"must be an integer 0..2**64-1, not {value!r}", value
        )


@attrs.frozen
class Bandwidth:
    """The ``bandwidth`` capability: rates in bits per second, bursts in bits; 0 means unset.

    A direction is shaped when its rate is set. A rate given without a burst gets the default
    burst, :data:`CONTAINERD_BURST` (2**32 - 1 bits, what containerd and CRI-O send with an
    annotated rate): the same rule as :func:`bandwidth_from_annotations` and the CLI's
    ``--bandwidth``, so ``Bandwidth(ingress_rate=10_000_000)`` is what ``--bandwidth
    ingress=10M`` sends. Pass a burst to choose another one (:data:`KUBELET_BURST`, or a small
    one for real shaping of short transfers).

    Attributes:
        ingress_rate: Ingress rate in bits per second (0: ingress is not shaped).
        ingress_burst: Ingress burst in bits (0: :data:`CONTAINERD_BURST` when a rate is set).
        egress_rate: Egress rate in bits per second (0: egress is not shaped).
        egress_burst: Egress burst in bits (0: :data:`CONTAINERD_BURST` when a rate is set).

    Raises:
        CapabilityError: A value is not an integer 0..2**64-1, or a burst is given without its
            rate (the bandwidth plugin rejects one without the other).
    """

    ingress_rate: int = attrs.field(default=0, validator=_check_uint64)
    ingress_burst: int = attrs.field(default=0, validator=_check_uint64)
    egress_rate: int = attrs.field(default=0, validator=_check_uint64)
    egress_burst: int = attrs.field(default=0, validator=_check_uint64)

    def __attrs_post_init__(self) -> None:
        for direction in ("ingress", "egress"):
            rate, burst = getattr(self, f"{direction}_rate"), getattr(self, f"{direction}_burst")
            if rate and not burst:
                # frozen: the default burst is filled in once, at construction
                object.__setattr__(self, f"{direction}_burst", CONTAINERD_BURST)
            elif burst and not rate:
                raise _fail(
                    "bandwidth",
                    f"{direction}Burst",
                    f"{direction} burst {burst} is set without an {direction} rate",
                    burst,
                )

    def is_empty(self) -> bool:
        return not (self.ingress_rate or self.egress_rate)

    def to_dict(self) -> dict[str, int]:
        """All four keys, as go-cni sends them: ``ingressRate``, ``ingressBurst``, ...."""
        data: dict[str, int] = _converter.unstructure(self)
        return data


def bandwidth_from_annotations(
    annotations: Mapping[str, str] | None, *, burst: int = CONTAINERD_BURST
) -> Bandwidth | None:
    """The ``bandwidth`` capability from the ``kubernetes.io/{ingress,egress}-bandwidth`` pod
    annotations, as containerd builds it; ``None`` when neither annotation is present.

    Each present annotation sets its rate (:func:`parse_bandwidth`) and its burst to ``burst``
    (by default :data:`CONTAINERD_BURST`, 2**32 - 1, the default burst of :class:`Bandwidth`
    and of the CLI's ``--bandwidth``; :data:`KUBELET_BURST` reproduces kubelet's dockershim).
    An invalid value raises :class:`CapabilityError` naming the annotation, with containerd's
    ``reading pod bandwidth annotations: ...`` wording.
    """
    if not annotations:
        return None
    rates: dict[str, int] = {}
    for direction, key in (
        ("ingress", INGRESS_BANDWIDTH_ANNOTATION),
        ("egress", EGRESS_BANDWIDTH_ANNOTATION),
    ):
        if key in annotations:
            try:
                rates[direction] = parse_bandwidth(annotations[key])
            except QuantityError as exc:
                raise CapabilityError(
                    f"reading pod bandwidth annotations: {exc.reason} ({key}={annotations[key]!r})",
                    capability="bandwidth",
                    field=key,
                    value=annotations[key],
                ) from None
    if not rates:
        return None
    return Bandwidth(
        ingress_rate=rates.get("ingress", 0),
        ingress_burst=burst if "ingress" in rates else 0,
        egress_rate=rates.get("egress", 0),
        egress_burst=burst if "egress" in rates else 0,
    )


# --------------------------------------------------------------------------------------------
# ipRanges, dns, ips, mac, infinibandGUID, deviceID, aliases, cgroupPath
# --------------------------------------------------------------------------------------------


def _ip_in(text: str, field: str, net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise _fail("ipRanges", field, f"{text!r} is not an IP address", text) from None
    if address not in net:
        raise _fail("ipRanges", field, f"{address} is outside subnet {net}", text)
    return str(address)


@attrs.frozen
class IPRange:
    """One range of an IPAM pool (``ipRanges`` entry): a subnet, optional start, end, gateway."""

    subnet: str
    range_start: str = ""
    range_end: str = ""
    gateway: str = ""

    def __attrs_post_init__(self) -> None:
        try:
            net = ipaddress.ip_network(self.subnet, strict=False)
        except (ValueError, TypeError):
            raise _fail(
                "ipRanges", "subnet", f"{self.subnet!r} is not a CIDR subnet", self.subnet
            ) from None
        if "/" not in str(self.subnet):
            raise _fail("ipRanges", "subnet", f"{self.subnet!r} has no prefix length", self.subnet)
        start = _ip_in(self.range_start, "rangeStart", net) if self.range_start else ""
        end = _ip_in(self.range_end, "rangeEnd", net) if self.range_end else ""
        if self.gateway:
            _ip_in(self.gateway, "gateway", net)
        if start and end and int(ipaddress.ip_address(start)) > int(ipaddress.ip_address(end)):
            raise _fail("ipRanges", "rangeStart", f"{start} is after rangeEnd {end}", start)

    def to_dict(self) -> dict[str, str]:
        data: dict[str, str] = _converter.unstructure(self)
        return data


def _range(value: IPRange | str | Mapping[str, str], field: str) -> dict[str, str]:
    try:
        if isinstance(value, IPRange):
            return value.to_dict()
        if isinstance(value, str):
            return IPRange(value).to_dict()
        if isinstance(value, Mapping):
            return _converter.structure(dict(value), IPRange).to_dict()
    except CapabilityError as exc:
        raise _fail("ipRanges", f"{field}.{exc.field}", exc.message, exc.value) from None
    except (cattrs.BaseValidationError, KeyError, TypeError) as exc:
        raise _fail("ipRanges", field, f"invalid range {value!r}: {exc}", value) from None
    raise _fail("ipRanges", field, f"expected a subnet or a range, not {value!r}", value)


def ip_ranges(
    *pools: IPRange | str | Mapping[str, str] | Sequence[IPRange | str | Mapping[str, str]],
) -> list[list[dict[str, str]]]:
    """The ``ipRanges`` capability: one pool per address to allocate, each a list of ranges.

    ``ip_ranges("10.1.0.0/24")`` is kubelet's ``[[{"subnet": "10.1.0.0/24"}]]``; a dual-stack pod
    takes two pools, ``ip_ranges("10.1.0.0/24", "fd00::/64")``. A pool may be one range (a subnet
    string, a :class:`IPRange` or its JSON mapping) or a list of them.
    """
    out = []
    for index, pool in enumerate(pools):
        ranges = [pool] if isinstance(pool, (str, IPRange, Mapping)) else list(pool)
        if not ranges:
            raise _fail("ipRanges", f"ipRanges[{index}]", "a pool needs at least one range")
        out.append([_range(r, f"ipRanges[{index}][{i}]") for i, r in enumerate(ranges)])
    return out


def _strings(values: Iterable[str], capability: str) -> list[str]:
    if isinstance(values, (str, bytes)):
        raise _fail(capability, capability, f"expected a list of strings, not {values!r}", values)
    out = list(values)
    for index, item in enumerate(out):
        if not isinstance(item, str) or not item or any(c.isspace() for c in item):
            raise _fail(capability, f"{capability}[{index}]", f"invalid entry {item!r}", item)
    return out


def dns(
    servers: Iterable[str] = (), searches: Iterable[str] = (), options: Iterable[str] = ()
) -> dict[str, list[str]]:
    """The ``dns`` capability ``{"servers", "searches", "options"}`` (servers must be IPs)."""
    server_list = _strings(servers, "dns")
    for index, server in enumerate(server_list):
        try:
            ipaddress.ip_address(server)
        except ValueError:
            raise _fail(
                "dns", f"dns.servers[{index}]", f"{server!r} is not an IP address", server
            ) from None
    return {
        "servers": server_list,
        "searches": _strings(searches, "dns"),
        "options": _strings(options, "dns"),
    }


def ips(*addresses: str) -> list[str]:
    """The ``ips`` capability: addresses to request, each ``ip`` or ``ip/prefix``."""
    out = []
    for index, text in enumerate(addresses):
        try:
            out.append(
                str(ipaddress.ip_interface(text) if "/" in text else ipaddress.ip_address(text))
            )
        except (ValueError, TypeError):
            raise _fail(
                "ips", f"ips[{index}]", f"{text!r} is not an IP address or CIDR", text
            ) from None
    return out


def _hex_address(text: str, octets: int, capability: str) -> str:
    parts = re.split(r"[:-]", text) if isinstance(text, str) else []
    if len(parts) != octets or not all(re.fullmatch(r"[0-9a-fA-F]{2}", p) for p in parts):
        raise _fail(
            capability,
            capability,
            f"{text!r} is not {octets} hex octets separated by ':'",
            text,
        )
    return ":".join(p.lower() for p in parts)


def mac(text: str) -> str:
    """The ``mac`` capability: an Ethernet MAC (``c2:11:22:33:44:55``), normalised to lower case."""
    return _hex_address(text, 6, "mac")


def infiniband_guid(text: str) -> str:
    """The ``infinibandGUID`` capability: 8 hex octets (``c2:11:22:33:44:55:66:77``)."""
    return _hex_address(text, 8, "infinibandGUID")


def _plain(text: str, capability: str) -> str:
    if not isinstance(text, str) or not text or any(c.isspace() or c == "\x00" for c in text):
        raise _fail(capability, capability, f"invalid value {text!r}", text)
    return text


def device_id(text: str) -> str:
    """The ``deviceID`` capability: a device identifier such as a PCI address ``0000:04:00.5``."""
    return _plain(text, "deviceID")


def cgroup_path(text: str) -> str:
    """The ``cgroupPath`` capability: the pod's cgroup (parent) path."""
    return _plain(text, "cgroupPath")


def aliases(names: Iterable[str]) -> list[str]:
    """The ``aliases`` capability: extra DNS names for the container (each at most 253 chars)."""
    out = _strings(names, "aliases")
    for index, name in enumerate(out):
        if len(name) > 253:
            raise _fail("aliases", f"aliases[{index}]", "is longer than 253 characters", name)
    return out


# --------------------------------------------------------------------------------------------
# Assembling
# --------------------------------------------------------------------------------------------

# The builders under names that the keyword arguments of capability_args() do not shadow.
_port_mappings, _ip_ranges, _dns, _ips, _mac = port_mappings, ip_ranges, dns, ips, mac
_infiniband_guid, _device_id, _aliases, _cgroup_path = (
    infiniband_guid,
    device_id,
    aliases,
    cgroup_path,
)


def capability_args(
    *,
    port_mappings: Iterable[PortMapping | Mapping[str, Any]] | None = None,
    bandwidth: Bandwidth | None = None,
    ip_ranges: Sequence[Sequence[Mapping[str, str]]] | None = None,
    dns: Mapping[str, Sequence[str]] | None = None,
    ips: Sequence[str] | None = None,
    mac: str | None = None,
    infiniband_guid: str | None = None,
    device_id: str | None = None,
    aliases: Sequence[str] | None = None,
    cgroup_path: str | None = None,
    pod_annotations: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``capability_args`` mapping; arguments left at ``None`` (or empty) are omitted.

    Every value is validated by the helper of its capability (``ip_ranges`` and ``dns`` take the
    output of :func:`ip_ranges` / :func:`dns`, which are re-validated). ``extra`` adds custom
    capabilities unchanged.
    """
    out: dict[str, Any] = {}
    if port_mappings is not None:
        mappings = _port_mappings(port_mappings)
        if mappings:
            out["portMappings"] = mappings
    if bandwidth is not None and not bandwidth.is_empty():
        out["bandwidth"] = bandwidth.to_dict()
    if ip_ranges:
        out["ipRanges"] = _ip_ranges(*ip_ranges)
    if dns:
        out["dns"] = _dns(dns.get("servers", ()), dns.get("searches", ()), dns.get("options", ()))
    if ips:
        out["ips"] = _ips(*ips)
    if mac:
        out["mac"] = _mac(mac)
    if infiniband_guid:
        out["infinibandGUID"] = _infiniband_guid(infiniband_guid)
    if device_id:
        out["deviceID"] = _device_id(device_id)
    if aliases:
        out["aliases"] = _aliases(aliases)
    if cgroup_path:
        out["cgroupPath"] = _cgroup_path(cgroup_path)
    if pod_annotations is not None:
        out[POD_ANNOTATIONS_CAPABILITY] = dict(pod_annotations)
    if extra:
        out.update(extra)
    return out


def pod_capability_args(
    annotations: Mapping[str, str] | None = None,
    *,
    port_mappings: Iterable[PortMapping | Mapping[str, Any]] = (),
    dns_servers: Iterable[str] = (),
    dns_searches: Iterable[str] = (),
    dns_options: Iterable[str] = (),
    cgroup_parent: str = "",
    burst: int = CONTAINERD_BURST,
    **more: Any,
) -> dict[str, Any]:
    """The capability arguments containerd sends for a pod sandbox.

    The pod's annotations (as ``io.kubernetes.cri.pod-annotations``), its host ports, the
    bandwidth from its annotations, its DNS config and cgroup parent; ``more`` takes the other
    keywords of :func:`capability_args`.
    """
    servers, searches, options = list(dns_servers), list(dns_searches), list(dns_options)
    return capability_args(
        port_mappings=port_mappings,
        bandwidth=bandwidth_from_annotations(annotations, burst=burst),
        dns=dns(servers, searches, options) if (servers or searches or options) else None,
        cgroup_path=cgroup_parent or None,
        pod_annotations=dict(annotations or {}),
        **more,
    )


def pod_cni_args(
    namespace: str, name: str, sandbox_id: str, uid: str = ""
) -> list[tuple[str, str]]:
    """The ``CNI_ARGS`` labels containerd sends for a pod (``K8S_POD_NAMESPACE`` ...,
    ``IgnoreUnknown=1`` so plugins that do not know them still accept them)."""
    labels = [
        ("IgnoreUnknown", "1"),
        ("K8S_POD_NAMESPACE", namespace),
        ("K8S_POD_NAME", name),
        ("K8S_POD_INFRA_CONTAINER_ID", sandbox_id),
    ]
    if uid:
        labels.append(("K8S_POD_UID", uid))
    for key, value in labels:
        if ";" in value or "=" in value:
            raise _fail(
                "args", key, f"{value!r} cannot be sent in CNI_ARGS (contains ';' or '=')", value
            )
    return labels


# --------------------------------------------------------------------------------------------
# JSON (un)structuring
# --------------------------------------------------------------------------------------------

_converter = cattrs.Converter()
# Typed loosely: cattrs' stubs do not describe per-attribute override keywords.
_unstructure_fn: Any = make_dict_unstructure_fn
_structure_fn: Any = make_dict_structure_fn


def _camel(name: str) -> str:
    """``host_ip`` -> ``hostIP``, ``ingress_rate`` -> ``ingressRate`` (the JSON key names)."""
    head, *rest = name.split("_")
    return head + "".join(w.upper() if w == "ip" else w.title() for w in rest)


def _register(cls: type, *optional: str) -> None:
    """JSON hooks for ``cls``: camelCase keys, ``optional`` fields omitted when at default."""
    fields = {
        a.name: override(rename=_camel(a.name), omit_if_default=a.name in optional)
        for a in attrs.fields(cls)
    }
    _converter.register_unstructure_hook(cls, _unstructure_fn(cls, _converter, **fields))
    _converter.register_structure_hook(
        cls, _structure_fn(cls, _converter, _cattrs_forbid_extra_keys=True, **fields)
    )


_register(PortMapping, "host_ip")
_register(Bandwidth)
_register(IPRange, "range_start", "range_end", "gateway")
