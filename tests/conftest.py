"""Shared fixtures: the libcni-style noop/sleep test plugins and a sync/async runtime switch."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from plugin_files import install_plugin

PLUGINS = Path(__file__).parent / "plugins"


@pytest.fixture
def noop_bin(tmp_path: Path) -> Path:
    """A plugin directory with libcni's ``noop`` test plugin and a ``sleep`` plugin."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    install_plugin(bin_dir, "noop", PLUGINS / "noop.py")
    install_plugin(bin_dir, "sleep", "import time\ntime.sleep(60)\n")
    return bin_dir


class SyncAsync:
    """Calls the same verb on ``CNIConfig`` or ``AsyncCNIConfig`` and returns plain values, so
    one test body covers both drivers."""

    def __init__(self, mode: str) -> None:
        self.mode = mode

    def make(self, *args: Any, **kwargs: Any) -> Any:
        import pycni

        cls = pycni.CNIConfig if self.mode == "sync" else pycni.AsyncCNIConfig
        return _Bound(self.mode, cls(*args, **kwargs))


class _Bound:
    def __init__(self, mode: str, cni: Any) -> None:
        self.mode = mode
        self.cni = cni

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.cni, name)
        if self.mode == "sync" or not asyncio.iscoroutinefunction(method):
            return method

        def run(*args: Any, **kwargs: Any) -> Any:
            return asyncio.run(method(*args, **kwargs))

        return run


@pytest.fixture(params=["sync", "async"])
def runtime(request: pytest.FixtureRequest) -> SyncAsync:
    """Builds a runtime of the parametrized kind: ``runtime.make(path=..., cache_dir=...)``."""
    return SyncAsync(request.param)
