"""Plugin discovery, environment building and failure parsing: every decision, no I/O.

libcni's ``pkg/invoke`` mixes deciding and doing; here the deciding lives in pure functions that the
sync and the asyncio executor (:mod:`pycni.exec`) both call, so they cannot drift apart:

* plugin names are validated before any file system access, then looked up in the search path
  with libcni's rules (:func:`find_in_path`; the only function here that stats files);
* the environment is the parent environment plus the six ``CNI_*`` variables (:func:`cni_env`,
  :func:`plugin_environ`), and VERSION uses libcni's dummy values (:func:`version_environ`);
* a failed run becomes a :class:`~pycni.errors.PluginError` whose text is exactly libcni's and
  whose attributes carry the facts (:func:`failure_from_output` and friends, defined in
  :mod:`pycni._failure` and re-exported here);
* ``unknown CNI_COMMAND: VERSION`` means "a pre-0.2 plugin" (:func:`version_info_from_failure`).
"""

from __future__ import annotations

import math
import os
import stat
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from ._failure import (
    RawOutcome,
    conclude,
    describe_returncode,
    failure_from_output,
    go_quote_bytes,
    is_text_file_busy,
    output_too_large_error,
    start_failure,
    stderr_tail,
    timeout_error,
)
from .errors import (
    ErrorCode,
    PluginNotFoundError,
    PycniError,
    ValidationError,
    go_list,
    go_quote,
)
from .version import CURRENT, PluginInfo, plugin_supports

__all__ = [
    "CNI_VARS",
    "EXECUTABLE_FILE_EXTENSIONS",
    "ExecOptions",
    "ExecOptionsError",
    "InvalidPluginNameError",
    "RawOutcome",
    "UNKNOWN_VERSION_COMMAND",
    "VERSION_STDIN",
    "cni_env",
    "conclude",
    "deadline_for",
    "describe_returncode",
    "exec_target",
    "failure_from_output",
    "find_in_path",
    "go_quote_bytes",
    "is_text_file_busy",
    "output_too_large_error",
    "plugin_environ",
    "render_cni_args",
    "start_failure",
    "stderr_tail",
    "timeout_error",
    "validate_plugin_name",
    "version_environ",
    "version_info_from_failure",
]

#: The six variables every invocation sets, in libcni's order.
CNI_VARS: tuple[str, ...] = (
    "CNI_COMMAND",
    "CNI_CONTAINERID",
    "CNI_NETNS",
    "CNI_ARGS",
    "CNI_IFNAME",
    "CNI_PATH",
)

#: Suffixes tried after the plugin name, in order (Windows prefers ``.exe``).
EXECUTABLE_FILE_EXTENSIONS: tuple[str, ...] = (".exe", "") if sys.platform == "win32" else ("",)

#: What VERSION sends on stdin: the newest spec version this library implements.
VERSION_STDIN: bytes = b'{"cniVersion":"' + CURRENT.encode() + b'"}'

#: The exact error text with which plugins built before spec 0.2.0 reject VERSION.
UNKNOWN_VERSION_COMMAND = "unknown CNI_COMMAND: VERSION"


# --------------------------------------------------------------------------------------------
# Options shared by the sync and the async executor
# --------------------------------------------------------------------------------------------


class ExecOptionsError(PycniError, ValueError):
    """An executor option is out of range (``max_output must be positive, got 0``)."""


def _positive(_inst: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value > 0:
        raise ExecOptionsError(f"{attribute.name} must be positive, got {value!r}")


def _non_negative(_inst: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value >= 0:
        raise ExecOptionsError(f"{attribute.name} must be >= 0, got {value!r}")


@attrs.frozen
class ExecOptions:
    """How a real executor runs plugins (identical meaning for the sync and the async one).

    ``max_output`` caps the bytes captured from stdout; a plugin writing more is killed with its
    process group and the call raises :class:`~pycni.errors.PluginOutputTooLargeError`.
    ``max_stderr`` caps the stderr kept (its first and last halves, with a line saying how much
    was dropped between them; the plugin is not stopped), which is what is logged or quoted into
    an error. ``stderr_tail`` bounds the decoded stderr kept on errors. ``etxtbsy_retries`` more attempts are made when exec fails with "text file
    busy", sleeping ``etxtbsy_backoff`` seconds, doubling up to ``etxtbsy_backoff_max``. After the
    plugin itself exits, helpers it forked get ``exit_grace`` seconds to close the output pipes
    before the rest of the process group is killed.
    """

    max_output: int = attrs.field(default=64 * 1024 * 1024, validator=_positive)
    stderr_tail: int = attrs.field(default=4096, validator=_non_negative)
    max_stderr: int = attrs.field(default=256 * 1024, validator=_positive)
    etxtbsy_retries: int = attrs.field(default=6, validator=_non_negative)
    etxtbsy_backoff: float = attrs.field(default=0.05, validator=_non_negative)
    etxtbsy_backoff_max: float = attrs.field(default=1.0, validator=_non_negative)
    exit_grace: float = attrs.field(default=0.2, validator=_non_negative)

    def etxtbsy_delay(self, attempt: int) -> float | None:
        """Seconds to sleep before retry number ``attempt`` (1-based), or ``None`` to give up."""
        if attempt > self.etxtbsy_retries:
            return None
        delay: float = self.etxtbsy_backoff * 2 ** (attempt - 1)
        return min(delay, self.etxtbsy_backoff_max)


# --------------------------------------------------------------------------------------------
# Plugin names and discovery
# --------------------------------------------------------------------------------------------


class InvalidPluginNameError(PluginNotFoundError, ValidationError):
    """A plugin type that is not a plain file name (empty, has a separator, ``.``/``..``, NUL).

    Both a :class:`~pycni.errors.PluginNotFoundError` (what libcni's ``FindInPath`` reports) and a
    :class:`~pycni.errors.ValidationError` (code 7, field ``type``), so either ``except`` works.
    """

    def __init__(self, message: str, *, plugin_type: object) -> None:
        ValidationError.__init__(self, ErrorCode.INVALID_NETWORK_CONFIG, message, field="type")
        self.plugin_type = plugin_type if isinstance(plugin_type, str) else repr(plugin_type)
        self.paths = []


def _shown(name: str) -> str:
    """The name as libcni prints it (``%s``), Go-quoted when it would not read as one line."""
    return name if name.isprintable() else go_quote(name)


def validate_plugin_name(plugin_type: str) -> None:
    """Reject a plugin type that is not a plain file name, before it touches the file system.

    libcni's checks (empty, contains a path separator) come first with libcni's messages; pycni
    also rejects ``.``, ``..`` and NUL, which libcni would turn into odd paths or a crash.
    """
    if not isinstance(plugin_type, str):
        raise InvalidPluginNameError(
            f"invalid plugin name: {plugin_type!r} (not a string)", plugin_type=plugin_type
        )
    if plugin_type == "":
        raise InvalidPluginNameError("no plugin name provided", plugin_type=plugin_type)
    separators = {os.sep, os.altsep} - {None}
    if (
        any(sep in plugin_type for sep in separators if sep)
        or plugin_type in (".", "..")
        or "\x00" in plugin_type
    ):
        raise InvalidPluginNameError(
            f"invalid plugin name: {_shown(plugin_type)}", plugin_type=plugin_type
        )


def _go_join(directory: str, name: str) -> str:
    """``filepath.Join(directory, name)``: lexically cleaned; an empty directory means the CWD."""
    if not directory:
        return name
    joined = os.path.normpath(os.path.join(directory, name))
    if joined.startswith("//") and not joined.startswith("///"):
        joined = joined[1:]  # POSIX keeps a leading "//"; Go's Clean does not
    return joined


def _search_dirs(paths: Sequence[str] | str) -> list[str]:
    if isinstance(paths, str):  # a CNI_PATH-style string: split like the plugin side does
        return paths.split(os.pathsep) if paths else []
    return [str(p) for p in paths]


def find_in_path(plugin_type: str, paths: Sequence[str] | str) -> str:
    """The path of plugin ``plugin_type``: the first regular file ``<dir>/<type>`` in ``paths``.

    libcni's rules (reference 4.1): the name is checked first, then the path list must be
    non-empty; symlinks are followed; the executable bit is not checked (running a
    non-executable file fails later with a clear error); an empty directory entry means the
    current directory. A string is split on ``os.pathsep`` like ``CNI_PATH``. Raises
    :class:`~pycni.errors.PluginNotFoundError` listing every directory searched.
    """
    validate_plugin_name(plugin_type)
    dirs = _search_dirs(paths)
    if not dirs:
        raise PluginNotFoundError("no paths provided", plugin_type=plugin_type, paths=dirs)
    for directory in dirs:
        for ext in EXECUTABLE_FILE_EXTENSIONS:
            candidate = _go_join(directory, plugin_type) + ext
            try:
                st = os.stat(candidate)
            except (OSError, ValueError):
                continue
            if stat.S_ISREG(st.st_mode):
                return candidate
    raise PluginNotFoundError(
        f"failed to find plugin {go_quote(plugin_type)} in path {go_list(dirs)}",
        plugin_type=plugin_type,
        paths=dirs,
    )


def exec_target(plugin_path: str) -> str:
    """The path to hand to exec: a bare name (found via an empty ``CNI_PATH`` entry) gets ``./``.

    Without it, exec would search ``$PATH`` instead of running the file that was found.
    """
    return plugin_path if os.sep in plugin_path else os.curdir + os.sep + plugin_path


# --------------------------------------------------------------------------------------------
# Environment
# --------------------------------------------------------------------------------------------


def render_cni_args(args: Sequence[tuple[str, str]] | str) -> str:
    """``CNI_ARGS``: pairs as ``K=V`` joined by ``;`` with no escaping; a string is used as is."""
    if isinstance(args, str):
        return args
    parts = []
    for item in args:
        try:
            key, value = item
        except (TypeError, ValueError):
            raise ValidationError(
                ErrorCode.INVALID_ENVIRONMENT_VARIABLES,
                "invalid CNI_ARGS entry (want a (key, value) pair)",
                repr(item),
                field="args",
            ) from None
        parts.append(f"{key}={value}")
    return ";".join(parts)


def cni_env(
    command: str,
    *,
    container_id: str = "",
    netns: str = "",
    ifname: str = "",
    args: Sequence[tuple[str, str]] | str = (),
    path: Sequence[str] | str = (),
) -> dict[str, str]:
    """The six ``CNI_*`` variables of one invocation (reference 3.4 items 13-16).

    All six are always present, empty when not applicable (GC, STATUS). ``path`` is a list of
    directories joined with ``os.pathsep``, or a ready string.
    """
    return {
        "CNI_COMMAND": command,
        "CNI_CONTAINERID": container_id,
        "CNI_NETNS": netns,
        "CNI_ARGS": render_cni_args(args),
        "CNI_IFNAME": ifname,
        "CNI_PATH": path if isinstance(path, str) else os.pathsep.join(path),
    }


def plugin_environ(
    cni_vars: Mapping[str, str], base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The complete environment of a plugin: ``base`` (default ``os.environ``) overridden by
    ``cni_vars``. Neither input is modified."""
    env = dict(os.environ if base is None else base)
    env.update(cni_vars)
    return env


def version_environ(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """VERSION's environment (reference 4.5 item 18).

    Dummy ``CNI_NETNS``/``CNI_IFNAME``/``CNI_PATH`` for very old skel plugins and an empty
    ``CNI_ARGS``, so the runtime's own ``CNI_ARGS`` never leaks into VERSION.
    """
    return plugin_environ(
        cni_env("VERSION", netns="dummy", ifname="dummy", path="dummy"), base=base
    )


def deadline_for(timeout: float | None, now: float) -> float | None:
    """The monotonic deadline of a call (``None``: no limit). NaN counts as already expired."""
    if timeout is None:
        return None
    if math.isnan(timeout):
        return now
    return now + timeout


# --------------------------------------------------------------------------------------------
# VERSION
# --------------------------------------------------------------------------------------------


def version_info_from_failure(err: BaseException) -> PluginInfo | None:
    """``["0.1.0"]`` when a VERSION failure's text is exactly ``unknown CNI_COMMAND: VERSION``
    (a plugin built before spec 0.2.0, reference 4.5 item 19); ``None`` for any other error."""
    if isinstance(err, Exception) and str(err) == UNKNOWN_VERSION_COMMAND:
        return plugin_supports("0.1.0")
    return None
