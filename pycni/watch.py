"""Watching a CNI configuration directory: reload on change, survive its deletion.

Runtimes must notice a network config that appears after they start (the CNI plugin's daemonset
writes it) and one that changes. Known failures of existing watchers: the directory deleted and
recreated leaves the runtime "not initialized" for good (cri-o/ocicni#42, containerd#11209), and
one half-written file unloads everything. pycni's watcher:

* treats the file system as the truth: every wake-up rescans (stat first; files are parsed only
  when a stamp changed), so a lost or coalesced notification costs nothing but latency;
* is woken by inotify (via ctypes) on the directory *and its parent* where available, and polls
  every ``interval`` seconds anyway; a deleted directory is simply empty, and re-watched when it
  comes back;
* keeps the last good version of a file that becomes unreadable or invalid (reported, marked
  ``stale``) instead of unloading its network, and never lets a broken file hide the others;
* offers change events as an async iterator and a readiness flag (``min_networks`` loaded).

:func:`load_state` and :func:`diff_states` are the whole logic; :class:`ConfDirWatcher` only
schedules them.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import os
import struct
from collections.abc import AsyncIterator, Mapping
from typing import Any, Literal

import attrs

from .config import ScanFailure, ScannedNetwork, scan_conf_dir
from .errors import PycniError

__all__ = ["ChangeEvent", "ConfDirState", "ConfDirWatcher", "diff_states", "load_state"]

_EXTENSIONS = (".conf", ".conflist", ".json")

#: ``(mtime_ns, size, inode)`` of a file; ``None`` when it vanished between listing and stat.
Stamp = tuple[int, int, int]


@attrs.frozen
class ChangeEvent:
    """One change seen in the directory.

    ``kind``: ``added``/``modified``/``removed`` (a network's file), ``failed`` (a file no longer
    loads; its last good version stays), ``recovered`` (it loads again), ``dir-removed`` /
    ``dir-created`` (the directory itself).
    """

    kind: Literal[
        "added", "modified", "removed", "failed", "recovered", "dir-removed", "dir-created"
    ]
    path: str
    network: str | None = None
    error: PycniError | None = None


@attrs.frozen
class ConfDirState:
    """A loaded view of a directory: good entries by file (some possibly ``stale``), failures,
    and the stamps that decide whether anything changed."""

    dir: str
    exists: bool
    stamps: Mapping[str, Stamp] = attrs.field(factory=dict, repr=False)
    entries: Mapping[str, ScannedNetwork] = attrs.field(factory=dict, repr=False)
    failures: Mapping[str, ScanFailure] = attrs.field(factory=dict)
    stale: frozenset[str] = frozenset()

    @property
    def networks(self) -> tuple[ScannedNetwork, ...]:
        """The networks in effect, in file order: for each name, the first ``.conflist`` else the
        first ``.conf``/``.json`` (libcni's precedence), stale versions included."""
        ordered = sorted(self.entries.values(), key=lambda n: os.fsencode(n.path))
        winners: dict[str, str] = {}
        for wanted in ("conflist", "conf"):
            for network in ordered:
                if network.kind == wanted:
                    winners.setdefault(network.name, network.path)
        return tuple(n for n in ordered if winners[n.name] == n.path)

    def get(self, name: str) -> ScannedNetwork | None:
        for network in self.networks:
            if network.name == name:
                return network
        return None


def _stamps(directory: str) -> tuple[bool, dict[str, Stamp]]:
    """Stamps of the config files and of the files one level down (drop-in plugin dirs)."""
    stamps: dict[str, Stamp] = {}
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return False, {}
    except NotADirectoryError:
        return False, {}
    except OSError:
        return True, {directory: (-1, -1, -1)}  # unreadable: let the scan report it
    for entry in entries:
        try:
            if entry.is_dir():
                for sub in os.scandir(entry.path):
                    if sub.name.endswith(".conf"):
                        info = sub.stat()
                        stamps[sub.path] = (info.st_mtime_ns, info.st_size, info.st_ino)
            elif entry.name.endswith(_EXTENSIONS):
                info = entry.stat()
                stamps[entry.path] = (info.st_mtime_ns, info.st_size, info.st_ino)
        except OSError:
            stamps[entry.path] = (-1, -1, -1)
    return True, stamps


def load_state(
    directory: str | os.PathLike[str], previous: ConfDirState | None = None
) -> ConfDirState:
    """Load ``directory``, reusing ``previous`` when nothing changed.

    A file that fails to load but loaded before keeps its previous entry and is listed in
    ``stale`` (and in ``failures``); a missing directory is an empty state with ``exists=False``.
    """
    path = os.fsdecode(directory)
    exists, stamps = _stamps(path)
    if previous is not None and previous.exists == exists and previous.stamps == stamps:
        return previous
    scan = scan_conf_dir(path) if exists else None
    entries = {n.path: n for n in scan.networks} if scan else {}
    failures = {f.path: f for f in scan.failures} if scan else {}
    stale = set()
    if previous is not None:
        for failed in failures:
            kept = previous.entries.get(failed)
            if kept is not None:
                entries[failed] = kept
                stale.add(failed)
    return ConfDirState(path, exists, stamps, entries, failures, frozenset(stale))


def diff_states(old: ConfDirState | None, new: ConfDirState) -> list[ChangeEvent]:
    """The changes from ``old`` to ``new`` (pure), directory events first, then by file."""
    events: list[ChangeEvent] = []
    if old is None:
        old = ConfDirState(new.dir, exists=False)
        if not new.exists:
            return []
    if old.exists and not new.exists:
        events.append(ChangeEvent("dir-removed", new.dir))
    elif new.exists and not old.exists:
        events.append(ChangeEvent("dir-created", new.dir))
    paths = sorted(set(old.entries) | set(new.entries) | set(old.failures) | set(new.failures))
    for path in paths:
        before, after = old.entries.get(path), new.entries.get(path)
        failure = new.failures.get(path)
        if failure is not None and (
            path not in old.failures or old.stamps.get(path) != new.stamps.get(path)
        ):
            name = after.name if after else None
            events.append(ChangeEvent("failed", path, name, failure.error))
            continue
        if failure is None and path in old.failures and after is not None:
            events.append(ChangeEvent("recovered", path, after.name))
            continue
        if before is None and after is not None:
            events.append(ChangeEvent("added", path, after.name))
        elif before is not None and after is None:
            events.append(ChangeEvent("removed", path, before.name))
        elif before is not None and after is not None and before.config != after.config:
            events.append(ChangeEvent("modified", path, after.name))
    return events


# --------------------------------------------------------------------------------------------
# inotify (optional wake-ups)
# --------------------------------------------------------------------------------------------

_IN_NONBLOCK = 0o4000
_IN_CLOEXEC = 0o2000000
_IN_MASK = (
    0x2 | 0x8 | 0x40 | 0x80 | 0x100 | 0x200 | 0x400 | 0x800
)  # MODIFY CLOSE_WRITE MOVED_FROM MOVED_TO CREATE DELETE DELETE_SELF MOVE_SELF


class _Inotify:
    """A non-blocking inotify descriptor watching the directory and its parent; ``None`` fd when
    inotify is unavailable (then the watcher only polls)."""

    def __init__(self) -> None:
        self.fd: int | None = None
        self._libc: Any = None
        try:
            self._libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            fd = self._libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        except (OSError, AttributeError):
            return
        self.fd = fd if fd >= 0 else None
        self._watched: set[str] = set()

    def watch(self, *paths: str) -> None:
        if self.fd is None:
            return
        for path in paths:
            if path in self._watched or not os.path.isdir(path):
                continue
            if self._libc.inotify_add_watch(self.fd, os.fsencode(path), _IN_MASK) >= 0:
                self._watched.add(path)

    def drain(self) -> None:
        """Read pending events; a deleted directory is forgotten so it is re-watched later."""
        if self.fd is None:
            return
        while True:
            try:
                data = os.read(self.fd, 65536)
            except (BlockingIOError, OSError):
                return
            if not data:
                return
            offset = 0
            while offset + 16 <= len(data):
                _wd, mask, _cookie, length = struct.unpack_from("iIII", data, offset)
                offset += 16 + length
                if mask & 0x8000:  # IN_IGNORED: a watched directory is gone
                    # Re-adding a live watch returns the same descriptor, so forgetting every
                    # path is harmless: the survivors are simply watched again.
                    self._watched.clear()

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class ConfDirWatcher:
    """Watch a configuration directory: ``await watcher.wait_ready()``, ``async for event in
    watcher``, or call :meth:`poll` from your own loop.

    ``state`` is the current :class:`ConfDirState`; ``ready`` is true once at least
    ``min_networks`` networks are in effect. ``interval`` is the polling period (also the upper
    bound of the delay when inotify is in use), ``settle`` the pause after a wake-up that lets a
    burst of writes finish before rescanning.
    """

    def __init__(
        self,
        conf_dir: str | os.PathLike[str],
        *,
        interval: float = 1.0,
        min_networks: int = 1,
        use_inotify: bool = True,
        settle: float = 0.05,
        state: ConfDirState | None = None,
    ) -> None:
        self.conf_dir = os.path.abspath(os.fsdecode(conf_dir))
        self.interval = interval
        self.min_networks = min_networks
        self.settle = settle
        self._inotify = _Inotify() if use_inotify else None
        self.state: ConfDirState = state if state is not None else load_state(self.conf_dir)
        self._watch_dirs()
        self._closed = False
        self._iterating = 0
        self._backlog: list[ChangeEvent] = []
        self._waiters: set[asyncio.Event] = set()

    def __repr__(self) -> str:
        return f"ConfDirWatcher({self.conf_dir!r}, networks={len(self.state.networks)}, ready={self.ready})"

    @property
    def ready(self) -> bool:
        return len(self.state.networks) >= self.min_networks

    @property
    def uses_inotify(self) -> bool:
        return self._inotify is not None and self._inotify.fd is not None

    def _watch_dirs(self) -> None:
        if self._inotify is not None:
            self._inotify.watch(os.path.dirname(self.conf_dir) or "/", self.conf_dir)

    def poll(self) -> list[ChangeEvent]:
        """Rescan now; return the changes since the last poll (and update ``state``).

        While an ``async for`` loop runs over the watcher, the events are also queued for it, so
        a :meth:`wait_ready` or a manual poll never steals them.
        """
        if self._inotify is not None:
            self._inotify.drain()
        new = load_state(self.conf_dir, self.state)
        events = diff_states(self.state, new)
        self.state = new
        self._watch_dirs()
        if self._iterating:
            self._backlog.extend(events)
        return events

    def _wake(self) -> None:
        if self._inotify is not None:
            self._inotify.drain()
        for waiter in self._waiters:
            waiter.set()

    async def _wait(self) -> None:
        """Sleep until inotify reports something (then ``settle``) or ``interval`` passes."""
        fd = self._inotify.fd if self._inotify is not None else None
        if fd is None:
            await asyncio.sleep(self.interval)
            return
        loop = asyncio.get_running_loop()
        woke = asyncio.Event()
        if not self._waiters:
            loop.add_reader(fd, self._wake)
        self._waiters.add(woke)
        try:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(woke.wait(), self.interval)
        finally:
            self._waiters.discard(woke)
            if not self._waiters and self._inotify is not None and self._inotify.fd is not None:
                loop.remove_reader(fd)
        if woke.is_set():
            await asyncio.sleep(self.settle)

    async def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until :attr:`ready` (or ``timeout`` seconds); return :attr:`ready`."""

        async def loop() -> None:
            while not self.ready:
                await self._wait()
                self.poll()

        self.poll()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(loop(), timeout)
        return self.ready

    async def __aiter__(self) -> AsyncIterator[ChangeEvent]:
        """Change events, forever (until :meth:`close`)."""
        self._iterating += 1
        try:
            while not self._closed:
                self.poll()
                while self._backlog:
                    yield self._backlog.pop(0)
                await self._wait()
        finally:
            self._iterating -= 1

    def close(self) -> None:
        """Stop iterating and release the inotify descriptor."""
        self._closed = True
        if self._inotify is not None:
            self._inotify.close()
