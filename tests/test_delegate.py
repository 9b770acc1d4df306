"""Delegation helpers for plugins (reference 4.3 item 12, 4.6 item 21, 7.6 item 79)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

from pycni import delegate
from pycni.errors import PluginError, PluginNotFoundError
from pycni.testing import AsyncFakeExecutor, FakeExecutor, FakePluginFactory

CONF = b'{"cniVersion":"1.1.0","name":"delegate-test","ipam":{"type":"ipam-fake"}}'
RESULT = {"cniVersion": "1.1.0", "ips": [{"address": "10.1.2.3/24"}]}
VERBS = ["ADD", "CHECK", "DEL", "GC", "STATUS"]


def call(verb: str, *args: Any, **kwargs: Any) -> Any:
    name = {"DEL": "del"}.get(verb, verb.lower())
    return getattr(delegate, f"delegate_{name}")(*args, **kwargs)


@pytest.fixture
def plugin_env(
    monkeypatch: pytest.MonkeyPatch, fake_plugin: FakePluginFactory, cni_bin_dir: Path
) -> Any:
    """The process environment of a plugin that was itself invoked (CNI_COMMAND=NOPE)."""
    monkeypatch.setenv("CNI_COMMAND", "NOPE")
    monkeypatch.setenv("CNI_ARGS", "DEBUG=/some/file")
    monkeypatch.setenv("CNI_PATH", str(cni_bin_dir))
    monkeypatch.setenv("CNI_NETNS", "/run/netns/x")
    monkeypatch.setenv("CNI_IFNAME", "eth7")
    monkeypatch.setenv("CNI_CONTAINERID", "some-container-id")
    return fake_plugin("ipam-fake", result=RESULT)


@pytest.mark.parametrize("verb", VERBS)
def test_delegate_sees_the_verb_and_inherited_env(plugin_env: Any, verb: str) -> None:
    """Reference 7.6 item 79: the delegate runs with the verb overridden and everything else
    inherited (IfName eth7, CNI_ARGS); the caller's CNI_COMMAND stays NOPE."""
    outcome = call(verb, "ipam-fake", CONF)
    (seen,) = plugin_env.calls()
    assert seen.command == verb
    assert seen.ifname == "eth7"
    assert seen.args == "DEBUG=/some/file"
    assert seen.container_id == "some-container-id"
    assert seen.stdin_raw.encode() == CONF
    assert os.environ["CNI_COMMAND"] == "NOPE"
    if verb == "ADD":
        assert outcome.cni_version == "1.1.0"
        assert [str(ip.address) for ip in outcome.ips] == ["10.1.2.3/24"]
    else:
        assert outcome is None


def test_delegate_add_version_fixup(plugin_env: Any) -> None:
    """Reference 4.4 item 15: a result without cniVersion takes the config's version."""
    plugin_env.configure(result={"ips": [{"version": "4", "address": "10.1.2.3/24"}]})
    result = delegate.delegate_add("ipam-fake", CONF.replace(b"1.1.0", b"0.4.0"))
    assert result.cni_version == "0.4.0"


def test_unknown_delegate(plugin_env: Any, cni_bin_dir: Path) -> None:
    """Reference 7.6 item 79: an unknown plugin -> failed to find plugin."""
    with pytest.raises(PluginNotFoundError, match='^failed to find plugin "nope" in path'):
        delegate.delegate_add("nope", CONF)


def test_no_cni_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reference 4.1 item 1: no CNI_PATH -> no paths provided."""
    monkeypatch.delenv("CNI_PATH", raising=False)
    with pytest.raises(PluginNotFoundError, match="^no paths provided$"):
        delegate.delegate_del("x", CONF)


def test_delegate_error_keeps_its_code(plugin_env: Any) -> None:
    """A delegate's error comes back as a PluginError with its own code/msg/details."""
    plugin_env.configure(error=(11, "try again later", "busy"))
    with pytest.raises(PluginError) as info:
        delegate.delegate_add("ipam-fake", CONF)
    assert (info.value.code, info.value.msg, info.value.details) == (11, "try again later", "busy")


def test_delegate_stderr_is_forwarded(plugin_env: Any, capfd: pytest.CaptureFixture[str]) -> None:
    """Reference 1.10 item 42: the delegate's stderr is forwarded to the caller's stderr."""
    plugin_env.configure(result=RESULT, stderr="delegate says hi")
    delegate.delegate_add("ipam-fake", CONF)
    assert "delegate says hi" in capfd.readouterr().err


def test_delegate_environ_overrides_only_the_command() -> None:
    """Reference 4.3 item 12: only CNI_COMMAND changes (added when absent); input untouched."""
    base = {"CNI_COMMAND": "DEL", "CNI_IFNAME": "eth0", "OTHER": "x"}
    env = delegate.delegate_environ("ADD", base)
    assert env == {"CNI_COMMAND": "ADD", "CNI_IFNAME": "eth0", "OTHER": "x"}
    assert base["CNI_COMMAND"] == "DEL"
    assert len(delegate.delegate_environ("ADD", {"A": "1"})) == 2


def test_explicit_environ_and_executor() -> None:
    """An injected environment and executor are used instead of the process's."""
    fake = FakeExecutor()
    fake.add_plugin("ipam-fake", lambda c, e, s: RESULT if c == "ADD" else None)
    env = {"CNI_PATH": "/opt/cni/bin", "CNI_COMMAND": "NOPE", "CNI_IFNAME": "eth3"}
    result = delegate.delegate_add("ipam-fake", CONF, executor=fake, environ=env)
    assert result.to_dict() == RESULT
    delegate.delegate_gc("ipam-fake", CONF.decode(), executor=fake, environ=env)
    assert [(c.command, c.ifname, c.plugin_path) for c in fake.calls] == [
        ("ADD", "eth3", "/opt/cni/bin/ipam-fake"),
        ("GC", "eth3", "/opt/cni/bin/ipam-fake"),
    ]


@pytest.mark.parametrize("verb", VERBS)
def test_async_delegation(verb: str) -> None:
    """The async variants behave like the sync ones over an AsyncExecutor."""
    fake = AsyncFakeExecutor()
    fake.add_plugin("ipam-fake", lambda c, e, s: RESULT if c == "ADD" else None)
    env = {"CNI_PATH": "/bin", "CNI_COMMAND": "NOPE"}
    name = {"DEL": "del"}.get(verb, verb.lower())
    func = getattr(delegate, f"async_delegate_{name}")
    outcome = asyncio.run(func("ipam-fake", CONF, executor=fake, environ=env))
    assert [c.command for c in fake.calls] == [verb]
    assert (outcome is None) == (verb != "ADD")


def test_async_delegation_with_real_processes(plugin_env: Any) -> None:
    """The async variants default to the real asyncio executor."""
    result = asyncio.run(delegate.async_delegate_add("ipam-fake", CONF))
    assert result.to_dict() == RESULT
    assert plugin_env.commands() == ["ADD"]
