"""The bundled example conf dir and examples/list_networks.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pycni.config import load_conf_list, scan_conf_dir

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NET_D = EXAMPLES / "net.d"


def test_bundled_networks_load() -> None:
    """The bundled directory holds a bridge+portmap conflist and a loopback .conf, all valid."""
    demo = load_conf_list(NET_D, "demo")
    assert [p.type for p in demo.plugins] == ["bridge", "portmap"]
    assert demo.cni_version == "1.1.0"
    assert demo.plugins[1].capabilities == {"portMappings": True}
    assert demo.plugins[0].ipam["type"] == "host-local"
    lo = load_conf_list(NET_D, "lo")
    assert [p.type for p in lo.plugins] == ["loopback"]
    assert scan_conf_dir(NET_D).failures == ()


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / "list_networks.py"), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_list_networks_default_dir() -> None:
    """With no argument the script lists the bundled networks and exits 0."""
    result = _run()
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAME", "VERSION", "PLUGINS", "FILE"]
    assert lines[1].split() == [
        "demo",
        "1.1.0",
        "bridge",
        "->",
        "portmap",
        str(NET_D / "10-demo.conflist"),
    ]
    assert lines[2].split() == ["lo", "1.0.0", "loopback", str(NET_D / "99-loopback.conf")]


def test_list_networks_reports_broken_files(tmp_path: Path) -> None:
    """Broken files go to stderr with their error and make the exit status 1."""
    (tmp_path / "00-bad.conflist").write_text("{")
    (tmp_path / "10-ok.conf").write_text('{"name": "ok", "type": "bridge"}')
    (tmp_path / "20-ok.conflist").write_text('{"name": "ok", "plugins": [{"type": "macvlan"}]}')
    result = _run(str(tmp_path))
    assert result.returncode == 1
    assert "00-bad.conflist" in result.stderr
    assert "unexpected end of JSON input" in result.stderr
    assert f"(shadowed by {tmp_path / '20-ok.conflist'})" in result.stdout
