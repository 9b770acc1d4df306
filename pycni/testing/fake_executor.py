"""In-process fake executors: plugins are Python callables, no processes are started.

For fast unit tests of runtimes built on pycni: hand a :class:`FakeExecutor` (or
:class:`AsyncFakeExecutor`) to ``CNIConfig(executor=...)``, register plugins by name, and inspect
:attr:`FakeExecutor.calls` afterwards::

    fake = FakeExecutor()
    fake.add_plugin("bridge", lambda command, env, stdin: {"cniVersion": "1.1.0", "ips": [...]})
    cni = CNIConfig(path=["/opt/cni/bin"], executor=fake)

A handler receives ``(command, env, stdin)`` and returns what the plugin "prints":

* ``None`` (nothing), ``bytes``/``str`` (verbatim), a mapping or list (JSON), or any object with
  ``to_bytes()`` such as a :class:`pycni.types.Result`;
* a :class:`FakeOutcome` for full control (stdout, stderr, exit status, delay);
* raising (or returning) a :class:`pycni.errors.CNIError` makes the plugin fail with that error,
  exactly as a plugin printing the error JSON and exiting 1.

Failures become the same :class:`~pycni.errors.PluginError` texts the real executors produce (the
decisions are shared with :mod:`pycni.invoke`); other exceptions from a handler propagate, so bugs
in a test's handler are not mistaken for plugin failures.
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from .. import _json
from ..errors import CNIError, PluginNotFoundError, PycniError, go_list, go_quote
from ..invoke import failure_from_output, start_failure, timeout_error, validate_plugin_name
from ..version import ALL, PluginInfo, decode_plugin_info

__all__ = [
    "AsyncFakeExecutor",
    "FakeCall",
    "FakeExecutor",
    "FakeHandlerError",
    "FakeOutcome",
    "Handler",
    "noop_handler",
]


def _as_bytes(value: bytes | bytearray | str) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


@attrs.frozen
class FakeOutcome:
    """What a fake plugin run produced: ``stdout``, ``stderr``, ``exit_status`` after ``delay`` s.

    A non-zero exit status turns into libcni's error for that output (the error object on stdout,
    else ``netplugin failed: "<stderr>": exit status N``, else ``... with no error message``). A
    ``delay`` longer than the call's timeout ends in the executor's time-out error.
    """

    stdout: bytes = attrs.field(default=b"", converter=_as_bytes)
    stderr: bytes = attrs.field(default=b"", converter=_as_bytes)
    exit_status: int = 0
    delay: float = 0.0


#: A fake plugin: ``(command, env, stdin) -> outcome`` (sync, or async for the async executor).
Handler = Callable[[str, Mapping[str, str], bytes], Any]


class FakeHandlerError(PycniError, TypeError):
    """A fake plugin's handler returned something that cannot be a plugin's output."""


@attrs.frozen
class FakeCall:
    """One recorded invocation of a fake plugin."""

    plugin_type: str
    plugin_path: str
    command: str
    env: Mapping[str, str]
    stdin: bytes
    timeout: float | None = None

    @property
    def config(self) -> Any:
        """stdin parsed as JSON (``None`` when it is not JSON)."""
        try:
            return _json.loads(self.stdin)
        except _json.JSONError:
            return None

    @property
    def container_id(self) -> str:
        return self.env.get("CNI_CONTAINERID", "")

    @property
    def ifname(self) -> str:
        return self.env.get("CNI_IFNAME", "")

    @property
    def netns(self) -> str:
        return self.env.get("CNI_NETNS", "")

    @property
    def args(self) -> str:
        return self.env.get("CNI_ARGS", "")


def noop_handler(command: str, env: Mapping[str, str], stdin: bytes) -> Any:
    """The default plugin: ADD prints the ``prevResult`` it got (or an empty result in the
    config's version); every other verb prints nothing."""
    if command != "ADD":
        return None
    try:
        config = _json.loads_object(stdin)
    except _json.JSONError:
        return {}
    prev = config.get("prevResult")
    if isinstance(prev, dict):
        return prev
    return {"cniVersion": config.get("cniVersion") or "0.1.0"}


@attrs.frozen
class _Plugin:
    name: str
    handler: Handler
    versions: tuple[str, ...] | None
    directory: str | None


class FakeExecutor:
    """A synchronous :class:`pycni.exec.Executor` whose plugins are Python callables.

    ``directory`` of :meth:`add_plugin` says where the plugin "lives": ``None`` (default) means
    "in the first directory of any search path", a path means it is found only when that
    directory is searched. Lookup errors have libcni's texts.
    """

    def __init__(self) -> None:
        self._plugins: dict[str, _Plugin] = {}
        self._lock = threading.Lock()
        #: Every invocation, in order (VERSION included).
        self.calls: list[FakeCall] = []

    def add_plugin(
        self,
        name: str,
        handler: Handler | None = None,
        *,
        versions: Iterable[str] | None = ALL,
        directory: str | os.PathLike[str] | None = None,
    ) -> None:
        """Register plugin ``name`` (replacing any plugin of that name).

        ``versions`` answers VERSION without calling the handler; ``None`` passes VERSION to the
        handler too (to fake odd version answers). ``handler`` defaults to :func:`noop_handler`.
        """
        validate_plugin_name(name)
        self._plugins[name] = _Plugin(
            name=name,
            handler=handler or noop_handler,
            versions=None if versions is None else tuple(versions),
            directory=None if directory is None else os.fspath(directory),
        )

    def remove_plugin(self, name: str) -> None:
        """Forget plugin ``name`` (later lookups fail as for a missing binary)."""
        self._plugins.pop(name, None)

    def calls_for(self, name: str, command: str | None = None) -> list[FakeCall]:
        """The recorded calls of plugin ``name`` (optionally only those of ``command``)."""
        return [
            c
            for c in self.calls
            if c.plugin_type == name and (command is None or c.command == command)
        ]

    # -- the executor protocol ----------------------------------------------------------------

    def find_in_path(self, plugin_type: str, paths: Sequence[str]) -> str:
        """libcni's lookup rules over the registered plugins (no file system access)."""
        validate_plugin_name(plugin_type)
        if isinstance(paths, str):  # a CNI_PATH-style string
            dirs = paths.split(os.pathsep) if paths else []
        else:
            dirs = [str(p) for p in paths]
        if not dirs:
            raise PluginNotFoundError("no paths provided", plugin_type=plugin_type, paths=dirs)
        plugin = self._plugins.get(plugin_type)
        if plugin is not None:
            if plugin.directory is None:
                return os.path.join(dirs[0], plugin_type)
            if plugin.directory in dirs:
                return os.path.join(plugin.directory, plugin_type)
        raise PluginNotFoundError(
            f"failed to find plugin {go_quote(plugin_type)} in path {go_list(dirs)}",
            plugin_type=plugin_type,
            paths=dirs,
        )

    def exec_plugin(
        self,
        plugin_path: str,
        stdin: bytes,
        environ: Mapping[str, str],
        *,
        timeout: float | None = None,
    ) -> bytes:
        """Run the fake plugin at ``plugin_path``: its stdout, or the :class:`PluginError`."""
        plugin, call = self._begin(plugin_path, stdin, environ, timeout)
        if plugin.versions is not None and call.command == "VERSION":
            return _version_answer(plugin.versions)
        try:
            value = plugin.handler(call.command, call.env, call.stdin)
        except CNIError as err:
            value = err
        outcome = _to_outcome(value)
        if outcome.delay:
            time.sleep(min(outcome.delay, timeout) if timeout is not None else outcome.delay)
        return _conclude(outcome, plugin_path, call.command, timeout)

    def decode_version(self, data: bytes) -> PluginInfo:
        """Decode a VERSION answer like the real executors."""
        return decode_plugin_info(data)

    # -- shared steps -------------------------------------------------------------------------

    def _begin(
        self, plugin_path: str, stdin: bytes, environ: Mapping[str, str], timeout: float | None
    ) -> tuple[_Plugin, FakeCall]:
        name = os.path.basename(plugin_path)
        command = environ.get("CNI_COMMAND", "")
        plugin = self._plugins.get(name)
        if plugin is None:
            raise start_failure(plugin_path, command, FileNotFoundError(errno.ENOENT, "missing"))
        call = FakeCall(
            plugin_type=name,
            plugin_path=plugin_path,
            command=command,
            env=dict(environ),
            stdin=bytes(stdin),
            timeout=timeout,
        )
        with self._lock:
            self.calls.append(call)
        return plugin, call


class AsyncFakeExecutor(FakeExecutor):
    """An :class:`pycni.exec.AsyncExecutor` over the same registry; handlers may be ``async``.

    A ``delay`` is slept with :func:`asyncio.sleep`, so cancelling the caller cancels the "plugin".
    """

    async def exec_plugin(  # type: ignore[override]
        self,
        plugin_path: str,
        stdin: bytes,
        environ: Mapping[str, str],
        *,
        timeout: float | None = None,
    ) -> bytes:
        """Run the fake plugin at ``plugin_path``: its stdout, or the :class:`PluginError`."""
        plugin, call = self._begin(plugin_path, stdin, environ, timeout)
        if plugin.versions is not None and call.command == "VERSION":
            return _version_answer(plugin.versions)
        try:
            value = plugin.handler(call.command, call.env, call.stdin)
            if isinstance(value, Awaitable):
                value = await value
        except CNIError as err:
            value = err
        outcome = _to_outcome(value)
        if outcome.delay:
            await asyncio.sleep(
                min(outcome.delay, timeout) if timeout is not None else outcome.delay
            )
        return _conclude(outcome, plugin_path, call.command, timeout)


def _version_answer(versions: tuple[str, ...]) -> bytes:
    return PluginInfo("1.1.0", versions).to_bytes()


def _to_outcome(value: Any) -> FakeOutcome:
    if isinstance(value, FakeOutcome):
        return value
    if isinstance(value, CNIError):
        body = json.dumps(value.to_dict(), indent=4).encode()
        return FakeOutcome(stdout=body, exit_status=1)
    if value is None:
        return FakeOutcome()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return FakeOutcome(stdout=bytes(value))
    if isinstance(value, str):
        return FakeOutcome(stdout=value.encode())
    if isinstance(value, (Mapping, list)):
        return FakeOutcome(stdout=json.dumps(value).encode())
    to_bytes = getattr(value, "to_bytes", None)
    if callable(to_bytes) and not isinstance(value, (int, float)):
        return FakeOutcome(stdout=to_bytes())
    raise FakeHandlerError(
        f"fake plugin handler returned {type(value).__name__}; expected None, bytes, str, a "
        "mapping, a list, an object with to_bytes(), a FakeOutcome or a CNIError"
    )


def _conclude(outcome: FakeOutcome, plugin_path: str, verb: str, timeout: float | None) -> bytes:
    if timeout is not None and outcome.delay >= timeout:
        raise timeout_error(plugin_path, verb, timeout, stderr=outcome.stderr)
    if outcome.exit_status == 0:
        return outcome.stdout
    return _raise_failure(outcome, plugin_path, verb)


def _raise_failure(outcome: FakeOutcome, plugin_path: str, verb: str) -> bytes:
    raise failure_from_output(
        plugin_path=plugin_path,
        verb=verb,
        stdout=outcome.stdout,
        stderr=outcome.stderr,
        exec_error=f"exit status {outcome.exit_status}",
        exit_status=outcome.exit_status,
    )
