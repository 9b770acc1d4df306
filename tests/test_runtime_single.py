"""libcni api_test.go parity for the single-plugin verbs (reference 7.1, fixture A), against the
real noop test plugin, for the sync and the asyncio runtime."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest

import pycni
from pycni import NetworkConfig, RuntimeConf

IP_RESULT = '{"cniVersion":"1.1.0","ips":[{"address":"10.1.2.3/24"}],"dns":{}}'
PORT_MAPPINGS = [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}]


def conf_bytes(version: str = "1.1.0", plugin_type: str = "noop") -> bytes:
    return json.dumps(
        {
            "type": plugin_type,
            "name": "apitest",
            "some-key": "some-value",
            "cniVersion": version,
            "capabilities": {"portMappings": True},
        }
    ).encode()


def write_debug(path: Path, **fields: Any) -> None:
    path.write_text(json.dumps(fields))


def read_debug(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def seen_stdin(debug: dict[str, Any]) -> dict[str, Any]:
    return json.loads(base64.b64decode(debug["CmdArgs"]["StdinData"]))


@pytest.fixture
def fx(tmp_path: Path, noop_bin: Path, runtime: Any) -> Any:
    class Fixture:
        debug = tmp_path / "debug.json"
        cache_dir = tmp_path / "cache"
        bin_dir = noop_bin
        cni = runtime.make(path=[str(noop_bin)], cache_dir=str(tmp_path / "cache"))
        rt = RuntimeConf(
            container_id="some-container-id",
            netns="/some/netns/path",
            ifname="some-eth0",
            args=[("DEBUG", str(tmp_path / "debug.json"))],
            capability_args={"portMappings": PORT_MAPPINGS},
        )
        conf = NetworkConfig.from_bytes(conf_bytes())

        def expected_stdin(self, **extra: Any) -> dict[str, Any]:
            doc = json.loads(conf_bytes())
            doc["runtimeConfig"] = {"portMappings": PORT_MAPPINGS}
            doc.update(extra)
            return doc

        def cache_file(self, ifname: str = "some-eth0") -> Path:
            return self.cache_dir / "results" / f"apitest-some-container-id-{ifname}"

        def write_cache(self, content: str) -> None:
            self.cache_file().parent.mkdir(parents=True, exist_ok=True)
            self.cache_file().write_text(content)

    fixture = Fixture()
    write_debug(fixture.debug, ReportResult=IP_RESULT)
    return fixture


def test_runtime_config_only_for_declared_and_supplied_capabilities(fx: Any) -> None:
    """Reference 7.1 items 1-3 and 3.3 item 9: runtimeConfig carries exactly the capabilities the
    plugin declares true and the caller supplies; validate returns the declared ones."""
    conf = NetworkConfig.from_bytes(
        json.dumps(
            {
                "type": "noop",
                "name": "apitest",
                "cniVersion": "1.1.0",
                "capabilities": {
                    "portMappings": True,
                    "somethingElse": True,
                    "noCapability": False,
                },
            }
        ).encode()
    )
    rt = RuntimeConf(
        container_id="some-container-id",
        netns="/some/netns/path",
        ifname="some-eth0",
        args=[("DEBUG", str(fx.debug))],
        capability_args={
            "portMappings": PORT_MAPPINGS,
            "somethingElse": ["foobar", "baz"],
            "noCapability": True,
            "notAdded": [True, False],
        },
    )
    fx.cni.add_network(conf, rt)
    stdin = seen_stdin(read_debug(fx.debug))
    assert stdin["runtimeConfig"] == {
        "portMappings": PORT_MAPPINGS,
        "somethingElse": ["foobar", "baz"],
    }
    assert stdin["capabilities"] == {
        "portMappings": True,
        "somethingElse": True,
        "noCapability": False,
    }

    fx.cni.del_network(conf, rt)
    rt2 = RuntimeConf(
        container_id="some-container-id",
        netns="/some/netns/path",
        ifname="some-eth0",
        args=[("DEBUG", str(fx.debug))],
        capability_args={"notAdded": 1},
    )
    fx.cni.add_network(conf, rt2)
    assert "runtimeConfig" not in seen_stdin(read_debug(fx.debug))
    assert sorted(fx.cni.validate_network(conf)) == ["portMappings", "somethingElse"]


def test_add_network_returns_result_and_sends_libcni_stdin_and_env(fx: Any) -> None:
    """Reference 7.1 item 4: the 1.1.0 result; the plugin saw ADD, the right CNI_* values and the
    config plus runtimeConfig as stdin."""
    result = fx.cni.add_network(fx.conf, fx.rt)
    assert result.cni_version == "1.1.0"
    assert result.to_dict() == {"cniVersion": "1.1.0", "ips": [{"address": "10.1.2.3/24"}]}
    debug = read_debug(fx.debug)
    assert debug["Command"] == "ADD"
    args = debug["CmdArgs"]
    assert args["ContainerID"] == "some-container-id"
    assert args["Netns"] == "/some/netns/path"
    assert args["IfName"] == "some-eth0"
    assert args["Args"] == f"DEBUG={fx.debug}"
    assert args["Path"] == str(fx.bin_dir)
    assert seen_stdin(debug) == fx.expected_stdin()


def test_add_network_caches_config_args_and_result(fx: Any) -> None:
    """Reference 7.1 items 5-7: cached config bytes, args and result; cached attachments."""
    result = fx.cni.add_network(fx.conf, fx.rt)
    cached = fx.cni.get_network_cached_config(
        fx.conf,
        RuntimeConf(container_id="some-container-id", netns="/some/netns/path", ifname="some-eth0"),
    )
    assert cached is not None
    config, rt = cached
    assert config == conf_bytes()
    assert rt.args == fx.rt.args
    assert json.loads(json.dumps(dict(rt.capability_args))) == {"portMappings": PORT_MAPPINGS}
    assert fx.cni.get_network_cached_result(fx.conf, fx.rt).to_dict() == result.to_dict()
    for container_id in ("", "some-container-id"):
        attachments = fx.cni.get_cached_attachments(container_id)
        assert len(attachments) == 1
        att = attachments[0]
        assert (att.container_id, att.network, att.ifname, att.netns) == (
            "some-container-id",
            "apitest",
            "some-eth0",
            "/some/netns/path",
        )
        assert att.config == conf_bytes()
        assert att.cni_args == fx.rt.args
        assert dict(att.capability_args) == {"portMappings": PORT_MAPPINGS}
    assert fx.cni.get_cached_attachments("other-id") == []


def test_add_network_missing_plugin(fx: Any) -> None:
    """Reference 7.1 item 8."""
    conf = NetworkConfig.from_bytes(conf_bytes(plugin_type="does-not-exist"))
    with pytest.raises(pycni.PluginNotFoundError, match='failed to find plugin "does-not-exist"'):
        fx.cni.add_network(conf, fx.rt)


def test_add_network_plugin_error_is_returned_as_is(fx: Any) -> None:
    """Reference 7.1 item 9: the single-plugin ADD does not wrap the plugin's error."""
    write_debug(fx.debug, ReportError="plugin error: banana")
    with pytest.raises(pycni.PluginError) as info:
        fx.cni.add_network(fx.conf, fx.rt)
    assert str(info.value) == "plugin error: banana"
    assert info.value.code == 999
    assert info.value.plugin_type == "noop"
    assert not fx.cache_file().exists()


def test_add_network_fails_when_results_is_a_file(fx: Any) -> None:
    """Reference 7.1 item 10 and 3.9 item 37."""
    fx.cache_dir.mkdir()
    (fx.cache_dir / "results").write_text("")
    with pytest.raises(pycni.PycniError):
        fx.cni.add_network(fx.conf, fx.rt)


def test_check_network_with_legacy_cache(fx: Any) -> None:
    """Reference 7.1 items 11 and 14: a legacy raw-result cache file becomes prevResult."""
    cached = '{"cniVersion":"1.1.0","ips":[{"address":"10.1.2.3/24"}]}'
    fx.write_cache(cached)
    fx.cni.check_network(fx.conf, fx.rt)
    debug = read_debug(fx.debug)
    assert debug["Command"] == "CHECK"
    assert seen_stdin(debug) == fx.expected_stdin(prevResult=json.loads(cached))
    raw = base64.b64decode(debug["CmdArgs"]["StdinData"]).decode()
    assert '"prevResult":' in raw and '"config":' not in raw and '"kind":' not in raw


def test_check_network_errors(fx: Any) -> None:
    """Reference 7.1 items 12-13 and 16-17."""
    missing = NetworkConfig.from_bytes(conf_bytes(plugin_type="does-not-exist"))
    with pytest.raises(pycni.PluginNotFoundError, match='failed to find plugin "does-not-exist"'):
        fx.cni.check_network(missing, fx.rt)

    old = NetworkConfig.from_bytes(conf_bytes(version="0.3.1"))
    with pytest.raises(pycni.CheckNotSupportedError) as info:
        fx.cni.check_network(old, fx.rt)
    assert str(info.value) == 'configuration version "0.3.1" does not support the CHECK command'
    assert "CmdArgs" not in read_debug(fx.debug)

    fx.write_cache("adfadsfasdfasfdsafaf")
    with pytest.raises(pycni.CacheError) as cache_info:
        fx.cni.check_network(fx.conf, fx.rt)
    assert str(cache_info.value).startswith(
        'failed to get network "apitest" cached result: decoding version from network config: '
        "invalid character 'a'"
    )

    fx.write_cache('{"cniVersion":"0.4567.0","ips":[{"version":"4","address":"10.1.2.3/24"}]}')
    with pytest.raises(pycni.CacheError, match='unsupported CNI result version "0.4567.0"'):
        fx.cni.check_network(fx.conf, fx.rt)

    fx.write_cache('{"cniVersion":"0.3.1","ips":[{"version":"4","address":"10.1.2.3/24"}]}')
    fx.cni.check_network(fx.conf, fx.rt)
    prev = seen_stdin(read_debug(fx.debug))["prevResult"]
    assert prev == {"cniVersion": "1.1.0", "ips": [{"address": "10.1.2.3/24"}]}

    write_debug(fx.debug, ReportError="plugin error: banana")
    with pytest.raises(pycni.PluginError, match="^plugin error: banana$"):
        fx.cni.check_network(fx.conf, fx.rt)


def test_check_network_040_passes_prev_result(fx: Any) -> None:
    """Reference 7.1 item 15."""
    conf = NetworkConfig.from_bytes(conf_bytes(version="0.4.0"))
    cached = '{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.1.2.3/24"}],"dns":{}}'
    fx.write_cache(cached)
    fx.cni.check_network(conf, fx.rt)
    assert seen_stdin(read_debug(fx.debug))["prevResult"] == json.loads(cached)


def test_del_network_with_cache(fx: Any) -> None:
    """Reference 7.1 items 18 and 20: DEL gets prevResult, the cache is gone after, DEL twice."""
    fx.cni.add_network(fx.conf, fx.rt)
    fx.cni.del_network(fx.conf, fx.rt)
    debug = read_debug(fx.debug)
    assert debug["Command"] == "DEL"
    assert seen_stdin(debug) == fx.expected_stdin(
        prevResult={"cniVersion": "1.1.0", "ips": [{"address": "10.1.2.3/24"}]}
    )
    assert fx.cni.get_network_cached_result(fx.conf, fx.rt) is None
    assert fx.cni.get_network_cached_config(fx.conf, fx.rt) is None
    assert fx.cni.get_cached_attachments("") == []
    assert fx.cni.get_cached_attachments("some-container-id") == []
    assert not fx.cache_file().exists()
    fx.cni.del_network(fx.conf, fx.rt)
    assert "prevResult" not in seen_stdin(read_debug(fx.debug))


def test_del_network_errors_and_versions(fx: Any) -> None:
    """Reference 7.1 items 19 and 21-23: prevResult only from 0.4.0; a garbage or unconvertible
    cache never blocks DEL."""
    missing = NetworkConfig.from_bytes(conf_bytes(plugin_type="does-not-exist"))
    with pytest.raises(pycni.PluginNotFoundError):
        fx.cni.del_network(missing, fx.rt)

    old = NetworkConfig.from_bytes(conf_bytes(version="0.3.1"))
    fx.write_cache('{"cniVersion":"0.3.1","ips":[{"version":"4","address":"10.1.2.3/24"}]}')
    fx.cni.del_network(old, fx.rt)
    assert "prevResult" not in seen_stdin(read_debug(fx.debug))
    assert not fx.cache_file().exists()

    fx.write_cache('{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.1.2.3/24"}]}')
    fx.cni.del_network(fx.conf, fx.rt)
    assert seen_stdin(read_debug(fx.debug))["prevResult"] == {
        "cniVersion": "1.1.0",
        "ips": [{"address": "10.1.2.3/24"}],
    }

    for garbage in ("adfadsfasdfasfdsafaf", "", '{"cniVersion":"0.4567.0"}'):
        fx.write_cache(garbage)
        fx.cni.del_network(fx.conf, fx.rt)
        assert "prevResult" not in seen_stdin(read_debug(fx.debug))
        assert not fx.cache_file().exists()

    write_debug(fx.debug, ReportError="plugin error: banana")
    fx.write_cache('{"cniVersion":"1.1.0","ips":[{"address":"10.1.2.3/24"}]}')
    with pytest.raises(pycni.PluginError, match="^plugin error: banana$"):
        fx.cni.del_network(fx.conf, fx.rt)
    assert fx.cache_file().exists(), "a failed DEL keeps the cache entry"


def test_version_info_and_validate_network(fx: Any) -> None:
    """Reference 7.1 items 24-26."""
    info = fx.cni.get_version_info("noop")
    assert list(info.supported_versions) == [
        "0.-42.0",
        "0.1.0",
        "0.2.0",
        "0.3.0",
        "0.3.1",
        "0.4.0",
        "1.0.0",
        "1.1.0",
    ]
    with pytest.raises(pycni.PluginNotFoundError, match='failed to find plugin "does-not-exist"'):
        fx.cni.get_version_info("does-not-exist")
    assert fx.cni.validate_network(fx.conf) == ["portMappings"]
    nope = NetworkConfig.from_bytes(conf_bytes(plugin_type="nope"))
    with pytest.raises(pycni.PluginNotFoundError) as info_nope:
        fx.cni.validate_network(nope)
    assert str(info_nope.value) == f'failed to find plugin "nope" in path [{fx.bin_dir}]'
    broken = NetworkConfig.from_bytes(conf_bytes(version="broken"))
    with pytest.raises(
        pycni.PycniError, match='^plugin noop does not support config version "broken"$'
    ):
        fx.cni.validate_network(broken)
    empty = NetworkConfig.from_bytes(conf_bytes(version=""))
    assert fx.cni.validate_network(empty) == ["portMappings"]


@pytest.mark.parametrize(
    "verb", ["add_network", "del_network", "check_network", "get_version_info", "validate_network"]
)
def test_single_verbs_time_out(fx: Any, verb: str) -> None:
    """Reference 3.13 item 50 and 7.1 item 50: a hung plugin is killed at the deadline and the
    error says so with libcni's prefix."""
    conf = NetworkConfig.from_bytes(conf_bytes(plugin_type="sleep"))
    method = getattr(fx.cni, verb)
    args: tuple[Any, ...] = {
        "add_network": (conf, fx.rt),
        "del_network": (conf, fx.rt),
        "check_network": (conf, fx.rt),
        "get_version_info": ("sleep",),
        "validate_network": (conf,),
    }[verb]
    with pytest.raises(pycni.PluginTimeoutError) as info:
        method(*args, timeout=0.5)
    assert "netplugin failed with no error message" in str(info.value)
    assert info.value.plugin_type == "sleep"


def test_cache_files_per_ifname(tmp_path: Path, noop_bin: Path, runtime: Any) -> None:
    """Reference 7.1 item 51: one cache file per attachment, each with its own result."""
    cni = runtime.make(path=[str(noop_bin)], cache_dir=str(tmp_path / "cache"))
    conf = NetworkConfig.from_bytes(b'{"type":"noop","name":"cachetest","cniVersion":"1.1.0"}')
    for ifname, ip in (("eth0", "10.1.2.3/24"), ("eth1", "10.1.2.5/24")):
        debug = tmp_path / f"debug-{ifname}.json"
        write_debug(
            debug, ReportResult=json.dumps({"cniVersion": "1.1.0", "ips": [{"address": ip}]})
        )
        rt = RuntimeConf("some-container-id", "/some/netns/path", ifname, [("DEBUG", str(debug))])
        cni.add_network(conf, rt)
    files = sorted(os.listdir(tmp_path / "cache" / "results"))
    files = [f for f in files if not f.startswith(".")]
    assert files == ["cachetest-some-container-id-eth0", "cachetest-some-container-id-eth1"]
    for name, ip in zip(files, ("10.1.2.3/24", "10.1.2.5/24")):
        doc = json.loads((tmp_path / "cache" / "results" / name).read_text())
        assert doc["kind"] == "cniCacheV1"
        assert doc["containerId"] == "some-container-id"
        assert doc["networkName"] == "cachetest"
        assert name.endswith(doc["ifName"])
        assert doc["result"]["ips"][0]["address"] == ip


def test_cached_config_requires_complete_runtime_conf(tmp_path: Path, runtime: Any) -> None:
    """Reference 7.1 items 52-54 and 3.9 item 35."""
    cni = runtime.make(path=["/nonexistent"], cache_dir=str(tmp_path))
    conf = pycni.NetworkConfigList.from_bytes(
        b'{"name":"cachetest","cniVersion":"1.1.0","plugins":[{"type":"x"}]}'
    )
    for cid, ifname, name in (("some-container-id", "", "cachetest"), ("", "eth0", "cachetest")):
        rt = RuntimeConf(container_id=cid, ifname=ifname)
        with pytest.raises(pycni.CacheError) as info:
            cni.get_network_list_cached_config(conf, rt)
        assert str(info.value) == (
            f'cache file path requires network name ("{name}"), container ID ("{cid}"), '
            f'and interface name ("{ifname}")'
        )
    rt = RuntimeConf(container_id="some-container-id", ifname="eth0")
    assert cni.get_network_list_cached_config(conf, rt) is None
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "cachetest-some-container-id-eth0").write_text("adfadsfasdfasfdsafaf")
    with pytest.raises(pycni.CacheError) as info:
        cni.get_network_list_cached_config(conf, rt)
    assert str(info.value).startswith(
        "failed to unmarshal cached network \"cachetest\" config: invalid character 'a'"
    )
