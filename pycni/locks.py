"""Cross-process locking around cache-changing operations (libcni has none).

Two locks, both ``flock`` on files inside ``<cache_dir>/results/.locks`` (released by the kernel
when the last descriptor closes, so a crashed process never leaves one held):

* an **attachment lock**, exclusive, serialising ADD/CHECK/DEL of one (network, container,
  ifname). Each attachment has its own file, ``att-<network>-<containerID>-<ifname>.lock``, so two
  different attachments never wait on each other. The file is removed when the operation leaves
  no cache entry behind (after a DEL, or an ADD that failed), so the directory holds about one
  file per cached attachment. Removal is safe against racing lockers: the holder unlinks the file
  before it unlocks, and a locker that then finds its descriptor no longer names the file at that
  path starts over on a fresh one;
* a **network lock**, held *shared* by ADD/CHECK/DEL and *exclusively* by GC, so the spec's rule
  "no ADD/DEL in flight while GC runs" holds across every process sharing the cache dir.

While an attachment lock is held, :func:`attachment_lock` yields its descriptor; the runtime hands
it to the plugins it starts (``pycni._process.lock_inherited``), so the lock lasts while any
plugin of the operation still runs, even after the runtime itself was killed.

Lock waits honour the call's deadline and raise :class:`~pycni.errors.LockTimeoutError`.
Lock order is always network first, then attachment.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

from . import cache
from .errors import CacheError, LockTimeoutError, PycniError
from .runtime_conf import RuntimeConf
from .validate import validate_network_name

_POLL_MIN = 0.001
_POLL_MAX = 0.05


def _timeout_error(path: str, deadline: float | None) -> LockTimeoutError:
    return LockTimeoutError(f"timed out waiting for lock {path}", lock_path=path, timeout=deadline)


def lock_paths(
    cache_dir: str, network: str, rt: RuntimeConf | None
) -> tuple[str, str | None] | None:
    """The network lock path and (with ``rt``) the attachment lock path; ``None`` when the names
    are invalid (the operation then fails validation before touching any file, so needs no lock).

    Args:
        cache_dir: The cache directory.
        network: The network name.
        rt: The attachment, or ``None`` for the network lock alone.

    Returns:
        ``(network lock path, attachment lock path or None)``, or ``None``.
    """
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
    return network_path, os.path.join(directory, f"att-{entry}.lock")


class _Flock:
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

    def names_path(self) -> bool:
        """Whether our descriptor is still the file at ``path`` (a previous holder may have
        removed it, and another locker created a new one, while we waited)."""
        try:
            now = os.stat(self.path, follow_symlinks=False)
        except FileNotFoundError:
            return False
        held = os.fstat(self.fd)
        return (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino)

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


def _release_attachment(lock: _Flock, cache_dir: str, network: str, rt: RuntimeConf) -> None:
    """Unlock; first remove the lock file when no cache entry is left for the attachment."""
    try:
        entry = cache.entry_path(cache_dir, network, rt.container_id, rt.ifname)
        if not os.path.lexists(entry):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(lock.path)
    finally:
        lock.close()


@contextmanager
def attachment_lock(
    cache_dir: str, network: str, rt: RuntimeConf, deadline: float | None
) -> Iterator[int | None]:
    """Hold the network lock shared and the attachment's lock (ADD/CHECK/DEL).

    Args:
        cache_dir: The cache directory.
        network: The network name.
        rt: The attachment.
        deadline: ``time.monotonic()`` value after which waiting fails, or ``None``.

    Yields:
        The attachment lock's descriptor (for plugins to inherit), or ``None`` when the names are
        invalid and nothing was locked.

    Raises:
        LockTimeoutError: The deadline passed while waiting.
        CacheError: A lock file cannot be opened (e.g. a symlink was planted there).
    """
    paths = lock_paths(cache_dir, network, rt)
    if paths is None:
        yield None
        return
    shared = _Flock(paths[0])
    try:
        shared.lock(False, deadline)
        assert paths[1] is not None
        own = _Flock(paths[1])
        try:
            while True:
                own.lock(True, deadline)
                if own.names_path():
                    break
                own.close()
                own = _Flock(paths[1])
        except BaseException:  # a Ctrl-C or a cancel between taking the lock and using it
            own.close()
            raise
        try:
            yield own.fd
        finally:
            _release_attachment(own, cache_dir, network, rt)
    finally:
        shared.close()


@contextmanager
def exclusive_lock(path: str, deadline: float | None) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created 0600, never through a symlink).

    For state of pycni's own beside the cache (the demo IPAM plugin's allocations).

    Args:
        path: The lock file.
        deadline: ``time.monotonic()`` value after which waiting fails, or ``None``.

    Raises:
        LockTimeoutError: The deadline passed while waiting.
        CacheError: The lock file cannot be opened.
    """
    lock = _Flock(path)
    try:
        lock.lock(True, deadline)
        yield
    finally:
        lock.close()


@contextmanager
def network_lock(cache_dir: str, network: str, deadline: float | None) -> Iterator[None]:
    """Hold a network's lock exclusively (GC)."""
    paths = lock_paths(cache_dir, network, None)
    if paths is None:
        yield
        return
    with exclusive_lock(paths[0], deadline):
        yield


@asynccontextmanager
async def async_attachment_lock(
    cache_dir: str, network: str, rt: RuntimeConf, deadline: float | None
) -> AsyncIterator[int | None]:
    """:func:`attachment_lock` for asyncio: waits by polling, never blocking the event loop.

    Args:
        cache_dir: The cache directory.
        network: The network name.
        rt: The attachment.
        deadline: ``time.monotonic()`` value after which waiting fails, or ``None``.

    Yields:
        The attachment lock's descriptor, or ``None`` when nothing was locked.

    Raises:
        LockTimeoutError: The deadline passed while waiting.
        CacheError: A lock file cannot be opened.
    """
    paths = lock_paths(cache_dir, network, rt)
    if paths is None:
        yield None
        return
    shared = _Flock(paths[0])
    try:
        await shared.alock(False, deadline)
        assert paths[1] is not None
        own = _Flock(paths[1])
        try:
            while True:
                await own.alock(True, deadline)
                if own.names_path():
                    break
                own.close()
                own = _Flock(paths[1])
        except BaseException:  # a Ctrl-C or a cancel between taking the lock and using it
            own.close()
            raise
        try:
            yield own.fd
        finally:
            _release_attachment(own, cache_dir, network, rt)
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
    exclusive = _Flock(paths[0])
    try:
        await exclusive.alock(True, deadline)
        yield
    finally:
        exclusive.close()
