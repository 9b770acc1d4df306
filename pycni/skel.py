"""Write CNI plugins in Python: libcni's ``pkg/skel`` with the same observable behaviour.

A plugin is a script that calls :func:`plugin_main` with one callback per verb::

    from pycni.skel import plugin_main

    def add(args):                      # args: pycni.skel.CmdArgs
        ...
        return result                   # a pycni.types.Result, printed in the request's version

    plugin_main(add=add, delete=delete, check=check, versions=["1.0.0", "1.1.0"],
                about="CNI plugin example v1")

The dispatcher reads and validates the ``CNI_*`` environment (codes 4 and 3), the request on stdin
(codes 5, 6, 7), checks the config version against the plugin's (code 1, plus the CHECK/GC/STATUS
gates), answers ``VERSION``, refuses to work in the plugin's own network namespace (code 8), runs the
callback and prints its result, or prints the error JSON on stdout and exits 1.

Two deliberate improvements over skel (see ``docs/plugins.md``): the network-namespace self-check
runs *before* the ADD/DEL callback (skel runs it after, when the damage is done and the result
already printed), and ``VERSION`` echoes the requested ``cniVersion`` when the plugin supports it
(skel always answers ``1.1.0``; the spec says the answer carries the requested version).

Importing this module is cheap (no attrs, no result types): a plugin answering ``VERSION`` pays for
little more than the interpreter. Everything else is imported when a callback is about to run.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

from ._skel_env import (
    ALL_VERSIONS,
    check_netns,
    netns_override,
    read_environment,
    read_version_request,
    validate_stdin_config,
    version_answer,
)
from .errors import CNIError, ErrorCode

if TYPE_CHECKING:  # pragma: no cover
    from typing import Protocol, TypeAlias

    from ._cmdargs import CmdArgs
    from .types import Result
    from .version import PluginInfo

    class _Reader(Protocol):
        def read(self, size: int = -1, /) -> bytes: ...


__all__ = [
    "ALL_VERSIONS",
    "Callback",
    "CmdArgs",
    "Dispatcher",
    "plugin_main",
    "plugin_main_with_error",
    "print_error",
    "print_result",
]

#: A verb callback: gets the :class:`CmdArgs`, returns a result to print (converted to the
#: request's version) or ``None``; ``async def`` callbacks are run with :func:`asyncio.run`.
Callback: TypeAlias = "Callable[[CmdArgs], Result | Awaitable[Result | None] | None]"

#: A stream the dispatcher writes to: binary (``sys.stdout.buffer``, ``io.BytesIO``) or text.
Stream: TypeAlias = "BinaryIO | TextIO"


# Minimum config version per gated verb, and the verbs whose callbacks get the netns self-check.
_GATES = {"CHECK": "0.4.0", "GC": "1.1.0", "STATUS": "1.1.0"}
_NETNS_GUARDED = ("ADD", "DEL")


def __getattr__(name: str) -> Any:
    # CmdArgs lives in an attrs module that VERSION answers never need to import.
    if name == "CmdArgs":
        from ._cmdargs import CmdArgs

        return CmdArgs
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Dispatcher:
    """skel's dispatcher with injectable environment and streams (for tests of plugins).

    ``environ`` defaults to :data:`os.environ`, the streams to the process's own. ``stdin`` must
    yield bytes; ``stdout``/``stderr`` may be binary or text streams.
    """

    def __init__(
        self,
        *,
        environ: Mapping[str, str] | None = None,
        stdin: _Reader | None = None,
        stdout: Stream | None = None,
        stderr: Stream | None = None,
    ) -> None:
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.stdin: _Reader = sys.stdin.buffer if stdin is None else stdin
        self.stdout: Stream = sys.stdout if stdout is None else stdout
        self.stderr: Stream = sys.stderr if stderr is None else stderr

    def run(
        self,
        *,
        add: Callback | None = None,
        check: Callback | None = None,
        delete: Callback | None = None,
        gc: Callback | None = None,
        status: Callback | None = None,
        versions: Iterable[str] | PluginInfo | None = None,
        about: str = "",
    ) -> CNIError | None:
        """Serve one invocation; return the error to report, or ``None`` on success.

        An unset callback means "succeed without output" after the version checks, as in skel.
        """
        supported = _supported_versions(versions)
        if not supported:
            return CNIError(ErrorCode.INTERNAL, "plugin declares no supported CNI versions")
        try:
            command, values = read_environment(self.environ)
        except CNIError as err:
            no_command = not self.environ.get("CNI_COMMAND", "")
            if err.code == ErrorCode.INVALID_ENVIRONMENT_VARIABLES and about and no_command:
                text = f"{about}\nCNI protocol versions supported: {', '.join(supported)}\n"
                _write(self.stderr, text.encode("utf-8"))
                return None
            return err

        if command == "VERSION":
            answer = version_answer(supported, read_version_request(self.stdin))
            try:
                _write(self.stdout, answer)
            except (OSError, ValueError) as exc:
                return CNIError(ErrorCode.IO_FAILURE, str(exc))
            return None

        try:
            stdin_data = _read_all(self.stdin)
        except Exception as exc:  # any failure of the reader is skel's code 5
            return CNIError(ErrorCode.IO_FAILURE, f"error reading from stdin: {exc}")
        try:
            validate_stdin_config(stdin_data)
        except CNIError as err:
            return err

        callbacks = {"ADD": add, "CHECK": check, "DEL": delete, "GC": gc, "STATUS": status}
        if command not in callbacks:
            return CNIError(
                ErrorCode.INVALID_ENVIRONMENT_VARIABLES, f"unknown CNI_COMMAND: {command}"
            )
        try:
            self._serve(command, values, stdin_data, callbacks[command], supported)
        except CNIError as err:
            return err
        return None

    def _serve(
        self,
        command: str,
        values: Mapping[str, str],
        stdin_data: bytes,
        callback: Callback | None,
        supported: tuple[str, ...],
    ) -> None:
        from .errors import IncompatibleVersionError, VersionError
        from .version import decode_config_version

        try:
            config_version = decode_config_version(stdin_data)
        except VersionError as exc:
            raise CNIError(ErrorCode.DECODING_FAILURE, str(exc)) from None
        if command in _GATES:
            _check_gate(command, config_version, supported)
        if config_version not in supported:
            raise IncompatibleVersionError(config_version, supported)
        if command in _NETNS_GUARDED and not netns_override(values["CNI_NETNS_OVERRIDE"]):
            check_netns(values["CNI_NETNS"])
        if callback is None:
            return

        from ._cmdargs import CmdArgs

        args = CmdArgs(
            container_id=values["CNI_CONTAINERID"],
            netns=values["CNI_NETNS"],
            ifname=values["CNI_IFNAME"],
            args=values["CNI_ARGS"],
            path=values["CNI_PATH"],
            netns_override=values["CNI_NETNS_OVERRIDE"],
            stdin_data=stdin_data,
            command=command,
        )
        try:
            outcome = callback(args)
            if outcome is not None and hasattr(outcome, "__await__"):
                outcome = _run_awaitable(outcome)
            if outcome is not None:
                if not hasattr(outcome, "convert_to"):
                    raise TypeError(
                        f"{command} callback returned {type(outcome).__name__}, "
                        "expected a pycni Result or None"
                    )
                print_result(outcome, config_version, file=self.stdout)
        except CNIError:
            raise
        except Exception as exc:
            # skel wraps any error that is not a CNI error object in code 999 with its text; the
            # traceback goes to stderr, which runtimes keep for diagnostics.
            import traceback

            _write(self.stderr, traceback.format_exc().encode("utf-8", "replace"))
            raise CNIError(ErrorCode.INTERNAL, str(exc) or type(exc).__name__) from None


def _check_gate(command: str, config_version: str, supported: Iterable[str]) -> None:
    """skel's CHECK/GC/STATUS gate: config and plugin must both allow the verb."""
    from .errors import VersionError
    from .version import greater_than_or_equal_to

    try:
        allowed = greater_than_or_equal_to(config_version, _GATES[command])
    except VersionError as exc:
        raise CNIError(ErrorCode.DECODING_FAILURE, str(exc)) from None
    if not allowed:
        raise CNIError(
            ErrorCode.INCOMPATIBLE_CNI_VERSION, f"config version does not allow {command}"
        )
    for plugin_version in supported:
        try:
            if greater_than_or_equal_to(plugin_version, config_version):
                return
        except VersionError as exc:
            raise CNIError(ErrorCode.DECODING_FAILURE, str(exc)) from None
    raise CNIError(ErrorCode.INCOMPATIBLE_CNI_VERSION, f"plugin version does not allow {command}")


def _run_awaitable(awaitable: Any) -> Any:
    import asyncio

    async def _wait() -> Any:
        return await awaitable

    return asyncio.run(_wait())


def _supported_versions(versions: Iterable[str] | PluginInfo | None) -> tuple[str, ...]:
    if versions is None:
        return ALL_VERSIONS
    listed: Any = getattr(versions, "supported_versions", versions)
    if isinstance(listed, str):
        return (listed,)
    return tuple(str(v) for v in listed)


def _read_all(stdin: _Reader) -> bytes:
    data = stdin.read()
    if isinstance(data, str):
        return data.encode("utf-8")
    return bytes(data)


def _write(stream: Stream, data: bytes) -> None:
    """Write ``data`` to a binary stream, or to a text stream's buffer (or decoded) in order."""
    if isinstance(stream, io.TextIOBase):
        buffer = getattr(stream, "buffer", None)
        if buffer is not None:
            stream.flush()
            buffer.write(data)
            buffer.flush()
        else:
            stream.write(data.decode("utf-8", "replace"))
        return
    stream.write(data)  # type: ignore[arg-type]
    flush = getattr(stream, "flush", None)
    if flush is not None:
        flush()


def print_result(result: Result, version: str, *, file: Stream | None = None) -> None:
    """Print ``result`` converted to ``version`` as libcni's ``PrintResult`` does (4-space JSON).

    Conversion errors (for instance a result without IPs to 0.1.0) propagate as
    :class:`pycni.errors.ConversionError`.
    """
    text = result.convert_to(version).to_json(indent=4)
    _write(sys.stdout if file is None else file, text.encode("utf-8"))


def print_error(error: CNIError, *, file: Stream | None = None) -> None:
    """Print the spec error object (``code``, ``msg``, ``details`` if any; 4-space JSON) like skel."""
    from . import _json

    text = _json.dumps(error.to_dict(), indent=4)
    _write(sys.stdout if file is None else file, text.encode("utf-8"))


def plugin_main_with_error(
    *,
    add: Callback | None = None,
    check: Callback | None = None,
    delete: Callback | None = None,
    gc: Callback | None = None,
    status: Callback | None = None,
    versions: Iterable[str] | PluginInfo | None = None,
    about: str = "",
) -> CNIError | None:
    """Serve the current process's invocation and return the error instead of reporting it.

    The caller must print the error (:func:`print_error`) on stdout and exit non-zero to comply
    with the spec; :func:`plugin_main` does exactly that.
    """
    return Dispatcher().run(
        add=add,
        check=check,
        delete=delete,
        gc=gc,
        status=status,
        versions=versions,
        about=about,
    )


def plugin_main(
    *,
    add: Callback | None = None,
    check: Callback | None = None,
    delete: Callback | None = None,
    gc: Callback | None = None,
    status: Callback | None = None,
    versions: Iterable[str] | PluginInfo | None = None,
    about: str = "",
) -> None:
    """Serve the current process's invocation; on error print the error JSON and exit 1.

    ``versions`` are the spec versions the plugin supports (a list or a
    :class:`pycni.version.PluginInfo`; default: every version from 0.1.0 to 1.1.0). ``about`` is
    printed to stderr, with the supported versions, when the plugin is run without
    ``CNI_COMMAND`` (for people trying it by hand).
    """
    error = plugin_main_with_error(
        add=add,
        check=check,
        delete=delete,
        gc=gc,
        status=status,
        versions=versions,
        about=about,
    )
    if error is not None:
        print_error(error)
        sys.exit(1)
