"""One exception hierarchy for everything pycni raises.

Every error is a :class:`PycniError`. Each carries the facts a person needs to act (file, field,
plugin type, verb, exit status, stderr tail, spec code/msg/details) as attributes, and renders as one
readable line whose text starts with what libcni would have said in the same situation, so log
searches and runbooks written for Go runtimes keep working.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from typing import Any


class PycniError(Exception):
    """Base class of every error raised by pycni."""

    def _repr_html_(self) -> str:
        """Notebook display: message, facts, plugin stderr and causes (:mod:`pycni._display`)."""
        from . import _display

        return _display.error_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython display: ``Class: message`` followed by the error's facts and causes."""
        from . import _display

        _display.pretty(self, printer, cycle)


# --------------------------------------------------------------------------------------------
# The spec's error object
# --------------------------------------------------------------------------------------------


class ErrorCode(enum.IntEnum):
    """Well-known CNI error codes (SPEC.md "Error" section, plus Go's code 8)."""

    UNKNOWN = 0
    INCOMPATIBLE_CNI_VERSION = 1
    UNSUPPORTED_FIELD = 2
    UNKNOWN_CONTAINER = 3
    INVALID_ENVIRONMENT_VARIABLES = 4
    IO_FAILURE = 5
    DECODING_FAILURE = 6
    INVALID_NETWORK_CONFIG = 7
    INVALID_NETNS = 8
    TRY_AGAIN_LATER = 11
    PLUGIN_NOT_AVAILABLE = 50
    LIMITED_CONNECTIVITY = 51
    INTERNAL = 999


class CNIError(PycniError):
    """The spec's error object ``{code, msg, details}``, usable as an exception.

    ``str(err)`` is ``msg`` or ``msg; details`` exactly as libcni renders it.
    """

    def __init__(self, code: int, msg: str, details: str = "") -> None:
        self.code = int(code)
        self.msg = msg
        self.details = details
        super().__init__(code, msg, details)

    def __str__(self) -> str:
        if self.details:
            return f"{self.msg}; {self.details}"
        return self.msg

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code}, msg={self.msg!r}, details={self.details!r})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CNIError):
            return NotImplemented
        return (self.code, self.msg, self.details) == (other.code, other.msg, other.details)

    def __hash__(self) -> int:
        return hash((self.code, self.msg, self.details))

    @property
    def well_known(self) -> ErrorCode | None:
        """The :class:`ErrorCode` for ``code``, or ``None`` for plugin-specific codes."""
        try:
            return ErrorCode(self.code)
        except ValueError:
            return None

    def to_dict(self, cni_version: str | None = None) -> dict[str, Any]:
        """The spec's JSON object (``details`` omitted when empty, ``cniVersion`` when given)."""
        out: dict[str, Any] = {}
        if cni_version is not None:
            out["cniVersion"] = cni_version
        out["code"] = self.code
        out["msg"] = self.msg
        if self.details:
            out["details"] = self.details
        return out


class IncompatibleVersionError(CNIError):
    """Config version not among a plugin's supported versions (code 1).

    Rendered as libcni's reconciler does:
    ``incompatible CNI versions: config is "0.1.0", plugin supports ["1.2.3" "4.3.2"]``.
    """

    def __init__(
        self, config_version: str, supported: Sequence[str], plugin_type: str | None = None
    ) -> None:
        self.config_version = config_version
        self.supported = list(supported)
        self.plugin_type = plugin_type
        details = (
            f"config is {go_quote(config_version)}, plugin supports {go_quote_list(supported)}"
        )
        super().__init__(ErrorCode.INCOMPATIBLE_CNI_VERSION, "incompatible CNI versions", details)

    def __str__(self) -> str:
        text = f"{self.msg}: {self.details}"
        if self.plugin_type:
            text += f" (plugin {self.plugin_type!r})"
        return text


class NegotiationError(IncompatibleVersionError):
    """Version negotiation found no version offered by a config that every plugin supports."""

    def __init__(
        self, network: str, candidates: Sequence[str], plugins: Sequence[tuple[str, Sequence[str]]]
    ) -> None:
        self.network = network
        self.candidates = list(candidates)
        self.plugins = [(kind, list(versions)) for kind, versions in plugins]
        supported = sorted({v for _, versions in self.plugins for v in versions})
        super().__init__(self.candidates[0] if self.candidates else "", supported)

    def __str__(self) -> str:
        offered = ", ".join(f"{kind} supports {go_quote_list(v)}" for kind, v in self.plugins)
        return (
            f"incompatible CNI versions: network {go_quote(self.network)} offers "
            f"{go_quote_list(self.candidates)} but no version is supported by every plugin: {offered}"
        )


class ValidationError(CNIError):
    """An identifier (container ID, network name, interface name, plugin type) is invalid.

    Carries libcni's code and message (codes 3, 4 and 7 of ``pkg/utils``) and the ``field``.
    """

    def __init__(self, code: int, msg: str, details: str = "", *, field: str) -> None:
        super().__init__(code, msg, details)
        self.field = field


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


class ConfigError(PycniError):
    """A network configuration could not be read or is invalid.

    ``message`` keeps libcni's wording; ``path`` is the file (when there is one) and ``field`` the
    offending key. ``str()`` appends whichever of them the message does not already name.
    """

    def __init__(self, message: str, *, path: str | None = None, field: str | None = None) -> None:
        self.message = message
        self.path = path
        self.field = field
        super().__init__(message)

    def __str__(self) -> str:
        extra = []
        if self.path and self.path not in self.message:
            extra.append(f"file {self.path}")
        if self.field and f"'{self.field}'" not in self.message and self.field not in self.message:
            extra.append(f"field {self.field!r}")
        if extra:
            return f"{self.message} ({', '.join(extra)})"
        return self.message


class NotFoundError(ConfigError):
    """No configuration with the requested network name exists in a directory."""

    def __init__(self, dir: str, name: str) -> None:
        self.dir = str(dir)
        self.name = name
        # libcni writes the name raw between quotes (not %q)
        super().__init__(f'no net configuration with name "{name}" in {self.dir}')

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NotFoundError):
            return NotImplemented
        return (self.dir, self.name) == (other.dir, other.name)

    def __hash__(self) -> int:
        return hash((self.dir, self.name))


class NoConfigsFoundError(ConfigError):
    """A directory holds no configuration files at all (or does not exist)."""

    def __init__(self, dir: str) -> None:
        self.dir = str(dir)
        super().__init__(f"no net configurations found in {self.dir}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NoConfigsFoundError):
            return NotImplemented
        return self.dir == other.dir

    def __hash__(self) -> int:
        return hash(self.dir)


class VersionError(PycniError):
    """A CNI spec version string is malformed (``invalid version "1.2.3.4": too many parts``)."""


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


class ResultError(PycniError):
    """A result could not be parsed, created or converted; ``field`` names the offending field."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.message = message
        self.field = field
        super().__init__(message)

    def __str__(self) -> str:
        if self.field and self.field not in self.message:
            return f"{self.message} (field {self.field!r})"
        return self.message


class ConversionError(ResultError):
    """A result cannot be converted to the requested spec version."""


# --------------------------------------------------------------------------------------------
# Plugin discovery and execution
# --------------------------------------------------------------------------------------------


class PluginNotFoundError(PycniError):
    """A plugin binary is not in any configured directory, or its name is not a plain file name."""

    def __init__(self, message: str, *, plugin_type: str, paths: Sequence[str] = ()) -> None:
        self.plugin_type = plugin_type
        self.paths = list(paths)
        super().__init__(message)


class PluginError(CNIError):
    """A plugin invocation failed.

    ``str(err)`` is exactly libcni's text (the spec ``msg``/``details`` from the plugin's JSON error,
    or ``netplugin failed: "<stderr>": exit status 1``, or ``netplugin failed with no error
    message: ...``). The structured facts are attributes.
    """

    def __init__(
        self,
        code: int,
        msg: str,
        details: str = "",
        *,
        plugin_type: str = "",
        plugin_path: str = "",
        verb: str = "",
        exit_status: int | None = None,
        signal: str | None = None,
        stderr_tail: str = "",
        elapsed: float | None = None,
    ) -> None:
        super().__init__(code, msg, details)
        self.plugin_type = plugin_type
        self.plugin_path = plugin_path
        self.verb = verb
        self.exit_status = exit_status
        self.signal = signal
        self.stderr_tail = stderr_tail
        self.elapsed = elapsed

    def __str__(self) -> str:
        text = super().__str__()
        if text.strip():
            return text
        # libcni's text would be blank (the plugin printed an error object without msg): say so.
        if self.exit_status is not None:
            how = f"exit status {self.exit_status}"
        elif self.signal:
            how = f"signal: {self.signal}"
        else:
            how = "failed"
        who = self.plugin_type or self.plugin_path or "plugin"
        return f"plugin {who} returned an error object without a message (code {self.code}): {how}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(plugin_type={self.plugin_type!r}, verb={self.verb!r}, "
            f"code={self.code}, msg={self.msg!r}, details={self.details!r}, "
            f"exit_status={self.exit_status!r}, signal={self.signal!r})"
        )


class PluginTimeoutError(PluginError):
    """A plugin did not finish within its time limit; its whole process group was killed."""

    def __init__(self, *, timeout: float, **kwargs: Any) -> None:
        self.timeout = timeout
        plugin = kwargs.get("plugin_type") or kwargs.get("plugin_path") or "plugin"
        msg = (
            "netplugin failed with no error message: "
            f"plugin {plugin} timed out after {timeout:g}s (process group killed)"
        )
        super().__init__(ErrorCode.UNKNOWN, msg, **kwargs)


class PluginOutputTooLargeError(PluginError):
    """A plugin wrote more to stdout than pycni is willing to buffer."""


# --------------------------------------------------------------------------------------------
# Runtime API
# --------------------------------------------------------------------------------------------


class _ProxiesCNIError:
    """``code``, ``msg`` and ``details`` of the CNI error inside ``self.error`` (found by
    :func:`find_cni_error`), ``None`` without one: shared by the errors that wrap another."""

    error: BaseException

    @property
    def code(self) -> int | None:
        """The ``code`` of the CNI error inside, ``None`` without one."""
        found = find_cni_error(self.error)
        return None if found is None else found.code

    @property
    def msg(self) -> str | None:
        """The ``msg`` of the CNI error inside, ``None`` without one."""
        found = find_cni_error(self.error)
        return None if found is None else found.msg

    @property
    def details(self) -> str | None:
        """The ``details`` of the CNI error inside, ``None`` without one."""
        found = find_cni_error(self.error)
        return None if found is None else found.details


class ChainError(_ProxiesCNIError, PycniError):
    """One plugin of a chain failed: ``plugin type="bridge" failed (add): <inner error>``.

    The inner error is ``__cause__`` (and ``error``); its spec fields are reachable through
    ``code``, ``msg`` and ``details`` when it is a :class:`CNIError`.
    """

    def __init__(
        self,
        error: BaseException,
        *,
        plugin_type: str,
        plugin_name: str = "",
        verb: str,
        index: int,
        network: str,
    ) -> None:
        self.error = error
        self.plugin_type = plugin_type
        self.plugin_name = plugin_name
        self.verb = verb
        self.index = index
        self.network = network
        desc = f"type={go_quote(plugin_type)}"
        if plugin_name:
            desc += f" name={go_quote(plugin_name)}"
        super().__init__(f"plugin {desc} failed ({verb}): {error}")
        self.__cause__ = error


class WrappedError(_ProxiesCNIError, PycniError):
    """A failure with context in front of it, like Go's ``fmt.Errorf("...: %w", err)``.

    ``str(err)`` is the whole message (``failed to delete stale attachment c1 eth0: plugin
    type="bridge" failed (del): busy``); the inner error is ``__cause__`` (and ``error``), and the
    ``code``, ``msg`` and ``details`` of the CNI error inside it (:func:`find_cni_error`) are
    proxied as :class:`ChainError` proxies them (``None`` when there is none). Each entry of a
    :class:`GCError` is one.
    """

    def __init__(self, message: str, error: BaseException) -> None:
        self.error = error
        super().__init__(message)
        self.__cause__ = error


def find_cni_error(error: BaseException) -> CNIError | None:
    """The first spec error object inside ``error``: Go's ``errors.As(err, &*types.Error)``.

    Looks at ``error`` itself, then depth-first into what it wraps: the entries of an
    :class:`AggregateError` (``GCError``, ``ValidateNetworkError``) in order, the inner error of a
    :class:`ChainError` or :class:`WrappedError`, and ``__cause__`` of any exception. A
    :class:`PluginError` is a :class:`CNIError`, so a plugin's ``{code, msg, details}`` is found
    however it was wrapped.

    Args:
        error: any exception.

    Returns:
        The :class:`CNIError` found, or ``None``.
    """
    stack: list[BaseException] = [error]
    seen: set[int] = set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, CNIError):
            return current
        inner: list[BaseException] = []
        if isinstance(current, AggregateError):
            inner.extend(e for e in current.errors if isinstance(e, BaseException))
        wrapped = getattr(current, "error", None)
        if isinstance(current, (ChainError, WrappedError)) and isinstance(wrapped, BaseException):
            inner.append(wrapped)
        if current.__cause__ is not None:
            inner.append(current.__cause__)
        stack.extend(reversed(inner))
    return None


class CheckNotSupportedError(PycniError):
    """CHECK was asked of a configuration whose version is below 0.4.0 (libcni's ErrorCheckNotSupp)."""

    def __init__(self, version: str) -> None:
        self.version = version
        super().__init__(
            f"configuration version {go_quote(version)} does not support the CHECK command"
        )


class CacheError(PycniError):
    """The result cache could not be read, written or addressed."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.message = message
        self.path = path
        super().__init__(message)


class LockTimeoutError(PycniError):
    """A pycni lock could not be acquired within the call's timeout."""

    def __init__(self, message: str, *, lock_path: str, timeout: float | None) -> None:
        self.lock_path = lock_path
        self.timeout = timeout
        super().__init__(message)


class AggregateError(PycniError):
    """Several independent failures of one operation; ``errors`` lists them all."""

    separator = "\n"

    def __init__(self, errors: Iterable[BaseException]) -> None:
        self.errors = list(errors)
        super().__init__(self.separator.join(str(e) for e in self.errors))


class ValidateNetworkError(AggregateError):
    """``validate_network_list`` failures, rendered like Go's slice printing: ``[err1 err2]``."""

    def __init__(self, errors: Iterable[BaseException]) -> None:
        super().__init__(errors)
        self.args = ("[" + " ".join(str(e) for e in self.errors) + "]",)

    def __str__(self) -> str:
        return str(self.args[0])


class GCError(AggregateError):
    """Failures collected while garbage-collecting a network, newline-joined like ``errors.Join``.

    Each entry is a :class:`WrappedError` (``failed to delete stale attachment ...``, ``failed to
    GC plugin ...``) proxying the plugin's ``code``/``msg``/``details``;
    :func:`find_cni_error` on the ``GCError`` finds the first one, as ``errors.As`` does in Go.
    """


# --------------------------------------------------------------------------------------------
# Go-compatible rendering helpers (used in messages that must match libcni's text)
# --------------------------------------------------------------------------------------------

_GO_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\\": "\\\\",
    '"': '\\"',
}


def go_quote(text: str) -> str:
    """Quote ``text`` as Go's ``%q`` does for printable text (double quotes, C-style escapes)."""
    out = []
    for ch in text:
        if ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ch.isprintable() or ch == " ":
            out.append(ch)
        elif ord(ch) < 0x10000:
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x80 else f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


def go_quote_list(items: Iterable[str]) -> str:
    """Render a list of strings as Go's ``%q`` renders a ``[]string``: ``["a" "b"]``."""
    return "[" + " ".join(go_quote(i) for i in items) + "]"


def go_list(items: Iterable[object]) -> str:
    """Render a list as Go's ``%v`` does: ``[a b c]``."""
    return "[" + " ".join(str(i) for i in items) + "]"


def go_type_name(value: object) -> str:
    """Go's ``%T`` name for a decoded JSON value (``float64``, ``string``, ``<nil>``, ...)."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "[]interface {}"
    if isinstance(value, dict):
        return "map[string]interface {}"
    return type(value).__name__
