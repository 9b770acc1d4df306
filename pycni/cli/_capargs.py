"""The ``--port`` and ``--bandwidth`` shorthands, turned into CNI capability arguments.

``--port [HOST_IP:]HOST_PORT:CONTAINER_PORT[/PROTOCOL]`` gives one ``portMappings`` entry
(``[2001:db8::1]:8080:80/udp`` for an IPv6 host address; protocol ``tcp`` by default).
``--bandwidth ingress=RATE,egress=RATE`` gives the ``bandwidth`` capability; a rate is a
Kubernetes quantity in bits per second (``10M``, ``1Gi``, ``500k``), read exactly as kubelet reads
the ``kubernetes.io/ingress-bandwidth`` annotation, with the default burst of
:class:`pycni.Bandwidth` (:data:`pycni.k8s.CONTAINERD_BURST`, the burst containerd sends).

Only the command-line syntax is parsed here; validation and the value shapes come from
:mod:`pycni.k8s`, so the CLI and a runtime build identical arguments.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import PycniError
from ._output import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from ..k8s import PortMapping

PORT_SYNTAX = "[HOST_IP:]HOST_PORT:CONTAINER_PORT[/PROTOCOL]"


def _split_host_ip(spec: str, body: str) -> tuple[str, str]:
    """``(host_ip, "HOST:CONTAINER")``: a bracketed IPv6 or a leading IPv4 address, else ``""``."""
    if body.startswith("["):
        end = body.find("]:")
        if end < 0:
            raise UsageError(f"invalid --port {spec!r}: unterminated [IPv6 address]")
        return body[1:end], body[end + 2 :]
    parts = body.split(":")
    if len(parts) == 3:
        return parts[0], f"{parts[1]}:{parts[2]}"
    return "", body


def parse_port(spec: str) -> PortMapping:
    """One :class:`~pycni.k8s.PortMapping` from ``[HOST_IP:]HOST_PORT:CONTAINER_PORT[/PROTO]``."""
    from ..k8s import PortMapping

    body, slash, protocol = spec.partition("/")
    host_ip, ports = _split_host_ip(spec, body)
    host, colon, container = ports.partition(":")
    if not colon or not host.isdigit() or not container.isdigit():
        raise UsageError(f"invalid --port {spec!r}: want {PORT_SYNTAX}, e.g. 8080:80/tcp")
    try:
        return PortMapping(
            host_port=int(host),
            container_port=int(container),
            protocol=protocol if slash else "tcp",
            host_ip=host_ip,
        )
    except PycniError as exc:
        raise UsageError(f"invalid --port {spec!r}: {exc}") from None


def port_mappings(specs: Sequence[str]) -> list[dict[str, Any]]:
    """The ``portMappings`` capability argument for every ``--port`` given, in order."""
    from ..k8s import port_mappings as build

    mappings = [parse_port(spec) for spec in specs]
    try:
        return build(mappings)
    except PycniError as exc:
        raise UsageError(f"invalid --port: {exc}") from None


def bandwidth(spec: str) -> dict[str, Any]:
    """The ``bandwidth`` capability argument from ``ingress=RATE,egress=RATE`` (either or both)."""
    from ..k8s import (
        EGRESS_BANDWIDTH_ANNOTATION,
        INGRESS_BANDWIDTH_ANNOTATION,
        bandwidth_from_annotations,
    )

    keys = {"ingress": INGRESS_BANDWIDTH_ANNOTATION, "egress": EGRESS_BANDWIDTH_ANNOTATION}
    annotations = {}
    for item in spec.split(","):
        direction, eq, value = item.strip().partition("=")
        if not eq or direction not in keys or not value or keys[direction] in annotations:
            raise UsageError(
                f"invalid --bandwidth {spec!r}: want ingress=RATE and/or egress=RATE, "
                "comma-separated, e.g. ingress=10M,egress=1M"
            )
        annotations[keys[direction]] = value
    try:
        shaped = bandwidth_from_annotations(annotations)
    except PycniError as exc:
        raise UsageError(f"invalid --bandwidth {spec!r}: {exc}") from None
    return shaped.to_dict() if shaped is not None else {}
