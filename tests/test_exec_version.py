"""``get_version_info`` / ``async_get_version_info`` through fake executors (reference 7.6 item 81).

The executor protocol is the only way to plugins, so a fake must be enough to drive VERSION.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence

import pytest

from pycni.errors import PluginError
from pycni.exec import (
    AsyncExecutor,
    Executor,
    async_get_version_info,
    get_version_info,
)
from pycni.version import PluginInfo


class FakeExecutor:
    """Answers VERSION with canned output or a canned error, recording what it was given."""

    def __init__(self, stdout: bytes = b"", error: Exception | None = None) -> None:
        self.stdout = stdout
        self.error = error
        self.calls: list[tuple[str, bytes, dict[str, str], float | None]] = []
        self.lookups: list[tuple[str, list[str]]] = []

    def find_in_path(self, plugin_type: str, paths: Sequence[str]) -> str:
        self.lookups.append((plugin_type, list(paths)))
        return f"/fake/{plugin_type}"

    def _exec(
        self, plugin_path: str, stdin: bytes, environ: Mapping[str, str], timeout: float | None
    ) -> bytes:
        self.calls.append((plugin_path, stdin, dict(environ), timeout))
        if self.error is not None:
            raise self.error
        return self.stdout

    def exec_plugin(
        self,
        plugin_path: str,
        stdin: bytes,
        environ: Mapping[str, str],
        *,
        timeout: float | None = None,
    ) -> bytes:
        return self._exec(plugin_path, stdin, environ, timeout)

    def decode_version(self, data: bytes) -> PluginInfo:
        # a decoder of its own, to show the executor's decoder is the one used
        return PluginInfo("9.9.9", json.loads(data)["versions"])


class AsyncFakeExecutor(FakeExecutor):
    async def exec_plugin(  # type: ignore[override]
        self,
        plugin_path: str,
        stdin: bytes,
        environ: Mapping[str, str],
        *,
        timeout: float | None = None,
    ) -> bytes:
        await asyncio.sleep(0)
        return self._exec(plugin_path, stdin, environ, timeout)


def _version(fake: FakeExecutor, timeout: float | None = 3.0) -> PluginInfo:
    if isinstance(fake, AsyncFakeExecutor):
        assert isinstance(fake, AsyncExecutor)
        return asyncio.run(async_get_version_info(fake, "noop", ["/a", "/b"], timeout=timeout))
    assert isinstance(fake, Executor)
    return get_version_info(fake, "noop", ["/a", "/b"], timeout=timeout)


@pytest.fixture(params=[FakeExecutor, AsyncFakeExecutor], ids=["sync", "async"])
def fake_cls(request: pytest.FixtureRequest) -> type[FakeExecutor]:
    cls: type[FakeExecutor] = request.param
    return cls


def test_version_request_shape(fake_cls: type[FakeExecutor]) -> None:
    """Reference 7.6 item 81: lookup through the executor, VERSION env, stdin, decoder, timeout."""
    fake = fake_cls(stdout=b'{"versions":["0.42.0"]}')
    info = _version(fake)
    assert info.supported_versions == ("0.42.0",)
    assert fake.lookups == [("noop", ["/a", "/b"])]
    [(path, stdin, env, timeout)] = fake.calls
    assert path == "/fake/noop"
    assert json.loads(stdin) == {"cniVersion": "1.1.0"}
    assert env["CNI_COMMAND"] == "VERSION"
    assert timeout == 3.0


def test_version_raw_error_is_returned_unchanged(fake_cls: type[FakeExecutor]) -> None:
    """Reference 7.6 item 81: raw error ``banana``."""
    banana = PluginError(0, "banana")
    fake = fake_cls(error=banana)
    with pytest.raises(PluginError) as info:
        _version(fake)
    assert info.value is banana


def test_version_unknown_command_means_0_1_0(fake_cls: type[FakeExecutor]) -> None:
    """Reference 7.6 item 81 / 4.5 item 19, with the dummy environment."""
    fake = fake_cls(error=PluginError(4, "unknown CNI_COMMAND: VERSION"))
    info = _version(fake, timeout=None)
    assert info.supported_versions == ("0.1.0",)
    [(_path, _stdin, env, timeout)] = fake.calls
    assert (env["CNI_NETNS"], env["CNI_IFNAME"], env["CNI_PATH"]) == ("dummy", "dummy", "dummy")
    assert env["CNI_ARGS"] == ""
    assert timeout is None


def test_version_lookup_error_propagates(fake_cls: type[FakeExecutor]) -> None:
    class Missing(fake_cls):  # type: ignore[valid-type,misc]
        def find_in_path(self, plugin_type: str, paths: Sequence[str]) -> str:
            raise LookupError("not here")

    fake = Missing()
    with pytest.raises(LookupError, match="not here"):
        _version(fake)
    assert fake.calls == []
