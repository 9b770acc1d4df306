"""Running one plugin process: pipes, deadlines and process groups (sync and asyncio).

This is the only place pycni touches processes. Both runners do the same thing:

* the plugin starts in a new session, so it leads its own process group and every helper it
  forks can be killed with it;
* stdin is written while stdout and stderr are read (no deadlock whatever the sizes); a plugin
  that exits without reading stdin (EPIPE) is not an error;
* stdout is captured up to a limit (past it the group is killed and the outcome says so); stderr
  keeps its first and last ``max_stderr // 2`` bytes;
* the attachment lock held for the call (:func:`lock_inherited`) is inherited by the plugin as
  descriptor 3, so the lock outlives the runtime while the plugin runs;
* when the deadline passes, the whole group is SIGKILLed;
* once the plugin has exited, helpers still holding its pipes get a short grace period to close
  them, then the group's leftovers are killed and whatever was written is used.

They return an :class:`~pycni.invoke.RawOutcome`; turning it into bytes or an error is pure code
in :mod:`pycni.invoke`. Start failures (``OSError`` from exec, ``ValueError``/``TypeError`` for a
bad environment) propagate unchanged so the caller can retry "text file busy".
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import fcntl
import io
import os
import select
import selectors
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .invoke import ExecOptions, RawOutcome

__all__ = [
    "communicate_sync",
    "held_lock",
    "kill_group",
    "lock_inherited",
    "run_async",
    "spawn_sync",
]

#: The descriptor of the attachment lock held for the current call, if any (see lock_inherited).
_LOCK_FD: contextvars.ContextVar[int | None] = contextvars.ContextVar("pycni_lock_fd", default=None)
#: The descriptor number the plugin inherits the lock as.
LOCK_FD_IN_PLUGIN = 3


@contextlib.contextmanager
def lock_inherited(fd: int | None) -> Iterator[None]:
    """Plugins started inside this block (in this thread or asyncio task) inherit ``fd``.

    The runtime passes its attachment lock here: a ``flock`` is held while any descriptor of its
    open file is, so a plugin keeps the attachment locked until it exits, even when the runtime
    that started it was killed meanwhile (another process's DEL then waits for it).

    Args:
        fd: The lock's descriptor, or ``None`` for nothing to hand on.
    """
    token = _LOCK_FD.set(fd)
    try:
        yield
    finally:
        _LOCK_FD.reset(token)


def held_lock() -> int | None:
    """The descriptor set by the innermost :func:`lock_inherited` of this context, or ``None``.

    Returns:
        A descriptor number, or ``None``.
    """
    return _LOCK_FD.get()


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


class _StderrBuffer:
    """Keeps the first and the last ``limit // 2`` bytes of a plugin's stderr.

    A plugin may write any amount; what is kept (and later logged or quoted into an error) stays
    bounded, and a marker line says how much was dropped in between. Memory stays below
    ``2 * limit``.
    """

    __slots__ = ("_head", "_head_limit", "_tail", "_tail_limit", "_total")

    def __init__(self, limit: int) -> None:
        self._head = bytearray()
        self._head_limit = limit // 2
        self._tail = bytearray()
        self._tail_limit = limit - self._head_limit
        self._total = 0

    def append(self, data: bytes) -> None:
        self._total += len(data)
        room = self._head_limit - len(self._head)
        if room > 0:
            self._head += data[:room]
            data = data[room:]
        if data:
            self._tail += data
            if len(self._tail) > 2 * self._tail_limit:
                del self._tail[: -self._tail_limit]

    def value(self) -> bytes:
        tail = self._tail[-self._tail_limit :] if self._tail_limit else b""
        dropped = self._total - len(self._head) - len(tail)
        if dropped <= 0:
            return bytes(self._head + tail)
        marker = f"\n[pycni: {dropped} bytes of stderr dropped here]\n".encode()
        return bytes(self._head) + marker + bytes(tail)


# --------------------------------------------------------------------------------------------
# sync
# --------------------------------------------------------------------------------------------


#: ``Child.returncode`` when the exit status cannot be known: ``waitpid`` found no child because
#: the kernel reaped it already (the host process ignores SIGCHLD) or someone else did. Never a
#: real status (those are 0..255, or minus a signal number); read as a failure, never success.
STATUS_LOST = -1024


class Child:
    """A started plugin: its pid and our ends of its three pipes (the subset of
    :class:`subprocess.Popen` the runners use, without Popen's per-call Python overhead)."""

    __slots__ = ("pid", "returncode", "stderr", "stdin", "stdout")

    def __init__(self, pid: int, stdin: int, stdout: int, stderr: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self.stdin: io.FileIO | None = io.FileIO(stdin, "wb")
        self.stdout: io.FileIO | None = io.FileIO(stdout, "rb")
        self.stderr: io.FileIO | None = io.FileIO(stderr, "rb")

    def poll(self) -> int | None:
        """The exit code if the plugin has exited (reaping it), else ``None``."""
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped by the kernel (SIGCHLD ignored) or by others
                self.returncode = STATUS_LOST
            else:
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Reap the plugin; raises :class:`subprocess.TimeoutExpired` after ``timeout``."""
        if timeout is None:
            while self.returncode is None:
                try:
                    _, status = os.waitpid(self.pid, 0)
                except ChildProcessError:
                    self.returncode = STATUS_LOST
                except InterruptedError:  # pragma: no cover - PEP 475 retries already
                    continue
                else:
                    self.returncode = os.waitstatus_to_exitcode(status)
            return self.returncode
        end = time.monotonic() + timeout
        delay = 0.0005
        while (code := self.poll()) is None:
            left = end - time.monotonic()
            if left <= 0:
                raise subprocess.TimeoutExpired([str(self.pid)], timeout)
            time.sleep(min(delay, left))
            delay = min(delay * 2, 0.05)
        return code


def spawn_sync(
    target: str, argv0: str, env: Mapping[str, str], lock_fd: int | None = None
) -> Child:
    """Start the plugin in its own session with three pipes (raises what exec raised).

    ``posix_spawn`` (vfork + exec in glibc) costs less than :class:`subprocess.Popen` per call.
    Like Popen's default it passes no descriptor but the three pipes, and ``lock_fd`` (as
    descriptor 3) when given: pycni's own descriptors are close-on-exec, as Python creates every
    descriptor (PEP 446).
    """
    pipes = [os.pipe() for _ in range(3)]
    child_ends = (pipes[0][0], pipes[1][1], pipes[2][1])
    ours = (pipes[0][1], pipes[1][0], pipes[2][0])
    # a copy above 3, so that dup2 onto 3 in the child always clears close-on-exec
    extra = () if lock_fd is None else (fcntl.fcntl(lock_fd, fcntl.F_DUPFD_CLOEXEC, 4),)
    actions = [(os.POSIX_SPAWN_DUP2, fd, n) for n, fd in enumerate(child_ends)]
    actions += [(os.POSIX_SPAWN_DUP2, fd, LOCK_FD_IN_PLUGIN) for fd in extra]
    try:
        if min(child_ends) < 3:  # our own stdio is closed: dup2 onto itself keeps CLOEXEC
            raise _UsePopen
        pid = os.posix_spawn(target, [argv0], env, file_actions=actions, setsid=True)
    except _UsePopen:
        for fd in (*child_ends, *ours):
            os.close(fd)
        return _spawn_popen(target, argv0, env, lock_fd)
    except BaseException:
        for fd in (*child_ends, *ours):
            os.close(fd)
        raise
    finally:
        for fd in extra:
            os.close(fd)
    for fd in child_ends:
        os.close(fd)
    return Child(pid, *ours)


class _UsePopen(Exception):
    """Internal: fall back to :class:`subprocess.Popen`, which handles odd descriptor layouts."""


def _spawn_popen(
    target: str, argv0: str, env: Mapping[str, str], lock_fd: int | None = None
) -> Child:
    proc = subprocess.Popen(
        [argv0],
        executable=target,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        bufsize=0,
        start_new_session=True,
        pass_fds=() if lock_fd is None else (lock_fd,),
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    # Hand the pipes over to a Child; Popen must not reap or close them later.
    child = Child(
        proc.pid,
        os.dup(proc.stdin.fileno()),
        os.dup(proc.stdout.fileno()),
        os.dup(proc.stderr.fileno()),
    )
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        stream.close()
    proc.returncode = 0  # the Child reaps the process, not this Popen object
    return child


def _has_exited(proc: Child) -> bool:
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


def _reap(proc: Child) -> int:
    try:
        return proc.wait(timeout=_REAP_WAIT)
    except subprocess.TimeoutExpired:  # pragma: no cover - stuck in the kernel (D state)
        return -signal.SIGKILL


def _close(proc: Child) -> None:
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):  # EPIPE on close of an unflushed pipe
                stream.close()


def communicate_sync(
    proc: Child, stdin: bytes, deadline: float | None, options: ExecOptions
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
    proc: Child, stdin: bytes, deadline: float | None, options: ExecOptions
) -> RawOutcome:
    assert proc.stdin is not None
    assert proc.stdout is not None
    assert proc.stderr is not None
    in_fd, out_fd, err_fd = proc.stdin.fileno(), proc.stdout.fileno(), proc.stderr.fileno()
    # one growing buffer handed on as it is: joining chunks would hold the output twice
    out = bytearray()
    out_size = 0
    err = _StderrBuffer(options.max_stderr)
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
                            out_size += _drain(key.fd, out.extend)
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
                    out += data
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
    return _exited(returncode, out, err.value())


def _exited(returncode: int, stdout: bytes | bytearray, stderr: bytes) -> RawOutcome:
    """The outcome of a plugin that exited; ``"lost"`` when its status cannot be known."""
    if returncode == STATUS_LOST:
        return RawOutcome("lost", None, stdout, stderr)
    return RawOutcome("exited", returncode, stdout, stderr)


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


class _Capture:
    """What the async runners collect: stdout up to the cap (past it the group is killed and the
    output dropped), the tail of stderr, and the exit / end-of-output events they wait for."""

    def __init__(self, loop: asyncio.AbstractEventLoop, options: ExecOptions) -> None:
        self.cap = options.max_output
        self.out = bytearray()
        self.out_size = 0
        self.err = _StderrBuffer(options.max_stderr)
        self.overflow = False
        self.pid = 0
        self.exited: asyncio.Future[None] = loop.create_future()
        self.eof: asyncio.Future[None] = loop.create_future()

    def stdout(self, data: bytes) -> None:
        if self.overflow:
            return
        self.out_size += len(data)
        if self.out_size > self.cap:
            self.overflow = True
            self.out.clear()
            kill_group(self.pid)
            return
        self.out += data

    def set_exited(self) -> None:
        if not self.exited.done():
            self.exited.set_result(None)

    def set_eof(self) -> None:
        if not self.eof.done():
            self.eof.set_result(None)


class _Collector(asyncio.SubprocessProtocol):
    """Feeds a :class:`_Capture` as the event loop delivers output (no reader tasks, no copies)."""

    def __init__(self, capture: _Capture) -> None:
        self.capture = capture
        self.open_pipes = 2

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.SubprocessTransport)
        self.capture.pid = transport.get_pid()

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        if fd == 1:
            self.capture.stdout(data)
        else:
            self.capture.err.append(data)

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if fd in (1, 2):
            self.open_pipes -= 1
            if self.open_pipes == 0:
                self.capture.set_eof()

    def process_exited(self) -> None:
        self.capture.set_exited()


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


def _pidfd_supported() -> bool:
    """Whether this kernel and Python offer ``pidfd_open`` (Linux 5.3+, Python 3.9+)."""
    if not hasattr(os, "pidfd_open"):
        return False
    try:
        os.close(os.pidfd_open(os.getpid()))
    except OSError:
        return False
    return True


_PIDFD = _pidfd_supported()


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

    On cancellation the group is killed and :class:`asyncio.CancelledError` propagates. Where the
    kernel has pidfds the plugin is watched with one (no helper thread per process, which is what
    asyncio's default child watcher costs before Python 3.12); elsewhere asyncio's subprocess
    transport is used.
    """
    if _PIDFD:
        return await _run_pidfd(target, argv0, stdin, env, deadline=deadline, options=options)
    return await _run_transport(target, argv0, stdin, env, deadline=deadline, options=options)


class _PidfdRun:
    """One plugin process driven by event-loop callbacks on its pipes and its pidfd."""

    def __init__(self, loop: asyncio.AbstractEventLoop, proc: Child, options: ExecOptions) -> None:
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        self.loop = loop
        self.proc = proc
        self.capture = _Capture(loop, options)
        self.capture.pid = proc.pid
        self.in_fd = proc.stdin.fileno()
        self.out_fd = proc.stdout.fileno()
        self.err_fd = proc.stderr.fileno()
        self.pidfd = os.pidfd_open(proc.pid)
        self.readers = {self.out_fd, self.err_fd}
        self.pending = memoryview(b"")
        self.writing = False

    def start(self, stdin: bytes) -> None:
        for fd in (self.out_fd, self.err_fd):
            os.set_blocking(fd, False)
            self.loop.add_reader(fd, self._read, fd)
        self.loop.add_reader(self.pidfd, self._exited)
        if len(stdin) <= _PIPE_BUF:
            try:
                if stdin:
                    os.write(self.in_fd, stdin)
            except BrokenPipeError:
                pass  # the plugin exited without reading: not our error
            self._close_stdin()
        else:
            os.set_blocking(self.in_fd, False)
            self.pending = memoryview(stdin)
            self.writing = True
            self.loop.add_writer(self.in_fd, self._write)

    def _close_stdin(self) -> None:
        assert self.proc.stdin is not None
        with contextlib.suppress(OSError):
            self.proc.stdin.close()

    def _write(self) -> None:
        try:
            written = os.write(self.in_fd, self.pending[:_WRITE_SIZE])
        except BlockingIOError:
            return
        except BrokenPipeError:
            written = len(self.pending)
        self.pending = self.pending[written:]
        if not self.pending:
            self._stop_writing()

    def _stop_writing(self) -> None:
        if self.writing:
            self.writing = False
            self.loop.remove_writer(self.in_fd)
            self._close_stdin()

    def _read(self, fd: int) -> None:
        try:
            data = os.read(fd, _READ_SIZE)
        except BlockingIOError:
            return
        if not data:
            self._stop_reading(fd)
        elif fd == self.out_fd:
            self.capture.stdout(data)
        else:
            self.capture.err.append(data)

    def _stop_reading(self, fd: int) -> None:
        if fd in self.readers:
            self.readers.discard(fd)
            self.loop.remove_reader(fd)
        if not self.readers:
            self.capture.set_eof()

    def _exited(self) -> None:
        self.loop.remove_reader(self.pidfd)
        self.capture.set_exited()

    def drain(self) -> None:
        """Take what is already in the pipes (helpers held them past the grace period)."""
        for fd in list(self.readers):
            _drain(fd, self.capture.stdout if fd == self.out_fd else self.capture.err.append)

    def close(self) -> None:
        self._stop_writing()
        for fd in list(self.readers):
            self._stop_reading(fd)
        if not self.capture.exited.done():
            self.loop.remove_reader(self.pidfd)
        os.close(self.pidfd)
        _close(self.proc)


_spawner: concurrent.futures.ThreadPoolExecutor | None = None
_running = 0
_spawner_lock = threading.Lock()


def _spawn_pool() -> concurrent.futures.ThreadPoolExecutor:
    global _spawner  # noqa: PLW0603 - one small pool per process, created on first use
    with _spawner_lock:
        if _spawner is None:
            _spawner = concurrent.futures.ThreadPoolExecutor(
                max_workers=8, thread_name_prefix="pycni-spawn"
            )
        return _spawner


async def _spawn_off_loop(
    loop: asyncio.AbstractEventLoop,
    target: str,
    argv0: str,
    env: Mapping[str, str],
    lock_fd: int | None,
) -> Child:
    """Start the plugin from a worker thread.

    ``fork``/``exec`` blocks the calling thread until the child has exec'd, which under load
    (many plugins starting at once on few cores) is milliseconds; done on the event loop it
    would serialise every concurrent call. If the caller is cancelled meanwhile, the process
    that was started anyway is killed with its group.
    """
    # The worker gets its own copy of the lock descriptor: if we are cancelled, the caller
    # releases (closes) its lock while the worker may still be about to start the plugin.
    copy = None if lock_fd is None else os.dup(lock_fd)
    future = loop.run_in_executor(_spawn_pool(), spawn_sync, target, argv0, env, copy)
    if copy is not None:
        future.add_done_callback(lambda _: os.close(copy))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        future.add_done_callback(_kill_spawned)
        raise


def _kill_spawned(future: asyncio.Future[Child]) -> None:
    if future.cancelled() or future.exception() is not None:
        return
    proc = future.result()
    kill_group(proc.pid)
    _reap(proc)
    _close(proc)


async def _run_pidfd(
    target: str,
    argv0: str,
    stdin: bytes,
    env: Mapping[str, str],
    *,
    deadline: float | None,
    options: ExecOptions,
) -> RawOutcome:
    global _running  # noqa: PLW0603 - a process-wide count of plugins this module runs
    loop = asyncio.get_running_loop()
    lock_fd = held_lock()
    if _running:  # others are starting or running: do not block the loop on fork/exec
        proc = await _spawn_off_loop(loop, target, argv0, env, lock_fd)
    else:  # alone: starting inline is cheaper than a thread hop
        proc = spawn_sync(target, argv0, env, lock_fd)
    _running += 1
    try:
        return await _drive_pidfd(loop, proc, stdin, deadline, options)
    finally:
        _running -= 1


async def _drive_pidfd(
    loop: asyncio.AbstractEventLoop,
    proc: Child,
    stdin: bytes,
    deadline: float | None,
    options: ExecOptions,
) -> RawOutcome:
    try:
        run = _PidfdRun(loop, proc, options)
    except BaseException:  # e.g. out of file descriptors for the pidfd
        kill_group(proc.pid)
        _reap(proc)
        _close(proc)
        raise
    try:
        run.start(stdin)
        return await _supervise(run.capture, deadline, options, lambda: _reap(proc), run.drain)
    finally:
        run.close()
        if proc.returncode is None:
            _reap(proc)


async def _supervise(
    capture: _Capture,
    deadline: float | None,
    options: ExecOptions,
    returncode: Callable[[], int],
    drain: Callable[[], None],
) -> RawOutcome:
    """Wait for a started plugin with the guarantees of the module docstring (both async runners).

    Exit before the deadline, else kill the group; after the exit give helpers holding the pipes
    ``exit_grace``, then kill the leftovers and keep what they wrote (``drain``). On cancellation
    the group is killed, reaped within a bounded wait, and the cancellation propagates.
    """
    killed = False
    try:
        if not await _until(capture.exited, deadline):
            killed = True
            kill_group(capture.pid)
            await _until(capture.exited, time.monotonic() + _REAP_WAIT)
            return RawOutcome("timeout", None, b"", capture.err.value())
        if not capture.eof.done():
            await _until(capture.eof, time.monotonic() + options.exit_grace)
            if not capture.eof.done():
                kill_group(capture.pid)  # leftovers hold our pipes: keep what they wrote
                drain()
        if capture.overflow:
            return RawOutcome("overflow", None, b"", capture.err.value())
        return _exited(returncode(), capture.out, capture.err.value())
    except BaseException:
        if not killed:  # cancelled (or worse): the group, helpers included, must not survive
            kill_group(capture.pid)
        if not capture.exited.done():
            with contextlib.suppress(asyncio.CancelledError):  # cancelled again: stop waiting
                await _until(capture.exited, time.monotonic() + _REAP_WAIT)
        raise


async def _run_transport(
    target: str,
    argv0: str,
    stdin: bytes,
    env: Mapping[str, str],
    *,
    deadline: float | None,
    options: ExecOptions,
) -> RawOutcome:
    """asyncio's subprocess transport (platforms without pidfds)."""
    loop = asyncio.get_running_loop()
    capture = _Capture(loop, options)
    transport, _ = await loop.subprocess_exec(
        lambda: _Collector(capture),
        argv0,
        executable=target,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
        pass_fds=() if (lock_fd := held_lock()) is None else (lock_fd,),
    )

    def returncode() -> int:
        code = transport.get_returncode()
        assert code is not None
        return code

    try:
        pipe = transport.get_pipe_transport(0)
        assert isinstance(pipe, asyncio.WriteTransport)
        if stdin:
            pipe.write(stdin)  # buffered by the loop; EPIPE just closes the pipe
        pipe.close()
        # the transport reads for us: nothing is left to drain once the group is killed
        return await _supervise(capture, deadline, options, returncode, lambda: None)
    finally:
        transport.close()
