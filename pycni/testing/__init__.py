"""Test helpers for runtimes built on pycni: fake executors, fake plugins and a pytest plugin.

* :class:`FakeExecutor` / :class:`AsyncFakeExecutor`: plugins as Python callables, no processes
  (``CNIConfig(executor=FakeExecutor())``) for fast unit tests;
* :class:`FakePluginFactory`: real executable plugins that record every invocation and answer
  from a script, for end-to-end tests through real processes;
* the ``pycni`` pytest plugin (:mod:`pycni.testing.pytest_plugin`), active once pycni is
  installed: fixtures ``cni_conf_dir``, ``cni_bin_dir``, ``cni_cache_dir``, ``cni``,
  ``fake_plugin`` and ``netns``.

Names are imported lazily so that loading the pytest plugin costs nothing until used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_LAZY: dict[str, str] = {
    "AsyncFakeExecutor": "fake_executor",
    "FakeCall": "fake_executor",
    "FakeExecutor": "fake_executor",
    "FakeOutcome": "fake_executor",
    "noop_handler": "fake_executor",
    "PASSTHROUGH": "fake_plugin",
    "FakePlugin": "fake_plugin",
    "FakePluginFactory": "fake_plugin",
    "PluginCall": "fake_plugin",
    "Script": "fake_plugin",
}

__all__ = [
    "PASSTHROUGH",
    "AsyncFakeExecutor",
    "FakeCall",
    "FakeExecutor",
    "FakeOutcome",
    "FakePlugin",
    "FakePluginFactory",
    "PluginCall",
    "Script",
    "noop_handler",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


if TYPE_CHECKING:  # pragma: no cover
    from .fake_executor import (
        AsyncFakeExecutor,
        FakeCall,
        FakeExecutor,
        FakeOutcome,
        noop_handler,
    )
    from .fake_plugin import PASSTHROUGH, FakePlugin, FakePluginFactory, PluginCall, Script
