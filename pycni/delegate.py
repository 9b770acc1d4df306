"""Delegation for plugins: run another plugin (usually IPAM) from inside a plugin (libcni 4.6).

A delegating plugin finds its delegate in its own ``CNI_PATH``, runs it with the configuration it
received (the whole config, not just the ``ipam`` object) and its own environment with only
``CNI_COMMAND`` replaced, and forwards the delegate's stderr to its own. ``delegate_add`` returns
the delegate's typed result; the other verbs return nothing and raise on failure.

Failures are raised as libcni reports them: :class:`~pycni.errors.PluginNotFoundError` (``failed to
find plugin "x" in path [...]``) and :class:`~pycni.errors.PluginError` carrying the delegate's
own code/msg/details, which a skel callback passes through to the runtime unchanged.

The calling process's environment is never modified. ``async_delegate_*`` do the same with an
:class:`~pycni.exec.AsyncExecutor`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .invoke import plugin_environ
from .version import decode_config_version

if TYPE_CHECKING:  # pragma: no cover
    from .exec import AsyncExecutor, Executor
    from .types import Result

__all__ = [
    "async_delegate_add",
    "async_delegate_check",
    "async_delegate_del",
    "async_delegate_gc",
    "async_delegate_status",
    "delegate_add",
    "delegate_check",
    "delegate_del",
    "delegate_gc",
    "delegate_status",
    "delegate_environ",
]

Conf = bytes | bytearray | str


def delegate_environ(command: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``environ`` (default: the process environment) with only ``CNI_COMMAND`` set to ``command``
    (libcni ``DelegateArgs.AsEnv``); the input is not modified."""
    return plugin_environ({"CNI_COMMAND": command}, base=environ)


def _search_path(environ: Mapping[str, str]) -> list[str]:
    path = environ.get("CNI_PATH", "")
    return path.split(os.pathsep) if path else []


def _as_bytes(conf: Conf) -> bytes:
    return conf.encode("utf-8") if isinstance(conf, str) else bytes(conf)


@contextlib.contextmanager
def _forwarding_stderr(enabled: bool) -> Iterator[None]:
    """Copy the delegate's stderr (logged by the real executors) to this process's stderr."""
    if not enabled:
        yield
        return
    from .exec import PLUGIN_LOGGER

    logger = logging.getLogger(PLUGIN_LOGGER)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    previous = logger.level
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def _run(
    command: str,
    plugin_type: str,
    conf: Conf,
    executor: Executor | None,
    environ: Mapping[str, str] | None,
    timeout: float | None,
) -> bytes:
    env = dict(os.environ if environ is None else environ)
    if executor is None:
        from .exec import SubprocessExecutor

        executor = SubprocessExecutor()
        forward = True
    else:
        forward = False
    plugin_path = executor.find_in_path(plugin_type, _search_path(env))
    with _forwarding_stderr(forward):
        return executor.exec_plugin(
            plugin_path, _as_bytes(conf), delegate_environ(command, env), timeout=timeout
        )


async def _run_async(
    command: str,
    plugin_type: str,
    conf: Conf,
    executor: AsyncExecutor | None,
    environ: Mapping[str, str] | None,
    timeout: float | None,
) -> bytes:
    env = dict(os.environ if environ is None else environ)
    if executor is None:
        from .exec import AsyncSubprocessExecutor

        executor = AsyncSubprocessExecutor()
        forward = True
    else:
        forward = False
    plugin_path = executor.find_in_path(plugin_type, _search_path(env))
    exec_plugin: Any = executor.exec_plugin  # the AsyncExecutor protocol's coroutine
    with _forwarding_stderr(forward):
        data: bytes = await exec_plugin(
            plugin_path, _as_bytes(conf), delegate_environ(command, env), timeout=timeout
        )
    return data


def _result(stdout: bytes, conf: Conf) -> Result:
    from .types import result_from_plugin_output

    return result_from_plugin_output(stdout, decode_config_version(_as_bytes(conf)))


def delegate_add(
    plugin_type: str,
    conf: Conf,
    *,
    executor: Executor | None = None,
    environ: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> Result:
    """Run ``plugin_type`` with ``CNI_COMMAND=ADD`` and return its typed result.

    The result version follows libcni's fixup: the output's own ``cniVersion``, else the config's.
    ``environ`` defaults to the process environment (its ``CNI_PATH`` is the search path).
    """
    stdout = _run("ADD", plugin_type, conf, executor, environ, timeout)
    return _result(stdout, conf)


def delegate_check(
    plugin_type: str,
    conf: Conf,
    *,
    executor: Executor | None = None,
    environ: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> None:
    """Run ``plugin_type`` with ``CNI_COMMAND=CHECK``; raises on failure."""
    _run("CHECK", plugin_type, conf, executor, environ, timeout)


def delegate_del(
    plugin_type: str,
    conf: Conf,
    *,
    executor: Executor | None = None,
    environ: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> None:
    """Run ``plugin_type`` with ``CNI_COMMAND=DEL``; raises on failure."""
    _run("DEL", plugin_type, conf, executor, environ, timeout)


def delegate_gc(
    plugin_type: str,
    conf: Conf,
    *,
    executor: Executor | None = None,
    environ: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> None:
    """Run ``plugin_type`` with ``CNI_COMMAND=GC``; raises on failure."""
    _run("GC", plugin_type, conf, executor, environ, timeout)


def delegate_status(
    plugin_type: str,
    conf: Conf,
    *,
    executor: Executor | None = None,
    environ: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> None:
    """Run ``plugin_type`` with ``CNI_COMMAND=STATUS``; raises on failure (codes 50/51 kept)."""
    _run("STATUS", plugin_type, conf, executor, environ, timeout)


async def async_delegate_add(
    plugin_type: str,
    conf: Conf,
    *,
    executor: AsyncExecutor | None = None,
    environ: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> Result:
    """:func:`delegate_add` with an :class:`~pycni.exec.AsyncExecutor`."""
    stdout = await _run_async("ADD", plugin_type, conf, executor, environ, timeout)
    return _result(stdout, conf)


async def async_delegate_check(
    plugin_type: str,
    conf: Conf,
    *,
    executor: AsyncExecutor | None = None,
    environ: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> None:
    """:func:`delegate_check` with an :class:`~pycni.exec.AsyncExecutor`."""
    await _run_async("CHECK", plugin_type, conf, executor, environ, timeout)


async def async_delegate_del(
    plugin_type: str,
    conf: Conf,
    *,
    executor: AsyncExecutor | None = None,
    environ: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> None:
    """:func:`delegate_del` with an :class:`~pycni.exec.AsyncExecutor`."""
    await _run_async("DEL", plugin_type, conf, executor, environ, timeout)


async def async_delegate_gc(
    plugin_type: str,
    conf: Conf,
    *,
    executor: AsyncExecutor | None = None,
    environ: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> None:
    """:func:`delegate_gc` with an :class:`~pycni.exec.AsyncExecutor`."""
    await _run_async("GC", plugin_type, conf, executor, environ, timeout)


async def async_delegate_status(
    plugin_type: str,
    conf: Conf,
    *,
    executor: AsyncExecutor | None = None,
    environ: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> None:
    """:func:`delegate_status` with an :class:`~pycni.exec.AsyncExecutor`."""
    await _run_async("STATUS", plugin_type, conf, executor, environ, timeout)
