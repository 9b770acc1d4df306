"""The executor protocol and the real executors (sync on ``subprocess``, async on asyncio).

libcni reaches plugins only through three operations, so a runtime can swap in a fake, a sudo /
doas wrapper or a remote executor:

* ``find_in_path(plugin_type, paths)`` -> the plugin's path;
* ``exec_plugin(plugin_path, stdin, environ, *, timeout=None)`` -> stdout bytes on success, a
  :class:`~pycni.errors.PluginError` otherwise; ``environ`` is the complete environment;
* ``decode_version(data)`` -> :class:`~pycni.version.PluginInfo`.

:class:`SubprocessExecutor` and :class:`AsyncSubprocessExecutor` implement them for real plugins
and differ only in how they wait: every decision (errors, retries, limits, environment) is in
:mod:`pycni.invoke`, the process handling in :mod:`pycni._process`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

import attrs

from . import _otel, _process
from .invoke import (
    VERSION_STDIN,
    ExecOptions,
    RawOutcome,
    conclude,
    deadline_for,
    exec_target,
    find_in_path,
    is_text_file_busy,
    start_failure,
    timeout_error,
    version_environ,
    version_info_from_failure,
)
from .version import PluginInfo, decode_plugin_info

__all__ = [
    "AsyncExecutor",
    "AsyncSubprocessExecutor",
    "Executor",
    "PLUGIN_LOGGER",
    "SubprocessExecutor",
    "async_get_version_info",
    "get_version_info",
]

#: Plugin stderr of successful runs is logged here, one record per line (never printed).
PLUGIN_LOGGER = "pycni.plugin"
_plugin_log = logging.getLogger(PLUGIN_LOGGER)
_plugin_log.addHandler(logging.NullHandler())


@runtime_checkable
class Executor(Protocol):
    """What a runtime needs to run plugins synchronously."""

    def find_in_path(self, plugin_type: str, paths: Sequence[str]) -> str: ...

    def exec_plugin(
        self,
        plugin_path: str,
        stdin: bytes,
        environ: Mapping[str, str],
        *,
        timeout: float | None = None,
    ) -> bytes: ...

    def decode_version(self, data: bytes) -> PluginInfo: ...


@runtime_checkable
class AsyncExecutor(Protocol):
    """What a runtime needs to run plugins from asyncio (lookup and decoding stay sync)."""

    def find_in_path(self, plugin_type: str, paths: Sequence[str]) -> str: ...

    async def exec_plugin(
        self,
        plugin_path: str,
        stdin: bytes,
        environ: Mapping[str, str],
        *,
        timeout: float | None = None,
    ) -> bytes: ...

    def decode_version(self, data: bytes) -> PluginInfo: ...


class _Base:
    """Options, lookup, decoding and the shared before/after steps of both real executors."""

    def __init__(
        self,
        *,
        max_output: int = 64 * 1024 * 1024,
        stderr_tail: int = 4096,
        etxtbsy_retries: int = 6,
        etxtbsy_backoff: float = 0.05,
        exit_grace: float = 0.2,
        stderr_log_level: int = logging.INFO,
        max_stderr: int = 256 * 1024,
    ) -> None:
        self.options = ExecOptions(
            max_output=max_output,
            stderr_tail=stderr_tail,
            max_stderr=max_stderr,
            etxtbsy_retries=etxtbsy_retries,
            etxtbsy_backoff=etxtbsy_backoff,
            exit_grace=exit_grace,
        )
        self.stderr_log_level = stderr_log_level

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.options!r})"

    def find_in_path(self, plugin_type: str, paths: Sequence[str]) -> str:
        """libcni's ``FindInPath`` (see :func:`pycni.invoke.find_in_path`)."""
        return find_in_path(plugin_type, paths)

    def decode_version(self, data: bytes) -> PluginInfo:
        """Decode a VERSION answer (see :func:`pycni.version.decode_plugin_info`)."""
        return decode_plugin_info(data)

    @staticmethod
    def _environ(environ: Mapping[str, str]) -> Mapping[str, str]:
        trace = _otel.trace_environ()
        return {**environ, **trace} if trace else environ

    def _call(self, plugin_path: str, environ: Mapping[str, str], timeout: float | None) -> _Call:
        """The facts of one invocation, decided once for both executors."""
        path = os.fspath(plugin_path)
        started = time.monotonic()
        return _Call(
            plugin_path=path,
            target=exec_target(path),
            verb=environ.get("CNI_COMMAND", ""),
            env=self._environ(environ),
            timeout=timeout,
            started=started,
            deadline=deadline_for(timeout, started),
        )

    def _retry_delay(self, exc: Exception, call: _Call) -> float:
        """Seconds to wait before starting again after ``exc``, or raise the start failure."""
        call.attempt += 1
        delay = self.options.etxtbsy_delay(call.attempt) if is_text_file_busy(exc) else None
        if delay is None or (
            call.deadline is not None and time.monotonic() + delay >= call.deadline
        ):
            raise start_failure(call.plugin_path, call.verb, exc) from exc
        return delay

    def _finish(self, outcome: RawOutcome, call: _Call) -> bytes:
        stdout = conclude(
            outcome,
            plugin_path=call.plugin_path,
            verb=call.verb,
            timeout=call.timeout,
            elapsed=time.monotonic() - call.started,
            max_output=self.options.max_output,
            tail_limit=self.options.stderr_tail,
        )
        if outcome.stderr:
            _log_stderr(outcome.stderr, call.plugin_path, call.verb, self.stderr_log_level)
        return stdout


@attrs.define
class _Call:
    """One invocation in progress: what runs, under which deadline, and how many starts so far."""

    plugin_path: str
    target: str
    verb: str
    env: Mapping[str, str]
    timeout: float | None
    started: float
    deadline: float | None
    attempt: int = 0

    def check_deadline(self) -> None:
        """Raise the timeout error when the deadline passed before the plugin could start."""
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise timeout_error(self.plugin_path, self.verb, self.timeout or 0.0, started=False)


def _log_stderr(stderr: bytes, plugin_path: str, verb: str, level: int) -> None:
    """One ``pycni.plugin`` record per non-blank stderr line.

    The message is the line as the plugin wrote it (so a handler can pass stderr through, as
    libcni's default sink does); ``plugin_type``, ``plugin_path`` and ``verb`` are record
    attributes for formatters (``%(plugin_type)s``) and filters.
    """
    if not _plugin_log.isEnabledFor(level):
        return
    plugin_type = os.path.basename(plugin_path)
    extra = {"plugin_type": plugin_type, "plugin_path": plugin_path, "verb": verb}
    for line in stderr.decode("utf-8", "replace").splitlines():
        if line.strip():
            _plugin_log.log(level, "%s", line, extra=extra)


class SubprocessExecutor(_Base):
    """Runs plugins with :mod:`subprocess` (see the module docstring for the guarantees).

    ``max_output`` caps captured stdout (64 MiB by default), ``max_stderr`` the stderr kept,
    logged or quoted (its first and last halves, 256 KiB in all by default), ``stderr_tail``
    bounds the stderr kept on errors, ``etxtbsy_retries``/``etxtbsy_backoff`` govern "text file busy" retries,
    ``exit_grace`` is how long forked helpers may hold the pipes after the plugin exits, and
    ``stderr_log_level`` is the level of the ``pycni.plugin`` records.
    """

    def exec_plugin(
        self,
        plugin_path: str,
        stdin: bytes,
        environ: Mapping[str, str],
        *,
        timeout: float | None = None,
    ) -> bytes:
        """Run the plugin once; its stdout on exit status 0, else a :class:`PluginError`."""
        call = self._call(plugin_path, environ, timeout)
        while True:
            call.check_deadline()
            try:
                proc = _process.spawn_sync(
                    call.target, call.plugin_path, call.env, _process.held_lock()
                )
                break
            except (OSError, ValueError, TypeError) as exc:
                time.sleep(self._retry_delay(exc, call))
        outcome = _process.communicate_sync(proc, stdin, call.deadline, self.options)
        return self._finish(outcome, call)


class AsyncSubprocessExecutor(_Base):
    """Runs plugins from asyncio (pidfd-watched processes, or asyncio's subprocess transport where
    the kernel has no pidfds).

    Same options and behaviour as :class:`SubprocessExecutor`; in addition, cancelling the task
    kills the plugin's process group and re-raises :class:`asyncio.CancelledError`.
    """

    async def exec_plugin(
        self,
        plugin_path: str,
        stdin: bytes,
        environ: Mapping[str, str],
        *,
        timeout: float | None = None,
    ) -> bytes:
        """Run the plugin once; its stdout on exit status 0, else a :class:`PluginError`."""
        call = self._call(plugin_path, environ, timeout)
        while True:
            call.check_deadline()
            try:
                outcome = await _process.run_async(
                    call.target,
                    call.plugin_path,
                    stdin,
                    call.env,
                    deadline=call.deadline,
                    options=self.options,
                )
                break
            except (OSError, ValueError, TypeError) as exc:
                await asyncio.sleep(self._retry_delay(exc, call))
        return self._finish(outcome, call)


def get_version_info(
    executor: Executor, plugin_type: str, paths: Sequence[str], *, timeout: float | None = None
) -> PluginInfo:
    """Find ``plugin_type`` and ask it which spec versions it supports (reference 4.5).

    VERSION runs with libcni's dummy environment and ``{"cniVersion":"1.1.0"}`` on stdin; the
    exact failure ``unknown CNI_COMMAND: VERSION`` means a pre-0.2 plugin (``["0.1.0"]``); any
    other failure is raised unchanged.
    """
    plugin_path = executor.find_in_path(plugin_type, paths)
    try:
        data = executor.exec_plugin(plugin_path, VERSION_STDIN, version_environ(), timeout=timeout)
    except Exception as exc:
        info = version_info_from_failure(exc)
        if info is None:
            raise
        return info
    return executor.decode_version(data)


async def async_get_version_info(
    executor: AsyncExecutor,
    plugin_type: str,
    paths: Sequence[str],
    *,
    timeout: float | None = None,
) -> PluginInfo:
    """:func:`get_version_info` for an :class:`AsyncExecutor`."""
    plugin_path = executor.find_in_path(plugin_type, paths)
    try:
        data = await executor.exec_plugin(
            plugin_path, VERSION_STDIN, version_environ(), timeout=timeout
        )
    except Exception as exc:
        info = version_info_from_failure(exc)
        if info is None:
            raise
        return info
    return executor.decode_version(data)
