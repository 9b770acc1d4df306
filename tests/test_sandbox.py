"""Sandbox / AsyncSandbox over fake plugins: setup, rollback, teardown, check, status, gc."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from pycni.errors import CNIError
from pycni.sandbox import AsyncSandbox, Sandbox, SandboxError
from pycni.testing.fake_executor import AsyncFakeExecutor, FakeExecutor, FakeOutcome

BIN = "/opt/cni/bin"


def write(conf_dir: Path, filename: str, name: str, *types: str, **extra: Any) -> Path:
    path = conf_dir / filename
    doc = {"cniVersion": "1.0.0", "name": name, "plugins": [{"type": t} for t in types], **extra}
    path.write_text(json.dumps(doc))
    return path


def ip_plugin(address: str) -> Any:
    def handler(command: str, env: Mapping[str, str], stdin: bytes) -> Any:
        if command != "ADD":
            return None
        return {
            "cniVersion": "1.0.0",
            "interfaces": [{"name": env["CNI_IFNAME"], "sandbox": env["CNI_NETNS"]}],
            "ips": [{"interface": 0, "address": address}],
        }

    return handler


def loopback(command: str, env: Mapping[str, str], stdin: bytes) -> Any:
    if command == "ADD":
        return {
            "cniVersion": "0.3.1",
            "interfaces": [{"name": "lo", "sandbox": env["CNI_NETNS"]}],
            "ips": [{"version": "4", "interface": 0, "address": "127.0.0.1/8"}],
        }
    return None


def failing(command: str, env: Mapping[str, str], stdin: bytes) -> Any:
    if command in ("ADD", "CHECK", "STATUS"):
        raise CNIError(11, f"{command.lower()} refused", "try later")
    return None


class Harness:
    """One test body for both drivers: ``h.call(sandbox.setup, ...)`` returns plain values."""

    def __init__(self, mode: str, tmp_path: Path) -> None:
        self.mode = mode
        self.conf_dir = tmp_path / "net.d"
        self.conf_dir.mkdir()
        self.cache_dir = tmp_path / "cache"
        self.fake: FakeExecutor = AsyncFakeExecutor() if mode == "async" else FakeExecutor()
        self.fake.add_plugin("loopback", loopback)
        self.fake.add_plugin("bridge", ip_plugin("10.1.0.5/24"))
        self.fake.add_plugin("macvlan", ip_plugin("192.168.5.5/24"))
        self.fake.add_plugin("portmap")
        self.fake.add_plugin("failing", failing)

    def sandbox(self, **options: Any) -> Any:
        cls = AsyncSandbox if self.mode == "async" else Sandbox
        return cls(self.conf_dir, [BIN], cache_dir=self.cache_dir, executor=self.fake, **options)

    def call(self, method: Any, *args: Any, **kwargs: Any) -> Any:
        if self.mode == "async":
            return asyncio.run(method(*args, **kwargs))
        return method(*args, **kwargs)

    def calls(self, command: str | None = None) -> list[tuple[str, str, str]]:
        return [
            (c.plugin_type, c.command, c.ifname)
            for c in self.fake.calls
            if command is None or c.command == command
        ]


@pytest.fixture(params=["sync", "async"])
def h(request: pytest.FixtureRequest, tmp_path: Path) -> Harness:
    return Harness(request.param, tmp_path)


def test_setup_aggregates_loopback_and_networks(h: Harness) -> None:
    write(h.conf_dir, "10-a.conflist", "neta", "bridge", "portmap")
    write(h.conf_dir, "20-b.conflist", "netb", "macvlan")
    sb = h.sandbox(max_networks=None)
    result = h.call(sb.setup, "c1", "/run/netns/c1", args={"K8S_POD_NAME": "web"})
    assert list(result.interfaces) == ["lo", "eth0", "eth1"]
    assert str(result.primary_ip().address) == "10.1.0.5/24"
    assert [str(ip.address) for ip in result.interfaces["eth1"].ips] == ["192.168.5.5/24"]
    assert [n.network for n in result.networks] == ["cni-loopback", "neta", "netb"]
    adds = h.calls("ADD")
    assert sorted(adds) == sorted(
        [
            ("loopback", "ADD", "lo"),
            ("bridge", "ADD", "eth0"),
            ("portmap", "ADD", "eth0"),
            ("macvlan", "ADD", "eth1"),
        ]
    )
    assert all(c.args == "K8S_POD_NAME=web" for c in h.fake.calls)
    assert {c.container_id for c in h.fake.calls} == {"c1"}


def test_capability_args_reach_only_declaring_plugins(h: Harness) -> None:
    write(h.conf_dir, "10-a.conflist", "neta", "bridge")
    (h.conf_dir / "10-a.conflist").write_text(
        json.dumps(
            {
                "cniVersion": "1.0.0",
                "name": "neta",
                "plugins": [
                    {"type": "bridge"},
                    {"type": "portmap", "capabilities": {"portMappings": True}},
                ],
            }
        )
    )
    sb = h.sandbox(loopback=False)
    mappings = [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}]
    h.call(sb.setup, "c1", "/ns", capability_args={"portMappings": mappings, "bandwidth": {}})
    portmap = h.fake.calls_for("portmap", "ADD")[0].config
    assert portmap["runtimeConfig"] == {"portMappings": mappings}
    assert "runtimeConfig" not in h.fake.calls_for("bridge", "ADD")[0].config


def test_default_is_first_file_only_like_go_cni(h: Harness) -> None:
    write(h.conf_dir, "20-b.conflist", "netb", "macvlan")
    write(h.conf_dir, "10-a.conflist", "neta", "bridge")
    sb = h.sandbox()
    assert [(n.name, n.ifname) for n in sb.networks] == [("cni-loopback", "lo"), ("neta", "eth0")]


def test_named_networks_and_ifnames(h: Harness) -> None:
    write(h.conf_dir, "10-a.conflist", "neta", "bridge")
    write(h.conf_dir, "20-b.conflist", "netb", "macvlan")
    sb = h.sandbox(networks=["netb", "neta"], ifnames={"neta": "data0"}, loopback=False)
    assert [(n.name, n.ifname) for n in sb.networks] == [("netb", "eth0"), ("neta", "data0")]
    result = h.call(sb.setup, "c1", "/ns")
    assert list(result.interfaces) == ["eth0", "data0"]


@pytest.mark.parametrize("parallel", [True, False])
def test_partial_failure_rolls_back_and_reports_every_network(h: Harness, parallel: bool) -> None:
    write(h.conf_dir, "10-a.conflist", "neta", "bridge")
    write(h.conf_dir, "20-b.conflist", "netb", "failing")
    write(h.conf_dir, "30-c.conflist", "netc", "macvlan")
    sb = h.sandbox(max_networks=None)
    with pytest.raises(SandboxError) as info:
        h.call(sb.setup, "c1", "/ns", parallel=parallel)
    err = info.value
    stories = {s.network: s for s in err.networks}
    assert stories["netb"].outcome.status == "failed"
    assert "add refused; try later" in str(err)
    assert err.rolled_back
    dels = h.calls("DEL")
    if parallel:
        assert stories["netc"].outcome.status == "ok"
        assert dels == [
            ("macvlan", "DEL", "eth2"),
            ("failing", "DEL", "eth1"),
            ("bridge", "DEL", "eth0"),
            ("loopback", "DEL", "lo"),
        ]
    else:  # serial stops at the failure; netc never started and needs no DEL
        assert stories["netc"].outcome.status == "skipped"
        assert ("macvlan", "ADD", "eth2") not in h.calls()
        assert dels == [
            ("failing", "DEL", "eth1"),
            ("bridge", "DEL", "eth0"),
            ("loopback", "DEL", "lo"),
        ]
    assert all(s.rollback is None or s.rollback.ok for s in err.networks)
    assert os.listdir(h.cache_dir / "results") in ([], [".locks"])


def test_without_rollback_networks_stay_attached(h: Harness) -> None:
    write(h.conf_dir, "10-a.conflist", "neta", "bridge")
    write(h.conf_dir, "20-b.conflist", "netb", "failing")
    sb = h.sandbox(max_networks=None, rollback=False)
    with pytest.raises(SandboxError) as info:
        h.call(sb.setup, "c1", "/ns")
    assert not info.value.rolled_back
    assert h.calls("DEL") == []


def test_serial_mode_runs_in_order(h: Harness) -> None:
    write(h.conf_dir, "10-a.conflist", "neta", "bridge")
    write(h.conf_dir, "20-b.conflist", "netb", "macvlan")
    sb = h.sandbox(max_networks=None, parallel=False)
    h.call(sb.setup, "c1", "/ns")
    assert h.calls("ADD") == [
        ("loopback", "ADD", "lo"),
        ("bridge", "ADD", "eth0"),
        ("macvlan", "ADD", "eth1"),
    ]


def test_teardown_reverse_order_continues_past_errors(h: Harness) -> None:
    write(h.conf_dir, "10-a.conflist", "neta", "bridge")
    write(h.conf_dir, "20-b.conflist", "netb", "macvlan")
    sb = h.sandbox(max_networks=None)
    h.call(sb.setup, "c1", "/ns")
    h.fake.calls.clear()
    h.fake.add_plugin(
        "macvlan",
        lambda c, e, s: FakeOutcome(stderr=b"gone", exit_status=1) if c == "DEL" else None,
    )
    with pytest.raises(SandboxError) as info:
        h.call(sb.teardown, "c1", "/ns")
    assert h.calls("DEL") == [
        ("macvlan", "DEL", "eth1"),
        ("bridge", "DEL", "eth0"),
        ("loopback", "DEL", "lo"),
    ]
    assert [s.network for s in info.value.failed] == ["netb"]
    assert "teardown failed for 1 of 3" in str(info.value)


def test_teardown_from_cache_when_config_is_gone(h: Harness) -> None:
    path = write(h.conf_dir, "10-a.conflist", "neta", "bridge")
    write(h.conf_dir, "20-b.conflist", "netb", "macvlan")
    sb = h.sandbox(max_networks=None)
    h.call(sb.setup, "c1", "/ns", args=[("K", "V")], capability_args={"mac": "x"})
    path.unlink()
    sb.reload()
    assert [n.name for n in sb.networks] == ["cni-loopback", "netb"]
    assert [n.ifname for n in sb.networks] == ["lo", "eth0"]  # netb's assigned name moved
    h.fake.calls.clear()
    report = h.call(sb.teardown, "c1", "/ns")
    # neta is deleted from its cached config with its cached ifname and args; netb with eth1
    assert h.calls("DEL") == [
        ("bridge", "DEL", "eth0"),
        ("macvlan", "DEL", "eth1"),
        ("loopback", "DEL", "lo"),
    ]
    assert report.from_cache == ["neta"]
    assert h.fake.calls_for("bridge", "DEL")[0].args == "K=V"
    # nothing left in the cache; a second teardown only sends idempotent DELs
    h.fake.calls.clear()
    report = h.call(sb.teardown, "c1", "/ns")
    assert report.from_cache == []
    assert h.calls("DEL") == [("macvlan", "DEL", "eth0"), ("loopback", "DEL", "lo")]


def test_teardown_does_not_delete_another_networks_interface(h: Harness) -> None:
    write(h.conf_dir, "10-a.conflist", "neta", "bridge")
    sb = h.sandbox()
    h.call(sb.setup, "c1", "/ns")
    write(h.conf_dir, "05-z.conflist", "netz", "macvlan")  # now first: would get eth0
    sb.reload()
    assert [n.name for n in sb.networks] == ["cni-loopback", "netz"]
    h.fake.calls.clear()
    report = h.call(sb.teardown, "c1", "/ns")
    assert ("macvlan", "DEL", "eth0") not in h.calls()
    assert ("bridge", "DEL", "eth0") in h.calls()
    skipped = [s for s in report.networks if s.outcome.status == "skipped"]
    assert [s.network for s in skipped] == ["netz"]


def test_check(h: Harness) -> None:
    write(h.conf_dir, "10-a.conflist", "neta", "bridge")
    write(h.conf_dir, "20-b.conflist", "netb", "macvlan")
    sb = h.sandbox(max_networks=None)
    h.call(sb.setup, "c1", "/ns")
    h.call(sb.check, "c1", "/ns")
    # the built-in loopback list is 0.3.1, which has no CHECK: it is skipped, not failed
    assert sorted(h.calls("CHECK")) == [("bridge", "CHECK", "eth0"), ("macvlan", "CHECK", "eth1")]
    h.fake.add_plugin("macvlan", failing)
    with pytest.raises(SandboxError) as info:
        h.call(sb.check, "c1", "/ns")
    assert [s.network for s in info.value.failed] == ["netb"]


def test_status_readiness(h: Harness) -> None:
    sb = h.sandbox(min_networks=1)
    status = h.call(sb.status)
    assert not status and status.loaded == 0
    assert "not initialized" in status.reason
    write(h.conf_dir, "10-a.conflist", "neta", "bridge", cniVersion="1.1.0")
    (h.conf_dir / "20-bad.conflist").write_text("{nope")
    sb.reload()
    status = h.call(sb.status)
    assert status.ready, status.reason
    assert [p for p, _ in status.load_errors] == [str(h.conf_dir / "20-bad.conflist")]
    assert [c[:2] for c in h.calls("STATUS")] == [("bridge", "STATUS")]
    write(h.conf_dir, "10-a.conflist", "neta", "failing", cniVersion="1.1.0")
    sb.reload()
    status = h.call(sb.status)
    assert not status.ready
    assert "network neta: status refused" in status.reason


def test_named_network_missing_is_a_load_error_not_a_crash(h: Harness) -> None:
    write(h.conf_dir, "10-a.conflist", "neta", "bridge")
    sb = h.sandbox(networks=["nope"])
    assert [n.name for n in sb.networks] == ["cni-loopback"]
    assert "nope not found" in str(sb.load_errors[-1][1])
    assert not h.call(sb.status)


def test_gc_keeps_valid_and_deletes_orphans(h: Harness) -> None:
    path = write(h.conf_dir, "10-a.conflist", "neta", "bridge", cniVersion="1.1.0")
    write(h.conf_dir, "20-b.conflist", "netb", "macvlan", cniVersion="1.1.0")
    sb = h.sandbox(max_networks=None, loopback=False)
    for cid in ("keep", "stale"):
        h.call(sb.setup, cid, f"/ns/{cid}")
    path.unlink()
    sb.reload()
    h.fake.calls.clear()
    report = h.call(sb.gc, ["keep"])
    # neta's config is gone: its stale attachment is deleted from the cache; keep's stays
    assert [(s.network, s.outcome.op.rt.container_id) for s in report.deleted] == [
        ("neta", "stale")
    ]
    assert report.kept["netb"][0].container_id == "keep"
    gc_calls = h.fake.calls_for("macvlan", "GC")
    # the cached attachment (added as eth1) and the container's current assignment (eth0)
    assert gc_calls[0].config["cni.dev/valid-attachments"] == [
        {"containerID": "keep", "ifname": "eth1"},
        {"containerID": "keep", "ifname": "eth0"},
    ]
    cached = {(a.network, a.container_id) for a in h.call(sb.cni.get_cached_attachments)}
    assert cached == {("neta", "keep"), ("netb", "keep")}


def test_attach_context_manager_sync(tmp_path: Path) -> None:
    h = Harness("sync", tmp_path)
    write(h.conf_dir, "10-a.conflist", "neta", "bridge")
    sb = h.sandbox()
    with sb.attach("c1", "/ns") as result:
        assert "eth0" in result.interfaces
        assert h.calls("DEL") == []
    assert h.calls("DEL") == [("bridge", "DEL", "eth0"), ("loopback", "DEL", "lo")]


def test_attach_context_manager_async(tmp_path: Path) -> None:
    h = Harness("async", tmp_path)
    write(h.conf_dir, "10-a.conflist", "neta", "bridge")
    sb = h.sandbox()

    async def main() -> None:
        async with sb.attach("c1", "/ns") as result:
            assert "eth0" in result.interfaces
        assert h.calls("DEL") == [("bridge", "DEL", "eth0"), ("loopback", "DEL", "lo")]

    asyncio.run(main())


def test_async_cancellation_rolls_back_then_reraises(tmp_path: Path) -> None:
    h = Harness("async", tmp_path)
    write(h.conf_dir, "10-a.conflist", "neta", "bridge")
    write(h.conf_dir, "20-b.conflist", "netb", "slow")
    started = asyncio.Event()

    async def slow(command: str, env: Mapping[str, str], stdin: bytes) -> Any:
        if command == "ADD":
            started.set()
            await asyncio.sleep(30)
        return None

    h.fake.add_plugin("slow", slow)
    sb = h.sandbox(max_networks=None)

    async def main() -> None:
        task = asyncio.ensure_future(sb.setup("c1", "/ns"))
        await started.wait()
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert ("slow", "DEL", "eth1") in h.calls("DEL")
    assert ("bridge", "DEL", "eth0") in h.calls("DEL")


def test_parallel_setup_really_overlaps(tmp_path: Path) -> None:
    h = Harness("sync", tmp_path)
    seen: list[str] = []
    barrier = threading.Barrier(2, timeout=5)

    def meet(command: str, env: Mapping[str, str], stdin: bytes) -> Any:
        if command == "ADD":
            barrier.wait()  # both networks must be in ADD at the same time
            seen.append(env["CNI_IFNAME"])
            return {"cniVersion": "1.0.0"}
        return None

    h.fake.add_plugin("meet", meet)
    write(h.conf_dir, "10-a.conflist", "neta", "meet")
    write(h.conf_dir, "20-b.conflist", "netb", "meet")
    sb = h.sandbox(max_networks=None, loopback=False)
    start = time.monotonic()
    sb.setup("c1", "/ns")
    assert sorted(seen) == ["eth0", "eth1"]
    assert time.monotonic() - start < 5


def test_get_config_and_repr(h: Harness) -> None:
    write(h.conf_dir, "10-a.conflist", "neta", "bridge", "portmap")
    sb = h.sandbox()
    assert sb.get_config()[1] == {
        "network": "neta",
        "ifname": "eth0",
        "source": str(h.conf_dir / "10-a.conflist"),
        "cniVersion": "1.0.0",
        "plugins": ["bridge", "portmap"],
        "stale": False,
    }
    assert "neta:eth0" in repr(sb)


def test_loopback_only_sandbox(h: Harness) -> None:
    cls = AsyncSandbox if h.mode == "async" else Sandbox
    sb = cls(None, [BIN], cache_dir=h.cache_dir, executor=h.fake)
    result = h.call(sb.setup, "c1", "/ns")
    assert [str(ip.address) for ip in result.interfaces["lo"].ips] == ["127.0.0.1/8"]


def test_check_reuses_the_cached_args_and_capabilities(h: Harness) -> None:
    (h.conf_dir / "10-a.conflist").write_text(
        json.dumps(
            {
                "cniVersion": "1.0.0",
                "name": "neta",
                "plugins": [
                    {"type": "bridge"},
                    {"type": "portmap", "capabilities": {"bandwidth": True}},
                ],
            }
        )
    )
    sb = h.sandbox(loopback=False)
    bandwidth = {"ingressRate": 1000, "ingressBurst": 1, "egressRate": 0, "egressBurst": 0}
    h.call(sb.setup, "c1", "/ns", args=[("A", "1")], capability_args={"bandwidth": bandwidth})
    h.call(sb.check, "c1", "/ns")
    check = h.fake.calls_for("portmap", "CHECK")[0]
    assert check.config["runtimeConfig"] == {"bandwidth": bandwidth}
    assert check.args == "A=1"
