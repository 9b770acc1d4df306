"""Fault injection with real plugin executables, through CNIConfig and AsyncCNIConfig.

Each fault is a small shell script. For every fault and both drivers the suite runs a chain ADD
(over an attachment that a good plugin already added) and a chain DEL, and checks: the error and
its fields, that every process the plugin started is gone (``/proc``), that no child is left a
zombie, that no file descriptor leaked (``/proc/self/fd`` before and after), and that the cache
entry is unchanged unless the verb succeeded (issue 10, "Plugin faults")."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from reliability_support import (
    leaked_fds,
    live_members,
    open_fds,
    processes,
    wait_until,
    zombie_children,
)

import pycni
from pycni.errors import (
    ChainError,
    PluginError,
    PluginOutputTooLargeError,
    PluginTimeoutError,
    PycniError,
    ResultError,
)

GOOD = """echo $$ >> {pids}; cat >/dev/null
case "$CNI_COMMAND" in
ADD) echo '{"cniVersion":"1.0.0","ips":[{"address":"10.1.1.1/24"}]}' ;;
esac
"""
RT = pycni.RuntimeConf("ctr1", "/var/run/netns/ctr1", "eth0")
TIMEOUT = 0.5


@dataclass(frozen=True)
class Fault:
    """A misbehaving plugin: its script, whether ADD / DEL succeed, and what the ADD error is."""

    name: str
    body: str
    add_ok: bool = False
    del_ok: bool = False
    check_add: Callable[[BaseException], None] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    timeout: float = 10.0
    big_conf: bool = False


def _plugin_error(err: BaseException) -> PluginError:
    assert isinstance(err, ChainError), repr(err)
    assert (err.plugin_type, err.verb, err.index, err.network) == ("faulty", "add", 0, "net")
    inner = err.error
    assert isinstance(inner, PluginError), repr(inner)
    assert (inner.plugin_type, inner.verb) == ("faulty", "ADD")
    assert inner.plugin_path.endswith("/faulty")
    assert str(err).startswith('plugin type="faulty" failed (add): ')
    return inner


def _hang(err: BaseException) -> None:
    inner = _plugin_error(err)
    assert isinstance(inner, PluginTimeoutError)
    assert inner.signal == "SIGKILL" and 0 < inner.timeout <= TIMEOUT
    assert "timed out" in str(inner) and "process group killed" in str(inner)
    assert inner.stderr_tail == "hanging\n"


def _signal(name: str, text: str) -> Callable[[BaseException], None]:
    def check(err: BaseException) -> None:
        inner = _plugin_error(err)
        assert (inner.signal, inner.exit_status) == (name, None)
        assert str(inner) == f"netplugin failed with no error message: signal: {text}"

    return check


def _garbage_exit_1(err: BaseException) -> None:
    inner = _plugin_error(err)
    assert (inner.exit_status, inner.signal, inner.code) == (1, None, 0)
    assert inner.msg.startswith(
        'netplugin failed but error parsing its diagnostic message "garbage{\\n": '
    )
    assert inner.stderr_tail == "oops\n"


def _unparsable_result(err: BaseException) -> None:
    assert isinstance(err, ChainError) and err.plugin_type == "faulty"
    assert isinstance(err.error, ResultError)
    assert "failed to unmarshal raw result" in str(err)


def _closed_then_failed(err: BaseException) -> None:
    inner = _plugin_error(err)
    assert inner.exit_status == 3
    assert str(inner) == 'netplugin failed: "closed stdout\\n": exit status 3'


def _too_large(err: BaseException) -> None:
    inner = _plugin_error(err)
    assert isinstance(inner, PluginOutputTooLargeError)
    assert inner.signal == "SIGKILL" and "more than 1048576 bytes" in str(inner)


FAULTS = [
    Fault(
        "hang",
        "echo hanging >&2; sleep 30 & echo $! >> {pids}; sleep 30",
        check_add=_hang,
        timeout=TIMEOUT,
    ),
    Fault("sigsegv", "kill -SEGV $$", check_add=_signal("SIGSEGV", "segmentation fault")),
    Fault("sigkill", "kill -KILL $$", check_add=_signal("SIGKILL", "killed")),
    Fault(
        "exit-1-garbage",
        "echo 'garbage{'; echo oops >&2; exit 1",
        check_add=_garbage_exit_1,
    ),
    Fault("exit-0-garbage", "echo 'garbage{'", del_ok=True, check_add=_unparsable_result),
    Fault(
        "exit-0-error-object",
        """echo '{"cniVersion":"1.0.0","code":7,"msg":"nope"}'""",
        add_ok=True,
        del_ok=True,
    ),
    Fault(
        "50MB-stdout",
        "head -c 50000000 /dev/zero",
        del_ok=True,
        check_add=_unparsable_result,
    ),
    Fault(
        "stdout-over-the-cap",
        "head -c 3000000 /dev/zero; sleep 30",
        check_add=_too_large,
        options={"max_output": 1 << 20},
    ),
    Fault(
        "stdout-closed-early",
        "exec 1>&-; sleep 0.1",
        del_ok=True,
        check_add=_unparsable_result,
    ),
    Fault(
        "stdout-closed-then-exit-3",
        "exec 1>&-; echo 'closed stdout' >&2; exit 3",
        check_add=_closed_then_failed,
    ),
    Fault(
        "grandchild-holds-stdout",
        """sleep 30 & echo $! >> {pids}; echo '{"cniVersion":"1.0.0"}'""",
        add_ok=True,
        del_ok=True,
        options={"exit_grace": 0.1},
    ),
    Fault(
        "reads-no-stdin",
        """echo '{"cniVersion":"1.0.0"}'""",
        add_ok=True,
        del_ok=True,
        big_conf=True,
    ),
]


def install(path: Path, body: str) -> None:
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)


class Driver:
    """Calls a verb on CNIConfig or AsyncCNIConfig with the same synchronous interface."""

    def __init__(self, kind: str, bin_dir: Path, cache_dir: Path, **options: Any) -> None:
        self.kind = kind
        if kind == "sync":
            self.cni: Any = pycni.CNIConfig(
                path=[str(bin_dir)],
                cache_dir=cache_dir,
                executor=pycni.SubprocessExecutor(**options),
            )
        else:
            self.cni = pycni.AsyncCNIConfig(
                path=[str(bin_dir)],
                cache_dir=cache_dir,
                executor=pycni.AsyncSubprocessExecutor(**options),
            )

    def __call__(self, verb: str, *args: Any, **kwargs: Any) -> Any:
        method = getattr(self.cni, verb)
        if self.kind == "sync":
            return method(*args, **kwargs)
        return asyncio.run(method(*args, **kwargs))


def conf_for(plugin: str, *, big: bool = False) -> pycni.NetworkConfigList:
    plugin_doc: dict[str, str] = {"type": plugin}
    if big:  # 4 MiB of stdin: a plugin that does not read it makes our write fail with EPIPE
        plugin_doc["padding"] = "x" * (4 << 20)
    doc = {"cniVersion": "1.0.0", "name": "net", "plugins": [plugin_doc]}
    return pycni.NetworkConfigList.from_bytes(json.dumps(doc).encode())


def cache_entry(cache_dir: Path) -> bytes | None:
    path = cache_dir / "results" / "net-ctr1-eth0"
    return path.read_bytes() if path.exists() else None


def assert_no_leftovers(pids_file: Path, fds_before: dict[int, str]) -> None:
    """Every process the plugin recorded is gone, no child is a zombie, no fd leaked."""
    pids = [int(p) for p in pids_file.read_text().split()] if pids_file.exists() else []

    def gone() -> bool:
        alive = {pid for pid, state, _, _ in processes() if state not in "ZX"}
        return not (alive & set(pids)) and all(not live_members(pid) for pid in pids)

    assert wait_until(gone, 2.0), f"plugin processes survive: {pids}"
    assert wait_until(lambda: not zombie_children(), 2.0), zombie_children()
    assert leaked_fds(fds_before) == {}


@pytest.fixture(params=["sync", "async"])
def driver_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_plugin_fault(tmp_path: Path, driver_kind: str, fault: Fault) -> None:
    """One fault, one driver: ADD over an existing attachment, then DEL (see module docstring)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    cache_dir = tmp_path / "cache"
    pids = tmp_path / "pids"
    install(bin_dir / "good", GOOD.replace("{pids}", str(pids)))
    install(bin_dir / "faulty", f"echo $$ >> {pids}; " + fault.body.replace("{pids}", str(pids)))
    run = Driver(driver_kind, bin_dir, cache_dir, **fault.options)
    run("add_network_list", conf_for("good"), RT, timeout=10)
    before = cache_entry(cache_dir)
    assert before is not None

    fds = open_fds()
    started = time.monotonic()
    faulty = conf_for("faulty", big=fault.big_conf)
    try:
        result = run("add_network_list", faulty, RT, timeout=fault.timeout)
    except PycniError as exc:
        assert not fault.add_ok, f"ADD failed: {exc!r}"
        assert fault.check_add is not None
        fault.check_add(exc)
        assert cache_entry(cache_dir) == before, "a failed ADD changed the cache"
    else:
        assert fault.add_ok, f"ADD succeeded: {result!r}"
        after = cache_entry(cache_dir)
        assert after is not None and after != before
    assert time.monotonic() - started < fault.timeout + 3
    assert_no_leftovers(pids, fds)

    fds = open_fds()
    kept = cache_entry(cache_dir)
    try:
        run("del_network_list", faulty, RT, timeout=fault.timeout)
    except PycniError as exc:
        assert not fault.del_ok, f"DEL failed: {exc!r}"
        assert isinstance(exc, ChainError) and exc.verb == "delete"
        assert cache_entry(cache_dir) == kept, "a failed DEL changed the cache"
    else:
        assert fault.del_ok, "DEL succeeded"
        assert cache_entry(cache_dir) is None
    assert_no_leftovers(pids, fds)


def test_text_file_busy_while_the_binary_is_replaced(tmp_path: Path, driver_kind: str) -> None:
    """The binary is being rewritten in place when ADD starts (ETXTBSY): the runtime retries
    with fresh processes and runs the new binary once the writer is done."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    plugin = bin_dir / "faulty"
    install(plugin, "echo old >&2; exit 1")
    new_body = (
        b"#!/bin/sh\ncat >/dev/null\n"
        b"""echo '{"cniVersion":"1.0.0","ips":[{"address":"10.9.9.9/24"}]}'\n"""
    )
    writing = threading.Event()

    def replace_slowly() -> None:
        with open(plugin, "wb") as f:  # truncates: the binary is now open for writing
            writing.set()
            for byte in range(len(new_body)):
                f.write(new_body[byte : byte + 1])
                f.flush()
                time.sleep(0.3 / len(new_body))

    writer = threading.Thread(target=replace_slowly)
    run = Driver(driver_kind, bin_dir, tmp_path / "cache", etxtbsy_backoff=0.02)
    fds = open_fds()
    writer.start()
    try:
        writing.wait(5)
        started = time.monotonic()
        result = run("add_network_list", conf_for("faulty"), RT, timeout=10)
        waited = time.monotonic() - started
    finally:
        writer.join()
    assert result is not None and str(result.ips[0].address) == "10.9.9.9/24"
    assert waited >= 0.1, "the binary was never busy"
    assert_no_leftovers(tmp_path / "pids", fds)
    assert cache_entry(tmp_path / "cache") is not None


def test_a_timed_out_verb_can_be_repeated(tmp_path: Path, driver_kind: str) -> None:
    """After a hang was killed, the same runtime object runs the next verb normally (no lock,
    fd or process left from the killed run)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    marker = tmp_path / "hang-once"
    install(
        bin_dir / "faulty",
        f"echo $$ >> {tmp_path / 'pids'}\n"
        f"if [ ! -e {marker} ]; then touch {marker}; sleep 30; fi; cat >/dev/null\n"
        """echo '{"cniVersion":"1.0.0"}'""",
    )
    run = Driver(driver_kind, bin_dir, tmp_path / "cache")
    fds = open_fds()
    with pytest.raises(ChainError) as info:
        run("add_network_list", conf_for("faulty"), RT, timeout=TIMEOUT)
    assert isinstance(info.value.error, PluginTimeoutError)
    assert run("add_network_list", conf_for("faulty"), RT, timeout=5) is not None
    assert_no_leftovers(tmp_path / "pids", fds)
    assert os.path.exists(tmp_path / "cache" / "results" / "net-ctr1-eth0")
