"""Loading, selection, introspection and watching shared by :class:`~pycni.Sandbox` and
:class:`~pycni.AsyncSandbox` (see :mod:`pycni.sandbox`); no plugin runs here."""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from typing import Any

from . import _sandbox_core as core
from ._sandbox_core import Op, Outcome, SandboxNetwork
from .errors import PycniError
from .runtime_conf import NetworkAttachment
from .watch import ChangeEvent, ConfDirState, ConfDirWatcher, load_state

logger = logging.getLogger("pycni.sandbox")

Args = Iterable[tuple[str, str]] | Mapping[str, str] | None


def _pairs(args: Args) -> tuple[tuple[str, str], ...]:
    if args is None:
        return ()
    items = args.items() if isinstance(args, Mapping) else args
    return tuple((str(k), str(v)) for k, v in items)


class _Base:
    """Loading, selection and introspection shared by both drivers."""

    #: The runtime (``CNIConfig`` or ``AsyncCNIConfig``), set by the driver class.
    cni: Any

    def __init__(
        self,
        conf_dir: str | os.PathLike[str] | None,
        bin_dirs: Sequence[str] | str,
        *,
        networks: Sequence[str] | None = None,
        max_networks: int | None = 1,
        loopback: bool = True,
        ifname_prefix: str = "eth",
        ifnames: Mapping[str, str] | None = None,
        min_networks: int = 1,
        parallel: bool = True,
        rollback: bool = True,
        timeout: float | None = None,
        load: bool = True,
    ) -> None:
        self.conf_dir = os.path.abspath(os.fsdecode(conf_dir)) if conf_dir is not None else None
        self.names = list(networks) if networks is not None else None
        self.max_networks = max_networks
        self.loopback = loopback
        self.ifname_prefix = ifname_prefix
        self.ifnames = dict(ifnames or {})
        self.min_networks = min_networks
        self.parallel = parallel
        self.rollback = rollback
        self.timeout = timeout
        self._lock = threading.Lock()
        self._state: ConfDirState | None = None
        self._networks: tuple[SandboxNetwork, ...] = ()
        self._selection_error: PycniError | None = None
        if load:
            self.reload()

    # --- loading -------------------------------------------------------------------------------

    def reload(self) -> tuple[SandboxNetwork, ...]:
        """Rescan the configuration directory and swap in the networks it now selects.

        Files that fail to load are reported in :attr:`load_errors` and skipped; a file that loaded
        before keeps its last good version. Never raises for configuration problems.
        """
        state = load_state(self.conf_dir, self._state) if self.conf_dir is not None else None
        return self.apply(state)

    def apply(self, state: ConfDirState | None) -> tuple[SandboxNetwork, ...]:
        """Select networks from an already loaded directory state (used by :meth:`watch`)."""
        available = [(n.name, n.config, n.path) for n in state.networks] if state else []
        lo = core.loopback_conf_list() if self.loopback else None
        error: PycniError | None = None
        try:
            chosen = core.select_networks(
                available,
                names=self.names,
                max_networks=self.max_networks,
                where=self.conf_dir or "",
            )
            chosen_names = {name for name, _, _ in chosen}
            explicit = {k: v for k, v in self.ifnames.items() if k in chosen_names}
            networks = core.assign_ifnames(
                chosen, prefix=self.ifname_prefix, explicit=explicit, loopback=lo
            )
        except PycniError as exc:
            error = exc
            networks = core.assign_ifnames([], loopback=lo)
        with self._lock:
            self._state = state
            self._networks = networks
            self._selection_error = error
        return networks

    @property
    def networks(self) -> tuple[SandboxNetwork, ...]:
        """The networks in use, in setup order (loopback first)."""
        with self._lock:
            return self._networks

    @property
    def load_errors(self) -> list[tuple[str, PycniError]]:
        """``(path, error)`` for every file that failed to load, plus a selection problem (a named
        network that does not exist) under the directory's path."""
        with self._lock:
            state, selection = self._state, self._selection_error
        out = [(path, f.error) for path, f in sorted(state.failures.items())] if state else []
        if selection is not None:
            out.append((self.conf_dir or "", selection))
        return out

    def get_config(self) -> list[dict[str, Any]]:
        """What is loaded: one entry per network (name, ifname, source, version, plugin types)."""
        return [
            {
                "network": n.name,
                "ifname": n.ifname,
                "source": n.source,
                "cniVersion": n.config.cni_version,
                "plugins": [p.type for p in n.config.plugins],
                "stale": bool(self._state and n.source in self._state.stale),
            }
            for n in self.networks
        ]

    def __repr__(self) -> str:
        nets = ", ".join(f"{n.name}:{n.ifname}" for n in self.networks) or "none"
        return f"{type(self).__name__}(conf_dir={self.conf_dir!r}, networks=[{nets}])"

    async def watch(
        self, *, interval: float = 1.0, use_inotify: bool = True
    ) -> AsyncIterator[ChangeEvent]:
        """Follow the configuration directory: apply every change, then yield its events.

        ``async for event in sandbox.watch(): ...`` -- the directory may be deleted and
        recreated; a broken file is reported (``failed``) without unloading anything.
        """
        if self.conf_dir is None:
            raise PycniError("this sandbox has no configuration directory to watch")
        watcher = ConfDirWatcher(
            self.conf_dir,
            interval=interval,
            use_inotify=use_inotify,
            min_networks=self.min_networks,
            state=self._state,
        )
        try:
            while True:
                events = watcher.poll()
                if events:
                    self.apply(watcher.state)
                    for event in events:
                        yield event
                await watcher._wait()
        finally:
            watcher.close()

    def _bound(self, op: Op) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        """The runtime method running ``op`` and its positional arguments (``timeout`` is added)."""
        cni: Any = self.cni
        if op.verb == "STATUS":
            return cni.get_status_network_list, (op.config,)
        if op.verb == "GC":
            return cni.gc_network_list, (op.config, op.gc_args)
        if op.verb == "DEL":  # rollback and teardown: every plugin gets its DEL
            return functools.partial(cni.del_network_list, best_effort=True), (op.config, op.rt)
        method = cni.add_network_list if op.verb == "ADD" else cni.check_network_list
        return method, (op.config, op.rt)

    def _cached(self, container_id: str) -> list[NetworkAttachment]:
        """The cached attachments of the container through a ``CNIConfig`` (``[]`` on failure)."""
        try:
            cni: Any = self.cni
            found: list[NetworkAttachment] = cni.get_cached_attachments(container_id)
            return found
        except PycniError as exc:
            logger.warning("cannot list cached attachments: %s", exc)
            return []

    async def _cached_async(self, container_id: str) -> list[NetworkAttachment]:
        """:meth:`_cached` through an ``AsyncCNIConfig`` (its getter reads off the event loop)."""
        try:
            cni: Any = self.cni
            found: list[NetworkAttachment] = await cni.get_cached_attachments(container_id)
            return found
        except PycniError as exc:
            logger.warning("cannot list cached attachments: %s", exc)
            return []

    def _plan(self, verb: str, container_id: str, netns: str, **kwargs: Any) -> core.Plan:
        """The core plan of a verb over the current network snapshot."""
        networks = self.networks
        if verb == "setup":
            kwargs.setdefault("parallel", None)
            kwargs.setdefault("rollback", None)
            if kwargs["parallel"] is None:
                kwargs["parallel"] = self.parallel
            if kwargs["rollback"] is None:
                kwargs["rollback"] = self.rollback
            kwargs["args"] = _pairs(kwargs.get("args"))
            return core.setup_plan(networks, container_id, netns, **kwargs)
        if verb == "teardown":
            args = kwargs.get("args")
            return core.teardown_plan(
                networks,
                container_id,
                netns,
                args=_pairs(args) if args is not None else None,
                capability_args=kwargs.get("capability_args"),
            )
        args = kwargs.pop("args", None)
        return core.check_plan(
            networks,
            container_id,
            netns,
            args=_pairs(args) if args is not None else None,
            parallel=self.parallel,
            **kwargs,
        )

    def _outcome(
        self, op: Op, start: float, value: Any = None, error: BaseException | None = None
    ) -> Outcome:
        elapsed = time.monotonic() - start
        if error is None:
            return Outcome(op, "ok", value, elapsed=elapsed)
        return Outcome(op, "failed", error=error, elapsed=elapsed)


class _Keyed:
    """Per-container locks (serialise operations on one sandbox within the process)."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self._factory = factory
        self._guard = threading.Lock()
        self._locks: dict[str, list[Any]] = {}

    def acquire(self, key: str) -> Any:
        with self._guard:
            entry = self._locks.setdefault(key, [self._factory(), 0])
            entry[1] += 1
            return entry[0]

    def release(self, key: str) -> None:
        with self._guard:
            entry = self._locks[key]
            entry[1] -= 1
            if entry[1] == 0:
                del self._locks[key]
