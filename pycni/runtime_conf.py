"""What the runtime says about one attachment: :class:`RuntimeConf`, GC arguments, cached attachments.

These mirror libcni's ``RuntimeConf``, ``GCArgs``/``GCAttachment`` and ``NetworkAttachment`` so that
knowledge of the Go API transfers; they are plain frozen attrs values with no behaviour of their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs


def _to_args(
    value: Iterable[Iterable[str]] | Mapping[str, str] | None,
) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    items = value.items() if isinstance(value, Mapping) else value
    out = []
    for pair in items:
        key, val = tuple(pair)
        out.append((str(key), str(val)))
    return tuple(out)


def _to_caps(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return dict(value) if value else {}


@attrs.frozen
class RuntimeConf:
    """The per-attachment parameters of a call (libcni ``RuntimeConf``).

    ``args`` are the ``CNI_ARGS`` pairs in order (a mapping is accepted too); ``capability_args``
    maps capability names (``portMappings``, ``bandwidth``, ...) to their JSON values;
    ``cache_dir`` is libcni's deprecated per-call cache directory (the ``CNIConfig`` one wins).
    """

    container_id: str = ""
    netns: str = ""
    ifname: str = ""
    args: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_to_args)
    capability_args: Mapping[str, Any] = attrs.field(factory=dict, converter=_to_caps)
    cache_dir: str | None = None

    def cni_args(self) -> str:
        """``CNI_ARGS`` as libcni renders it: ``K=V`` pairs joined by ``;`` (no escaping)."""
        return ";".join(f"{k}={v}" for k, v in self.args)


@attrs.frozen
class GCAttachment:
    """One attachment a GC call must keep: JSON ``{"containerID": ..., "ifname": ...}``."""

    container_id: str
    ifname: str

    def to_dict(self) -> dict[str, str]:
        return {"containerID": self.container_id, "ifname": self.ifname}


def _to_attachments(
    value: Iterable[GCAttachment | tuple[str, str]] | None,
) -> tuple[GCAttachment, ...] | None:
    if value is None:
        return None
    return tuple(a if isinstance(a, GCAttachment) else GCAttachment(*a) for a in value)


@attrs.frozen
class GCArgs:
    """Arguments of a GC call.

    ``valid_attachments=None`` is sent to plugins as JSON ``null`` (libcni's nil slice); an empty
    sequence as ``[]``. Passing no ``GCArgs`` at all means every cached attachment is stale.
    """

    valid_attachments: tuple[GCAttachment, ...] | None = attrs.field(
        default=None, converter=_to_attachments
    )


@attrs.frozen
class NetworkAttachment:
    """An attachment recorded in the result cache (libcni ``NetworkAttachment``)."""

    container_id: str
    network: str
    ifname: str
    config: bytes
    netns: str = ""
    cni_args: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_to_args)
    capability_args: Mapping[str, Any] = attrs.field(factory=dict, converter=_to_caps)

    def runtime_conf(self) -> RuntimeConf:
        """The :class:`RuntimeConf` that addresses this attachment again (used by GC's DELs)."""
        return RuntimeConf(
            container_id=self.container_id,
            netns=self.netns,
            ifname=self.ifname,
            args=self.cni_args,
            capability_args=self.capability_args,
        )
