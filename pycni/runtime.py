"""The public runtime API: :class:`CNIConfig` (sync) and :class:`AsyncCNIConfig` (asyncio).

Both expose every verb of libcni's ``CNI`` interface under Python names. Neither holds protocol
logic: each verb builds a plan from :mod:`pycni.protocol` and drives it, answering the plan's
effects with a plugin executor, the result cache (:mod:`pycni.cache`) and locks (:mod:`pycni.locks`).
Beyond libcni: every verb takes ``timeout`` (seconds, for the whole call, lock waits included),
cache-changing verbs take cross-process locks, and ``negotiate_versions=True`` picks a version every
plugin supports.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any, TypeVar

from . import _process, cache, locks, protocol
from .config import NetworkConfig, NetworkConfigList
from .errors import ConfigError, PluginTimeoutError, PycniError
from .exec import AsyncExecutor, AsyncSubprocessExecutor, Executor, SubprocessExecutor
from .invoke import plugin_environ
from .runtime_conf import GCArgs, GCAttachment, NetworkAttachment, RuntimeConf
from .types import Result
from .version import PluginInfo

__all__ = [
    "AsyncCNIConfig",
    "CNIConfig",
    "GCArgs",
    "GCAttachment",
    "NetworkAttachment",
    "RuntimeConf",
]

logger = logging.getLogger("pycni.runtime")
T = TypeVar("T")


def _deadline(timeout: float | None) -> float | None:
    if timeout is None:
        return None
    if timeout <= 0:
        raise ValueError(f"timeout must be positive, got {timeout!r}")
    return time.monotonic() + timeout


def _plugin_dirs(path: Sequence[str] | str | None) -> list[str]:
    """Plugin directories; a relative entry is refused (libcni resolves it against the CWD,
    which makes what runs depend on where the runtime was started)."""
    if path is None:
        return []
    dirs = path.split(os.pathsep) if isinstance(path, str) else [os.fspath(p) for p in path]
    for entry in dirs:
        if os.pathsep in entry or "\0" in entry:
            # CNI_PATH is one colon-separated string: a ':' inside one entry would smuggle
            # further (possibly relative) directories into what plugins search.
            raise ConfigError(
                f"plugin directory {entry!r} contains {os.pathsep!r} or a NUL byte "
                "(each entry must be one absolute directory)",
                field="path",
            )
        if not os.path.isabs(entry):
            raise ConfigError(
                f"plugin directory {entry!r} is not an absolute path "
                "(relative CNI_PATH entries are refused)",
                field="path",
            )
    return dirs


class _Common:
    """State and effect handling shared by the sync and asyncio runtimes."""

    def __init__(
        self,
        path: Sequence[str] | str | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        *,
        negotiate_versions: bool = False,
    ) -> None:
        self.path = _plugin_dirs(path)
        self.cache_dir = os.fspath(cache_dir) if cache_dir is not None else None
        self.negotiate_versions = negotiate_versions
        self._versions: dict[tuple[str, int, int], PluginInfo] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(path={self.path!r}, cache_dir={self.cache_dir!r})"

    def _cache_dir_for(self, rt: RuntimeConf | None = None) -> str:
        return cache.resolve_cache_dir(self.cache_dir, rt)

    def _answer_local(
        self, effect: protocol.Effect, cache_dir: str, find: Callable[..., str]
    ) -> Any:
        """Answer the effects that need no plugin process."""
        if isinstance(effect, protocol.Find):
            return find(effect.plugin_type, self.path)
        if isinstance(effect, protocol.ReadCache):
            return cache.read_entry(cache_dir, effect.name)
        if isinstance(effect, protocol.WriteCache):
            cache.write_entry(cache_dir, effect.name, effect.data)
            return None
        if isinstance(effect, protocol.DeleteCache):
            cache.delete_entry(cache_dir, effect.name)
            return None
        if isinstance(effect, protocol.ListAttachments):
            try:
                return cache.list_attachments(cache_dir)
            except PycniError as exc:  # libcni: GC silently does nothing when listing fails
                logger.warning("GC: cannot list cached attachments: %s", exc)
                return []
        raise TypeError(f"unexpected effect {effect!r}")

    def _version_key(self, plugin_path: str) -> tuple[str, int, int] | None:
        try:
            info = os.stat(plugin_path)
        except OSError:
            return None
        return (plugin_path, info.st_mtime_ns, info.st_size)

    @staticmethod
    def _timeout_for(effect: protocol.Exec, deadline: float | None) -> float | None:
        if deadline is None:
            return None
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise PluginTimeoutError(
                timeout=0.0,
                plugin_type=effect.plugin_type,
                plugin_path=effect.plugin_path,
                verb=effect.cni_vars.get("CNI_COMMAND", ""),
            )
        return remaining

    # --- cache queries (no plugin runs): the sync getters call these directly, the asyncio ones
    # off the event loop (a cache read can block on a slow or hung filesystem)

    def _cached_result(self, name: str, version: str, rt: RuntimeConf) -> Result | None:
        data = cache.read_entry(
            self._cache_dir_for(rt), cache.entry_name(name, rt.container_id, rt.ifname)
        )
        if data is None:
            return None
        result: Result = cache.decode_cached_result(data, version)
        return result

    def _cached_config(self, name: str, rt: RuntimeConf) -> tuple[bytes, RuntimeConf] | None:
        data = cache.read_entry(
            self._cache_dir_for(rt), cache.entry_name(name, rt.container_id, rt.ifname)
        )
        if data is None:
            return None
        return cache.decode_cached_config(data, name, rt)

    def _cached_attachments(self, container_id: str) -> list[NetworkAttachment]:
        return cache.list_attachments(self._cache_dir_for(None), container_id)


async def _to_thread_to_the_end(func: Callable[..., T], *args: Any) -> T:
    """``asyncio.to_thread(func, *args)`` that a cancellation cannot cut short.

    A cache write runs on in its thread whatever happens to the awaiting task; if the task were
    let go at the cancel, it would release the attachment lock while the write is still to come,
    and a DEL run in between would finish before the entry appears. So the task waits for the
    thread, then re-raises the cancellation.
    """
    future = asyncio.ensure_future(asyncio.to_thread(func, *args))
    cancelled = False
    while not future.done():
        try:
            await asyncio.wait((future,))
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError
    return future.result()


class CNIConfig(_Common):
    """The synchronous CNI runtime: libcni's ``CNIConfig``.

    ``path`` lists the plugin directories, ``cache_dir`` the result cache (default
    ``/var/lib/cni``), ``executor`` runs plugins (default :class:`SubprocessExecutor`).
    """

    def __init__(
        self,
        path: Sequence[str] | str | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        executor: Executor | None = None,
        *,
        negotiate_versions: bool = False,
    ) -> None:
        super().__init__(path, cache_dir, negotiate_versions=negotiate_versions)
        self.executor: Executor = executor if executor is not None else SubprocessExecutor()

    # --- driving ---------------------------------------------------------------------------

    def _drive(self, plan: protocol.Plan[T], cache_dir: str, deadline: float | None) -> T:
        environ = dict(os.environ)  # once per call: copying os.environ per plugin is costly

        def answer(effect: protocol.Effect) -> Any:
            if isinstance(effect, protocol.Exec):
                return self.executor.exec_plugin(
                    effect.plugin_path,
                    effect.stdin,
                    plugin_environ(effect.cni_vars, environ),
                    timeout=self._timeout_for(effect, deadline),
                )
            if isinstance(effect, protocol.DecodeVersion):
                return self.executor.decode_version(effect.data)
            if isinstance(effect, protocol.PluginVersion):
                return self._plugin_version(effect, cache_dir, deadline)
            return self._answer_local(effect, cache_dir, self.executor.find_in_path)

        return protocol.run_with_answers(plan, answer)

    def _plugin_version(
        self, effect: protocol.PluginVersion, cache_dir: str, deadline: float | None
    ) -> PluginInfo:
        key = self._version_key(effect.plugin_path)
        if key is not None and key in self._versions:
            return self._versions[key]
        info = self._drive(
            protocol.version_info(effect.plugin_type, effect.plugin_path), cache_dir, deadline
        )
        if key is not None:
            self._versions[key] = info
        return info

    def _negotiated(
        self, conf: NetworkConfigList, cache_dir: str, deadline: float | None
    ) -> NetworkConfigList:
        if not self.negotiate_versions:
            return conf
        return self._drive(protocol.negotiate_version(conf), cache_dir, deadline)

    def _attachment_op(
        self,
        build: Callable[[NetworkConfigList], protocol.Plan[T]],
        conf: NetworkConfigList,
        rt: RuntimeConf,
        timeout: float | None,
    ) -> T:
        deadline = _deadline(timeout)
        cache_dir = self._cache_dir_for(rt)
        conf = self._negotiated(conf, cache_dir, deadline)
        with (
            locks.attachment_lock(cache_dir, conf.name, rt, deadline) as lock_fd,
            _process.lock_inherited(lock_fd),
        ):
            return self._drive(build(conf), cache_dir, deadline)

    def _single_op(
        self, plan: protocol.Plan[T], name: str, rt: RuntimeConf, timeout: float | None
    ) -> T:
        deadline = _deadline(timeout)
        cache_dir = self._cache_dir_for(rt)
        with (
            locks.attachment_lock(cache_dir, name, rt, deadline) as lock_fd,
            _process.lock_inherited(lock_fd),
        ):
            return self._drive(plan, cache_dir, deadline)

    # --- network lists -----------------------------------------------------------------------

    def add_network_list(
        self, conf: NetworkConfigList, rt: RuntimeConf, *, timeout: float | None = None
    ) -> Result | None:
        """ADD every plugin of the list in order; cache and return the final result."""
        return self._attachment_op(
            lambda c: protocol.add_network_list(c, rt, self.path), conf, rt, timeout
        )

    def check_network_list(
        self, conf: NetworkConfigList, rt: RuntimeConf, *, timeout: float | None = None
    ) -> None:
        """CHECK every plugin of the list against the cached result (spec >= 0.4.0)."""
        self._attachment_op(
            lambda c: protocol.check_network_list(c, rt, self.path), conf, rt, timeout
        )

    def del_network_list(
        self,
        conf: NetworkConfigList,
        rt: RuntimeConf,
        *,
        timeout: float | None = None,
        best_effort: bool = False,
    ) -> None:
        """DEL every plugin of the list in reverse order; remove the cache entry on success.

        ``best_effort=True`` (beyond libcni) runs every plugin's DEL even after one fails and
        raises the failures together; rollbacks and teardowns want that.
        """
        self._attachment_op(
            lambda c: protocol.del_network_list(c, rt, self.path, best_effort=best_effort),
            conf,
            rt,
            timeout,
        )

    def gc_network_list(
        self, conf: NetworkConfigList, args: GCArgs | None = None, *, timeout: float | None = None
    ) -> None:
        """DEL stale cached attachments of the network, then GC every plugin (spec >= 1.1.0)."""
        deadline = _deadline(timeout)
        cache_dir = self._cache_dir_for(None)
        conf = self._negotiated(conf, cache_dir, deadline)
        with locks.network_lock(cache_dir, conf.name, deadline):
            self._drive(protocol.gc_network_list(conf, args, self.path), cache_dir, deadline)

    def get_status_network_list(
        self, conf: NetworkConfigList, *, timeout: float | None = None
    ) -> None:
        """STATUS of every plugin (spec >= 1.1.0); raises the first plugin's error unwrapped."""
        deadline = _deadline(timeout)
        cache_dir = self._cache_dir_for(None)
        conf = self._negotiated(conf, cache_dir, deadline)
        self._drive(protocol.status_network_list(conf, self.path), cache_dir, deadline)

    def validate_network_list(
        self, conf: NetworkConfigList, *, timeout: float | None = None
    ) -> list[str]:
        """Check every plugin supports the list's version; return the capabilities declared."""
        return self._drive(
            protocol.validate_network_list(conf), self._cache_dir_for(None), _deadline(timeout)
        )

    def get_version_info(self, plugin_type: str, *, timeout: float | None = None) -> PluginInfo:
        """What the plugin answers to VERSION."""
        return self._drive(
            protocol.version_info(plugin_type), self._cache_dir_for(None), _deadline(timeout)
        )

    # --- single plugins ----------------------------------------------------------------------

    def add_network(
        self, conf: NetworkConfig, rt: RuntimeConf, *, timeout: float | None = None
    ) -> Result | None:
        """ADD one plugin configuration (errors are not wrapped)."""
        return self._single_op(protocol.add_network(conf, rt, self.path), conf.name, rt, timeout)

    def check_network(
        self, conf: NetworkConfig, rt: RuntimeConf, *, timeout: float | None = None
    ) -> None:
        """CHECK one plugin configuration."""
        self._single_op(protocol.check_network(conf, rt, self.path), conf.name, rt, timeout)

    def del_network(
        self, conf: NetworkConfig, rt: RuntimeConf, *, timeout: float | None = None
    ) -> None:
        """DEL one plugin configuration."""
        self._single_op(protocol.del_network(conf, rt, self.path), conf.name, rt, timeout)

    def validate_network(self, conf: NetworkConfig, *, timeout: float | None = None) -> list[str]:
        """Check the plugin supports the configuration's version; return its capabilities."""
        return self._drive(
            protocol.validate_network(conf), self._cache_dir_for(None), _deadline(timeout)
        )

    # --- cache queries (no plugin runs) ---------------------------------------------------

    def get_network_list_cached_result(
        self, conf: NetworkConfigList, rt: RuntimeConf
    ) -> Result | None:
        """The cached ADD result of a list's attachment, converted to the list's version.

        Args:
            conf: The network list; its ``name`` and ``cni_version`` are used.
            rt: The attachment (``container_id`` and ``ifname``; ``cache_dir`` if set).

        Returns:
            The cached result, or ``None`` when nothing is cached for the attachment.

        Raises:
            CacheError: The cache file cannot be read or is not a cached result.
            ValidationError: A name of the attachment is not a valid identifier.
            VersionError: The cached result's version cannot be read or converted.
        """
        return self._cached_result(conf.name, conf.cni_version, rt)

    def get_network_cached_result(self, conf: NetworkConfig, rt: RuntimeConf) -> Result | None:
        """The cached ADD result of a single-plugin network, converted to its version.

        Args:
            conf: The network configuration; its ``name`` and ``cni_version`` are used.
            rt: The attachment (``container_id`` and ``ifname``; ``cache_dir`` if set).

        Returns:
            The cached result, or ``None`` when nothing is cached for the attachment.

        Raises:
            CacheError: The cache file cannot be read or is not a cached result.
            ValidationError: A name of the attachment is not a valid identifier.
            VersionError: The cached result's version cannot be read or converted.
        """
        return self._cached_result(conf.name, conf.cni_version, rt)

    def get_network_list_cached_config(
        self, conf: NetworkConfigList, rt: RuntimeConf
    ) -> tuple[bytes, RuntimeConf] | None:
        """The config bytes cached at ADD, and ``rt`` with the cached args restored.

        Args:
            conf: The network list; its ``name`` is used.
            rt: The attachment (``container_id`` and ``ifname``; ``cache_dir`` if set).

        Returns:
            ``(config_bytes, runtime_conf)``, or ``None`` when nothing is cached.

        Raises:
            CacheError: The cache file cannot be read or its config or args cannot be decoded.
            ValidationError: A name of the attachment is not a valid identifier.
        """
        return self._cached_config(conf.name, rt)

    def get_network_cached_config(
        self, conf: NetworkConfig, rt: RuntimeConf
    ) -> tuple[bytes, RuntimeConf] | None:
        """Single-plugin variant of :meth:`get_network_list_cached_config`.

        Args:
            conf: The network configuration; its ``name`` is used.
            rt: The attachment (``container_id`` and ``ifname``; ``cache_dir`` if set).

        Returns:
            ``(config_bytes, runtime_conf)``, or ``None`` when nothing is cached.

        Raises:
            CacheError: The cache file cannot be read or its config or args cannot be decoded.
            ValidationError: A name of the attachment is not a valid identifier.
        """
        return self._cached_config(conf.name, rt)

    def get_cached_attachments(self, container_id: str = "") -> list[NetworkAttachment]:
        """Every cached attachment (of ``container_id`` when given), in cache-file name order.

        Args:
            container_id: Only the attachments of this container; ``""`` for all of them.

        Returns:
            The attachments; files that are not attachments are skipped, as libcni does.

        Raises:
            CacheError: The cache directory cannot be listed.
        """
        return self._cached_attachments(container_id)

    # --- conveniences --------------------------------------------------------------------------

    @contextlib.contextmanager
    def attach(
        self, conf: NetworkConfigList, rt: RuntimeConf, *, timeout: float | None = None
    ) -> Iterator[Result | None]:
        """``with cni.attach(conf, rt) as result:`` ADD, then DEL on exit.

        After a failed ADD the DEL the spec requires is run at once and the ADD error re-raised.
        """
        try:
            result = self.add_network_list(conf, rt, timeout=timeout)
        except BaseException:
            _cleanup_after_failed_add(
                lambda: self.del_network_list(conf, rt, timeout=timeout, best_effort=True)
            )
            raise
        try:
            yield result
        finally:
            self.del_network_list(conf, rt, timeout=timeout)


def _cleanup_after_failed_add(delete: Callable[[], None]) -> None:
    try:
        delete()
    except PycniError as exc:
        logger.warning("DEL after failed ADD also failed: %s", exc)


class AsyncCNIConfig(_Common):
    """The asyncio CNI runtime: the verbs and cache getters of :class:`CNIConfig`, as coroutines.

    Every public method is awaited (``await acni.get_cached_attachments()``), except
    :meth:`attach`, an async context manager (``async with acni.attach(conf, rt)``). Cache reads
    run in a worker thread, off the event loop.

    Plugins run through an :class:`AsyncExecutor` (default :class:`AsyncSubprocessExecutor`);
    cancelling a call kills the running plugin's process group.
    """

    def __init__(
        self,
        path: Sequence[str] | str | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        executor: AsyncExecutor | None = None,
        *,
        negotiate_versions: bool = False,
    ) -> None:
        super().__init__(path, cache_dir, negotiate_versions=negotiate_versions)
        self.executor: AsyncExecutor = (
            executor if executor is not None else AsyncSubprocessExecutor()
        )

    async def _drive(self, plan: protocol.Plan[T], cache_dir: str, deadline: float | None) -> T:
        environ = dict(os.environ)  # once per call: copying os.environ per plugin is costly

        async def answer(effect: protocol.Effect) -> Any:
            if isinstance(effect, protocol.Exec):
                return await self.executor.exec_plugin(
                    effect.plugin_path,
                    effect.stdin,
                    plugin_environ(effect.cni_vars, environ),
                    timeout=self._timeout_for(effect, deadline),
                )
            if isinstance(effect, protocol.DecodeVersion):
                return self.executor.decode_version(effect.data)
            if isinstance(effect, protocol.PluginVersion):
                return await self._plugin_version(effect, cache_dir, deadline)
            if isinstance(effect, protocol.WriteCache):  # fsync: keep it off the event loop
                return await _to_thread_to_the_end(
                    self._answer_local, effect, cache_dir, self.executor.find_in_path
                )
            return self._answer_local(effect, cache_dir, self.executor.find_in_path)

        return await protocol.async_run_with_answers(plan, answer)

    async def _plugin_version(
        self, effect: protocol.PluginVersion, cache_dir: str, deadline: float | None
    ) -> PluginInfo:
        key = self._version_key(effect.plugin_path)
        if key is not None and key in self._versions:
            return self._versions[key]
        info = await self._drive(
            protocol.version_info(effect.plugin_type, effect.plugin_path), cache_dir, deadline
        )
        if key is not None:
            self._versions[key] = info
        return info

    async def _negotiated(
        self, conf: NetworkConfigList, cache_dir: str, deadline: float | None
    ) -> NetworkConfigList:
        if not self.negotiate_versions:
            return conf
        return await self._drive(protocol.negotiate_version(conf), cache_dir, deadline)

    async def _attachment_op(
        self,
        build: Callable[[NetworkConfigList], protocol.Plan[T]],
        conf: NetworkConfigList,
        rt: RuntimeConf,
        timeout: float | None,
    ) -> T:
        deadline = _deadline(timeout)
        cache_dir = self._cache_dir_for(rt)
        conf = await self._negotiated(conf, cache_dir, deadline)
        async with locks.async_attachment_lock(cache_dir, conf.name, rt, deadline) as lock_fd:
            with _process.lock_inherited(lock_fd):
                return await self._drive(build(conf), cache_dir, deadline)

    async def _single_op(
        self, plan: protocol.Plan[T], name: str, rt: RuntimeConf, timeout: float | None
    ) -> T:
        deadline = _deadline(timeout)
        cache_dir = self._cache_dir_for(rt)
        async with locks.async_attachment_lock(cache_dir, name, rt, deadline) as lock_fd:
            with _process.lock_inherited(lock_fd):
                return await self._drive(plan, cache_dir, deadline)

    async def add_network_list(
        self, conf: NetworkConfigList, rt: RuntimeConf, *, timeout: float | None = None
    ) -> Result | None:
        """ADD every plugin of the list in order; cache and return the final result."""
        return await self._attachment_op(
            lambda c: protocol.add_network_list(c, rt, self.path), conf, rt, timeout
        )

    async def check_network_list(
        self, conf: NetworkConfigList, rt: RuntimeConf, *, timeout: float | None = None
    ) -> None:
        """CHECK every plugin of the list against the cached result (spec >= 0.4.0)."""
        await self._attachment_op(
            lambda c: protocol.check_network_list(c, rt, self.path), conf, rt, timeout
        )

    async def del_network_list(
        self,
        conf: NetworkConfigList,
        rt: RuntimeConf,
        *,
        timeout: float | None = None,
        best_effort: bool = False,
    ) -> None:
        """DEL every plugin of the list in reverse order; remove the cache entry on success
        (``best_effort``: as :meth:`CNIConfig.del_network_list`)."""
        await self._attachment_op(
            lambda c: protocol.del_network_list(c, rt, self.path, best_effort=best_effort),
            conf,
            rt,
            timeout,
        )

    async def gc_network_list(
        self, conf: NetworkConfigList, args: GCArgs | None = None, *, timeout: float | None = None
    ) -> None:
        """DEL stale cached attachments of the network, then GC every plugin (spec >= 1.1.0)."""
        deadline = _deadline(timeout)
        cache_dir = self._cache_dir_for(None)
        conf = await self._negotiated(conf, cache_dir, deadline)
        async with locks.async_network_lock(cache_dir, conf.name, deadline):
            await self._drive(protocol.gc_network_list(conf, args, self.path), cache_dir, deadline)

    async def get_status_network_list(
        self, conf: NetworkConfigList, *, timeout: float | None = None
    ) -> None:
        """STATUS of every plugin (spec >= 1.1.0); raises the first plugin's error unwrapped."""
        deadline = _deadline(timeout)
        cache_dir = self._cache_dir_for(None)
        conf = await self._negotiated(conf, cache_dir, deadline)
        await self._drive(protocol.status_network_list(conf, self.path), cache_dir, deadline)

    async def validate_network_list(
        self, conf: NetworkConfigList, *, timeout: float | None = None
    ) -> list[str]:
        """Check every plugin supports the list's version; return the capabilities declared."""
        return await self._drive(
            protocol.validate_network_list(conf), self._cache_dir_for(None), _deadline(timeout)
        )

    async def get_version_info(
        self, plugin_type: str, *, timeout: float | None = None
    ) -> PluginInfo:
        """What the plugin answers to VERSION."""
        return await self._drive(
            protocol.version_info(plugin_type), self._cache_dir_for(None), _deadline(timeout)
        )

    async def add_network(
        self, conf: NetworkConfig, rt: RuntimeConf, *, timeout: float | None = None
    ) -> Result | None:
        """ADD one plugin configuration (errors are not wrapped)."""
        return await self._single_op(
            protocol.add_network(conf, rt, self.path), conf.name, rt, timeout
        )

    async def check_network(
        self, conf: NetworkConfig, rt: RuntimeConf, *, timeout: float | None = None
    ) -> None:
        """CHECK one plugin configuration."""
        await self._single_op(protocol.check_network(conf, rt, self.path), conf.name, rt, timeout)

    async def del_network(
        self, conf: NetworkConfig, rt: RuntimeConf, *, timeout: float | None = None
    ) -> None:
        """DEL one plugin configuration."""
        await self._single_op(protocol.del_network(conf, rt, self.path), conf.name, rt, timeout)

    async def validate_network(
        self, conf: NetworkConfig, *, timeout: float | None = None
    ) -> list[str]:
        """Check the plugin supports the configuration's version; return its capabilities."""
        return await self._drive(
            protocol.validate_network(conf), self._cache_dir_for(None), _deadline(timeout)
        )

    # --- cache queries (no plugin runs; read off the event loop) ----------------------------

    async def get_network_list_cached_result(
        self, conf: NetworkConfigList, rt: RuntimeConf
    ) -> Result | None:
        """As :meth:`CNIConfig.get_network_list_cached_result`, read in a worker thread.

        Args:
            conf: The network list; its ``name`` and ``cni_version`` are used.
            rt: The attachment (``container_id`` and ``ifname``; ``cache_dir`` if set).

        Returns:
            The cached result, or ``None`` when nothing is cached for the attachment.

        Raises:
            CacheError: The cache file cannot be read or is not a cached result.
            ValidationError: A name of the attachment is not a valid identifier.
            VersionError: The cached result's version cannot be read or converted.
        """
        return await asyncio.to_thread(self._cached_result, conf.name, conf.cni_version, rt)

    async def get_network_cached_result(
        self, conf: NetworkConfig, rt: RuntimeConf
    ) -> Result | None:
        """As :meth:`CNIConfig.get_network_cached_result`, read in a worker thread.

        Args:
            conf: The network configuration; its ``name`` and ``cni_version`` are used.
            rt: The attachment (``container_id`` and ``ifname``; ``cache_dir`` if set).

        Returns:
            The cached result, or ``None`` when nothing is cached for the attachment.

        Raises:
            CacheError: The cache file cannot be read or is not a cached result.
            ValidationError: A name of the attachment is not a valid identifier.
            VersionError: The cached result's version cannot be read or converted.
        """
        return await asyncio.to_thread(self._cached_result, conf.name, conf.cni_version, rt)

    async def get_network_list_cached_config(
        self, conf: NetworkConfigList, rt: RuntimeConf
    ) -> tuple[bytes, RuntimeConf] | None:
        """As :meth:`CNIConfig.get_network_list_cached_config`, read in a worker thread.

        Args:
            conf: The network list; its ``name`` is used.
            rt: The attachment (``container_id`` and ``ifname``; ``cache_dir`` if set).

        Returns:
            ``(config_bytes, runtime_conf)``, or ``None`` when nothing is cached.

        Raises:
            CacheError: The cache file cannot be read or its config or args cannot be decoded.
            ValidationError: A name of the attachment is not a valid identifier.
        """
        return await asyncio.to_thread(self._cached_config, conf.name, rt)

    async def get_network_cached_config(
        self, conf: NetworkConfig, rt: RuntimeConf
    ) -> tuple[bytes, RuntimeConf] | None:
        """As :meth:`CNIConfig.get_network_cached_config`, read in a worker thread.

        Args:
            conf: The network configuration; its ``name`` is used.
            rt: The attachment (``container_id`` and ``ifname``; ``cache_dir`` if set).

        Returns:
            ``(config_bytes, runtime_conf)``, or ``None`` when nothing is cached.

        Raises:
            CacheError: The cache file cannot be read or its config or args cannot be decoded.
            ValidationError: A name of the attachment is not a valid identifier.
        """
        return await asyncio.to_thread(self._cached_config, conf.name, rt)

    async def get_cached_attachments(self, container_id: str = "") -> list[NetworkAttachment]:
        """As :meth:`CNIConfig.get_cached_attachments`, listed in a worker thread.

        Args:
            container_id: Only the attachments of this container; ``""`` for all of them.

        Returns:
            The attachments, in cache-file name order.

        Raises:
            CacheError: The cache directory cannot be listed.
        """
        return await asyncio.to_thread(self._cached_attachments, container_id)

    @contextlib.asynccontextmanager
    async def attach(
        self, conf: NetworkConfigList, rt: RuntimeConf, *, timeout: float | None = None
    ) -> AsyncIterator[Result | None]:
        """``async with acni.attach(conf, rt) as result:`` ADD, then DEL on exit (DEL also runs
        right away after a failed ADD, and the ADD error is re-raised)."""
        try:
            result = await self.add_network_list(conf, rt, timeout=timeout)
        except BaseException:
            try:
                await self.del_network_list(conf, rt, timeout=timeout, best_effort=True)
            except PycniError as exc:
                logger.warning("DEL after failed ADD also failed: %s", exc)
            raise
        try:
            yield result
        finally:
            await self.del_network_list(conf, rt, timeout=timeout)
