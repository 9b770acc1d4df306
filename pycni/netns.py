"""Named network namespaces: create, delete, list, and run commands or Python code inside one.

A CNI runtime creates the sandbox's network namespace before calling any plugin and passes its
path as ``CNI_NETNS``. These helpers make that one call each, the way ``ip netns`` does it: a
namespace is kept alive by bind-mounting its ``nsfs`` file onto ``/run/netns/<name>``.

* :func:`create_netns` uses ``ip netns add`` (iproute2) and falls back to util-linux
  ``unshare --net=<file>``; :func:`delete_netns` unmounts and removes the file (idempotent);
* :func:`run_in_netns` runs a command inside (``nsenter``, else ``setns`` in the child);
* :func:`call_in_netns` runs a Python callable inside, on a fresh OS thread that joins the
  namespace with ``setns(2)``, so the rest of the process is never moved;
* :func:`netns_available` tells whether this process can do all that, and why not, so tests can
  skip with a reason.

Linux only; everything needs root (``CAP_SYS_ADMIN``).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import os
import re
import secrets
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from ._dirs import make_dirs
from .errors import PycniError

__all__ = [
    "NETNS_RUN_DIR",
    "NetnsError",
    "call_in_netns",
    "create_netns",
    "delete_netns",
    "is_netns",
    "list_netns",
    "netns_available",
    "netns_path",
    "run_in_netns",
    "temporary_netns",
]

T = TypeVar("T")

#: Where named network namespaces live (iproute2's convention).
NETNS_RUN_DIR = "/run/netns"
_CLONE_NEWNET = 0x40000000
_MNT_DETACH = 2
_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,200}")


class NetnsError(PycniError):
    """A network namespace operation failed; ``name``/``path`` say which, ``detail`` why."""

    def __init__(self, message: str, *, path: str = "", detail: str = "") -> None:
        self.path = path
        self.detail = detail
        super().__init__(f"{message}: {detail}" if detail else message)


def netns_path(name_or_path: str) -> str:
    """The path of a namespace given by name (``/run/netns/<name>``) or by path (unchanged)."""
    if "/" in name_or_path:
        return name_or_path
    if not _NAME.fullmatch(name_or_path) or name_or_path in (".", ".."):
        raise NetnsError(f"invalid network namespace name {name_or_path!r}", path=name_or_path)
    return os.path.join(NETNS_RUN_DIR, name_or_path)


def is_netns(path: str) -> bool:
    """Whether ``path`` is a network namespace handle (an ``nsfs`` file of type net)."""
    try:
        target = os.stat(path)
        own = os.stat("/proc/self/ns/net")
    except OSError:
        return False
    if target.st_dev != own.st_dev:  # every nsfs file lives on the one nsfs superblock
        return False
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:  # NS_GET_NSTYPE (0xb703) answers CLONE_NEWNET for a network namespace
        import fcntl

        return fcntl.ioctl(fd, 0xB703) == _CLONE_NEWNET
    except OSError:
        return True  # kernels before 4.11: nsfs on this device is the best evidence there is
    finally:
        os.close(fd)


def list_netns() -> list[str]:
    """Names of the namespaces in :data:`NETNS_RUN_DIR`, sorted."""
    try:
        entries = os.listdir(NETNS_RUN_DIR)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise NetnsError(f"cannot list {NETNS_RUN_DIR}", detail=exc.strerror or "") from None
    return sorted(e for e in entries if is_netns(os.path.join(NETNS_RUN_DIR, e)))


def _run(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, check=False)


def create_netns(name: str) -> str:
    """Create the named network namespace and return its path (``/run/netns/<name>``).

    An existing namespace of that name is an error. Uses ``ip netns add``; without iproute2,
    util-linux ``unshare --net=<path>``.
    """
    path = netns_path(name)
    if "/" in name:
        raise NetnsError(f"create_netns takes a name, not a path: {name!r}", path=name)
    if os.path.lexists(path):
        raise NetnsError(f"network namespace {name!r} already exists", path=path)
    if shutil.which("ip"):
        done = _run(["ip", "netns", "add", name])
        if done.returncode != 0:
            detail = done.stderr.strip() or f"exit status {done.returncode}"
            raise NetnsError(f"ip netns add {name} failed", path=path, detail=detail)
        return path
    if not shutil.which("unshare"):
        raise NetnsError("cannot create a network namespace: neither ip nor unshare is installed")
    make_dirs(NETNS_RUN_DIR, 0o755)
    with open(path, "x"):
        pass
    done = _run(["unshare", f"--net={path}", "true"])
    if done.returncode != 0:
        with contextlib.suppress(OSError):
            os.unlink(path)
        detail = done.stderr.strip() or f"exit status {done.returncode}"
        raise NetnsError(f"unshare --net={path} failed", path=path, detail=detail)
    return path


@functools.lru_cache(maxsize=1)
def _libc() -> Any:
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _umount(path: str) -> None:
    if _libc().umount2(os.fsencode(path), _MNT_DETACH) != 0:
        err = ctypes.get_errno()
        if err != 22:  # EINVAL: not a mount point (already unmounted)
            raise NetnsError(f"cannot unmount {path}", path=path, detail=os.strerror(err))


def delete_netns(name_or_path: str) -> None:
    """Delete a namespace by name or path: unmount its handle and remove the file.

    Deleting a namespace that does not exist is not an error. The namespace itself lives on
    while a process still runs in it; only the handle goes.
    """
    path = netns_path(name_or_path)
    if not os.path.lexists(path):
        return
    _umount(path)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise NetnsError(f"cannot remove {path}", path=path, detail=exc.strerror or "") from None


@contextlib.contextmanager
def temporary_netns(prefix: str = "pycni-") -> Iterator[str]:
    """``with temporary_netns() as path:`` a fresh named namespace, deleted on exit."""
    path = create_netns(prefix + secrets.token_hex(4))
    try:
        yield path
    finally:
        delete_netns(path)


def _setns(fd: int, nstype: int) -> None:
    setns = getattr(os, "setns", None)  # Python 3.12+
    if setns is not None:
        setns(fd, nstype)
        return
    if _libc().setns(fd, nstype) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def _open_netns(path: str) -> int:
    if not is_netns(path):
        raise NetnsError(f"{path} is not a network namespace", path=path)
    try:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise NetnsError(f"cannot open {path}", path=path, detail=exc.strerror or "") from None


def run_in_netns(
    path: str, argv: Sequence[str], **popen_kwargs: Any
) -> subprocess.CompletedProcess[Any]:
    """``subprocess.run(argv, **popen_kwargs)`` inside the namespace at ``path`` (or name).

    Uses ``nsenter --net=<path>``; without it, the child joins the namespace with ``setns`` before
    ``exec``. Keyword arguments are those of :func:`subprocess.run` (``check``,
    ``capture_output``, ``text``, ``timeout``, ...).
    """
    path = netns_path(path)
    os.close(_open_netns(path))  # a clear error for a path that is not a namespace
    check = bool(popen_kwargs.pop("check", False))
    if shutil.which("nsenter"):
        return subprocess.run(
            ["nsenter", f"--net={path}", "--", *argv], check=check, **popen_kwargs
        )
    fd = _open_netns(path)
    try:
        return subprocess.run(
            list(argv),
            check=check,
            preexec_fn=lambda: _setns(fd, _CLONE_NEWNET),  # runs in the child before exec
            **popen_kwargs,
        )
    finally:
        os.close(fd)


def call_in_netns(path: str, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call ``func(*args, **kwargs)`` inside the namespace at ``path`` (or name); return its result.

    It runs on a new OS thread that joins the namespace (``setns(2)`` moves only the calling
    thread), so sockets it opens belong to the namespace and the caller's threads are untouched.
    Exceptions from ``func`` propagate.
    """
    fd = _open_netns(netns_path(path))
    outcome: dict[str, Any] = {}

    def body() -> None:
        try:
            _setns(fd, _CLONE_NEWNET)
        except OSError as exc:
            outcome["error"] = NetnsError(
                f"setns({path}) failed", path=path, detail=exc.strerror or ""
            )
            return
        try:
            outcome["value"] = func(*args, **kwargs)
        except BaseException as exc:
            outcome["error"] = exc

    try:
        thread = threading.Thread(target=body, name=f"pycni-netns-{os.path.basename(path)}")
        thread.start()
        thread.join()
    finally:
        os.close(fd)
    if "error" in outcome:
        raise outcome["error"]
    result: T = outcome["value"]
    return result


def _probe() -> tuple[bool, str]:
    name = "pycni-probe-" + secrets.token_hex(4)
    try:
        path = create_netns(name)
    except (NetnsError, OSError) as exc:
        return False, f"cannot create a network namespace here: {exc}"
    try:
        delete_netns(path)
    except NetnsError as exc:
        return False, f"cannot delete a network namespace here: {exc}"
    return True, "network namespaces can be created"


@functools.lru_cache(maxsize=2)
def netns_available(probe: bool = True) -> tuple[bool, str]:
    """``(True, ...)`` when this process can create and enter network namespaces, else
    ``(False, reason)``. With ``probe`` (default) a namespace is actually created and deleted
    once; the answer is cached for the process."""
    if not os.path.exists("/proc/self/ns/net"):
        return False, "network namespaces need Linux with /proc mounted"
    if os.geteuid() != 0:
        return False, "network namespaces need root (CAP_SYS_ADMIN)"
    if not (shutil.which("ip") or shutil.which("unshare")):
        return False, "neither ip (iproute2) nor unshare (util-linux) is installed"
    return _probe() if probe else (True, "running as root")
