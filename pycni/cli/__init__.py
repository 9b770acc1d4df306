"""The ``pycni`` command: cnitool's verbs and what cnitool lacks.

``pycni add|check|del|gc|status NETWORK NETNS`` behave like cnitool (same environment variables,
same container ID, ``add`` prints the result), with flags for everything, ``--json`` and
``--dry-run``. Around them: ``list``, ``show``, ``validate``, ``version``, ``cache ls|show|rm``,
``doctor``, ``demo`` (runs anywhere, no root needed) and ``exec`` (a command in a fresh network
namespace attached to a network). See ``docs/cli.md``.

Exit status: 0 success, 1 the operation failed, 2 bad usage or configuration. Errors are one line
on stderr (one JSON object with ``--json``). Commands live in one module per group; each module's
``register`` adds its sub-parsers and sets ``handler``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from .._version import __version__
from ..errors import PycniError
from . import _cache_cmds, _demo, _doctor, _exec, _inspect, _verbs
from ._output import EXIT_FAILED, EXIT_USAGE, Output, UsageError, exit_code

__all__ = ["UsageError", "build_parser", "main"]

_EXIT_STATUS = """\
exit status: 0 success, 1 the operation failed, 2 bad usage or configuration.
Run 'pycni demo' to see a network attached and detached, no root needed.
"""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error becomes a :class:`UsageError` (one line, exit status 2)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')", command=self.prog)


class _Formatter(argparse.HelpFormatter):
    """Wraps one-paragraph descriptions; keeps the layout of multi-line epilogs (tables)."""

    def __init__(self, prog: str, **kwargs: Any) -> None:
        kwargs.setdefault("max_help_position", 32)
        kwargs.setdefault("width", _help_width())
        super().__init__(prog, **kwargs)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text.strip("\n"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def _help_width() -> int:
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 100
    return max(60, min(columns, 100)) - 2


def build_parser() -> argparse.ArgumentParser:
    """The complete ``pycni`` argument parser (every command and flag)."""
    parser = _Parser(
        prog="pycni",
        description="Run CNI network plugins: cnitool's commands, and what cnitool lacks.",
        epilog=_EXIT_STATUS,
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"pycni {__version__}")
    parser.set_defaults(handler=None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    _verbs.register(sub, _Formatter)
    _inspect.register(sub, _Formatter)
    _cache_cmds.register(sub, _Formatter)
    _doctor.register(sub, _Formatter)
    _demo.register(sub, _Formatter)
    _exec.register(sub, _Formatter)
    return parser


def _wants_json(argv: Sequence[str]) -> bool:
    """Whether ``--json`` was given (before any ``--``), known even if parsing fails."""
    end = argv.index("--") if "--" in argv else len(argv)
    return "--json" in argv[:end]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``pycni`` command with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    out = Output(_wants_json(arguments))
    parser = build_parser()
    try:
        args = parser.parse_args(arguments)
        if args.handler is None:  # no command (or `pycni cache` without an action)
            getattr(args, "group_parser", parser).print_help(sys.stdout)
            return EXIT_USAGE
        status: int = args.handler(args, out)
        return status
    except PycniError as exc:
        code = exit_code(exc)
        out.error(exc, code)
        return code
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        out.error(PycniError("interrupted"), 130)
        return 130
    except BrokenPipeError:  # e.g. piped into `head`
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        return 1
    except OSError as exc:  # a file or directory the command itself had to use
        out.error(PycniError(_os_error_text(exc)), EXIT_FAILED)
        return EXIT_FAILED


def _os_error_text(exc: OSError) -> str:
    text = exc.strerror or str(exc)
    return f"{text}: {exc.filename}" if exc.filename else text
