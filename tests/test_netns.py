"""Network namespace helpers. Tests that create namespaces need root and skip with the reason."""

from __future__ import annotations

import os
import socket
import subprocess

import pytest

from pycni import netns
from pycni.netns import NetnsError

AVAILABLE, REASON = netns.netns_available()
needs_netns = pytest.mark.skipif(not AVAILABLE, reason=REASON)


def test_availability_answer_has_a_reason() -> None:
    ok, reason = netns.netns_available()
    assert isinstance(ok, bool)
    assert reason


@pytest.mark.parametrize("name", ["", ".", "..", "a b", "x" * 201, "a\n"])
def test_invalid_names_are_refused(name: str) -> None:
    with pytest.raises(NetnsError):
        netns.netns_path(name)


def test_path_and_name() -> None:
    assert netns.netns_path("pod1") == "/run/netns/pod1"
    assert netns.netns_path("/proc/1/ns/net") == "/proc/1/ns/net"


def test_is_netns() -> None:
    assert netns.is_netns("/proc/self/ns/net")
    assert not netns.is_netns("/proc/self/ns/uts")
    assert not netns.is_netns("/etc/hostname")
    assert not netns.is_netns("/does/not/exist")


def test_delete_of_missing_namespace_is_not_an_error() -> None:
    netns.delete_netns("pycni-never-created-xyz")


def test_not_a_namespace_is_a_clear_error(tmp_path: object) -> None:
    with pytest.raises(NetnsError, match="not a network namespace"):
        netns.run_in_netns("/etc/hostname", ["true"])
    with pytest.raises(NetnsError, match="not a network namespace"):
        netns.call_in_netns("/etc/hostname", lambda: None)


@pytest.mark.root
@needs_netns
def test_create_list_run_call_delete() -> None:
    with netns.temporary_netns("pycni-t-") as path:
        name = os.path.basename(path)
        assert netns.is_netns(path)
        assert name in netns.list_netns()
        with pytest.raises(NetnsError, match="already exists"):
            netns.create_netns(name)
        done = netns.run_in_netns(path, ["ip", "-o", "link"], capture_output=True, text=True)
        assert done.returncode == 0
        assert [line.split(":")[1].strip() for line in done.stdout.splitlines()] == ["lo"]
        # a Python callable sees only the namespace's interfaces; this thread is unaffected
        inside = netns.call_in_netns(path, socket.if_nameindex)
        assert [n for _, n in inside] == ["lo"]
        assert len(socket.if_nameindex()) >= 1
        with pytest.raises(subprocess.CalledProcessError):
            netns.run_in_netns(name, ["false"], check=True)
        with pytest.raises(ZeroDivisionError):
            netns.call_in_netns(path, lambda: 1 / 0)
    assert not os.path.exists(path)
    assert name not in netns.list_netns()


@pytest.mark.root
@needs_netns
def test_unshare_fallback_when_ip_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    real_which = netns.shutil.which
    monkeypatch.setattr(netns.shutil, "which", lambda cmd: None if cmd == "ip" else real_which(cmd))
    path = netns.create_netns("pycni-t-unshare")
    try:
        assert netns.is_netns(path)
    finally:
        netns.delete_netns(path)
    assert not os.path.exists(path)
