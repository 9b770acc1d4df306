"""The ``pycni`` pytest plugin: registration, the netns fixture's life cycle and skip reasons."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from pycni.testing import pytest_plugin

pytest_plugins = ["pytester"]

# Inner runs skip plugins they do not need (start-up time).
QUIET = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")


def test_registered_through_the_entry_point(request: pytest.FixtureRequest) -> None:
    """The plugin is loaded by its ``pytest11`` entry point (named ``pycni``)."""
    plugin = request.config.pluginmanager.get_plugin("pycni")
    assert plugin is pytest_plugin


def test_netns_skip_reasons(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without root, or without ``ip``, the netns fixture says why it skips."""
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert "needs root" in (pytest_plugin._netns_unavailable() or "")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(pytest_plugin.shutil, "which", lambda name: None)
    assert "iproute2" in (pytest_plugin._netns_unavailable() or "")


def test_netns_skips_cleanly_when_not_root(pytester: pytest.Pytester) -> None:
    """A test using ``netns`` is skipped (not errored) with the reason when not root."""
    pytester.makeconftest(
        "import os\n"
        "import pytest\n"
        "@pytest.fixture(autouse=True)\n"
        "def not_root(monkeypatch):\n"
        "    monkeypatch.setattr(os, 'geteuid', lambda: 1000)\n"
    )
    pytester.makepyfile("def test_uses(netns):\n    raise AssertionError('not reached')\n")
    result = pytester.runpytest("-rs", *QUIET)
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*needs root*"])


def _can_make_netns() -> bool:
    return pytest_plugin._netns_unavailable() is None


@pytest.mark.skipif(not _can_make_netns(), reason="needs root and iproute2")
def test_netns_is_real_and_removed_even_after_failure(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    """The namespace exists during the test and is deleted afterwards even when the test fails."""
    record = tmp_path / "netns-path"
    pytester.makepyfile(
        "import os\n"
        "def test_fails(netns):\n"
        f"    open({str(record)!r}, 'w').write(netns)\n"
        "    assert os.path.exists(netns)\n"
        "    assert os.path.basename(netns).startswith('pycni-test-')\n"
        "    raise AssertionError('deliberate failure')\n"
    )
    result = pytester.runpytest(*QUIET)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*deliberate failure*"])
    path = record.read_text()
    assert path.startswith("/run/netns/pycni-test-")
    assert not os.path.exists(path)
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True)
    assert os.path.basename(path) not in listed.stdout


@pytest.mark.skipif(not _can_make_netns(), reason="needs root and iproute2")
def test_netns_is_a_separate_network_namespace(netns: str) -> None:
    """The fixture's namespace is not the test process's own."""
    assert os.stat(netns).st_ino != os.stat("/proc/self/ns/net").st_ino


EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "test_my_runtime.py"


def test_documented_example_passes(pytester: pytest.Pytester) -> None:
    """The example test in docs/testing.md (examples/test_my_runtime.py) runs and passes."""
    pytester.makepyfile(test_copied_example=EXAMPLE.read_text())
    result = pytester.runpytest(*QUIET)
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0
    assert outcomes.get("errors", 0) == 0
    assert outcomes["passed"] >= 4


def test_loading_the_plugin_is_cheap() -> None:
    """The plugin loads in every pytest run: it must not import the runtime or attrs models."""
    import sys

    code = (
        "import sys\n"
        "import pycni.testing.pytest_plugin\n"
        "print(','.join(m for m in ('pycni.runtime', 'pycni.types', 'attrs') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
