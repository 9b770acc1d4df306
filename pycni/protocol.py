"""The pure core of the CNI runtime protocol (sans-I/O).

Every verb is a *plan*: a generator that yields effects (:class:`Find` a plugin, :class:`Exec` it,
read / write / delete the cache entry, list cached attachments, ask a plugin's VERSION) and receives
their outcomes. The plan decides everything a plugin sees (its stdin and its ``CNI_*`` environment),
in which order plugins run, which errors are wrapped or collected, and what is cached; a driver only
carries effects out. The sync driver (``CNIConfig``), the asyncio driver (``AsyncCNIConfig``) and a
test's canned answers therefore run the exact same chain logic.

A failing effect is thrown back into the plan at its ``yield`` (``generator.throw``), so wrapping
such as ``plugin type="bridge" failed (add): ...`` is decided here too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from typing import Any, TypeVar

import attrs

from . import _json, cache
from .config import NetworkConfig, NetworkConfigList
from .errors import (
    AggregateError,
    CacheError,
    ChainError,
    CheckNotSupportedError,
    GCError,
    NegotiationError,
    PluginError,
    PycniError,
    ValidateNetworkError,
    WrappedError,
    go_quote,
)
from .invoke import VERSION_STDIN, cni_env, version_environ, version_info_from_failure
from .runtime_conf import GCArgs, RuntimeConf
from .types import Result, result_from_plugin_output
from .validate import validate_container_id, validate_interface_name, validate_network_name
from .version import PluginInfo, at_least, candidate_versions, negotiate, parse_version

T = TypeVar("T")

# --------------------------------------------------------------------------------------------
# Effects
# --------------------------------------------------------------------------------------------


@attrs.frozen
class Find:
    """Locate the binary of ``plugin_type`` in the configured plugin directories -> ``str``."""

    plugin_type: str


@attrs.frozen
class Exec:
    """Run a plugin -> its stdout ``bytes`` (failures are thrown back as ``PluginError``).

    ``cni_vars`` are the six ``CNI_*`` variables; the driver runs the plugin with the runtime's
    whole environment overridden by them, as libcni does.
    """

    plugin_type: str
    plugin_path: str
    stdin: bytes
    cni_vars: Mapping[str, str]


@attrs.frozen
class DecodeVersion:
    """Decode a VERSION answer with the executor's decoder -> :class:`PluginInfo`."""

    data: bytes


@attrs.frozen
class ReadCache:
    """Read the cache file ``name`` -> ``bytes`` or ``None`` when absent."""

    name: str


@attrs.frozen
class WriteCache:
    """Atomically write the cache file ``name``."""

    name: str
    data: bytes


@attrs.frozen
class DeleteCache:
    """Remove the cache file ``name`` (absent is fine)."""

    name: str


@attrs.frozen
class ListAttachments:
    """List every cached attachment -> ``list[NetworkAttachment]`` (errors give an empty list)."""


@attrs.frozen
class PluginVersion:
    """What the plugin at ``plugin_path`` answers to VERSION -> :class:`PluginInfo` (drivers may
    answer from a cache keyed by path and modification time)."""

    plugin_type: str
    plugin_path: str


Effect = (
    Find
    | Exec
    | DecodeVersion
    | ReadCache
    | WriteCache
    | DeleteCache
    | ListAttachments
    | PluginVersion
)
Plan = Generator[Effect, Any, T]

# --------------------------------------------------------------------------------------------
# Building what one plugin receives
# --------------------------------------------------------------------------------------------


def runtime_config(plugin: NetworkConfig, capability_args: Mapping[str, Any]) -> dict[str, Any]:
    """The capability arguments a plugin declares ``true`` and the caller supplies."""
    return {
        name: capability_args[name]
        for name, enabled in plugin.capabilities.items()
        if enabled is True and name in capability_args
    }


def build_stdin(
    plugin: NetworkConfig,
    name: str,
    cni_version: str,
    prev_result: Mapping[str, Any] | None = None,
    capability_args: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> bytes:
    """One plugin's stdin: its conf with ``name``/``cniVersion`` (always), ``prevResult`` (when
    given, replacing a static one), ``runtimeConfig`` (only when a capability matched, replacing a
    static one), and ``extra`` keys (GC's attachment lists). ``capabilities`` stays, as in libcni.
    """
    doc = dict(plugin.raw)
    doc["name"] = name
    doc["cniVersion"] = cni_version
    if prev_result is not None:
        doc["prevResult"] = prev_result
    if capability_args:
        rc = runtime_config(plugin, capability_args)
        if rc:
            doc["runtimeConfig"] = rc
    if extra:
        doc.update(extra)
    return _json.dumps_sorted(doc)


def attachment_env(command: str, rt: RuntimeConf, path: Sequence[str]) -> dict[str, str]:
    """The ``CNI_*`` variables of an ADD/CHECK/DEL."""
    return cni_env(
        command,
        container_id=rt.container_id,
        netns=rt.netns,
        ifname=rt.ifname,
        args=rt.cni_args(),
        path=path,
    )


def validate_attachment(name: str, rt: RuntimeConf) -> None:
    """libcni's ADD checks (container ID, network name, interface name); pycni runs them for every
    attachment verb so no unchecked name ever reaches a cache path."""
    validate_container_id(rt.container_id)
    validate_network_name(name)
    validate_interface_name(rt.ifname)
    cache.entry_name(name, rt.container_id, rt.ifname)  # and short enough for a cache file name


# --------------------------------------------------------------------------------------------
# Chains
# --------------------------------------------------------------------------------------------


def _wrapped(plan: Plan[T], plugin: NetworkConfig, verb: str, index: int, network: str) -> Plan[T]:
    """Run ``plan`` and wrap its failure as libcni does: ``plugin type="x" failed (verb): ...``."""
    try:
        return (yield from plan)
    except PycniError as exc:
        raise ChainError(
            exc,
            plugin_type=plugin.type,
            plugin_name=plugin.name,
            verb=verb,
            index=index,
            network=network,
        ) from exc


def _add_one(
    plugin: NetworkConfig,
    name: str,
    cni_version: str,
    prev: Result | None,
    rt: RuntimeConf,
    path: Sequence[str],
    validate: bool,
) -> Plan[Result]:
    plugin_path = yield Find(plugin.type)
    if validate:  # the names are the same for every plugin: check once, after the first lookup
        validate_attachment(name, rt)
    stdin = build_stdin(
        plugin, name, cni_version, prev.to_dict() if prev else None, rt.capability_args
    )
    out = yield Exec(plugin.type, plugin_path, stdin, attachment_env("ADD", rt, path))
    return result_from_plugin_output(out, cni_version)


def _run_one(
    command: str,
    plugin: NetworkConfig,
    name: str,
    cni_version: str,
    prev: Mapping[str, Any] | None,
    rt: RuntimeConf,
    path: Sequence[str],
) -> Plan[None]:
    plugin_path = yield Find(plugin.type)
    stdin = build_stdin(plugin, name, cni_version, prev, rt.capability_args)
    yield Exec(plugin.type, plugin_path, stdin, attachment_env(command, rt, path))


def _write_cache(
    name: str, rt: RuntimeConf, config: bytes, result: Result | None, *, partial: int | None = None
) -> Plan[None]:
    try:
        entry = cache.entry_name(name, rt.container_id, rt.ifname)
        data = cache.encode_entry(
            config, name, rt, result.to_dict() if result else None, partial=partial
        )
        yield WriteCache(entry, data)
    except PycniError as exc:
        raise CacheError(f'failed to set network "{name}" cached result: {exc}') from exc


def add(
    plugins: Sequence[NetworkConfig],
    name: str,
    cni_version: str,
    config: bytes,
    rt: RuntimeConf,
    path: Sequence[str],
    *,
    wrap: bool,
) -> Plan[Result | None]:
    """ADD: plugins in order, each given the previous result; cache the final result on success.

    The result is returned in whatever version the last plugin emitted (libcni does not convert).

    When a plugin fails after others succeeded, the result they produced is cached, marked
    partial, before the error is raised (libcni caches nothing): the DEL that must follow a failed
    ADD (from the runtime, ``attach()``, a sandbox rollback or GC) then hands every plugin that
    ``prevResult``, so plugins that clean up by it (firewall, portmap) undo what they did.
    """
    result: Result | None = None
    for index, plugin in enumerate(plugins):
        step = _add_one(plugin, name, cni_version, result, rt, path, index == 0)
        try:
            result = yield from (_wrapped(step, plugin, "add", index, name) if wrap else step)
        except PycniError:
            if result is not None:
                with contextlib.suppress(PycniError):  # the ADD's own error is what matters
                    yield from _write_cache(name, rt, config, result, partial=index)
            raise
    yield from _write_cache(name, rt, config, result)
    return result


def _cached_result(
    name: str, rt: RuntimeConf, cni_version: str, *, refuse_partial: bool = False
) -> Plan[tuple[Result | None, int | None]]:
    """The cached result converted to ``cni_version`` (``None`` when nothing is cached), and for
    an entry of an ADD that failed part-way the number of plugins that succeeded."""
    data = yield ReadCache(cache.entry_name(name, rt.container_id, rt.ifname))
    if data is None:
        return None, None
    result, partial = cache.decode_cached_entry(data, cni_version)
    if refuse_partial and partial is not None:
        raise CacheError(
            "the last ADD of this attachment failed part-way (its partial result is cached "
            "for the DEL that must follow); DEL it before CHECK"
        )
    return result, partial


def check(
    plugins: Sequence[NetworkConfig],
    name: str,
    cni_version: str,
    rt: RuntimeConf,
    path: Sequence[str],
    *,
    disable_check: bool = False,
) -> Plan[None]:
    """CHECK: refused below 0.4.0 (before ``disableCheck`` is honoured), then every plugin in
    order with the cached result as ``prevResult``; the first error is returned unwrapped."""
    if parse_version(cni_version) < (0, 4, 0):
        raise CheckNotSupportedError(cni_version)
    if disable_check:
        return
    validate_attachment(name, rt)
    try:
        cached, _ = yield from _cached_result(name, rt, cni_version, refuse_partial=True)
    except PycniError as exc:
        raise CacheError(f'failed to get network "{name}" cached result: {exc}') from exc
    prev = cached.to_dict() if cached is not None else None
    for plugin in plugins:
        yield from _run_one("CHECK", plugin, name, cni_version, prev, rt, path)


def delete(
    plugins: Sequence[NetworkConfig],
    name: str,
    cni_version: str,
    rt: RuntimeConf,
    path: Sequence[str],
    *,
    wrap: bool,
    best_effort: bool = False,
) -> Plan[None]:
    """DEL: plugins in reverse order, all with the cached result (from 0.4.0) as ``prevResult``.

    An unreadable or unconvertible cache entry never blocks DEL: it is removed and DEL runs without
    ``prevResult``. On success the cache entry is removed; on failure it is kept.

    libcni stops at the first failing plugin. With ``best_effort`` (beyond libcni, used for
    rollbacks and teardowns) every plugin still gets its DEL, so a missing plugin at the end of a
    chain cannot leave the interface and address of the plugins before it behind; the failures
    are raised together afterwards and the cache entry is kept for a retry.

    After an ADD that failed part-way (a partial cache entry), the DEL of the plugin that failed
    and of those after it, whose ADD never succeeded, may fail without stopping the others or
    keeping the entry: there is nothing of theirs to undo, and their failure (a missing binary,
    say) must not leave the interfaces and addresses of the plugins before them behind.
    """
    parse_version(cni_version)
    validate_attachment(name, rt)
    entry = cache.entry_name(name, rt.container_id, rt.ifname)
    prev: dict[str, Any] | None = None
    partial: int | None = None
    if at_least(cni_version, "0.4.0"):
        try:
            cached, partial = yield from _cached_result(name, rt, cni_version)
        except PycniError:
            yield DeleteCache(entry)
            cached = None
        prev = cached.to_dict() if cached is not None else None
    errors: list[PycniError] = []
    for index in reversed(range(len(plugins))):
        plugin = plugins[index]
        step = _run_one("DEL", plugin, name, cni_version, prev, rt, path)
        try:
            yield from (_wrapped(step, plugin, "delete", index, name) if wrap else step)
        except PycniError as exc:
            if partial is not None and index >= partial:
                continue  # its ADD never succeeded: nothing of it to undo
            if not best_effort:
                raise
            errors.append(exc)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise AggregateError(errors)
    yield DeleteCache(entry)


def add_network_list(
    conf: NetworkConfigList, rt: RuntimeConf, path: Sequence[str]
) -> Plan[Result | None]:
    """``AddNetworkList``."""
    return add(conf.plugins, conf.name, conf.cni_version, conf.bytes, rt, path, wrap=True)


def check_network_list(conf: NetworkConfigList, rt: RuntimeConf, path: Sequence[str]) -> Plan[None]:
    """``CheckNetworkList``."""
    return check(
        conf.plugins, conf.name, conf.cni_version, rt, path, disable_check=conf.disable_check
    )


def del_network_list(
    conf: NetworkConfigList, rt: RuntimeConf, path: Sequence[str], *, best_effort: bool = False
) -> Plan[None]:
    """``DelNetworkList`` (``best_effort``: every plugin gets its DEL even after a failure)."""
    return delete(
        conf.plugins, conf.name, conf.cni_version, rt, path, wrap=True, best_effort=best_effort
    )


def add_network(plugin: NetworkConfig, rt: RuntimeConf, path: Sequence[str]) -> Plan[Result | None]:
    """``AddNetwork``: one plugin under its own name and version; errors are not wrapped."""
    return add((plugin,), plugin.name, plugin.cni_version, plugin.bytes, rt, path, wrap=False)


def check_network(plugin: NetworkConfig, rt: RuntimeConf, path: Sequence[str]) -> Plan[None]:
    """``CheckNetwork``."""
    return check((plugin,), plugin.name, plugin.cni_version, rt, path)


def del_network(plugin: NetworkConfig, rt: RuntimeConf, path: Sequence[str]) -> Plan[None]:
    """``DelNetwork``."""
    return delete((plugin,), plugin.name, plugin.cni_version, rt, path, wrap=False)


# --------------------------------------------------------------------------------------------
# GC and STATUS
# --------------------------------------------------------------------------------------------


def _failure(message: str, cause: BaseException) -> PycniError:
    return WrappedError(message, cause)


def gc_network_list(
    conf: NetworkConfigList, args: GCArgs | None, path: Sequence[str]
) -> Plan[None]:
    """``GCNetworkList``: DEL every cached attachment of this network not in the valid set (with the
    current config), then, from 1.1.0, the GC verb on every plugin. Failures are collected."""
    if conf.disable_gc:
        return
    valid = set()
    if args is not None and args.valid_attachments:
        valid = {(a.container_id, a.ifname) for a in args.valid_attachments}
    errors: list[PycniError] = []
    for attachment in (yield ListAttachments()):
        if attachment.network != conf.name or (attachment.container_id, attachment.ifname) in valid:
            continue
        try:
            yield from del_network_list(conf, attachment.runtime_conf(), path)
        except PycniError as exc:
            errors.append(
                _failure(
                    f"failed to delete stale attachment {attachment.container_id} "
                    f"{attachment.ifname}: {exc}",
                    exc,
                )
            )
    if at_least(conf.cni_version, "1.1.0"):
        extra: dict[str, Any] = {}
        if args is not None:
            listed = (
                None
                if args.valid_attachments is None
                else [a.to_dict() for a in args.valid_attachments]
            )
            extra = {"cni.dev/valid-attachments": listed, "cni.dev/attachments": listed}
        for plugin in conf.plugins:
            try:
                plugin_path = yield Find(plugin.type)
                stdin = build_stdin(plugin, conf.name, conf.cni_version, extra=extra)
                yield Exec(plugin.type, plugin_path, stdin, cni_env("GC", path=path))
            except PycniError as exc:
                errors.append(_failure(f"failed to GC plugin {plugin.type}: {exc}", exc))
    if errors:
        raise GCError(errors)


def status_network_list(conf: NetworkConfigList, path: Sequence[str]) -> Plan[None]:
    """``GetStatusNetworkList``: below 1.1.0 (or unparsable) nothing runs; else STATUS on each
    plugin in order, the first error returned unwrapped so codes 50/51 survive."""
    if not at_least(conf.cni_version, "1.1.0"):
        return
    for plugin in conf.plugins:
        stdin = build_stdin(plugin, conf.name, conf.cni_version)
        plugin_path = yield Find(plugin.type)
        yield Exec(plugin.type, plugin_path, stdin, cni_env("STATUS", path=path))


# --------------------------------------------------------------------------------------------
# VERSION and validation
# --------------------------------------------------------------------------------------------


def version_info(plugin_type: str, plugin_path: str | None = None) -> Plan[PluginInfo]:
    """``GetVersionInfo``: VERSION with libcni's dummy environment; a pre-0.2 plugin's
    ``unknown CNI_COMMAND: VERSION`` means it supports only 0.1.0."""
    if plugin_path is None:
        plugin_path = yield Find(plugin_type)
    try:
        out = yield Exec(plugin_type, plugin_path, VERSION_STDIN, version_environ({}))
    except PluginError as exc:
        legacy = version_info_from_failure(exc)
        if legacy is None:
            raise
        return legacy
    info: PluginInfo = yield DecodeVersion(out)
    return info


def _validate_plugin(plugin: NetworkConfig, expected: str) -> Plan[None]:
    info = yield from version_info(plugin.type)
    if not info.supports(expected):
        raise PycniError(
            f"plugin {plugin.type} does not support config version {go_quote(expected)}"
        )


def validate_network_list(conf: NetworkConfigList) -> Plan[list[str]]:
    """``ValidateNetworkList``: VERSION of every plugin (no short-circuit) against the list version
    (``""`` means 0.1.0); all failures in one error; else the capabilities declared ``true``."""
    expected = conf.cni_version or "0.1.0"
    errors: list[PycniError] = []
    for plugin in conf.plugins:
        try:
            yield from _validate_plugin(plugin, expected)
        except PycniError as exc:
            errors.append(exc)
    if errors:
        raise ValidateNetworkError(errors)
    return _capabilities(conf.plugins)


def validate_network(plugin: NetworkConfig) -> Plan[list[str]]:
    """``ValidateNetwork``: capabilities, then the plugin's VERSION against its own version."""
    caps = _capabilities((plugin,))
    yield from _validate_plugin(plugin, plugin.cni_version or "0.1.0")
    return caps


def _capabilities(plugins: Sequence[NetworkConfig]) -> list[str]:
    seen: dict[str, None] = {}
    for plugin in plugins:
        for name, enabled in plugin.capabilities.items():
            if enabled is True:
                seen.setdefault(name, None)
    return list(seen)


# --------------------------------------------------------------------------------------------
# Version negotiation (opt-in, beyond libcni)
# --------------------------------------------------------------------------------------------


def negotiate_version(conf: NetworkConfigList) -> Plan[NetworkConfigList]:
    """Pick the newest version offered by ``cniVersion``/``cniVersions`` that every plugin of the
    list supports, instead of failing later with "incompatible CNI versions"."""
    plain = conf.raw.get("cniVersion", "")
    candidates = candidate_versions(plain if isinstance(plain, str) else "", conf.cni_versions)
    if not candidates:
        return conf
    infos: list[tuple[str, PluginInfo]] = []
    for plugin in conf.plugins:
        plugin_path = yield Find(plugin.type)
        infos.append((plugin.type, (yield PluginVersion(plugin.type, plugin_path))))
    chosen = negotiate(candidates, [info for _, info in infos])
    if chosen is None:
        raise NegotiationError(
            conf.name, candidates, [(kind, info.supported_versions) for kind, info in infos]
        )
    return conf if chosen == conf.cni_version else conf.with_cni_version(chosen)


# --------------------------------------------------------------------------------------------
# Driving a plan
# --------------------------------------------------------------------------------------------


def run_with_answers(plan: Plan[T], answer: Callable[[Effect], Any]) -> T:
    """Drive ``plan``, answering each effect with ``answer(effect)``; a :class:`PycniError` it
    raises is thrown back into the plan. The sync driver and tests use this."""
    send: Any = None
    error: PycniError | None = None
    while True:
        try:
            effect = plan.throw(error) if error is not None else plan.send(send)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        send, error = None, None
        try:
            send = answer(effect)
        except PycniError as exc:
            error = exc


async def async_run_with_answers(plan: Plan[T], answer: Callable[[Effect], Awaitable[Any]]) -> T:
    """:func:`run_with_answers` for an asyncio driver (``answer`` is a coroutine function)."""
    send: Any = None
    error: PycniError | None = None
    while True:
        try:
            effect = plan.throw(error) if error is not None else plan.send(send)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        send, error = None, None
        try:
            send = await answer(effect)
        except PycniError as exc:
            error = exc
