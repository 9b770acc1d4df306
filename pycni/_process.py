"""Running one plugin process: pipes, deadlines and process groups (sync and asyncio).

This is the only place pycni touches processes. Both runners do the same thing:

* the plugin starts in a new session, so it leads its own process group and every helper it
  forks can be killed with it;
* stdin is written while stdout and stderr are read (no deadlock whatever the sizes); a plugin
  that exits without reading stdin (EPIPE) is not an error;
* stdout is captured up to a limit (past it the group is killed and the outcome says so); stderr
  keeps its last ``limit`` bytes;
* when the deadline passes, the whole group is SIGKILLed;
* once the plugin has exited, helpers still holding its pipes get a short grace period to close
  them, then the group's leftovers are killed and whatever was written is used.

They return an :class:`~pycni.invoke.RawOutcome`; turning it into bytes or an error is pure code
in :mod:`pycni.invoke`. Start failures (``OSError`` from exec, ``ValueError``/``TypeError`` for a
bad environment) propagate unchanged so the caller can retry "text file busy".
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import selectors
import signal
import subprocess
import time
from collections.abc import Mapping
from typing import Any

from .invoke import ExecOptions, RawOutcome

__all__ = ["kill_group", "run_async", "spawn_sync", "communicate_sync"]

_READ_SIZE = 65536
_WRITE_SIZE = 65536
#: How often the sync loop checks whether the plugin itself has exited while its pipes stay open.
_EXIT_POLL = 0.02
#: After a SIGKILL, how long to wait for the plugin to be reaped before giving up on it.
_REAP_WAIT = 2.0
#: stdin up to this size is written before the loop: it always fits an empty pipe, never blocks.
_PIPE_BUF: int = getattr(select, "PIPE_BUF", 512)


def kill_group(pgid: int) -> None:
    """SIGKILL every process of group ``pgid``; a group that is already gone is fine."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


class _TailBuffer:
    """Keeps the last ``limit`` bytes written to it (memory stays below ``2 * limit``)."""

    __slots__ = ("_buf", "_limit")

    def __init__(self, limit: int) -> None:
        self._buf = bytearray()
        self._limit = limit

    def append(self, data: bytes) -> None:
        self._buf += data
        if len(self._buf) > 2 * self._limit:
            del self._buf[: -self._limit]

    def value(self) -> bytes:
        return bytes(self._buf[-self._limit :])


# --------------------------------------------------------------------------------------------
# sync
# --------------------------------------------------------------------------------------------


def spawn_sync(target: str, argv0: str, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """Start the plugin in its own session with three pipes (raises what exec raised)."""
    return subprocess.Popen(
        [argv0],
        executable=target,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        bufsize=0,
        start_new_session=True,
    )


def _has_exited(proc: subprocess.Popen[bytes]) -> bool:
    """Whether the plugin has exited, *without reaping it*.

    Leaving the zombie in place keeps its pid (and so its process group id) from being reused
    until we have killed the group's leftovers.
    """
    if proc.returncode is not None:
        return True
    try:
        return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:  # reaped by someone else (SIGCHLD ignored): Popen copes
        return True
    except AttributeError:  # pragma: no cover - platforms without waitid
        return proc.poll() is not None


def _reap(proc: subprocess.Popen[bytes]) -> int:
    try:
        return proc.wait(timeout=_REAP_WAIT)
    except subprocess.TimeoutExpired:  # pragma: no cover - stuck in the kernel (D state)
        return -signal.SIGKILL


def _close(proc: subprocess.Popen[bytes]) -> None:
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):  # EPIPE on close of an unflushed pipe
                stream.close()


def communicate_sync(
    proc: subprocess.Popen[bytes], stdin: bytes, deadline: float | None, options: ExecOptions
) -> RawOutcome:
    """Feed stdin, collect stdout/stderr and wait, with the guarantees of the module docstring."""
    try:
        return _communicate(proc, stdin, deadline, options)
    except BaseException:
        # KeyboardInterrupt or a bug: never leave the group running.
        if proc.returncode is None:
            kill_group(proc.pid)
            _reap(proc)
        raise
    finally:
        _close(proc)


def _communicate(
    proc: subprocess.Popen[bytes], stdin: bytes, deadline: float | None, options: ExecOptions
) -> RawOutcome:
    assert proc.stdin is not None
    assert proc.stdout is not None
    assert proc.stderr is not None
    in_fd, out_fd, err_fd = proc.stdin.fileno(), proc.stdout.fileno(), proc.stderr.fileno()
    out_chunks: list[bytes] = []
    out_size = 0
    err = _TailBuffer(options.max_output)
    cap = options.max_output

    pending = memoryview(stdin)
    if len(stdin) <= _PIPE_BUF:
        try:
            if stdin:
                os.write(in_fd, stdin)
        except BrokenPipeError:
            pass  # the plugin exited without reading: not our error
        proc.stdin.close()
        pending = pending[len(pending) :]

    with selectors.PollSelector() as sel:
        sel.register(out_fd, selectors.EVENT_READ)
        sel.register(err_fd, selectors.EVENT_READ)
        if pending:
            os.set_blocking(in_fd, False)
            sel.register(in_fd, selectors.EVENT_WRITE)
        exited = False
        grace_end = 0.0
        while sel.get_map():
            if not exited and _has_exited(proc):
                exited = True
                grace_end = time.monotonic() + options.exit_grace
            now = time.monotonic()
            if exited:
                wait = grace_end - now
                if wait <= 0:  # helpers hold our pipes: kill them, keep what was written
                    kill_group(proc.pid)
                    for key in list(sel.get_map().values()):
                        if key.fd == out_fd:
                            out_size += _drain(key.fd, out_chunks.append)
                        elif key.fd == err_fd:
                            _drain(key.fd, err.append)
                    break
            else:
                wait = _EXIT_POLL
                if deadline is not None:
                    if deadline - now <= 0:
                        kill_group(proc.pid)
                        _reap(proc)
                        return RawOutcome("timeout", None, b"", err.value())
                    wait = min(wait, deadline - now)
            for key, _events in sel.select(wait):
                fd = key.fd
                if fd == in_fd:
                    try:
                        written = os.write(fd, pending[:_WRITE_SIZE])
                    except BlockingIOError:
                        continue
                    except BrokenPipeError:
                        written = len(pending)
                    pending = pending[written:]
                    if not pending:
                        sel.unregister(fd)
                        proc.stdin.close()
                    continue
                data = os.read(fd, _READ_SIZE)
                if not data:
                    sel.unregister(fd)
                elif fd == out_fd:
                    out_size += len(data)
                    if out_size > cap:
                        kill_group(proc.pid)
                        _reap(proc)
                        return RawOutcome("overflow", None, b"", err.value())
                    out_chunks.append(data)
                else:
                    err.append(data)

    if out_size > cap:
        _reap(proc)
        return RawOutcome("overflow", None, b"", err.value())
    if exited or deadline is None:
        returncode = proc.wait()
    else:
        try:
            returncode = proc.wait(timeout=max(deadline - time.monotonic(), 0.0))
        except subprocess.TimeoutExpired:  # closed its pipes but kept running
            kill_group(proc.pid)
            _reap(proc)
            return RawOutcome("timeout", None, b"", err.value())
    return RawOutcome("exited", returncode, b"".join(out_chunks), err.value())


def _drain(fd: int, sink: Any) -> int:
    """Read what is already in a pipe without waiting for EOF; returns the byte count."""
    os.set_blocking(fd, False)
    total = 0
    while True:
        try:
            data = os.read(fd, _READ_SIZE)
        except BlockingIOError:
            return total
        if not data:
            return total
        sink(data)
        total += len(data)


# --------------------------------------------------------------------------------------------
# asyncio
# --------------------------------------------------------------------------------------------


class _Collector(asyncio.SubprocessProtocol):
    """Collects the plugin's output as the event loop delivers it (no reader tasks, no copies)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, options: ExecOptions) -> None:
        self.cap = options.max_output
        self.out: list[bytes] = []
        self.out_size = 0
        self.err = _TailBuffer(options.max_output)
        self.overflow = False
        self.pid = 0
        self.open_pipes = 2
        self.exited: asyncio.Future[None] = loop.create_future()
        self.eof: asyncio.Future[None] = loop.create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.SubprocessTransport)
        self.pid = transport.get_pid()

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        if fd == 1:
            if self.overflow:
                return
            self.out_size += len(data)
            if self.out_size > self.cap:
                self.overflow = True
                self.out.clear()
                kill_group(self.pid)
                return
            self.out.append(data)
        else:
            self.err.append(data)

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if fd in (1, 2):
            self.open_pipes -= 1
            if self.open_pipes == 0 and not self.eof.done():
                self.eof.set_result(None)

    def process_exited(self) -> None:
        if not self.exited.done():
            self.exited.set_result(None)


async def _until(future: asyncio.Future[None], deadline: float | None) -> bool:
    """Wait for ``future`` until the monotonic ``deadline``; ``True`` if it completed.

    ``asyncio.wait`` never cancels ``future`` itself when the caller is cancelled, so the
    protocol's futures stay usable for the clean-up that follows a cancellation.
    """
    if deadline is None:
        await asyncio.wait((future,))
        return True
    left = deadline - time.monotonic()
    if left > 0:
        await asyncio.wait((future,), timeout=left)
    return future.done()


async def run_async(
    target: str,
    argv0: str,
    stdin: bytes,
    env: Mapping[str, str],
    *,
    deadline: float | None,
    options: ExecOptions,
) -> RawOutcome:
    """The asyncio twin of :func:`spawn_sync` + :func:`communicate_sync`.

    On cancellation the group is killed and :class:`asyncio.CancelledError` propagates.
    """
    loop = asyncio.get_running_loop()
    transport, proto = await loop.subprocess_exec(
        lambda: _Collector(loop, options),
        argv0,
        executable=target,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    killed = False
    try:
        pipe = transport.get_pipe_transport(0)
        assert isinstance(pipe, asyncio.WriteTransport)
        if stdin:
            pipe.write(stdin)  # buffered by the loop; EPIPE just closes the pipe
        pipe.close()
        if not await _until(proto.exited, deadline):
            killed = True
            kill_group(proto.pid)
            await _until(proto.exited, time.monotonic() + _REAP_WAIT)
            return RawOutcome("timeout", None, b"", proto.err.value())
        if not proto.eof.done():
            await _until(proto.eof, time.monotonic() + options.exit_grace)
            if not proto.eof.done():
                kill_group(proto.pid)  # leftovers hold our pipes
        if proto.overflow:
            return RawOutcome("overflow", None, b"", proto.err.value())
        returncode = transport.get_returncode()
        assert returncode is not None
        return RawOutcome("exited", returncode, b"".join(proto.out), proto.err.value())
    except BaseException:
        if not killed:  # cancelled (or worse): the group, helpers included, must not survive
            kill_group(proto.pid)
        if not proto.exited.done():
            # cancelled again while reaping: stop waiting
            with contextlib.suppress(asyncio.CancelledError):
                await _until(proto.exited, time.monotonic() + _REAP_WAIT)
        raise
    finally:
        transport.close()
