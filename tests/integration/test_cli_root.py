"""The root-only commands, ``pycni exec`` and ``pycni demo --real``, with the real reference
plugins in network namespaces (issue 7). The integration suite covers them end to end; these
check the CLI's own promises: exit status, cleanup after exit and signals, notes on stderr.

They live in the integration directory so that its host guard covers them: they switch
``net.ipv4.ip_forward`` on and portmap creates the shared ``CNI-HOSTPORT-*`` chains, which the
guard restores and removes after the suite (issue 17 item 6)."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

PLUGIN_DIRS = ("/opt/cni/bin", "/usr/lib/cni", "/usr/libexec/cni")
NEEDED = ("loopback", "bridge", "host-local", "portmap", "bandwidth")


def _plugin_dir() -> str | None:
    for directory in PLUGIN_DIRS:
        if all(os.path.isfile(os.path.join(directory, p)) for p in NEEDED):
            return directory
    return None


PLUGIN_DIR = _plugin_dir()
pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (network namespaces)"),
    pytest.mark.skipif(PLUGIN_DIR is None, reason="the reference CNI plugins are not installed"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="needs iproute2"),
]


def netns_of(stderr: str) -> str:
    """The namespace ``pycni exec`` created, from its notes on stderr."""
    for line in stderr.splitlines():
        if line.startswith("pycni exec: ") and " in /run/netns/" in line:
            return line.rsplit(" in ", 1)[1]
    raise AssertionError(f"no namespace note in {stderr!r}")


def own_namespaces() -> set[str]:
    """Namespaces named like the ones pycni exec creates (other suites use other prefixes)."""
    run = Path("/run/netns")
    return (
        {p.name for p in run.iterdir() if p.name.startswith("pycni-exec-")}
        if run.is_dir()
        else set()
    )


class Setup:
    """A bridge network with a unique bridge name and subnet, its own cache and IPAM dirs."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.bridge = "pcli" + secrets.token_hex(4)
        self.subnet = f"10.249.{secrets.randbelow(200) + 20}.0/24"
        self.conf_dir = tmp / "net.d"
        self.conf_dir.mkdir()
        self.cache_dir = tmp / "cache"
        self.ipam_dir = tmp / "ipam"
        conf = {
            "cniVersion": "1.0.0",
            "name": "clinet",
            "plugins": [
                {
                    "type": "bridge",
                    "bridge": self.bridge,
                    "isGateway": True,
                    "ipam": {
                        "type": "host-local",
                        "ranges": [[{"subnet": self.subnet}]],
                        "dataDir": str(self.ipam_dir),
                    },
                },
                {"type": "portmap", "capabilities": {"portMappings": True}},
            ],
        }
        (self.conf_dir / "10-clinet.conflist").write_text(json.dumps(conf))

    def argv(self, *command: str) -> list[str]:
        return [
            sys.executable, "-m", "pycni", "exec", "--network", "clinet",
            "--conf-dir", str(self.conf_dir), "--bin-dir", str(PLUGIN_DIR),
            "--cache-dir", str(self.cache_dir), "--port", f"{30000 + secrets.randbelow(20000)}:80",
            "--", *command,
        ]  # fmt: skip

    def assert_clean(self, netns: str) -> None:
        assert not os.path.lexists(netns)
        results = self.cache_dir / "results"
        assert not results.exists() or not [p for p in results.iterdir() if p.is_file()]
        leases = [p.name for p in self.ipam_dir.rglob("*") if p.name[0].isdigit()]
        assert leases == []

    def cleanup(self) -> None:
        subprocess.run(["ip", "link", "delete", self.bridge], capture_output=True, check=False)


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    created = Setup(tmp_path)
    yield created  # type: ignore[misc]
    created.cleanup()


def test_exec_runs_the_command_inside_and_cleans_up(setup: Setup) -> None:
    proc = subprocess.run(
        setup.argv("sh", "-c", "ip -brief address; exit 7"),
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 7, proc.stderr
    lines = {line.split()[0].split("@")[0]: line for line in proc.stdout.splitlines()}
    assert "127.0.0.1/8" in lines["lo"]
    prefix = setup.subnet.rsplit(".", 2)[0]
    assert f"{prefix}." in lines["eth0"]
    notes = proc.stderr.splitlines()
    assert any(n.startswith("pycni exec: eth0 ") and "(clinet)" in n for n in notes)
    setup.assert_clean(netns_of(proc.stderr))


@pytest.mark.parametrize(
    ("sig", "group", "status"), [(signal.SIGTERM, False, 143), (signal.SIGINT, True, 130)]
)
def test_exec_cleans_up_after_a_signal(setup: Setup, sig: int, group: bool, status: int) -> None:
    """SIGTERM to pycni is passed on; Ctrl-C (SIGINT to the process group) ends CMD and pycni
    waits for it; either way the networks are detached and the namespace removed."""
    before = own_namespaces()
    proc = subprocess.Popen(
        setup.argv("sleep", "30"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not (own_namespaces() - before) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # let the command start
    if group:
        os.killpg(proc.pid, sig)
    else:
        proc.send_signal(sig)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == status, err
    setup.assert_clean(netns_of(err))


def test_exec_usage_and_setup_errors(setup: Setup, tmp_path: Path) -> None:
    proc = subprocess.run(setup.argv(), capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert "no command given" in proc.stderr
    argv = setup.argv("true")
    argv[argv.index("clinet")] = "nosuchnet"
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert "nosuchnet not found" in proc.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    argv = setup.argv("true")
    argv[argv.index(str(PLUGIN_DIR))] = str(empty)
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert proc.returncode in (1, 2), proc.stderr
    assert "loopback" in proc.stderr or "bridge" in proc.stderr
    assert len(proc.stderr.splitlines()) == 1


def test_demo_real() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pycni", "demo", "--real", "--json"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["ok"] is True
    steps = [s["step"] for s in doc["steps"]]
    assert steps == ["ADD", "ADD", "INSIDE", "CHECK", "CACHE", "DEL", "DEL"]
    assert "eth0" in doc["steps"][2]["output"]
    assert not Path("/sys/class/net/pycni-demo0").exists()
    assert doc["netns"].startswith("/run/netns/pycni-demo-")
    assert not os.path.lexists(doc["netns"])
