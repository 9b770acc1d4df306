"""The root-only example scripts run against real plugins (issue 12)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import realnet
from labkit import CNI_PATH, Lab

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_attach_netns_runs_a_command_inside_and_removes_everything(
    lab: Lab, tmp_path: Path
) -> None:
    subnet = lab.subnet()
    name = f"{lab.prefix}-ex"
    bridge = lab.bridge()
    done = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "attach_netns.py"),
            "--cni-path",
            CNI_PATH,
            "--name",
            name,
            "--bridge",
            bridge,
            "--subnet",
            str(subnet),
            "--state-dir",
            str(tmp_path),
            "--",
            "ip",
            "-brief",
            "address",
            "show",
            "eth0",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert f"created network namespace {name}" in done.stdout
    assert f'"address": "{subnet.network_address + 2}/24"' in done.stdout
    assert re.search(
        rf"^eth0@\S+ +UP +{re.escape(str(subnet.network_address + 2))}/24", done.stdout, re.M
    )
    assert "done: namespace, attachments and bridge removed" in done.stdout
    assert name not in realnet.netns_names()
    assert bridge not in realnet.link_names()
    assert lab.allocations("pycni-example") == {}
    assert lab.cni().get_cached_attachments() == []


def test_attach_netns_refuses_a_subnet_in_use(lab: Lab, tmp_path: Path) -> None:
    used = next(iter(realnet.used_ipv4_networks()), None)
    if used is None:  # pragma: no cover - a host without any route
        return
    done = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "attach_netns.py"),
            "--cni-path",
            CNI_PATH,
            "--subnet",
            str(used),
            "--state-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "overlaps" in done.stderr
