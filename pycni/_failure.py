"""How a plugin run ended, in libcni's words: pure functions from outcomes to errors.

A finished run is a :class:`RawOutcome` (exit status or signal, stdout, stderr, or "timed out" /
"output too large"). :func:`conclude` turns it into the plugin's stdout or raises the matching
:class:`~pycni.errors.PluginError`, whose ``str()`` is exactly libcni's text
(:func:`failure_from_output`) and whose attributes carry the facts. Both real executors call these,
so sync and async report failures identically. Re-exported by :mod:`pycni.invoke`.
"""

from __future__ import annotations

import errno
import os
from typing import Literal

import attrs

from . import _json
from .errors import (
    ErrorCode,
    PluginError,
    PluginOutputTooLargeError,
    PluginTimeoutError,
    go_quote,
)

__all__ = [
    "RawOutcome",
    "conclude",
    "describe_returncode",
    "failure_from_output",
    "go_quote_bytes",
    "is_text_file_busy",
    "output_too_large_error",
    "quote_output",
    "start_failure",
    "stderr_tail",
    "status_lost_error",
    "timeout_error",
]

_NO_MESSAGE = "netplugin failed with no error message"


# --------------------------------------------------------------------------------------------
# Describing how a process ended (Go's texts)
# --------------------------------------------------------------------------------------------

# Go's signal descriptions on Linux (syscall's table), keyed by name so they are portable.
_GO_SIGNAL_TEXT = {
    "SIGHUP": "hangup",
    "SIGINT": "interrupt",
    "SIGQUIT": "quit",
    "SIGILL": "illegal instruction",
    "SIGTRAP": "trace/breakpoint trap",
    "SIGABRT": "aborted",
    "SIGBUS": "bus error",
    "SIGFPE": "floating point exception",
    "SIGKILL": "killed",
    "SIGUSR1": "user defined signal 1",
    "SIGSEGV": "segmentation fault",
    "SIGUSR2": "user defined signal 2",
    "SIGPIPE": "broken pipe",
    "SIGALRM": "alarm clock",
    "SIGTERM": "terminated",
    "SIGSTKFLT": "stack fault",
    "SIGCHLD": "child exited",
    "SIGCONT": "continued",
    "SIGSTOP": "stopped (signal)",
    "SIGTSTP": "stopped",
    "SIGTTIN": "stopped (tty input)",
    "SIGTTOU": "stopped (tty output)",
    "SIGURG": "urgent I/O condition",
    "SIGXCPU": "CPU time limit exceeded",
    "SIGXFSZ": "file size limit exceeded",
    "SIGVTALRM": "virtual timer expired",
    "SIGPROF": "profiling timer expired",
    "SIGWINCH": "window changed",
    "SIGIO": "I/O possible",
    "SIGPWR": "power failure",
    "SIGSYS": "bad system call",
}


def _signal_name(number: int) -> str:
    import signal as _signal

    try:
        name = _signal.Signals(number).name
    except ValueError:
        return f"SIG{number}"
    return name


def describe_returncode(returncode: int) -> tuple[str, int | None, str | None]:
    """``(go_text, exit_status, signal_name)`` for a ``subprocess`` return code.

    ``0``/``1`` -> ``"exit status 1"``; ``-9`` -> ``"signal: killed"`` and ``"SIGKILL"``.
    """
    if returncode >= 0:
        return f"exit status {returncode}", returncode, None
    name = _signal_name(-returncode)
    text = _GO_SIGNAL_TEXT.get(name, f"signal {-returncode}")
    return f"signal: {text}", None, name


def _go_errno_text(err: OSError) -> str:
    """Go's text for an errno: the C library's with its first letter lowered (``CPU`` kept)."""
    code = err.errno
    text = os.strerror(code) if code is not None else (err.strerror or str(err))
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        text = text[0].lower() + text[1:]
    return text


def is_text_file_busy(err: BaseException) -> bool:
    """Whether a start failure is ETXTBSY (the binary is being written; worth retrying)."""
    return isinstance(err, OSError) and err.errno == errno.ETXTBSY


# --------------------------------------------------------------------------------------------
# Turning outcomes into errors
# --------------------------------------------------------------------------------------------


def go_quote_bytes(data: bytes) -> str:
    """Go's ``%q`` of ``string(data)``: invalid UTF-8 bytes become ``\\xNN`` escapes."""
    try:
        return go_quote(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", "surrogateescape")
    out = []
    start = 0
    for index, char in enumerate(text):
        if "\udc80" <= char <= "\udcff":
            out.append(go_quote(text[start:index])[1:-1])
            out.append(f"\\x{ord(char) - 0xDC00:02x}")
            start = index + 1
    out.append(go_quote(text[start:])[1:-1])
    return '"' + "".join(out) + '"'


#: At most this many bytes of a plugin's output are quoted into an error message (half from the
#: start, half from the end): quoting is per byte, and the whole output made a 60 MiB garbage
#: answer cost gigabytes and minutes.
QUOTE_LIMIT = 16 * 1024


def quote_output(data: bytes | bytearray, limit: int = QUOTE_LIMIT) -> str:
    """:func:`go_quote_bytes` of ``data``, or of its first and last ``limit // 2`` bytes with the
    number of bytes left out between them.

    Args:
        data: What the plugin printed.
        limit: The most bytes quoted.

    Returns:
        ``"<text>"`` as Go's ``%q`` writes it, or ``"<head>" ... 123 bytes cut ... "<tail>"``.
    """
    if len(data) <= limit:
        return go_quote_bytes(bytes(data))
    half = limit // 2
    cut = len(data) - 2 * half
    head, tail = bytes(data[:half]), bytes(data[-half:])
    return f"{go_quote_bytes(head)} ... {cut} bytes cut ... {go_quote_bytes(tail)}"


def _bounded(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text``, or its first and last ``limit // 2`` characters around a note of what was cut
    (a plugin's ``msg``/``details`` may be megabytes; an error message should not be)."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]} ... {len(text) - 2 * half} characters cut ... {text[-half:]}"


def stderr_tail(stderr: bytes, limit: int) -> str:
    """The last ``limit`` bytes of stderr, decoded leniently (no split character at the start)."""
    if limit <= 0:
        return ""
    tail = stderr[-limit:]
    if len(stderr) > limit:
        skip = 0
        while skip < min(3, len(tail)) and 0x80 <= tail[skip] <= 0xBF:
            skip += 1
        tail = tail[skip:]
    return tail.decode("utf-8", "replace")


def _plugin_type(plugin_path: str) -> str:
    return os.path.basename(plugin_path)


_UINT64_MAX = 2**64 - 1
_CODE_FIELD = "Error.code of type uint"


def _parse_error_object(stdout: bytes | bytearray) -> tuple[int, str, str, str | None]:
    """Decode stdout as the spec's error object the way Go fills ``types.Error``.

    Returns ``(code, msg, details, problem)``; ``problem`` is the decoding error text or ``None``.
    Like Go, well-typed fields are kept even when another field has the wrong type, ``null``
    leaves a field empty, and unknown keys are ignored.
    """
    try:
        value = _json.loads(stdout)
    except _json.JSONError as exc:
        return 0, "", "", str(exc)
    if value is None:
        return 0, "", "", None
    if not isinstance(value, dict):
        kind = _json.json_kind(value)
        return 0, "", "", f"json: cannot unmarshal {kind} into Go value of type types.Error"
    code, msg, details = 0, "", ""
    problem: str | None = None
    raw_code = value.get("code")
    if raw_code is not None:
        if isinstance(raw_code, bool) or not isinstance(raw_code, (int, float)):
            problem = (
                f"json: cannot unmarshal {_json.json_kind(raw_code)} into Go struct field "
                f"{_CODE_FIELD}"
            )
        elif isinstance(raw_code, float) or not 0 <= raw_code <= _UINT64_MAX:
            shown = repr(raw_code) if not isinstance(raw_code, float) else f"{raw_code:g}"
            problem = f"json: cannot unmarshal number {shown} into Go struct field {_CODE_FIELD}"
        else:
            code = raw_code
    for key in ("msg", "details"):
        raw = value.get(key)
        if raw is None:
            continue
        if isinstance(raw, str):
            if key == "msg":
                msg = raw
            else:
                details = raw
        elif problem is None:
            problem = (
                f"json: cannot unmarshal {_json.json_kind(raw)} into Go struct field "
                f"Error.{key} of type string"
            )
    return code, msg, details, problem


def failure_from_output(
    *,
    plugin_path: str,
    verb: str,
    stdout: bytes | bytearray,
    stderr: bytes,
    exec_error: str,
    exit_status: int | None = None,
    signal: str | None = None,
    elapsed: float | None = None,
    tail_limit: int = 4096,
) -> PluginError:
    """The error for a failed run, with libcni's text (reference 4.2 item 8, 11 item 19).

    * stdout non-empty: it is the plugin's error object; its ``code``/``msg``/``details`` are
      used as given (a JSON value that is not an error gives code 0 and an empty message). If it
      cannot be decoded: ``netplugin failed but error parsing its diagnostic message "<stdout>":
      <json error>``. stderr is only attached, not shown.
    * stdout empty, stderr not: ``netplugin failed: "<stderr>": <exec_error>``.
    * both empty: ``netplugin failed with no error message: <exec_error>``.

    ``exec_error`` is Go's description of the failure (``exit status 1``, ``signal: killed``,
    ``fork/exec /path: permission denied``), see :func:`describe_returncode`.

    Unlike libcni the cost is bounded: at most :data:`QUOTE_LIMIT` bytes of output are quoted and
    a ``msg``/``details`` longer than that many characters keeps its start and end, each with a
    note of how much was cut.
    """
    code, msg, details = 0, "", ""
    if stdout:
        code, msg, details, problem = _parse_error_object(stdout)
        msg, details = _bounded(msg), _bounded(details)
        if problem is not None:
            msg = (
                "netplugin failed but error parsing its diagnostic message "
                f"{quote_output(stdout)}: {problem}"
            )
    elif stderr:
        msg = f"netplugin failed: {quote_output(stderr)}: {exec_error}"
    else:
        msg = f"{_NO_MESSAGE}: {exec_error}"
    return PluginError(
        code,
        msg,
        details,
        plugin_type=_plugin_type(plugin_path),
        plugin_path=plugin_path,
        verb=verb,
        exit_status=exit_status,
        signal=signal,
        stderr_tail=stderr_tail(stderr, tail_limit),
        elapsed=elapsed,
    )


def _start_hint(plugin_path: str, err: BaseException) -> str:
    """Extra words for start failures whose errno alone misleads (a directory, a dangling link)."""
    if not isinstance(err, OSError):
        return ""
    try:
        if err.errno in (errno.EACCES, errno.EISDIR) and os.path.isdir(plugin_path):
            return " (is a directory)"
        if err.errno == errno.ENOENT and os.path.islink(plugin_path):
            return f" (dangling symlink to {os.readlink(plugin_path)})"
    except (OSError, ValueError):
        return ""
    return ""


def start_failure(
    plugin_path: str, verb: str, err: BaseException, *, elapsed: float | None = None
) -> PluginError:
    """The error for a plugin that could not be started (``fork/exec <path>: <errno text>``).

    A directory and a dangling symlink get a short hint after libcni's text, since "permission
    denied" / "no such file or directory" alone would mislead. Invalid arguments (NUL in the
    environment, a non-string value) are reported as Go does: ``invalid argument``.
    """
    reason = _go_errno_text(err) if isinstance(err, OSError) else "invalid argument"
    exec_error = f"fork/exec {plugin_path}: {reason}{_start_hint(plugin_path, err)}"
    return failure_from_output(
        plugin_path=plugin_path,
        verb=verb,
        stdout=b"",
        stderr=b"",
        exec_error=exec_error,
        elapsed=elapsed,
    )


def timeout_error(
    plugin_path: str,
    verb: str,
    timeout: float,
    *,
    stderr: bytes = b"",
    started: bool = True,
    elapsed: float | None = None,
    tail_limit: int = 4096,
) -> PluginTimeoutError:
    """The error for a plugin that outlived its time limit (its process group was killed).

    ``started=False`` means the limit had passed before the plugin could be started.
    """
    return PluginTimeoutError(
        timeout=timeout,
        plugin_type=_plugin_type(plugin_path),
        plugin_path=plugin_path,
        verb=verb,
        signal="SIGKILL" if started else None,
        stderr_tail=stderr_tail(stderr, tail_limit),
        elapsed=elapsed,
    )


def output_too_large_error(
    plugin_path: str,
    verb: str,
    limit: int,
    *,
    stream: str = "stdout",
    stderr: bytes = b"",
    elapsed: float | None = None,
    tail_limit: int = 4096,
) -> PluginOutputTooLargeError:
    """The error for a plugin that wrote more than ``limit`` bytes (it was killed)."""
    name = _plugin_type(plugin_path)
    return PluginOutputTooLargeError(
        ErrorCode.UNKNOWN,
        f"netplugin failed: plugin {name} wrote more than {limit} bytes to {stream} "
        "(output limit; process group killed)",
        plugin_type=name,
        plugin_path=plugin_path,
        verb=verb,
        signal="SIGKILL",
        stderr_tail=stderr_tail(stderr, tail_limit),
        elapsed=elapsed,
    )


#: Go's ``exec.Cmd.Wait`` text for ECHILD, which libcni reports when SIGCHLD is ignored.
_STATUS_LOST = "wait: no child processes"


def status_lost_error(
    plugin_path: str,
    verb: str,
    *,
    stdout: bytes | bytearray,
    stderr: bytes,
    elapsed: float | None = None,
    tail_limit: int = 4096,
) -> PluginError:
    """The error for a plugin whose exit status is unknowable (the kernel reaped it).

    libcni fails the same way (its wait gets ECHILD). An error object the plugin printed keeps
    its code and message; otherwise the message says why success cannot be confirmed, since the
    plugin's stdout (perhaps a result) alone does not tell whether it succeeded.

    Args:
        plugin_path: The plugin that ran.
        verb: The CNI command it ran.
        stdout: What it printed on stdout.
        stderr: What it printed on stderr.
        elapsed: Seconds the call took.
        tail_limit: How much of stderr the error keeps.

    Returns:
        The :class:`~pycni.errors.PluginError` to raise.
    """
    err = failure_from_output(
        plugin_path=plugin_path,
        verb=verb,
        stdout=stdout,
        stderr=stderr,
        exec_error=_STATUS_LOST,
        elapsed=elapsed,
        tail_limit=tail_limit,
    )
    if stdout and err.msg.strip():
        return err
    base = err.msg if err.msg.strip() else f"{_NO_MESSAGE}: {_STATUS_LOST}"
    return PluginError(
        err.code,
        f"{base} (the plugin's exit status is unknown: this process ignores SIGCHLD, so the "
        "kernel reaped the plugin; restore SIGCHLD to SIG_DFL to run plugins)",
        plugin_type=err.plugin_type,
        plugin_path=plugin_path,
        verb=verb,
        stderr_tail=err.stderr_tail,
        elapsed=elapsed,
    )


@attrs.frozen
class RawOutcome:
    """What running a plugin produced, before any interpretation.

    ``kind`` is ``"exited"`` (``returncode`` is set; negative means killed by that signal),
    ``"timeout"`` (the deadline passed and the group was killed) or ``"overflow"`` (stdout passed
    the limit and the group was killed) or ``"lost"`` (it exited but its status cannot be known:
    the kernel reaped it because the host process ignores SIGCHLD). ``stderr`` is what was
    captured up to then.
    """

    kind: Literal["exited", "timeout", "overflow", "lost"]
    returncode: int | None
    stdout: bytes | bytearray  # a failure's output is not copied (it may be many megabytes)
    stderr: bytes


def conclude(
    outcome: RawOutcome,
    *,
    plugin_path: str,
    verb: str,
    timeout: float | None,
    elapsed: float,
    max_output: int,
    tail_limit: int,
) -> bytes:
    """The plugin's stdout if it succeeded, else the matching :class:`~pycni.errors.PluginError`
    raised: a time-out, an output overflow, or a failure parsed by :func:`failure_from_output`.

    A plugin exiting 0 is a success whatever it printed (reference 4.2 item 10).
    """
    if outcome.kind == "timeout":
        raise timeout_error(
            plugin_path,
            verb,
            timeout if timeout is not None else elapsed,
            stderr=outcome.stderr,
            elapsed=elapsed,
            tail_limit=tail_limit,
        )
    if outcome.kind == "overflow":
        raise output_too_large_error(
            plugin_path,
            verb,
            max_output,
            stderr=outcome.stderr,
            elapsed=elapsed,
            tail_limit=tail_limit,
        )
    if outcome.kind == "lost":
        raise status_lost_error(
            plugin_path,
            verb,
            stdout=outcome.stdout,
            stderr=outcome.stderr,
            elapsed=elapsed,
            tail_limit=tail_limit,
        )
    assert outcome.returncode is not None
    if outcome.returncode == 0:
        return bytes(outcome.stdout)
    text, exit_status, signal = describe_returncode(outcome.returncode)
    raise failure_from_output(
        plugin_path=plugin_path,
        verb=verb,
        stdout=outcome.stdout,
        stderr=outcome.stderr,
        exec_error=text,
        exit_status=exit_status,
        signal=signal,
        elapsed=elapsed,
        tail_limit=tail_limit,
    )
