"""The ``pycni`` pytest plugin (entry point ``pytest11``): fixtures for testing CNI runtimes.

Installed with pycni, active in every pytest run (disable with ``-p no:pycni``). Fixtures:

``cni_conf_dir``, ``cni_bin_dir``, ``cni_cache_dir``
    Fresh per-test directories (``pathlib.Path``) for configuration files, plugin binaries and
    the result cache.
``fake_plugin``
    A :class:`~pycni.testing.FakePluginFactory` writing scripted, recording plugins into
    ``cni_bin_dir``: ``fake_plugin("bridge", result={...})``.
``cni``
    A :class:`pycni.CNIConfig` searching ``cni_bin_dir`` and caching in ``cni_cache_dir``.
``netns``
    The path of a real, empty network namespace (``ip netns add pycni-test-<random>``), deleted
    after the test whatever its outcome. Skips, saying why, when not root or when ``ip netns``
    cannot create one.

Importing this module is cheap: pycni's runtime is imported only when the ``cni`` fixture is used.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ..errors import PycniError

if TYPE_CHECKING:  # pragma: no cover
    from ..runtime import CNIConfig
    from .fake_plugin import FakePluginFactory

NETNS_PREFIX = "pycni-test-"
NETNS_DIR = "/run/netns"


@pytest.fixture
def cni_conf_dir(tmp_path: Path) -> Path:
    """An empty directory for network configuration files (``/etc/cni/net.d`` of the test)."""
    path = tmp_path / "cni-net.d"
    path.mkdir()
    return path


@pytest.fixture
def cni_bin_dir(tmp_path: Path) -> Path:
    """An empty directory for plugin executables (``/opt/cni/bin`` of the test)."""
    path = tmp_path / "cni-bin"
    path.mkdir()
    return path


@pytest.fixture
def cni_cache_dir(tmp_path: Path) -> Path:
    """An empty directory for the result cache (``/var/lib/cni`` of the test)."""
    path = tmp_path / "cni-cache"
    path.mkdir()
    return path


@pytest.fixture
def fake_plugin(cni_bin_dir: Path) -> FakePluginFactory:
    """A factory of scripted, recording fake plugins living in ``cni_bin_dir``."""
    from .fake_plugin import FakePluginFactory

    return FakePluginFactory(cni_bin_dir)


@pytest.fixture
def cni(cni_bin_dir: Path, cni_cache_dir: Path) -> CNIConfig:
    """A :class:`pycni.CNIConfig` wired to ``cni_bin_dir`` and ``cni_cache_dir``."""
    from ..runtime import CNIConfig

    return CNIConfig(path=[str(cni_bin_dir)], cache_dir=str(cni_cache_dir))


def _netns_unavailable() -> str | None:
    """Why a network namespace cannot be made here, or ``None`` when it can be tried."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "needs root to create a network namespace (ip netns add)"
    if shutil.which("ip") is None:
        return "the ip command (iproute2) is not installed"
    return None


@pytest.fixture
def netns() -> Iterator[str]:
    """The path of a fresh network namespace, deleted after the test even when it fails."""
    reason = _netns_unavailable()
    if reason is not None:
        pytest.skip(reason)
    name = NETNS_PREFIX + secrets.token_hex(4)
    created = subprocess.run(
        ["ip", "netns", "add", name], capture_output=True, text=True, check=False
    )
    if created.returncode != 0:
        pytest.skip(f"ip netns add failed: {created.stderr.strip() or created.returncode}")
    try:
        yield os.path.join(NETNS_DIR, name)
    finally:
        deleted = subprocess.run(
            ["ip", "netns", "delete", name], capture_output=True, text=True, check=False
        )
        if deleted.returncode != 0 and os.path.exists(os.path.join(NETNS_DIR, name)):
            raise PycniError(f"could not delete network namespace {name}: {deleted.stderr}")
