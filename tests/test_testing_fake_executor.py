"""pycni.testing's in-process fake executors, alone and driving the real runtime."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

import pycni
from pycni.errors import CNIError, PluginError, PluginNotFoundError, PluginTimeoutError
from pycni.exec import AsyncExecutor, Executor
from pycni.testing import AsyncFakeExecutor, FakeExecutor, FakeOutcome, noop_handler

RESULT = {"cniVersion": "1.1.0", "ips": [{"address": "10.1.2.3/24"}]}
ENV = {"CNI_COMMAND": "ADD", "CNI_CONTAINERID": "c1", "CNI_IFNAME": "eth0"}
CONF = b'{"cniVersion":"1.1.0","name":"net"}'


def conf_list(*types: str, version: str = "1.1.0") -> pycni.NetworkConfigList:
    body = {"cniVersion": version, "name": "fakenet", "plugins": [{"type": t} for t in types]}
    return pycni.NetworkConfigList.from_bytes(json.dumps(body).encode())


def rt() -> pycni.RuntimeConf:
    return pycni.RuntimeConf(container_id="ctr-1", netns="/run/netns/x", ifname="eth0")


def test_implements_the_executor_protocols() -> None:
    """The fakes satisfy the runtime's executor protocols."""
    assert isinstance(FakeExecutor(), Executor)
    assert isinstance(AsyncFakeExecutor(), AsyncExecutor)


def test_find_in_path_rules() -> None:
    """Reference 4.1: libcni's lookup errors, in libcni's order and words."""
    fake = FakeExecutor()
    fake.add_plugin("bridge")
    fake.add_plugin("pinned", directory="/opt/cni/bin")
    assert fake.find_in_path("bridge", ["/a", "/b"]) == "/a/bridge"
    assert fake.find_in_path("pinned", ["/a", "/opt/cni/bin"]) == "/opt/cni/bin/pinned"
    with pytest.raises(
        PluginNotFoundError, match=r'^failed to find plugin "pinned" in path \[/a\]$'
    ):
        fake.find_in_path("pinned", ["/a"])
    with pytest.raises(
        PluginNotFoundError, match=r'^failed to find plugin "nope" in path \[/a /b\]$'
    ):
        fake.find_in_path("nope", ["/a", "/b"])
    with pytest.raises(PluginNotFoundError, match="^no paths provided$"):
        fake.find_in_path("bridge", [])
    with pytest.raises(PycniErrorLike, match="plugin name"):
        fake.find_in_path("../bridge", ["/a"])
    assert fake.find_in_path("bridge", "/x:/y") == "/x/bridge"


PycniErrorLike = pycni.PycniError


def test_handler_outcomes() -> None:
    """Handlers may return None, bytes, str, mappings, lists or results; calls are recorded."""
    outputs: list[Any] = [None, b"raw", "text", {"a": 1}, [1], pycni.create_result("1.1.0", RESULT)]
    fake = FakeExecutor()
    for index, value in enumerate(outputs):
        fake.add_plugin(f"p{index}", lambda c, e, s, value=value: value)
    got = [fake.exec_plugin(f"/bin/p{i}", CONF, ENV) for i in range(len(outputs))]
    assert got[:3] == [b"", b"raw", b"text"]
    assert json.loads(got[3]) == {"a": 1}
    assert json.loads(got[4]) == [1]
    assert json.loads(got[5]) == RESULT
    assert [c.plugin_type for c in fake.calls] == [f"p{i}" for i in range(len(outputs))]
    call = fake.calls[0]
    assert (call.command, call.container_id, call.ifname, call.stdin) == ("ADD", "c1", "eth0", CONF)
    assert call.config == {"cniVersion": "1.1.0", "name": "net"}


def test_bad_handler_return_is_a_type_error() -> None:
    """A handler returning something unprintable is a bug in the test, reported as such."""
    fake = FakeExecutor()
    fake.add_plugin("odd", lambda c, e, s: 42)
    with pytest.raises(TypeError, match="fake plugin handler returned int"):
        fake.exec_plugin("/bin/odd", CONF, ENV)


def test_cni_error_raised_or_returned() -> None:
    """Reference 4.2 item 8: a CNI error becomes a PluginError with the plugin's code/msg/details."""
    fake = FakeExecutor()

    def raising(command: str, env: Any, stdin: bytes) -> None:
        raise CNIError(11, "try again", "later")

    fake.add_plugin("raising", raising)
    fake.add_plugin("returning", lambda c, e, s: CNIError(50, "not ready"))
    with pytest.raises(PluginError) as info:
        fake.exec_plugin("/bin/raising", CONF, ENV)
    assert (info.value.code, info.value.msg, info.value.details) == (11, "try again", "later")
    assert info.value.exit_status == 1
    assert info.value.plugin_type == "raising"
    assert info.value.verb == "ADD"
    with pytest.raises(PluginError) as info2:
        fake.exec_plugin("/bin/returning", CONF, ENV)
    assert str(info2.value) == "not ready"


@pytest.mark.parametrize(
    ("outcome", "text"),
    [
        (FakeOutcome(exit_status=1), "netplugin failed with no error message: exit status 1"),
        (
            FakeOutcome(stderr="some stderr message", exit_status=1),
            'netplugin failed: "some stderr message": exit status 1',
        ),
        (FakeOutcome(stdout='{"code":7,"msg":"bad"}', stderr="x", exit_status=2), "bad"),
        (
            FakeOutcome(stdout="garbage", exit_status=1),
            'netplugin failed but error parsing its diagnostic message "garbage": ',
        ),
    ],
)
def test_failure_texts_match_the_real_executor(outcome: FakeOutcome, text: str) -> None:
    """Reference 4.2 item 8 / 7.6 item 83: failures read exactly like real plugin failures."""
    fake = FakeExecutor()
    fake.add_plugin("p", lambda c, e, s: outcome)
    with pytest.raises(PluginError) as info:
        fake.exec_plugin("/bin/p", CONF, ENV)
    assert str(info.value).startswith(text)


def test_exit_zero_with_error_object_is_success() -> None:
    """Reference 4.2 item 10: exit 0 is success whatever was printed."""
    fake = FakeExecutor()
    fake.add_plugin("p", lambda c, e, s: FakeOutcome(stdout='{"code":1,"msg":"x"}'))
    assert fake.exec_plugin("/bin/p", CONF, ENV) == b'{"code":1,"msg":"x"}'


def test_delay_beyond_timeout_is_a_timeout() -> None:
    """A delay longer than the call's timeout ends in the executor's time-out error."""
    fake = FakeExecutor()
    fake.add_plugin("slow", lambda c, e, s: FakeOutcome(delay=60))
    with pytest.raises(PluginTimeoutError, match="timed out"):
        fake.exec_plugin("/bin/slow", CONF, ENV, timeout=0.01)
    fast = FakeExecutor()
    fast.add_plugin("quick", lambda c, e, s: FakeOutcome(stdout="ok", delay=0.01))
    assert fast.exec_plugin("/bin/quick", CONF, ENV, timeout=5) == b"ok"


def test_missing_plugin_at_exec() -> None:
    """Executing an unregistered path fails like a missing binary, naming the path."""
    fake = FakeExecutor()
    fake.add_plugin("gone")
    fake.remove_plugin("gone")
    with pytest.raises(PluginError, match="fork/exec /bin/gone: no such file or directory"):
        fake.exec_plugin("/bin/gone", CONF, ENV)


def test_version_answers() -> None:
    """VERSION is answered from ``versions`` (handler not called) unless versions is None."""
    fake = FakeExecutor()
    seen: list[str] = []

    def handler(command: str, env: Any, stdin: bytes) -> Any:
        seen.append(command)
        return CNIError(4, "unknown CNI_COMMAND: VERSION")

    fake.add_plugin("modern", handler, versions=["0.4.0", "1.0.0"])
    fake.add_plugin("ancient", handler, versions=None)
    cni = pycni.CNIConfig(path=["/bin"], executor=fake)
    assert cni.get_version_info("modern").supported_versions == ("0.4.0", "1.0.0")
    assert seen == []
    assert cni.get_version_info("ancient").supported_versions == ("0.1.0",)
    assert seen == ["VERSION"]
    assert [c.command for c in fake.calls_for("modern")] == ["VERSION"]


def test_noop_handler_passes_prev_result_through() -> None:
    """The default handler echoes prevResult on ADD and prints an empty result otherwise."""
    with_prev = json.dumps({"cniVersion": "1.0.0", "name": "n", "prevResult": RESULT}).encode()
    assert noop_handler("ADD", {}, with_prev) == RESULT
    assert noop_handler("ADD", {}, b'{"cniVersion":"0.4.0","name":"n"}') == {"cniVersion": "0.4.0"}
    assert noop_handler("DEL", {}, with_prev) is None


def test_drives_the_runtime(tmp_path: Path) -> None:
    """A whole chain through CNIConfig with no process: ADD threads prevResult, DEL reverses."""
    fake = FakeExecutor()
    fake.add_plugin("ipam-ish", lambda c, e, s: RESULT if c == "ADD" else None)
    fake.add_plugin("tracer")
    cni = pycni.CNIConfig(path=["/opt/cni/bin"], cache_dir=str(tmp_path), executor=fake)
    conf = conf_list("ipam-ish", "tracer")
    result = cni.add_network_list(conf, rt())
    assert [str(ip.address) for ip in result.ips] == ["10.1.2.3/24"]
    tracer_add = fake.calls_for("tracer", "ADD")[0]
    assert tracer_add.config["prevResult"] == RESULT
    assert tracer_add.env["CNI_CONTAINERID"] == "ctr-1"
    cni.del_network_list(conf, rt())
    assert [(c.plugin_type, c.command) for c in fake.calls[2:]] == [
        ("tracer", "DEL"),
        ("ipam-ish", "DEL"),
    ]


def test_error_code_survives_the_runtime(tmp_path: Path) -> None:
    """Reference 11 item 33: a plugin's STATUS error code reaches the caller unwrapped."""
    fake = FakeExecutor()
    fake.add_plugin("p", lambda c, e, s: CNIError(50, "plugin not available"))
    cni = pycni.CNIConfig(path=["/bin"], cache_dir=str(tmp_path), executor=fake)
    with pytest.raises(pycni.CNIError) as info:
        cni.get_status_network_list(conf_list("p"))
    assert info.value.code == 50


def test_async_fake_executor(tmp_path: Path) -> None:
    """AsyncFakeExecutor accepts async handlers and drives AsyncCNIConfig."""
    fake = AsyncFakeExecutor()

    async def handler(command: str, env: Any, stdin: bytes) -> Any:
        await asyncio.sleep(0)
        return RESULT if command == "ADD" else None

    fake.add_plugin("p", handler)

    async def main() -> Any:
        cni = pycni.AsyncCNIConfig(path=["/bin"], cache_dir=str(tmp_path), executor=fake)
        return await cni.add_network_list(conf_list("p"), rt())

    result = asyncio.run(main())
    assert result.to_dict() == RESULT
    assert [c.command for c in fake.calls] == ["ADD"]


def test_async_delay_is_cancellable() -> None:
    """An async fake's delay is an asyncio sleep: the caller's timeout cancels it."""
    fake = AsyncFakeExecutor()
    fake.add_plugin("slow", lambda c, e, s: FakeOutcome(delay=60))

    async def main() -> None:
        await asyncio.wait_for(fake.exec_plugin("/bin/slow", CONF, ENV), timeout=0.05)

    with pytest.raises(asyncio.TimeoutError):
        asyncio.run(main())
