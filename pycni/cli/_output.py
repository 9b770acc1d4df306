"""How the ``pycni`` command talks: stdout for results, one error line on stderr, exit codes.

Every command writes its answer through an :class:`Output`: readable text by default, exactly one
JSON document with ``--json``. Failures are rendered by :func:`report_error` as one line
(``pycni: error: ...``) or, with ``--json``, one JSON error object on stderr; :func:`exit_code`
maps an error to the stable exit codes (0 ok, 1 operation failed, 2 bad usage or configuration).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, TextIO

from .. import _json
from ..errors import (
    AggregateError,
    ChainError,
    CheckNotSupportedError,
    CNIError,
    ConfigError,
    PluginError,
    PluginNotFoundError,
    PycniError,
    ValidateNetworkError,
    ValidationError,
)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
# aggregates whose exit status is their worst member's (GC's failures are operational: 1)
_AGGREGATES = (AggregateError, ValidateNetworkError)


class UsageError(PycniError):
    """The command line (or a ``CNI_ARGS``/``CAP_ARGS`` value) is not usable; exit status 2."""

    def __init__(self, message: str, *, command: str = "") -> None:
        self.message = message
        self.command = command
        super().__init__(message)


def _root_cause(exc: BaseException) -> BaseException:
    """The error a :class:`ChainError` wraps (recursively), else ``exc`` itself."""
    while isinstance(exc, ChainError):
        exc = exc.error
    return exc


def exit_code(exc: BaseException) -> int:
    """2 for usage and configuration problems (including a missing plugin binary or an invalid
    name pycni refused before running anything), 1 for everything that failed while operating."""
    from ..args import ArgsError

    root = _root_cause(exc)
    # several independent failures (validate's too: a plugin in no plugin directory is exit 2
    # there as everywhere else, one that does not support the version exit 1)
    if isinstance(root, AggregateError) and type(root) in _AGGREGATES and root.errors:
        return max(exit_code(error) for error in root.errors)
    if isinstance(
        root,
        (UsageError, ConfigError, PluginNotFoundError, ArgsError, CheckNotSupportedError),
    ):
        return EXIT_USAGE
    if isinstance(root, ValidationError) and not isinstance(root, PluginError):
        return EXIT_USAGE
    return EXIT_FAILED


def one_line(text: str) -> str:
    """``text`` on one line: inner line breaks become ``"; "``."""
    return "; ".join(part.strip() for part in text.splitlines() if part.strip()) or text


# Attributes worth reporting, and their JSON names.
_FACTS = (
    ("plugin_type", "plugin"),
    ("plugin_name", "pluginName"),
    ("plugin_path", "pluginPath"),
    ("verb", "verb"),
    ("index", "index"),
    ("network", "network"),
    ("exit_status", "exitStatus"),
    ("signal", "signal"),
    ("stderr_tail", "stderr"),
    ("path", "path"),
    ("field", "field"),
    ("paths", "paths"),
)


def error_object(exc: BaseException, code: int) -> dict[str, Any]:
    """The ``--json`` error document: message, error type, exit code and the facts it carries
    (the spec's ``code``/``msg``/``details`` when a plugin or pycni produced a CNI error)."""
    doc: dict[str, Any] = {
        "message": str(exc),
        "type": type(exc).__name__,
        "exitCode": code,
    }
    cni = _root_cause(exc)
    if isinstance(cni, CNIError):
        doc["code"] = cni.code
        doc["msg"] = cni.msg
        if cni.details:
            doc["details"] = cni.details
    for attr, key in _FACTS:
        value = getattr(exc, attr, None)
        if value is None and cni is not exc:
            value = getattr(cni, attr, None)
        if value not in (None, "", []):
            doc[key] = value if isinstance(value, (int, str, list)) else str(value)
    errors = getattr(exc, "errors", None)
    if isinstance(errors, list) and errors:
        doc["errors"] = [str(e) for e in errors]
    return {"error": doc}


class Output:
    """Where a command writes: ``text()`` lines in human mode, one ``document()`` in JSON mode."""

    def __init__(
        self, json_mode: bool, stdout: TextIO | None = None, stderr: TextIO | None = None
    ) -> None:
        self.json_mode = json_mode
        self.stdout = stdout if stdout is not None else sys.stdout
        self.stderr = stderr if stderr is not None else sys.stderr

    def text(self, line: str = "") -> None:
        """A line of human-readable output (ignored in JSON mode)."""
        if not self.json_mode:
            print(line, file=self.stdout)

    def raw(self, data: str) -> None:
        """``data`` as is (cnitool-compatible output such as ``add``'s result)."""
        self.stdout.write(data)

    def document(self, doc: Mapping[str, Any] | list[Any]) -> None:
        """The JSON answer of a command (only in JSON mode)."""
        if self.json_mode:
            print(dumps(doc), file=self.stdout)

    def note(self, line: str) -> None:
        """A progress or warning line on stderr (human mode only, so JSON output stays clean)."""
        if not self.json_mode:
            print(line, file=self.stderr)

    def error(self, exc: BaseException, code: int) -> None:
        """One error line (or one JSON error object) on stderr."""
        if self.json_mode:
            print(_json.dumps(error_object(exc, code)), file=self.stderr)
        else:
            print(f"pycni: error: {one_line(str(exc))}", file=self.stderr)
        self.stderr.flush()


def dumps(doc: Any) -> str:
    """JSON indented by 4 spaces (the style of libcni's and cnitool's output)."""
    return _json.dumps_indented(doc)
