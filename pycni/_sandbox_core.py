"""The pure logic of pod-level networking, shared by :class:`~pycni.sandbox.Sandbox` (threads) and
:class:`~pycni.sandbox.AsyncSandbox` (asyncio).

Which networks a sandbox gets and their interface names, which verbs run in which order, how a
partial failure is rolled back and how every network's outcome is reported are decided here,
without I/O. Each operation is a *plan*: a generator that yields

* a :class:`Batch` of :class:`Op` (ADD/DEL/CHECK/STATUS/GC of one network) and receives one
  :class:`Outcome` per op, in op order; or
* a :class:`ListCache` and receives the cached attachments (``NetworkAttachment`` list),

and returns the operation's value or raises :class:`SandboxError`. A driver runs a batch serially
or in parallel with its own concurrency tools; nothing else differs between the two drivers.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Mapping, Sequence
from typing import Any, Literal

import attrs

from .config import NetworkConfigList
from .errors import AggregateError, ConfigError, PycniError
from .runtime_conf import GCArgs, GCAttachment, NetworkAttachment, RuntimeConf
from .validate import validate_interface_name
from .version import at_least

__all__ = [
    "LOOPBACK_CONFLIST",
    "LOOPBACK_IFNAME",
    "LOOPBACK_NETWORK",
    "Batch",
    "GCReport",
    "ListCache",
    "NetworkOutcome",
    "Op",
    "Outcome",
    "SandboxError",
    "SandboxNetwork",
    "SandboxStatus",
    "TeardownReport",
    "assign_ifnames",
    "check_plan",
    "gc_plan",
    "loopback_conf_list",
    "select_networks",
    "setup_plan",
    "status_plan",
    "teardown_plan",
]

#: containerd's built-in loopback network (go-cni ``WithLoNetwork``): name, version and ifname.
LOOPBACK_NETWORK = "cni-loopback"
LOOPBACK_IFNAME = "lo"
LOOPBACK_CONFLIST = b'{"cniVersion":"0.3.1","name":"cni-loopback","plugins":[{"type":"loopback"}]}'

Verb = Literal["ADD", "DEL", "CHECK", "STATUS", "GC"]


def loopback_conf_list() -> NetworkConfigList:
    """The built-in loopback conflist (plugin ``loopback``: brings ``lo`` up with 127.0.0.1/8, ::1)."""
    return NetworkConfigList.from_bytes(LOOPBACK_CONFLIST)


# --------------------------------------------------------------------------------------------
# Networks and interface names
# --------------------------------------------------------------------------------------------


@attrs.frozen
class SandboxNetwork:
    """A network of a sandbox: its config, the interface it gets and where it was loaded from."""

    name: str
    config: NetworkConfigList = attrs.field(repr=False)
    ifname: str
    source: str
    loopback: bool = False


def select_networks(
    available: Sequence[tuple[str, NetworkConfigList, str]],
    *,
    names: Sequence[str] | None = None,
    max_networks: int | None = 1,
    where: str = "",
) -> list[tuple[str, NetworkConfigList, str]]:
    """Choose networks from ``available`` (``(name, config, source)`` in file order).

    With ``names`` exactly those, in that order (a missing one is a :class:`ConfigError` listing
    what exists); otherwise the first ``max_networks`` (go-cni's ``max_conf_num``; ``None`` or 0
    means all).
    """
    if names is not None:
        by_name = {name: (name, conf, src) for name, conf, src in available}
        missing = [n for n in names if n not in by_name]
        if missing:
            have = ", ".join(by_name) or "none"
            raise ConfigError(
                f"network(s) {', '.join(missing)} not found{f' in {where}' if where else ''} "
                f"(available: {have})",
                field="networks",
            )
        if len(set(names)) != len(names):
            raise ConfigError(f"network names repeat: {list(names)}", field="networks")
        return [by_name[n] for n in names]
    if max_networks is not None and max_networks < 0:
        raise ConfigError(f"max_networks must be >= 0, got {max_networks}", field="max_networks")
    return list(available[:max_networks] if max_networks else available)


def assign_ifnames(
    networks: Sequence[tuple[str, NetworkConfigList, str]],
    *,
    prefix: str = "eth",
    explicit: Mapping[str, str] | None = None,
    loopback: NetworkConfigList | None = None,
) -> tuple[SandboxNetwork, ...]:
    """Give every network an interface name: ``explicit[name]`` when given, else the first free
    ``<prefix>N`` counting from 0 (``eth0``, ``eth1``, ...); the loopback network (placed first
    when given) always gets ``lo`` and does not use up an index.

    Names are validated (at most 15 bytes, no ``/``, ``:`` or spaces) and must be unique.
    """
    explicit = dict(explicit or {})
    unknown = sorted(set(explicit) - {name for name, _, _ in networks})
    if unknown:
        raise ConfigError(f"ifnames given for networks not loaded: {unknown}", field="ifnames")
    used = set(explicit.values())
    if len(used) != len(explicit):
        raise ConfigError(f"interface names repeat: {explicit}", field="ifnames")
    if LOOPBACK_IFNAME in used and loopback is not None:
        raise ConfigError("interface name 'lo' is taken by the loopback network", field="ifnames")
    out: list[SandboxNetwork] = []
    if loopback is not None:
        out.append(
            SandboxNetwork(loopback.name, loopback, LOOPBACK_IFNAME, "<built-in>", loopback=True)
        )
    index = 0
    for name, conf, source in networks:
        ifname = explicit.get(name)
        if ifname is None:
            while f"{prefix}{index}" in used:
                index += 1
            ifname = f"{prefix}{index}"
            index += 1
        validate_interface_name(ifname)
        used.add(ifname)
        out.append(SandboxNetwork(name, conf, ifname, source))
    names = [n.name for n in out]
    if len(set(names)) != len(names):
        raise ConfigError(f"a network is loaded twice: {names}", field="networks")
    return tuple(out)


# --------------------------------------------------------------------------------------------
# Operations and outcomes
# --------------------------------------------------------------------------------------------


@attrs.frozen
class Op:
    """One verb on one network. ``rt`` is ``None`` for STATUS and GC; ``origin`` is ``"cache"``
    when the config came from the result cache (the file is gone)."""

    verb: Verb
    network: str
    ifname: str
    config: NetworkConfigList = attrs.field(repr=False)
    rt: RuntimeConf | None = attrs.field(default=None, repr=False)
    gc_args: GCArgs | None = attrs.field(default=None, repr=False)
    origin: Literal["config", "cache"] = "config"


@attrs.frozen
class Outcome:
    """What happened to one :class:`Op`: ``status`` is ``ok``, ``failed``, ``cancelled`` (stopped
    by cancellation or interrupt) or ``skipped`` (never started: an earlier serial op failed)."""

    op: Op
    status: Literal["ok", "failed", "cancelled", "skipped"]
    value: Any = attrs.field(default=None, repr=False)
    error: BaseException | None = None
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def attempted(self) -> bool:
        return self.status != "skipped"

    def describe(self) -> str:
        text = f"{self.op.verb} {self.status}"
        if self.error is not None and self.status != "cancelled":
            text += f": {self.error}"
        elif self.status == "skipped" and isinstance(self.value, str):
            text += f" ({self.value})"
        return text


@attrs.frozen
class Batch:
    """Ops for the driver: in order (``parallel=False``; with ``stop_on_error`` the ops after a
    failure are ``skipped``) or all at once."""

    ops: tuple[Op, ...]
    parallel: bool
    stop_on_error: bool = False


@attrs.frozen
class Interrupted:
    """The driver's answer to a :class:`Batch` that a cancellation or Ctrl-C cut into: the
    outcomes so far (some may be ``ok``: the interrupt can land just as the last op finishes).
    A setup then rolls back even if every op succeeded, since its caller sees the interrupt."""

    outcomes: list[Outcome]


def _outcomes(answer: list[Outcome] | Interrupted) -> tuple[list[Outcome], bool]:
    """The outcomes of a batch and whether it was interrupted."""
    if isinstance(answer, Interrupted):
        return answer.outcomes, True
    return answer, False


@attrs.frozen
class ListCache:
    """Ask the driver for the cached attachments (of ``container_id``; ``""`` for all)."""

    container_id: str


Plan = Generator["Batch | ListCache", Any, Any]


@attrs.frozen
class NetworkOutcome:
    """The story of one network in a sandbox operation: its main outcome and, after a failed
    setup, the outcome of its rollback DEL."""

    network: str
    ifname: str
    outcome: Outcome
    rollback: Outcome | None = None

    def describe(self) -> str:
        text = f"{self.network} ({self.ifname or '-'}): {self.outcome.describe()}"
        if self.rollback is not None:
            text += (
                "; rolled back" if self.rollback.ok else f"; rollback {self.rollback.describe()}"
            )
        return text


def _stories(
    outcomes: Sequence[Outcome], rollback: Sequence[Outcome] = ()
) -> tuple[NetworkOutcome, ...]:
    undo = {(o.op.network, o.op.ifname): o for o in rollback}
    return tuple(
        NetworkOutcome(o.op.network, o.op.ifname, o, undo.get((o.op.network, o.op.ifname)))
        for o in outcomes
    )


class SandboxError(AggregateError):
    """A sandbox operation failed for at least one network; every network's outcome is listed.

    ``operation`` (setup, teardown, check, gc), ``container_id``, ``networks`` (one
    :class:`NetworkOutcome` per network, in operation order) and ``errors`` (every error,
    rollback errors included) hold the facts.
    """

    def __init__(
        self,
        operation: str,
        container_id: str,
        networks: Sequence[NetworkOutcome],
        *,
        rolled_back: bool = False,
    ) -> None:
        self.operation = operation
        self.container_id = container_id
        self.networks = tuple(networks)
        self.rolled_back = rolled_back
        errors: list[BaseException] = []
        for story in self.networks:
            for outcome in (story.outcome, story.rollback):
                if outcome is not None and outcome.error is not None:
                    errors.append(outcome.error)
        super().__init__(errors)
        failed = sum(1 for s in self.networks if s.outcome.status == "failed")
        who = f"sandbox {container_id}: " if container_id else "sandbox: "
        head = f"{who}{operation} failed for {failed} of {len(self.networks)} network(s)"
        if rolled_back:
            head += "; the networks it attached were rolled back"
        lines = [head, *(f"  {story.describe()}" for story in self.networks)]
        self.args = ("\n".join(lines),)

    def __str__(self) -> str:
        return str(self.args[0])

    @property
    def failed(self) -> list[NetworkOutcome]:
        return [s for s in self.networks if s.outcome.status == "failed"]


# --------------------------------------------------------------------------------------------
# Plans
# --------------------------------------------------------------------------------------------


def _runtime_conf(
    network: SandboxNetwork,
    container_id: str,
    netns: str,
    args: Sequence[tuple[str, str]],
    capability_args: Mapping[str, Any],
    per_network: Mapping[str, Mapping[str, Any]],
) -> RuntimeConf:
    caps = dict(capability_args)
    caps.update(per_network.get(network.name, {}))
    return RuntimeConf(
        container_id=container_id,
        netns=netns,
        ifname=network.ifname,
        args=args,
        capability_args=caps,
    )


def setup_plan(
    networks: Sequence[SandboxNetwork],
    container_id: str,
    netns: str,
    *,
    args: Sequence[tuple[str, str]] = (),
    capability_args: Mapping[str, Any] | None = None,
    network_capability_args: Mapping[str, Mapping[str, Any]] | None = None,
    parallel: bool = True,
    rollback: bool = True,
) -> Plan:
    """ADD every network; return ``[(network, result)]`` or roll back and raise.

    After any failure (or cancellation) every network whose ADD was started, the failed ones
    included (the spec wants a DEL after a failed ADD), is deleted in reverse order, continuing
    past errors, and :class:`SandboxError` reports every network's outcome.
    """
    if not networks:
        raise ConfigError("no networks loaded", field="networks")
    rts = [
        _runtime_conf(
            n, container_id, netns, args, capability_args or {}, network_capability_args or {}
        )
        for n in networks
    ]
    ops = tuple(Op("ADD", n.name, n.ifname, n.config, rt) for n, rt in zip(networks, rts))
    outcomes, interrupted = _outcomes(
        (yield Batch(ops, parallel=parallel, stop_on_error=not parallel))
    )
    if not interrupted and all(o.ok for o in outcomes):
        return [(n, o.value) for n, o in zip(networks, outcomes)]
    undo: list[Outcome] = []
    if rollback:
        dels = tuple(attrs.evolve(o.op, verb="DEL") for o in reversed(outcomes) if o.attempted)
        undo = _outcomes((yield Batch(dels, parallel=False)))[0]
    raise SandboxError("setup", container_id, _stories(outcomes, undo), rolled_back=rollback)


@attrs.frozen
class TeardownReport:
    """The DELs a teardown ran, in order; ``from_cache`` lists networks deleted from the cache
    alone (their config file is gone)."""

    container_id: str
    networks: tuple[NetworkOutcome, ...]

    @property
    def from_cache(self) -> list[str]:
        return [s.network for s in self.networks if s.outcome.op.origin == "cache"]


def _cache_op(attachment: NetworkAttachment, rt: RuntimeConf) -> Op | Outcome:
    """A DEL from the cache alone, or a failed outcome when the cached config is unreadable."""
    try:
        conf = NetworkConfigList.from_bytes(attachment.config)
    except PycniError as exc:
        error = ConfigError(
            f"cached config of network {attachment.network!r} is unreadable: {exc}", field="config"
        )
        op = Op("DEL", attachment.network, attachment.ifname, loopback_conf_list(), origin="cache")
        return Outcome(op, "failed", error=error)
    return Op("DEL", attachment.network, attachment.ifname, conf, rt, origin="cache")


def _run_planned(planned: Sequence[Op | Outcome], *, parallel: bool) -> Plan:
    """Run the ops among ``planned`` as one batch; return outcomes in ``planned`` order."""
    ops = tuple(p for p in planned if isinstance(p, Op))
    results = _outcomes((yield Batch(ops, parallel=parallel)))[0] if ops else []
    answers = iter(results)
    return [p if isinstance(p, Outcome) else next(answers) for p in planned]


def teardown_plan(
    networks: Sequence[SandboxNetwork],
    container_id: str,
    netns: str,
    *,
    args: Sequence[tuple[str, str]] | None = None,
    capability_args: Mapping[str, Any] | None = None,
) -> Plan:
    """DEL every network of the container in reverse setup order, continuing past errors.

    The cache decides which interfaces exist: a loaded network is deleted once per cached
    attachment (with the ifname it was added with), or with its assigned ifname when nothing is
    cached (DEL must be safe to repeat). Cached attachments of networks that are no longer
    loaded (config file removed or renamed) are deleted first with their cached config. Args and
    capability args default to the cached ones.
    """
    cached: list[NetworkAttachment] = yield ListCache(container_id)
    loaded = {n.name for n in networks}

    def rt_for(ifname: str, attachment: NetworkAttachment | None) -> RuntimeConf:
        return RuntimeConf(
            container_id=container_id,
            netns=netns or (attachment.netns if attachment else ""),
            ifname=ifname,
            args=args if args is not None else (attachment.cni_args if attachment else ()),
            capability_args=(
                capability_args
                if capability_args is not None
                else (attachment.capability_args if attachment else {})
            ),
        )

    planned: list[Op | Outcome] = [
        _cache_op(a, rt_for(a.ifname, a)) for a in reversed(cached) if a.network not in loaded
    ]
    claimed = {a.ifname: a.network for a in cached}
    for network in reversed(networks):
        mine: list[NetworkAttachment | None] = [a for a in cached if a.network == network.name]
        for entry in mine or [None]:
            ifname = entry.ifname if entry else network.ifname
            op = Op("DEL", network.name, ifname, network.config, rt_for(ifname, entry))
            if entry is None and claimed.get(ifname, network.name) != network.name:
                # Nothing cached for this network, and its ifname now belongs to another
                # network's attachment: a DEL could remove the other network's interface.
                planned.append(Outcome(op, "skipped", value=f"{ifname} is {claimed[ifname]}'s"))
            else:
                planned.append(op)
    everything = yield from _run_planned(planned, parallel=False)
    stories = _stories(everything)
    if any(o.status in ("failed", "cancelled") for o in everything):
        raise SandboxError("teardown", container_id, stories)
    return TeardownReport(container_id, stories)


def check_plan(
    networks: Sequence[SandboxNetwork],
    container_id: str,
    netns: str,
    *,
    args: Sequence[tuple[str, str]] | None = None,
    capability_args: Mapping[str, Any] | None = None,
    network_capability_args: Mapping[str, Mapping[str, Any]] | None = None,
    parallel: bool = True,
) -> Plan:
    """CHECK every network against what ADD cached; raise :class:`SandboxError` naming each one
    that fails. Networks below spec 0.4.0 (no CHECK) are skipped. ``args`` and
    ``capability_args`` default to those cached at ADD, so plugins see the same runtime config
    (the bandwidth plugin crashes on CHECK without it)."""
    cached: list[NetworkAttachment] = yield ListCache(container_id)
    by_key = {(a.network, a.ifname): a for a in cached}
    planned: list[Op | Outcome] = []
    for network in networks:
        entry = by_key.get((network.name, network.ifname))
        caps = dict(
            capability_args
            if capability_args is not None
            else (entry.capability_args if entry else {})
        )
        caps.update((network_capability_args or {}).get(network.name, {}))
        rt = RuntimeConf(
            container_id=container_id,
            netns=netns,
            ifname=network.ifname,
            args=args if args is not None else (entry.cni_args if entry else ()),
            capability_args=caps,
        )
        op = Op("CHECK", network.name, network.ifname, network.config, rt)
        if at_least(network.config.cni_version, "0.4.0"):
            planned.append(op)
        else:  # CHECK does not exist before 0.4.0 (the built-in loopback list is 0.3.1)
            reason = f"cniVersion {network.config.cni_version} has no CHECK"
            planned.append(Outcome(op, "skipped", value=reason))
    outcomes = yield from _run_planned(planned, parallel=parallel)
    if any(o.status in ("failed", "cancelled") for o in outcomes):
        raise SandboxError("check", container_id, _stories(outcomes))
    return None


@attrs.frozen
class SandboxStatus:
    """Readiness: enough networks loaded (``loaded >= required``, loopback not counted) and every
    network's STATUS passed. ``errors`` maps network names to STATUS errors; ``load_errors``
    lists configuration files that failed to load. Truthy when ready."""

    ready: bool
    loaded: int
    required: int
    errors: Mapping[str, BaseException] = attrs.field(factory=dict)
    load_errors: tuple[tuple[str, PycniError], ...] = ()

    @property
    def reason(self) -> str:
        if self.loaded < self.required:
            text = f"cni plugin not initialized: {self.loaded} network(s) loaded, {self.required} required"
            if self.load_errors:
                text += "; " + "; ".join(f"{path}: {err}" for path, err in self.load_errors)
            return text
        if self.errors:
            return "; ".join(f"network {name}: {err}" for name, err in self.errors.items())
        return "ready"

    def __bool__(self) -> bool:
        return self.ready


def status_plan(
    networks: Sequence[SandboxNetwork],
    *,
    required: int,
    load_errors: Iterable[tuple[str, PycniError]] = (),
) -> Plan:
    """STATUS of every network (in parallel); returns a :class:`SandboxStatus`, never raises for
    plugin errors."""
    counted = sum(1 for n in networks if not n.loopback)
    ops = tuple(Op("STATUS", n.name, n.ifname, n.config) for n in networks)
    outcomes = _outcomes((yield Batch(ops, parallel=True)))[0] if ops else []
    errors = {o.op.network: o.error for o in outcomes if o.error is not None}
    return SandboxStatus(
        ready=counted >= required and not errors,
        loaded=counted,
        required=required,
        errors=errors,
        load_errors=tuple(load_errors),
    )


@attrs.frozen
class GCReport:
    """What a GC did: DELs of stale attachments of networks no longer loaded, then one GC per
    network with the attachments it had to keep."""

    deleted: tuple[NetworkOutcome, ...]
    collected: tuple[NetworkOutcome, ...]
    kept: Mapping[str, tuple[GCAttachment, ...]] = attrs.field(factory=dict)


def gc_plan(
    networks: Sequence[SandboxNetwork],
    valid_container_ids: Iterable[str],
    *,
    orphans: bool = True,
) -> Plan:
    """Garbage-collect: each loaded network gets GC with the valid attachments (cached ones of
    valid containers, plus each valid container's assigned ifname, so nothing in flight is
    lost); with ``orphans``, cached attachments of invalid containers on networks that are no
    longer loaded are deleted with their cached config first."""
    valid = list(dict.fromkeys(valid_container_ids))
    valid_set = set(valid)
    cached: list[NetworkAttachment] = yield ListCache("")
    loaded = {n.name for n in networks}
    planned = [
        _cache_op(a, a.runtime_conf())
        for a in cached
        if orphans and a.network not in loaded and a.container_id not in valid_set
    ]
    deleted = yield from _run_planned(planned, parallel=False)
    kept: dict[str, tuple[GCAttachment, ...]] = {}
    gcs = []
    for network in networks:
        pairs = [
            (a.container_id, a.ifname)
            for a in cached
            if a.network == network.name and a.container_id in valid_set
        ] + [(cid, network.ifname) for cid in valid]
        keep = tuple(GCAttachment(cid, ifname) for cid, ifname in dict.fromkeys(pairs))
        kept[network.name] = keep
        gcs.append(
            Op("GC", network.name, "", network.config, gc_args=GCArgs(valid_attachments=keep))
        )
    collected = _outcomes((yield Batch(tuple(gcs), parallel=True)))[0] if gcs else []
    report = GCReport(_stories(deleted), _stories(collected), kept)
    if any(not o.ok for o in [*deleted, *collected]):
        raise SandboxError("gc", "", report.deleted + report.collected)
    return report
