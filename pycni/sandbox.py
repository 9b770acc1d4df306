"""Pod-level networking: :class:`Sandbox` (threads) and :class:`AsyncSandbox` (asyncio).

A sandbox object is what containerd's go-cni and CRI-O's ocicni give a runtime on top of libcni:
it loads networks from a configuration directory (the first N files, or named ones, plus the
built-in loopback network), names their interfaces (``lo``, ``eth0``, ``eth1``, ...), and then

* :meth:`~Sandbox.setup` attaches every network (in parallel by default) and returns one
  :class:`~pycni.SandboxResult`; if any network fails, the others are rolled back and the
  :class:`~pycni.SandboxError` lists every network's outcome;
* :meth:`~Sandbox.teardown` deletes them in reverse order, continuing past errors, and works from
  the result cache alone for networks whose config file is gone;
* :meth:`~Sandbox.check`, :meth:`~Sandbox.status` (readiness) and :meth:`~Sandbox.gc`;
* :meth:`~Sandbox.reload` and :meth:`~Sandbox.watch` follow the directory as it changes.

All decisions live in :mod:`pycni._sandbox_core`; the two classes differ only in how they run a
batch of plugin calls. Objects are thread-safe (the network set is an immutable snapshot swapped
under a lock, and no lock is held while plugins run, so ``status`` never waits behind a slow
``setup``); operations on one container are serialised within the process, and the runtime's
file locks serialise each attachment across processes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import threading
import time
from collections.abc import (
    AsyncIterator,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from typing import Any

import attrs

from . import _sandbox_core as core
from ._sandbox_base import Args, _Base, _Keyed
from ._sandbox_core import (
    LOOPBACK_CONFLIST,
    GCReport,
    ListCache,
    NetworkOutcome,
    Op,
    Outcome,
    SandboxError,
    SandboxNetwork,
    SandboxStatus,
    TeardownReport,
    loopback_conf_list,
)
from ._sandbox_result import SandboxResult, aggregate
from .exec import AsyncExecutor, Executor
from .runtime import AsyncCNIConfig, CNIConfig

__all__ = [
    "LOOPBACK_CONFLIST",
    "AsyncSandbox",
    "GCReport",
    "NetworkOutcome",
    "Sandbox",
    "SandboxError",
    "SandboxNetwork",
    "SandboxResult",
    "SandboxStatus",
    "TeardownReport",
    "loopback_conf_list",
]


class Sandbox(_Base):
    """Pod networking on threads. ``Sandbox(conf_dir, bin_dirs, cache_dir=..., executor=...)``.

    Keyword options (all also for :class:`AsyncSandbox`): ``networks`` (names to use, in order)
    or ``max_networks`` (first N files, default 1; ``None`` = all), ``loopback`` (default on),
    ``ifname_prefix`` / ``ifnames`` (per-network names), ``min_networks`` (readiness),
    ``parallel`` and ``rollback`` (setup defaults), ``timeout`` (per network call, seconds).
    """

    def __init__(
        self,
        conf_dir: str | os.PathLike[str] | None,
        bin_dirs: Sequence[str] | str,
        *,
        cache_dir: str | os.PathLike[str] | None = None,
        executor: Executor | None = None,
        negotiate_versions: bool = False,
        **options: Any,
    ) -> None:
        self.cni = CNIConfig(
            path=bin_dirs,
            cache_dir=cache_dir,
            executor=executor,
            negotiate_versions=negotiate_versions,
        )
        self._keyed = _Keyed(threading.Lock)
        super().__init__(conf_dir, bin_dirs, **options)

    # --- driver ------------------------------------------------------------------------------

    def _run_op(self, op: Op, timeout: float | None) -> Outcome:
        start = time.monotonic()
        try:
            method, args = self._bound(op)
            return self._outcome(op, start, method(*args, timeout=timeout))
        except Exception as exc:  # one network's failure must not stop the others' rollback
            return self._outcome(op, start, error=exc)

    def _run_batch(
        self, batch: core.Batch, timeout: float | None
    ) -> tuple[list[Outcome], BaseException | None]:
        ops = list(batch.ops)
        if batch.parallel and len(ops) > 1:
            pool = concurrent.futures.ThreadPoolExecutor(
                len(ops), thread_name_prefix="pycni-sandbox"
            )
            futures: list[concurrent.futures.Future[Outcome]] = []
            interrupt: BaseException | None = None
            try:
                for op in ops:
                    futures.append(pool.submit(self._run_op, op, timeout))
                concurrent.futures.wait(futures)
            except BaseException as exc:  # KeyboardInterrupt: let running plugins finish
                interrupt = exc
                for future in futures:
                    future.cancel()
            finally:
                late = _uninterrupted(lambda: pool.shutdown(wait=True))
                interrupt = interrupt or late
            outcomes = [
                f.result() if f.done() and not f.cancelled() else Outcome(op, "cancelled")
                for op, f in zip(ops, futures)
            ]
            # an interrupt inside submit() may have queued an op without handing us its future:
            # count those as cancelled (a rollback DEL of an ADD that never ran is harmless)
            outcomes += [Outcome(op, "cancelled") for op in ops[len(futures) :]]
            return outcomes, interrupt
        outcomes = []
        for index, op in enumerate(ops):
            try:
                outcome = self._run_op(op, timeout)
            except BaseException as exc:
                outcomes.append(Outcome(op, "cancelled", error=exc))
                outcomes.extend(Outcome(o, "skipped") for o in ops[index + 1 :])
                return outcomes, exc
            outcomes.append(outcome)
            if batch.stop_on_error and not outcome.ok:
                outcomes.extend(Outcome(o, "skipped") for o in ops[index + 1 :])
                break
        return outcomes, None

    def _drive(
        self,
        plan: core.Plan,
        timeout: float | None,
        finish: Callable[[Any], Any] = lambda value: value,
        *,
        undo_on_interrupt: bool = False,
    ) -> Any:
        """Answer the plan's requests; ``finish`` turns its value into the return value.

        With ``undo_on_interrupt`` (setup), a Ctrl-C that lands outside a batch (in the plan's
        own code, or while the result is put together) still deletes every ADD that was started,
        so the caller never sees the interrupt with networks left attached.
        """
        interrupt: BaseException | None = None
        started: list[Op] = []
        try:
            request = next(plan)
            while True:
                if isinstance(request, ListCache):
                    answer: Any = self._cached(request.container_id)
                else:
                    outcomes, stopped = self._run_batch(request, timeout)
                    started += [o.op for o in outcomes if o.attempted and o.op.verb == "ADD"]
                    interrupt = interrupt or stopped
                    answer = outcomes if stopped is None else core.Interrupted(outcomes)
                request = plan.send(answer)
        except StopIteration as stop:
            if interrupt is not None:
                raise interrupt from None
            try:
                return finish(stop.value)
            except BaseException:
                self._undo(started, timeout, undo_on_interrupt)
                raise
        except SandboxError as err:
            if interrupt is not None:
                raise interrupt from err
            raise
        except BaseException:
            self._undo(started, timeout, undo_on_interrupt)
            raise

    def _undo(self, started: list[Op], timeout: float | None, enabled: bool) -> None:
        """DEL every started ADD in reverse order (after an interrupt outside a batch)."""
        if enabled and started:
            dels = tuple(attrs.evolve(op, verb="DEL") for op in reversed(started))
            _uninterrupted(lambda: self._run_batch(core.Batch(dels, parallel=False), timeout))

    @contextlib.contextmanager
    def _serialised(self, container_id: str) -> Iterator[None]:
        lock = self._keyed.acquire(container_id)
        try:
            with lock:
                yield
        finally:
            self._keyed.release(container_id)

    # --- verbs ---------------------------------------------------------------------------------

    def setup(
        self,
        container_id: str,
        netns: str,
        *,
        args: Args = None,
        capability_args: Mapping[str, Any] | None = None,
        network_capability_args: Mapping[str, Mapping[str, Any]] | None = None,
        parallel: bool | None = None,
        rollback: bool | None = None,
        timeout: float | None = None,
    ) -> SandboxResult:
        """Attach every network; return the aggregated result.

        ``args`` are CNI_ARGS pairs, ``capability_args`` go to every network and
        ``network_capability_args[name]`` to one. On failure every network started is deleted
        again (unless ``rollback=False``) and :class:`SandboxError` lists each one's outcome.
        """
        plan = self._plan(
            "setup",
            container_id,
            netns,
            args=args,
            capability_args=capability_args,
            network_capability_args=network_capability_args,
            parallel=parallel,
            rollback=rollback,
        )
        undo = self.rollback if rollback is None else rollback
        result: SandboxResult | None = None
        try:
            with self._serialised(container_id):
                result = self._drive(
                    plan,
                    timeout or self.timeout,
                    lambda items: aggregate(container_id, netns, items),
                    undo_on_interrupt=undo,
                )
        except KeyboardInterrupt:
            if result is not None and undo:  # it landed as the lock was being released
                _uninterrupted(lambda: self.teardown(container_id, netns, timeout=timeout))
            raise
        assert result is not None
        return result

    def teardown(
        self,
        container_id: str,
        netns: str = "",
        *,
        args: Args = None,
        capability_args: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> TeardownReport:
        """Delete every network of the container (reverse order, all attempted, errors collected).

        ``args``/``capability_args`` default to those cached at ADD; networks whose config is
        gone are deleted with the cached config. Raises :class:`SandboxError` if any DEL failed.

        A Ctrl-C does not leave the teardown half done: the networks still cached are deleted
        (a second pass over the cache, which a further Ctrl-C cannot cut short), then the
        ``KeyboardInterrupt`` is re-raised.
        """

        def run() -> TeardownReport:
            plan = self._plan(
                "teardown", container_id, netns, args=args, capability_args=capability_args
            )
            with self._serialised(container_id):
                report: TeardownReport = self._drive(plan, timeout or self.timeout)
            return report

        try:
            return run()
        except KeyboardInterrupt:
            _uninterrupted(lambda: _quietly(run))
            raise

    def check(
        self,
        container_id: str,
        netns: str,
        *,
        args: Args = None,
        capability_args: Mapping[str, Any] | None = None,
        network_capability_args: Mapping[str, Mapping[str, Any]] | None = None,
        timeout: float | None = None,
    ) -> None:
        """CHECK every network; :class:`SandboxError` names each failing one."""
        plan = self._plan(
            "check",
            container_id,
            netns,
            args=args,
            capability_args=capability_args,
            network_capability_args=network_capability_args,
        )
        with self._serialised(container_id):
            self._drive(plan, timeout or self.timeout)

    def status(self, *, timeout: float | None = None) -> SandboxStatus:
        """Ready when at least ``min_networks`` networks are loaded and STATUS passes for all."""
        plan = core.status_plan(
            self.networks, required=self.min_networks, load_errors=self.load_errors
        )
        status: SandboxStatus = self._drive(plan, timeout or self.timeout)
        return status

    def gc(
        self,
        valid_container_ids: Iterable[str],
        *,
        orphans: bool = True,
        timeout: float | None = None,
    ) -> GCReport:
        """Garbage-collect everything that does not belong to ``valid_container_ids``."""
        report: GCReport = self._drive(
            core.gc_plan(self.networks, valid_container_ids, orphans=orphans),
            timeout or self.timeout,
        )
        return report

    @contextlib.contextmanager
    def attach(self, container_id: str, netns: str, **kwargs: Any) -> Iterator[SandboxResult]:
        """``with sandbox.attach(cid, netns) as result:`` setup, then teardown on exit."""
        result = self.setup(container_id, netns, **kwargs)
        try:
            yield result
        finally:
            self.teardown(container_id, netns, timeout=kwargs.get("timeout"))


def _quietly(step: Callable[[], Any]) -> None:
    """Run ``step``; a :class:`SandboxError` (its outcome is reported elsewhere) is dropped."""
    with contextlib.suppress(SandboxError):
        step()


def _uninterrupted(step: Callable[[], Any]) -> KeyboardInterrupt | None:
    """Run a clean-up step to its end even if Ctrl-C arrives meanwhile; return that Ctrl-C
    (for the caller to raise once it is safe), or ``None``."""
    pending: KeyboardInterrupt | None = None
    while True:
        try:
            step()
            return pending
        except KeyboardInterrupt as exc:
            pending = exc


class AsyncSandbox(_Base):
    """Pod networking on asyncio: the methods of :class:`Sandbox` as coroutines.

    Cancelling :meth:`setup` kills the running plugins (their process groups), rolls back what was
    started, then re-raises :class:`asyncio.CancelledError`.
    """

    def __init__(
        self,
        conf_dir: str | os.PathLike[str] | None,
        bin_dirs: Sequence[str] | str,
        *,
        cache_dir: str | os.PathLike[str] | None = None,
        executor: AsyncExecutor | None = None,
        negotiate_versions: bool = False,
        **options: Any,
    ) -> None:
        self.cni = AsyncCNIConfig(
            path=bin_dirs,
            cache_dir=cache_dir,
            executor=executor,
            negotiate_versions=negotiate_versions,
        )
        self._keyed = _Keyed(asyncio.Lock)
        super().__init__(conf_dir, bin_dirs, **options)

    async def _run_op(self, op: Op, timeout: float | None) -> Outcome:
        start = time.monotonic()
        try:
            method, args = self._bound(op)
            return self._outcome(op, start, await method(*args, timeout=timeout))
        except Exception as exc:
            return self._outcome(op, start, error=exc)

    async def _run_batch(
        self, batch: core.Batch, timeout: float | None
    ) -> tuple[list[Outcome], BaseException | None]:
        ops = list(batch.ops)
        if batch.parallel and len(ops) > 1:
            tasks = [asyncio.ensure_future(self._run_op(op, timeout)) for op in ops]
            try:
                await asyncio.gather(*tasks)
            except asyncio.CancelledError as exc:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                return [
                    Outcome(op, "cancelled") if t.cancelled() else t.result()
                    for op, t in zip(ops, tasks)
                ], exc
            return [t.result() for t in tasks], None
        outcomes: list[Outcome] = []
        for index, op in enumerate(ops):
            try:
                outcome = await self._run_op(op, timeout)
            except asyncio.CancelledError as exc:
                outcomes.append(Outcome(op, "cancelled"))
                outcomes.extend(Outcome(o, "skipped") for o in ops[index + 1 :])
                return outcomes, exc
            outcomes.append(outcome)
            if batch.stop_on_error and not outcome.ok:
                outcomes.extend(Outcome(o, "skipped") for o in ops[index + 1 :])
                break
        return outcomes, None

    async def _drive(self, plan: core.Plan, timeout: float | None) -> Any:
        interrupt: BaseException | None = None
        try:
            request = next(plan)
            while True:
                if isinstance(request, ListCache):
                    answer: Any = await self._cached_async(request.container_id)
                else:
                    outcomes, stopped = await self._run_batch(request, timeout)
                    interrupt = interrupt or stopped
                    answer = outcomes if stopped is None else core.Interrupted(outcomes)
                request = plan.send(answer)
        except StopIteration as stop:
            if interrupt is not None:
                raise interrupt from None
            return stop.value
        except SandboxError as err:
            if interrupt is not None:
                raise interrupt from err
            raise

    @contextlib.asynccontextmanager
    async def _serialised(self, container_id: str) -> AsyncIterator[None]:
        lock = self._keyed.acquire(container_id)
        try:
            async with lock:
                yield
        finally:
            self._keyed.release(container_id)

    async def setup(
        self,
        container_id: str,
        netns: str,
        *,
        args: Args = None,
        capability_args: Mapping[str, Any] | None = None,
        network_capability_args: Mapping[str, Mapping[str, Any]] | None = None,
        parallel: bool | None = None,
        rollback: bool | None = None,
        timeout: float | None = None,
    ) -> SandboxResult:
        """See :meth:`Sandbox.setup`."""
        plan = self._plan(
            "setup",
            container_id,
            netns,
            args=args,
            capability_args=capability_args,
            network_capability_args=network_capability_args,
            parallel=parallel,
            rollback=rollback,
        )
        async with self._serialised(container_id):
            items = await self._drive(plan, timeout or self.timeout)
        return aggregate(container_id, netns, items)

    async def teardown(
        self,
        container_id: str,
        netns: str = "",
        *,
        args: Args = None,
        capability_args: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> TeardownReport:
        """See :meth:`Sandbox.teardown`; a cancellation, like Ctrl-C there, first finishes the
        teardown (a second pass over the cache), then propagates."""

        async def run() -> TeardownReport:
            plan = self._plan(
                "teardown", container_id, netns, args=args, capability_args=capability_args
            )
            async with self._serialised(container_id):
                report: TeardownReport = await self._drive(plan, timeout or self.timeout)
            return report

        try:
            return await run()
        except asyncio.CancelledError:
            with contextlib.suppress(SandboxError):
                await run()
            raise

    async def check(
        self,
        container_id: str,
        netns: str,
        *,
        args: Args = None,
        capability_args: Mapping[str, Any] | None = None,
        network_capability_args: Mapping[str, Mapping[str, Any]] | None = None,
        timeout: float | None = None,
    ) -> None:
        """See :meth:`Sandbox.check`."""
        plan = self._plan(
            "check",
            container_id,
            netns,
            args=args,
            capability_args=capability_args,
            network_capability_args=network_capability_args,
        )
        async with self._serialised(container_id):
            await self._drive(plan, timeout or self.timeout)

    async def status(self, *, timeout: float | None = None) -> SandboxStatus:
        """See :meth:`Sandbox.status`."""
        plan = core.status_plan(
            self.networks, required=self.min_networks, load_errors=self.load_errors
        )
        status: SandboxStatus = await self._drive(plan, timeout or self.timeout)
        return status

    async def gc(
        self,
        valid_container_ids: Iterable[str],
        *,
        orphans: bool = True,
        timeout: float | None = None,
    ) -> GCReport:
        """See :meth:`Sandbox.gc`."""
        report: GCReport = await self._drive(
            core.gc_plan(self.networks, valid_container_ids, orphans=orphans),
            timeout or self.timeout,
        )
        return report

    @contextlib.asynccontextmanager
    async def attach(
        self, container_id: str, netns: str, **kwargs: Any
    ) -> AsyncIterator[SandboxResult]:
        """``async with sandbox.attach(cid, netns) as result:`` setup, then teardown on exit."""
        result = await self.setup(container_id, netns, **kwargs)
        try:
            yield result
        finally:
            await self.teardown(container_id, netns, timeout=kwargs.get("timeout"))
