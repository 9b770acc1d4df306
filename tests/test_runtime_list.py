"""libcni api_test.go parity for the network-list verbs (reference 7.1, fixture B: three noop
plugins), against the real noop test plugin, for the sync and the asyncio runtime."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import pycni
from pycni import GCArgs, NetworkConfigList, RuntimeConf

IP_RESULT = {"cniVersion": "1.1.0", "ips": [{"address": "10.1.2.3/24"}], "dns": {}}
PORT_MAPPINGS = [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}]


def read(path: Path) -> Any:
    return json.loads(path.read_text())


def stdin_of(debug: dict[str, Any]) -> dict[str, Any]:
    return json.loads(base64.b64decode(debug["CmdArgs"]["StdinData"]))


class ListFixture:
    def __init__(self, tmp_path: Path, bin_dir: Path, runtime: Any) -> None:
        self.tmp = tmp_path
        self.bin_dir = bin_dir
        self.cache_dir = tmp_path / "cache"
        self.cni = runtime.make(path=[str(bin_dir)], cache_dir=str(self.cache_dir))
        self.debugs = [tmp_path / f"debug{i}.json" for i in range(3)]
        self.command_log = tmp_path / "commands.json"
        self.command_log.write_text("[]")
        self.reset()
        self.rt = RuntimeConf(
            container_id="some-container-id",
            netns="/some/netns/path",
            ifname="some-eth0",
            args=[("FOO", "BAR")],
            capability_args={"portMappings": PORT_MAPPINGS, "otherCapability": 33},
        )

    def reset(self) -> None:
        reports = [json.dumps(IP_RESULT), "PASSTHROUGH", "INJECT-DNS"]
        for path, report in zip(self.debugs, reports):
            path.write_text(json.dumps({"ReportResult": report}))

    def plugins(
        self, types: tuple[str, str, str] = ("noop", "noop", "noop")
    ) -> list[dict[str, Any]]:
        return [
            {
                "type": types[0],
                "some-key": "some-value",
                "debugFile": str(self.debugs[0]),
                "commandLog": str(self.command_log),
                "capabilities": {"portMappings": True, "otherCapability": True},
            },
            {
                "type": types[1],
                "some-key": "some-other-value",
                "debugFile": str(self.debugs[1]),
                "prevResult": IP_RESULT,
                "capabilities": {"otherCapability": True},
            },
            {
                "type": types[2],
                "some-key": "yet-another-value",
                "debugFile": str(self.debugs[2]),
                "prevResult": IP_RESULT,
            },
        ]

    def conf(
        self, version: str = "1.1.0", name: str = "some-list", **extra: Any
    ) -> NetworkConfigList:
        types = extra.pop("types", ("noop", "noop", "noop"))
        doc = {"cniVersion": version, "name": name, "plugins": self.plugins(types), **extra}
        return NetworkConfigList.from_bytes(json.dumps(doc).encode())

    def expected_stdin(self, index: int, version: str = "1.1.0", **extra: Any) -> dict[str, Any]:
        doc = dict(self.plugins()[index])
        doc["name"] = "some-list"
        doc["cniVersion"] = version
        rc = {
            key: self.rt.capability_args[key]
            for key in doc.get("capabilities", {})
            if key in self.rt.capability_args
        }
        if rc:
            doc["runtimeConfig"] = rc
        doc.update(extra)
        return doc

    def debug(self, index: int) -> dict[str, Any]:
        return read(self.debugs[index])

    def cache_file(self) -> Path:
        return self.cache_dir / "results" / "some-list-some-container-id-some-eth0"

    def write_cache(self, content: str) -> None:
        self.cache_file().parent.mkdir(parents=True, exist_ok=True)
        self.cache_file().write_text(content)


@pytest.fixture
def fx(tmp_path: Path, noop_bin: Path, runtime: Any) -> ListFixture:
    return ListFixture(tmp_path, noop_bin, runtime)


def test_add_network_list(fx: ListFixture) -> None:
    """Reference 7.1 items 27-28: chained ADD threads prevResult; the final result is cached with
    the list bytes and the runtime's args."""
    conf = fx.conf()
    result = fx.cni.add_network_list(conf, fx.rt)
    assert result.to_dict() == {
        "cniVersion": "1.1.0",
        "ips": [{"address": "10.1.2.3/24"}],
        "dns": {"nameservers": ["1.2.3.4"]},
    }
    prev_for_1 = {"cniVersion": "1.1.0", "ips": [{"address": "10.1.2.3/24"}]}
    for index in range(3):
        debug = fx.debug(index)
        assert debug["Command"] == "ADD"
        extra = {} if index == 0 else {"prevResult": prev_for_1}
        assert stdin_of(debug) == fx.expected_stdin(index, **extra)
        args = debug["CmdArgs"]
        assert (args["ContainerID"], args["Netns"], args["IfName"], args["Args"], args["Path"]) == (
            "some-container-id",
            "/some/netns/path",
            "some-eth0",
            "FOO=BAR",
            str(fx.bin_dir),
        )
    assert fx.cni.get_network_list_cached_result(conf, fx.rt).to_dict() == result.to_dict()
    cached = fx.cni.get_network_list_cached_config(
        conf, RuntimeConf("some-container-id", "", "some-eth0")
    )
    assert cached is not None
    assert cached[0] == conf.bytes
    assert cached[1].args == (("FOO", "BAR"),)
    assert dict(cached[1].capability_args) == dict(fx.rt.capability_args)


def test_add_network_list_missing_plugin(fx: ListFixture) -> None:
    """Reference 7.1 item 29."""
    with pytest.raises(pycni.ChainError, match='failed to find plugin "does-not-exist"'):
        fx.cni.add_network_list(fx.conf(types=("noop", "does-not-exist", "noop")), fx.rt)


@pytest.mark.parametrize(
    ("field", "value", "code", "msg", "details"),
    [
        (
            "container_id",
            "some-%%container-id",
            4,
            "invalid characters in containerID",
            "some-%%container-id",
        ),
        (
            "name",
            "invalid-%%-name",
            7,
            "invalid characters found in network name",
            "invalid-%%-name",
        ),
        ("ifname", "", 4, "interface name is empty", ""),
        (
            "ifname",
            "1234567890123456",
            4,
            "interface name is too long",
            "interface name should be less than 16 characters",
        ),
        ("ifname", ".", 4, "interface name is . or ..", ""),
        ("ifname", "..", 4, "interface name is . or ..", ""),
        ("ifname", "test/test", 4, "interface name contains / or : or whitespace characters", ""),
        ("ifname", "test:test", 4, "interface name contains / or : or whitespace characters", ""),
        ("ifname", "test test", 4, "interface name contains / or : or whitespace characters", ""),
        # issue 16 item 4: a lone surrogate used to escape as UnicodeEncodeError
        ("ifname", "eth\udc80", 4, "interface name is not valid UTF-8", "'eth\\udc80'"),
    ],
)
def test_add_network_list_invalid_identifiers(
    fx: ListFixture, field: str, value: str, code: int, msg: str, details: str
) -> None:
    """Reference 7.1 items 30-32: validation errors are wrapped with the plugin description and
    the inner error keeps libcni's code, message and details."""
    rt = fx.rt
    name = "some-list"
    if field == "container_id":
        rt = RuntimeConf(value, rt.netns, rt.ifname, rt.args, rt.capability_args)
    elif field == "ifname":
        rt = RuntimeConf(rt.container_id, rt.netns, value, rt.args, rt.capability_args)
    else:
        name = value
    with pytest.raises(pycni.ChainError) as info:
        fx.cni.add_network_list(fx.conf(name=name), rt)
    err = info.value
    assert str(err).startswith('plugin type="noop" failed (add): ')
    inner = err.__cause__
    assert isinstance(inner, pycni.ValidationError)
    assert (inner.code, inner.msg, inner.details) == (code, msg, details)
    assert (err.code, err.msg) == (code, msg)
    assert "Command" not in fx.debug(0), "no plugin may run with an invalid identifier"


def test_add_network_list_plugin_error_caches_the_partial_result(fx: ListFixture) -> None:
    """Reference 7.1 items 33-34, and where pycni differs on purpose (issue 17): libcni caches
    nothing after a failed ADD; pycni caches what the plugins before the failing one produced,
    marked partial, so the DEL that follows gives them a prevResult. A failure of the first
    plugin leaves nothing (there is no partial result)."""
    fx.debugs[1].write_text(json.dumps({"ReportError": "plugin error: banana"}))
    with pytest.raises(pycni.ChainError) as info:
        fx.cni.add_network_list(fx.conf(), fx.rt)
    assert str(info.value) == 'plugin type="noop" failed (add): plugin error: banana'
    assert str(info.value.__cause__) == "plugin error: banana"
    entry = read(fx.cache_file())
    assert entry["pycniPartial"] == 1  # plugins whose ADD succeeded
    assert entry["result"]["ips"] == IP_RESULT["ips"]
    fx.reset()
    fx.cni.del_network_list(fx.conf(), fx.rt)
    assert fx.debug(0)["Command"] == "DEL"
    assert stdin_of(fx.debug(0))["prevResult"]["ips"] == IP_RESULT["ips"]
    assert not fx.cache_file().exists()
    fx.debugs[0].write_text(json.dumps({"ReportError": "first fails"}))
    with pytest.raises(pycni.ChainError):
        fx.cni.add_network_list(fx.conf(), fx.rt)
    assert not fx.cache_file().exists()
    fx.reset()
    shutil.rmtree(fx.cache_dir)
    fx.cache_dir.mkdir()
    (fx.cache_dir / "results").write_text("")
    with pytest.raises(pycni.PycniError):
        fx.cni.add_network_list(fx.conf(), fx.rt)


def test_check_network_list(fx: ListFixture) -> None:
    """Reference 7.1 items 35-37: every plugin gets the cached result as prevResult."""
    cached = json.dumps(IP_RESULT)
    fx.write_cache(cached)
    fx.cni.check_network_list(fx.conf(), fx.rt)
    expected_prev = {"cniVersion": "1.1.0", "ips": [{"address": "10.1.2.3/24"}]}
    for index in range(3):
        debug = fx.debug(index)
        assert debug["Command"] == "CHECK"
        assert stdin_of(debug) == fx.expected_stdin(index, prevResult=expected_prev)

    for path in fx.debugs:
        path.write_text("{}")
    fx.cni.check_network_list(fx.conf(disableCheck=True), fx.rt)
    assert all("Command" not in fx.debug(i) for i in range(3))

    fx.write_cache(
        '{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.1.2.3/24"}],"dns":{}}'
    )
    fx.cni.check_network_list(fx.conf(version="0.4.0"), fx.rt)
    assert stdin_of(fx.debug(0))["prevResult"] == json.loads(fx.cache_file().read_text())


def test_check_network_list_errors(fx: ListFixture) -> None:
    """Reference 7.1 items 38-40."""
    with pytest.raises(
        pycni.CheckNotSupportedError, match='configuration version "0.3.1" does not support'
    ):
        fx.cni.check_network_list(fx.conf(version="0.3.1"), fx.rt)
    with pytest.raises(pycni.CheckNotSupportedError):
        fx.cni.check_network_list(fx.conf(version="0.3.1", disableCheck=True), fx.rt)
    fx.write_cache(json.dumps(IP_RESULT))
    with pytest.raises(pycni.PluginNotFoundError, match='failed to find plugin "does-not-exist"'):
        fx.cni.check_network_list(fx.conf(types=("noop", "does-not-exist", "noop")), fx.rt)
    fx.debugs[1].write_text(json.dumps({"ReportError": "plugin error: banana"}))
    with pytest.raises(pycni.PluginError) as info:
        fx.cni.check_network_list(fx.conf(), fx.rt)
    assert str(info.value) == "plugin error: banana"
    fx.write_cache("adfadsfasdfasfdsafaf")
    with pytest.raises(pycni.CacheError) as cache_info:
        fx.cni.check_network_list(fx.conf(), fx.rt)
    assert str(cache_info.value).startswith(
        'failed to get network "some-list" cached result: decoding version from network config: '
        "invalid character 'a'"
    )


def test_del_network_list(fx: ListFixture) -> None:
    """Reference 7.1 items 41-44: reverse order; prevResult from 0.4.0; garbage cache tolerated."""
    fx.cni.del_network_list(fx.conf(), fx.rt)
    log = read(fx.command_log)
    assert [entry["Command"] for entry in log] == ["DEL"]
    for index in range(3):
        assert fx.debug(index)["Command"] == "DEL"
        assert stdin_of(fx.debug(index)) == fx.expected_stdin(index)
    assert fx.cni.get_network_list_cached_result(fx.conf(), fx.rt) is None

    fx.write_cache(
        '{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.1.2.3/24"}],"dns":{}}'
    )
    fx.cni.del_network_list(fx.conf(version="0.4.0"), fx.rt)
    assert stdin_of(fx.debug(0))["prevResult"]["ips"] == [
        {"version": "4", "address": "10.1.2.3/24"}
    ]
    fx.write_cache(
        '{"cniVersion":"0.3.1","ips":[{"version":"4","address":"10.1.2.3/24"}],"dns":{}}'
    )
    fx.cni.del_network_list(fx.conf(version="0.3.1"), fx.rt)
    assert "prevResult" not in stdin_of(fx.debug(0))
    fx.write_cache("adfadsfasdfasfdsafaf")
    fx.cni.del_network_list(fx.conf(), fx.rt)
    assert not fx.cache_file().exists()


def test_del_runs_plugins_in_reverse_order(fx: ListFixture, tmp_path: Path) -> None:
    """Reference 1.7 item 28: DEL runs the chain backwards (checked through the debug files'
    modification order)."""
    fx.cni.del_network_list(fx.conf(), fx.rt)
    mtimes = [fx.debugs[i].stat().st_mtime_ns for i in range(3)]
    assert mtimes[2] <= mtimes[1] <= mtimes[0]


def test_del_network_list_errors(fx: ListFixture) -> None:
    """Reference 7.1 item 43."""
    with pytest.raises(pycni.ChainError, match='failed to find plugin "does-not-exist"'):
        fx.cni.del_network_list(fx.conf(types=("noop", "does-not-exist", "noop")), fx.rt)
    fx.debugs[1].write_text(json.dumps({"ReportError": "plugin error: banana"}))
    with pytest.raises(pycni.ChainError) as info:
        fx.cni.del_network_list(fx.conf(), fx.rt)
    assert str(info.value) == 'plugin type="noop" failed (delete): plugin error: banana'
    assert str(info.value.__cause__) == "plugin error: banana"


def test_validate_network_list(fx: ListFixture) -> None:
    """Reference 7.1 items 45-46 and 3.8 item 31."""
    assert sorted(fx.cni.validate_network_list(fx.conf())) == ["otherCapability", "portMappings"]
    with pytest.raises(pycni.ValidateNetworkError) as info:
        fx.cni.validate_network_list(fx.conf(types=("noop", "nope", "noop")))
    assert str(info.value) == f'[failed to find plugin "nope" in path [{fx.bin_dir}]]'
    with pytest.raises(pycni.ValidateNetworkError) as info:
        fx.cni.validate_network_list(fx.conf(version="broken"))
    one = 'plugin noop does not support config version "broken"'
    assert str(info.value) == f"[{one} {one} {one}]"
    assert len(info.value.errors) == 3


def test_gc_network_list(fx: ListFixture) -> None:
    """Reference 3.11 item 48 and 7.1 item 47: disableGC, a valid set, and nil attachments."""
    conf = fx.conf()
    fx.cni.add_network_list(conf, fx.rt)
    fx.cni.gc_network_list(fx.conf(disableGC=True), GCArgs(valid_attachments=[]))
    assert [e["Command"] for e in read(fx.command_log)] == ["ADD"]

    fx.cni.gc_network_list(conf, GCArgs(valid_attachments=[("some-container-id", "some-eth0")]))
    log = read(fx.command_log)
    assert [e["Command"] for e in log] == ["ADD", "GC"]
    gc_stdin = json.loads(base64.b64decode(log[1]["CmdArgs"]["StdinData"]))
    valid = [{"containerID": "some-container-id", "ifname": "some-eth0"}]
    assert gc_stdin["cni.dev/valid-attachments"] == valid
    assert gc_stdin["cni.dev/attachments"] == valid
    assert log[1]["CmdArgs"]["ContainerID"] == "" and log[1]["CmdArgs"]["IfName"] == ""

    fx.cni.gc_network_list(conf, GCArgs(valid_attachments=None))
    log = read(fx.command_log)
    assert [e["Command"] for e in log] == ["ADD", "GC", "DEL", "GC"]
    last = json.loads(base64.b64decode(log[3]["CmdArgs"]["StdinData"]))
    assert last["cni.dev/valid-attachments"] is None
    assert not fx.cache_file().exists()

    fx.cni.gc_network_list(conf)
    last = json.loads(base64.b64decode(read(fx.command_log)[-1]["CmdArgs"]["StdinData"]))
    assert "cni.dev/valid-attachments" not in last and "cni.dev/attachments" not in last


def test_gc_below_110_only_deletes_stale(fx: ListFixture) -> None:
    """Reference 3.11 item 47: stale DELs happen below 1.1.0, the GC verb does not."""
    conf = fx.conf(version="1.0.0")
    fx.cni.add_network_list(conf, fx.rt)
    fx.cni.gc_network_list(conf, GCArgs(valid_attachments=[]))
    assert [e["Command"] for e in read(fx.command_log)] == ["ADD", "DEL"]


def test_status_network_list(fx: ListFixture) -> None:
    """Reference 7.1 items 48-49 and 3.12: the first error is returned unwrapped with its code."""
    fx.cni.get_status_network_list(fx.conf())
    assert fx.debug(0)["Command"] == "STATUS"
    for path in fx.debugs:
        path.write_text("{}")
    fx.debugs[1].write_text(json.dumps({"ReportError": "not ready", "ReportErrorCode": 50}))
    with pytest.raises(pycni.PluginError) as info:
        fx.cni.get_status_network_list(fx.conf())
    assert info.value.code == 50
    assert fx.debug(0)["Command"] == "STATUS"
    assert fx.debug(1)["Command"] == "STATUS"
    assert "Command" not in fx.debug(2)
    for path in fx.debugs:
        path.write_text("{}")
    fx.cni.get_status_network_list(fx.conf(version="1.0.0"))
    assert all("Command" not in fx.debug(i) for i in range(3))


@pytest.mark.parametrize(
    "verb", ["add_network_list", "del_network_list", "check_network_list", "validate_network_list"]
)
def test_list_verbs_time_out(fx: ListFixture, verb: str) -> None:
    """Reference 3.13 item 50: a hung plugin in a list is killed at the deadline."""
    conf = fx.conf(types=("sleep", "noop", "noop"))
    fx.write_cache(json.dumps(IP_RESULT))
    args = (conf,) if verb == "validate_network_list" else (conf, fx.rt)
    with pytest.raises(pycni.PycniError, match="netplugin failed with no error message"):
        getattr(fx.cni, verb)(*args, timeout=0.5)


def test_cni_versions_selection_and_negotiation(
    fx: ListFixture, runtime: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 5 version negotiation: with plugins supporting only up to 1.0.0, a list offering
    1.1.0 and 1.0.0 fails with libcni's selection and works with negotiate_versions=True."""
    monkeypatch.setenv("NOOP_VERSIONS", "0.4.0,1.0.0")
    conf = fx.conf(version="1.1.0", cniVersions=["1.0.0", "1.1.0"])
    assert conf.cni_version == "1.1.0"
    with pytest.raises(pycni.ChainError, match="incompatible CNI versions"):
        fx.cni.add_network_list(conf, fx.rt)
    negotiating = runtime.make(
        path=[str(fx.bin_dir)], cache_dir=str(fx.cache_dir), negotiate_versions=True
    )
    negotiating.add_network_list(conf, fx.rt)
    assert stdin_of(fx.debug(0))["cniVersion"] == "1.0.0"
    negotiating.del_network_list(conf, fx.rt)

    monkeypatch.setenv("NOOP_VERSIONS", "0.3.1")
    fresh = runtime.make(
        path=[str(fx.bin_dir)], cache_dir=str(fx.cache_dir), negotiate_versions=True
    )
    with pytest.raises(pycni.NegotiationError) as info:
        fresh.add_network_list(conf, fx.rt)
    assert 'noop supports ["0.3.1"]' in str(info.value)


def test_best_effort_del_runs_every_plugin(fx: ListFixture) -> None:
    """Beyond libcni: with best_effort=True a failing plugin does not stop the DELs of the
    plugins before it in the chain; the failure is still raised and the cache entry kept."""
    fx.write_cache(json.dumps(IP_RESULT))
    fx.debugs[1].write_text(json.dumps({"ReportError": "plugin error: banana"}))
    fx.debugs[0].write_text("{}")
    with pytest.raises(pycni.ChainError, match="banana"):
        fx.cni.del_network_list(fx.conf(), fx.rt)
    assert "Command" not in fx.debug(0), "libcni parity: DEL stops at the first failure"
    with pytest.raises(pycni.ChainError, match="banana"):
        fx.cni.del_network_list(fx.conf(), fx.rt, best_effort=True)
    assert fx.debug(0)["Command"] == "DEL"
    assert fx.cache_file().exists()
    missing = fx.conf(types=("noop", "gone-1", "gone-2"))
    with pytest.raises(pycni.AggregateError) as info:
        fx.cni.del_network_list(missing, fx.rt, best_effort=True)
    assert len(info.value.errors) == 2
    assert 'failed to find plugin "gone-2"' in str(info.value)


def _attach(fx: ListFixture, conf: NetworkConfigList) -> Any:
    """Enter cni.attach() for either driver and return (result, commands seen inside)."""
    import asyncio

    cni = fx.cni.cni
    if isinstance(cni, pycni.AsyncCNIConfig):

        async def run() -> Any:
            async with cni.attach(conf, fx.rt) as result:
                return result, [e["Command"] for e in read(fx.command_log)]

        return asyncio.run(run())
    with cni.attach(conf, fx.rt) as result:
        return result, [e["Command"] for e in read(fx.command_log)]


def test_attach_context_manager_adds_then_deletes(fx: ListFixture) -> None:
    """Issue 5: ``with cni.attach(conf, rt) as result`` runs ADD, then DEL on exit."""
    result, inside = _attach(fx, fx.conf())
    assert inside == ["ADD"]
    assert result.to_dict()["ips"] == [{"address": "10.1.2.3/24"}]
    assert [e["Command"] for e in read(fx.command_log)] == ["ADD", "DEL"]
    assert not fx.cache_file().exists()


def test_attach_runs_del_after_failed_add_and_reraises(fx: ListFixture) -> None:
    """Issue 5 and spec 1.7 item 33: after a failed ADD the DEL the spec requires runs at once
    (every plugin, best effort) and the ADD error is re-raised."""
    fx.debugs[2].write_text(json.dumps({"ReportError": "plugin error: banana"}))
    with pytest.raises(pycni.ChainError, match=r"failed \(add\): plugin error: banana"):
        _attach(fx, fx.conf())
    assert [e["Command"] for e in read(fx.command_log)] == ["ADD", "DEL"]
    # the failing plugin fails its DEL too, but its ADD never succeeded: the others were
    # deleted with the partial result as prevResult, and the entry is gone
    assert stdin_of(fx.debug(0))["prevResult"]["ips"] == IP_RESULT["ips"]
    assert not fx.cache_file().exists()


def test_del_after_a_partial_add_skips_plugins_that_never_added(fx: ListFixture) -> None:
    """Issue 17: the third plugin is missing, so ADD fails there with two plugins done. A plain
    DEL (libcni stops at the first failure, which here would be the missing plugin, so the
    first two would never get theirs) deletes the first two with the partial result and removes
    the entry; only a failure of a plugin whose ADD succeeded keeps it."""
    conf = fx.conf(types=("noop", "noop", "does-not-exist"))
    with pytest.raises(pycni.ChainError, match='failed to find plugin "does-not-exist"'):
        fx.cni.add_network_list(conf, fx.rt)
    assert read(fx.cache_file())["pycniPartial"] == 2
    fx.cni.del_network_list(conf, fx.rt)
    assert fx.debug(0)["Command"] == "DEL"
    assert stdin_of(fx.debug(0))["prevResult"]["ips"] == IP_RESULT["ips"]
    assert not fx.cache_file().exists()
