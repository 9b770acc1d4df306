"""Cross-process locking around cache-changing operations (libcni has none).

Two locks, both inside ``<cache_dir>/results/.locks``:

* an **attachment lock** (``filelock.FileLock`` / ``AsyncFileLock``) serialising ADD/CHECK/DEL of
  one (network, container, ifname). Attachments hash onto a fixed set of lock files so the
  directory does not grow with every container ever started; two attachments sharing a stripe only
  wait for each other and never deadlock (no call holds two stripes);
* a **network lock**, held *shared* by ADD/CHECK/DEL and *exclusively* by GC, so the spec's rule
  "no ADD/DEL in flight while GC runs" holds across every process sharing the cache dir. filelock's
  ``FileLock`` has no shared mode and its ``ReadWriteLock`` is SQLite-backed, bound to the thread
  that took it and about three times slower, which does not fit an asyncio driver; this one is a
  ``flock(LOCK_SH/LOCK_EX)`` on a lock file, released by the kernel if the process dies.

Lock waits honour the call's deadline and raise :class:`~pycni.errors.LockTimeoutError`.
Lock order is always network first, then attachment.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import os
import time
import zlib
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import filelock

from . import cache
from .errors import CacheError, LockTimeoutError, PycniError
from .runtime_conf import RuntimeConf
from .validate import validate_network_name

#: Number of attachment lock files per cache directory.
STRIPES = 256
_POLL_MIN = 0.001
_POLL_MAX = 0.05


def _remaining(deadline: float | None) -> float | None:
    if deadline is None:
        return None
    return max(0.0, deadline - time.monotonic())


def _timeout_error(path: str, deadline: float | None) -> LockTimeoutError:
    return LockTimeoutError(f"timed out waiting for lock {path}", lock_path=path, timeout=deadline)


def lock_paths(
    cache_dir: str, network: str, rt: RuntimeConf | None
) -> tuple[str, str | None] | None:
    """The network lock path and (with ``rt``) the attachment lock path; ``None`` when the names
    are invalid (the operation then fails validation before touching any file, so needs no lock)."""
    try:
        if rt is None:
            validate_network_name(network)
            entry = None
        else:
            entry = cache.entry_name(network, rt.container_id, rt.ifname)
    except PycniError:
        return None
    directory = cache.locks_dir(cache_dir)
    network_path = os.path.join(directory, f"net-{network}.lock")
    if entry is None:
        return network_path, None
    stripe = zlib.crc32(entry.encode()) % STRIPES
    return network_path, os.path.join(directory, f"attachment-{stripe:02x}.lock")


class _SharedLock:
    """A ``flock`` on one file, shared or exclusive, with deadline-bounded polling."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd = _open_lock_file(path)

    def try_lock(self, exclusive: bool) -> bool:
        try:
            fcntl.flock(self.fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def lock(self, exclusive: bool, deadline: float | None) -> None:
        if deadline is None:
            fcntl.flock(self.fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            return
        delay = _POLL_MIN
        while not self.try_lock(exclusive):
            if time.monotonic() >= deadline:
                self.close()
                raise _timeout_error(self.path, deadline)
            time.sleep(delay)
            delay = min(delay * 2, _POLL_MAX)

    async def alock(self, exclusive: bool, deadline: float | None) -> None:
        delay = _POLL_MIN
        while not self.try_lock(exclusive):
            if deadline is not None and time.monotonic() >= deadline:
                self.close()
                raise _timeout_error(self.path, deadline)
            await asyncio.sleep(delay)
            delay = min(delay * 2, _POLL_MAX)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # closing the descriptor releases the flock
            self.fd = -1


def _open_lock_file(path: str) -> int:
    """Open (creating 0600) a lock file without following a symlink planted at its path."""
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise _lock_error(path, exc) from exc


def _lock_error(path: str, exc: OSError) -> CacheError:
    reason = "is a symlink; refusing to follow it" if exc.errno == errno.ELOOP else exc.strerror
    return CacheError(f"cannot open lock file {path}: {reason}", path=path)


@contextmanager
def _lock_errors(path: str, deadline: float | None) -> Iterator[None]:
    """filelock's failures as pycni errors naming the lock file."""
    try:
        yield
    except filelock.Timeout:
        raise _timeout_error(path, deadline) from None
    except OSError as exc:
        raise _lock_error(path, exc) from exc


def _filelock_timeout(deadline: float | None) -> float:
    remaining = _remaining(deadline)
    return -1 if remaining is None else remaining


@contextmanager
def attachment_lock(
    cache_dir: str, network: str, rt: RuntimeConf, deadline: float | None
) -> Iterator[None]:
    """Hold the network lock shared and the attachment's lock (ADD/CHECK/DEL)."""
    paths = lock_paths(cache_dir, network, rt)
    if paths is None:
        yield
        return
    shared = _SharedLock(paths[0])
    try:
        shared.lock(False, deadline)
        assert paths[1] is not None
        lock = filelock.FileLock(paths[1], mode=0o600, is_singleton=False)
        with _lock_errors(paths[1], deadline):
            lock.acquire(timeout=_filelock_timeout(deadline))
        try:
            yield
        finally:
            lock.release()
    finally:
        shared.close()


@contextmanager
def network_lock(cache_dir: str, network: str, deadline: float | None) -> Iterator[None]:
    """Hold a network's lock exclusively (GC)."""
    paths = lock_paths(cache_dir, network, None)
    if paths is None:
        yield
        return
    exclusive = _SharedLock(paths[0])
    try:
        exclusive.lock(True, deadline)
        yield
    finally:
        exclusive.close()


@asynccontextmanager
async def async_attachment_lock(
    cache_dir: str, network: str, rt: RuntimeConf, deadline: float | None
) -> AsyncIterator[None]:
    """:func:`attachment_lock` for asyncio: waits by polling, never blocking the event loop."""
    paths = lock_paths(cache_dir, network, rt)
    if paths is None:
        yield
        return
    shared = _SharedLock(paths[0])
    try:
        await shared.alock(False, deadline)
        assert paths[1] is not None
        lock = filelock.AsyncFileLock(
            paths[1],
            mode=0o600,
            is_singleton=False,
            run_in_executor=False,
            poll_interval=_POLL_MIN * 5,
        )
        with _lock_errors(paths[1], deadline):
            await lock.acquire(timeout=_filelock_timeout(deadline))
        try:
            yield
        finally:
            await lock.release()
    finally:
        shared.close()


@asynccontextmanager
async def async_network_lock(
    cache_dir: str, network: str, deadline: float | None
) -> AsyncIterator[None]:
    """:func:`network_lock` for asyncio."""
    paths = lock_paths(cache_dir, network, None)
    if paths is None:
        yield
        return
    exclusive = _SharedLock(paths[0])
    try:
        await exclusive.alock(True, deadline)
        yield
    finally:
        exclusive.close()
