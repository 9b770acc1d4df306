"""Shared helpers of the reliability suites: fuzz settings, "only PycniError" checks, process and
file-descriptor probes through /proc, a tree snapshot, and a tiny in-process plugin executor.

Example counts come from a Hypothesis profile chosen by ``HYPOTHESIS_PROFILE``: ``nightly`` runs
at least 10,000 examples per parser; anything else uses the small ``reliability`` profile, so the
whole directory stays well under a minute. The profile is applied per test (``@FUZZ``), never
loaded globally, so the rest of the test suite keeps its own settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import stat
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings

from pycni.errors import PluginError, PycniError
from pycni.invoke import describe_returncode, failure_from_output
from pycni.version import PluginInfo, decode_plugin_info

_COMMON: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
    "database": None,
}
settings.register_profile("reliability", max_examples=60, **_COMMON)
settings.register_profile("nightly", max_examples=10_000, **_COMMON)

#: The profile in force for the fuzz suites (``HYPOTHESIS_PROFILE=nightly`` for the long run).
PROFILE = "nightly" if os.environ.get("HYPOTHESIS_PROFILE") == "nightly" else "reliability"
#: Decorator applying that profile to one ``@given`` test.
FUZZ = settings(settings.get_profile(PROFILE))
#: Examples per parser in force (the nightly session must see >= 10,000).
EXAMPLES: int = settings.get_profile(PROFILE).max_examples


def only_pycni_errors(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``call``; a :class:`PycniError` with a non-empty message is an acceptable outcome
    (returned, not raised); any other exception propagates and fails the test."""
    try:
        return call(*args, **kwargs)
    except PycniError as exc:
        text = str(exc)
        if isinstance(exc, PluginError) and exc.msg and not exc.msg.strip():
            # a plugin's own blank message is shown as is: a known gap, see
            # test_fuzz_plugin_output.py::test_blank_error_message_is_named
            return exc
        assert text.strip(), f"{type(exc).__name__} with an empty message"
        assert "Traceback" not in text
        return exc


# --------------------------------------------------------------------------------------------
# /proc probes
# --------------------------------------------------------------------------------------------


def open_fds() -> dict[int, str]:
    """This process's open descriptors and what they point at."""
    fds: dict[int, str] = {}
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            fds[int(name)] = os.readlink(f"/proc/self/fd/{name}")
    return fds


def leaked_fds(before: Mapping[int, str], *, settle: float = 1.0) -> dict[int, str]:
    """Descriptors open now that were not open in ``before`` (waits briefly for stragglers such
    as a closing event loop), excluding the listing's own descriptor."""
    end = time.monotonic() + settle
    while True:
        now = open_fds()
        extra = {fd: target for fd, target in now.items() if before.get(fd) != target}
        extra = {fd: t for fd, t in extra.items() if not t.startswith("/proc/")}
        if not extra or time.monotonic() >= end:
            return extra
        time.sleep(0.02)


def _stat_fields(pid: str) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def processes() -> list[tuple[int, str, int, int]]:
    """Every process as ``(pid, state, ppid, pgid)``."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(entry)
            if fields is not None:
                out.append((int(entry), fields[0], int(fields[1]), int(fields[2])))
    return out


def zombie_children() -> list[int]:
    """Our own children that have exited but were never reaped."""
    me = os.getpid()
    return [pid for pid, state, ppid, _ in processes() if ppid == me and state == "Z"]


def live_members(pgid: int) -> list[int]:
    """Processes of group ``pgid`` that are still alive (zombies reparented to PID 1 excluded)."""
    return [pid for pid, state, _, group in processes() if group == pgid and state not in "ZX"]


def wait_until(check: Callable[[], bool], within: float = 2.0) -> bool:
    """Poll ``check`` until it is true or ``within`` seconds passed; its last value."""
    end = time.monotonic() + within
    while not check():
        if time.monotonic() >= end:
            return check()
        time.sleep(0.01)
    return True


def read_pids(path: Path, within: float = 2.0) -> list[int]:
    """The pids a test plugin appended to ``path`` (one per line)."""
    wait_until(lambda: path.exists() and path.read_text().strip() != "", within)
    return [int(line) for line in path.read_text().split()]


def drop_dac_override() -> None:
    """``preexec_fn`` that makes a root child obey file permissions: CAP_DAC_OVERRIDE and
    CAP_DAC_READ_SEARCH leave the bounding set, so the exec'd program never gets them."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    pr_capbset_drop = 24
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(pr_capbset_drop, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


# --------------------------------------------------------------------------------------------
# A snapshot of a directory tree
# --------------------------------------------------------------------------------------------


def snapshot(root: Path, *, skip: Sequence[Path] = ()) -> dict[str, tuple[Any, ...]]:
    """Every entry under ``root`` (not following symlinks) with its kind, mode, size, content
    hash and link target, skipping the subtrees in ``skip``."""
    skipped = [os.fspath(s) for s in skip]
    out: dict[str, tuple[Any, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        if any(dirpath == s or dirpath.startswith(s + os.sep) for s in skipped):
            dirnames[:] = []
            continue
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            if any(path == s for s in skipped):
                continue
            info = os.lstat(path)
            digest = ""
            target = ""
            if stat.S_ISREG(info.st_mode):
                with open(path, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
            elif stat.S_ISLNK(info.st_mode):
                target = os.readlink(path)
            out[path] = (stat.S_IFMT(info.st_mode), stat.S_IMODE(info.st_mode), digest, target)
    return out


# --------------------------------------------------------------------------------------------
# An in-process executor whose failures are decided by pycni's own code
# --------------------------------------------------------------------------------------------

#: A plugin handler: ``(command, environ, stdin) -> (exit status, stdout, stderr)``.
Handler = Callable[[str, Mapping[str, str], bytes], tuple[int, bytes, bytes]]


class InProcessExecutor:
    """Runs "plugins" as Python callables; failure texts come from
    :func:`pycni.invoke.failure_from_output`, exactly as for real processes."""

    def __init__(self, handlers: Mapping[str, Handler]) -> None:
        self.handlers = dict(handlers)
        self.calls = 0

    def find_in_path(self, plugin_type: str, paths: Sequence[str]) -> str:
        from pycni.invoke import validate_plugin_name

        validate_plugin_name(plugin_type)
        return f"/fake/{plugin_type}"

    def exec_plugin(
        self,
        plugin_path: str,
        stdin: bytes,
        environ: Mapping[str, str],
        *,
        timeout: float | None = None,
    ) -> bytes:
        self.calls += 1
        name = os.path.basename(plugin_path)
        handler = self.handlers.get(name) or self.handlers["*"]
        status, out, err = handler(environ["CNI_COMMAND"], environ, stdin)
        if status == 0:  # exit 0 is success whatever was printed (libcni)
            return out
        text, exit_status, signal = describe_returncode(status)
        raise failure_from_output(
            plugin_path=plugin_path,
            verb=environ["CNI_COMMAND"],
            stdout=out,
            stderr=err,
            exec_error=text,
            exit_status=exit_status,
            signal=signal,
        )

    def decode_version(self, data: bytes) -> PluginInfo:
        return decode_plugin_info(data)


class AsyncInProcessExecutor(InProcessExecutor):
    """The asyncio flavour (same handlers)."""

    async def exec_plugin(  # type: ignore[override]
        self,
        plugin_path: str,
        stdin: bytes,
        environ: Mapping[str, str],
        *,
        timeout: float | None = None,
    ) -> bytes:
        await asyncio.sleep(0)
        return InProcessExecutor.exec_plugin(self, plugin_path, stdin, environ, timeout=timeout)


VERSION_ANSWER = b'{"cniVersion":"1.1.0","supportedVersions":["0.1.0","0.2.0","0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}'


def ok_handler(command: str, environ: Mapping[str, str], stdin: bytes) -> tuple[int, bytes, bytes]:
    """A well-behaved plugin: a small 1.0.0 result for ADD, nothing otherwise."""
    if command == "VERSION":
        return 0, VERSION_ANSWER, b""
    if command == "ADD":
        return 0, b'{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.2/24"}]}', b""
    return 0, b"", b""
