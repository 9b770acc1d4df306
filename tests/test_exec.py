"""The real executors against small real plugins (shell scripts written by the tests).

Every behaviour is checked for the sync and the asyncio executor through one parametrized
fixture; only task cancellation, which has no sync counterpart, is async-only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pycni.errors import (
    PluginError,
    PluginNotFoundError,
    PluginOutputTooLargeError,
    PluginTimeoutError,
)
from pycni.exec import (
    AsyncExecutor,
    AsyncSubprocessExecutor,
    Executor,
    SubprocessExecutor,
    async_get_version_info,
    get_version_info,
)
from pycni.invoke import cni_env, find_in_path, plugin_environ
from pycni.version import PluginInfo

TIMEOUT = 0.5


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


class Runner:
    """Runs the sync or the async executor behind one synchronous interface."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def executor(self, **options: Any) -> SubprocessExecutor | AsyncSubprocessExecutor:
        if self.kind == "sync":
            return SubprocessExecutor(**options)
        return AsyncSubprocessExecutor(**options)

    def run(
        self,
        plugin: Path | str,
        stdin: bytes = b"",
        environ: dict[str, str] | None = None,
        *,
        timeout: float | None = None,
        **options: Any,
    ) -> bytes:
        env = environ if environ is not None else plugin_environ(cni_env("ADD"))
        executor = self.executor(**options)
        if isinstance(executor, SubprocessExecutor):
            return executor.exec_plugin(str(plugin), stdin, env, timeout=timeout)
        return asyncio.run(executor.exec_plugin(str(plugin), stdin, env, timeout=timeout))

    def version(self, plugin_type: str, paths: list[str]) -> PluginInfo:
        executor = self.executor()
        if isinstance(executor, SubprocessExecutor):
            return get_version_info(executor, plugin_type, paths, timeout=5)
        return asyncio.run(async_get_version_info(executor, plugin_type, paths, timeout=5))


@pytest.fixture(params=["sync", "async", "async-transport"])
def runner(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Runner:
    """``async-transport`` is the asyncio runner used where the kernel has no pidfds."""
    if request.param == "async-transport":
        from pycni import _process

        monkeypatch.setattr(_process, "_PIDFD", False)
    return Runner(request.param)


@pytest.fixture
def plugin(tmp_path: Path) -> Callable[..., Path]:
    """Write an executable shell script plugin into ``tmp_path/bin``."""
    bindir = tmp_path / "bin"
    bindir.mkdir()

    def write(body: str, name: str = "plug", mode: int = 0o755) -> Path:
        path = bindir / name
        path.write_text("#!/bin/sh\n" + body + "\n")
        path.chmod(mode)
        return path

    return write


def _live_members(pgid: int) -> list[int]:
    """Processes of group ``pgid`` that are not zombies (PID 1 may never reap orphans here)."""
    live = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            live.append(int(entry))
    return live


def assert_group_gone(pgid: int, within: float = 1.0) -> None:
    """SIGKILL is asynchronous: allow the kernel a moment, then require an empty group."""
    end = time.monotonic() + within
    while _live_members(pgid) and time.monotonic() < end:
        time.sleep(0.01)
    assert _live_members(pgid) == []


def _read_pid(path: Path) -> int:
    for _ in range(100):
        if path.exists() and path.read_text().strip():
            return int(path.read_text().split()[0])
        time.sleep(0.01)
    raise AssertionError(f"plugin never wrote {path}")


@pytest.fixture
def reap_strays() -> Iterator[list[int]]:
    """Group ids a test expects to survive; killed afterwards so nothing leaks from the suite."""
    groups: list[int] = []
    yield groups
    for pgid in groups:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, 9)


# --------------------------------------------------------------------------------------------
# success
# --------------------------------------------------------------------------------------------


def test_success_passes_stdin_and_environment(
    runner: Runner, plugin: Callable[..., Path], tmp_path: Path
) -> None:
    """Reference 7.6 item 83: stdin and env reach the plugin; stdout is returned exactly."""
    p = plugin(f'cat > {tmp_path}/stdin; env > {tmp_path}/env\nprintf \'{{ "some": "result" }}\'')
    env = plugin_environ(
        cni_env("ADD", container_id="c1", netns="/run/netns/x", ifname="eth0", path=["/a", "/b"]),
        base={"PATH": os.environ["PATH"], "KEEP": "me"},
    )
    stdin = b'{"cniVersion":"1.1.0","name":"n","type":"plug"}'
    assert runner.run(p, stdin, env) == b'{ "some": "result" }'
    assert (tmp_path / "stdin").read_bytes() == stdin
    seen = dict(line.split("=", 1) for line in (tmp_path / "env").read_text().splitlines())
    assert seen["CNI_COMMAND"] == "ADD"
    assert seen["CNI_NETNS"] == "/run/netns/x"
    assert seen["CNI_PATH"] == "/a:/b"
    assert seen["CNI_ARGS"] == ""
    assert seen["KEEP"] == "me"


def test_relative_plugin_path_runs_the_found_file(
    runner: Runner, plugin: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reference 4.1 item 4: a plugin found through an empty path entry runs from the CWD."""
    p = plugin("echo here", name="ls")  # "ls" also exists in $PATH: it must not be picked
    monkeypatch.chdir(p.parent)
    found = find_in_path("ls", ["", "/nonexistent"])
    assert found == "ls"
    assert runner.run(found) == b"here\n"


def test_stderr_on_success_goes_to_the_plugin_logger(
    runner: Runner, plugin: Callable[..., Path], caplog: pytest.LogCaptureFixture
) -> None:
    """Reference 7.6 item 83 (stderr forwarded on success), to ``pycni.plugin``, one per line."""
    p = plugin("echo 'first line' >&2; echo >&2; echo 'second' >&2; echo '{}'")
    with caplog.at_level(logging.DEBUG, logger="pycni.plugin"):
        assert runner.run(p) == b"{}\n"
    records = [r for r in caplog.records if r.name == "pycni.plugin"]
    assert [r.getMessage() for r in records] == ["first line", "second"]
    assert all(r.__dict__["plugin_type"] == "plug" for r in records)
    assert all(r.__dict__["verb"] == "ADD" for r in records)
    assert all(r.__dict__["plugin_path"] == str(p) for r in records)


def test_stderr_on_success_is_not_printed(plugin: Callable[..., Path], tmp_path: Path) -> None:
    """With no logging configured, plugin stderr never reaches the runtime's stderr."""
    p = plugin("echo 'plugin chatter' >&2; echo '{}'")
    code = (
        "import sys, pycni.exec as e, pycni.invoke as i\n"
        "out = e.SubprocessExecutor().exec_plugin(sys.argv[1], b'', i.plugin_environ({}))\n"
        "sys.stdout.write(out.decode())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(p)], capture_output=True, timeout=30, check=True
    )
    assert done.stdout == b"{}\n"
    assert b"plugin chatter" not in done.stderr


def test_error_object_with_exit_zero_is_success(
    runner: Runner, plugin: Callable[..., Path]
) -> None:
    """Reference 4.2 item 10."""
    p = plugin("""echo '{"code":7,"msg":"not really"}'""")
    assert runner.run(p) == b'{"code":7,"msg":"not really"}\n'


# --------------------------------------------------------------------------------------------
# failures
# --------------------------------------------------------------------------------------------


def test_json_error(runner: Runner, plugin: Callable[..., Path]) -> None:
    """Reference 4.2 item 8 / 7.6 item 83 (ReportError banana)."""
    p = plugin(
        """echo '{"cniVersion":"1.0.0","code":11,"msg":"banana","details":"peel"}'\n"""
        "echo 'noise' >&2; exit 1"
    )
    with pytest.raises(PluginError) as info:
        runner.run(p)
    err = info.value
    assert (err.code, err.msg, err.details, str(err)) == (11, "banana", "peel", "banana; peel")
    assert (err.plugin_type, err.plugin_path, err.verb) == ("plug", str(p), "ADD")
    assert err.exit_status == 1
    assert err.signal is None
    assert err.stderr_tail == "noise\n"
    assert err.elapsed is not None
    assert err.elapsed > 0


def test_stderr_only_failure(runner: Runner, plugin: Callable[..., Path]) -> None:
    """Reference 7.6 item 83: ``netplugin failed: "some stderr message": exit status 1``."""
    p = plugin("printf 'some stderr message' >&2; exit 1")
    with pytest.raises(PluginError) as info:
        runner.run(p)
    assert str(info.value) == 'netplugin failed: "some stderr message": exit status 1'
    assert info.value.stderr_tail == "some stderr message"


def test_silent_failure(runner: Runner, plugin: Callable[..., Path]) -> None:
    """Reference 7.6 item 83: exit 1 with no output."""
    p = plugin("exit 1")
    with pytest.raises(PluginError) as info:
        runner.run(p)
    assert str(info.value) == "netplugin failed with no error message: exit status 1"
    assert info.value.code == 0


def test_unparsable_stdout(runner: Runner, plugin: Callable[..., Path]) -> None:
    """Reference 4.2 item 8: result followed by an error object."""
    p = plugin("""printf '{"cniVersion":"1.0.0"}{"code":1,"msg":"x"}'; exit 1""")
    with pytest.raises(PluginError) as info:
        runner.run(p)
    assert str(info.value).startswith(
        "netplugin failed but error parsing its diagnostic message "
        '"{\\"cniVersion\\":\\"1.0.0\\"}{\\"code\\":1,\\"msg\\":\\"x\\"}": '
    )


def test_signal_death(runner: Runner, plugin: Callable[..., Path]) -> None:
    """Reference 4.2 item 8: ``signal: killed``, with the signal name as a field."""
    p = plugin("kill -9 $$")
    with pytest.raises(PluginError) as info:
        runner.run(p)
    assert str(info.value) == "netplugin failed with no error message: signal: killed"
    assert (info.value.signal, info.value.exit_status) == ("SIGKILL", None)

    p = plugin("echo dying >&2; kill -TERM $$", name="term")
    with pytest.raises(PluginError) as info:
        runner.run(p)
    assert str(info.value) == 'netplugin failed: "dying\\n": signal: terminated'
    assert info.value.signal == "SIGTERM"


def test_huge_stderr_is_bounded_in_the_error(runner: Runner, plugin: Callable[..., Path]) -> None:
    p = plugin("head -c 100000 /dev/zero | tr '\\0' x >&2; echo END >&2; exit 2")
    with pytest.raises(PluginError) as info:
        runner.run(p, stderr_tail=100)
    assert len(info.value.stderr_tail) <= 100
    assert info.value.stderr_tail.endswith("xEND\n")
    assert str(info.value).endswith('xEND\\n": exit status 2')


# --------------------------------------------------------------------------------------------
# time limits, process groups, pipes held by helpers
# --------------------------------------------------------------------------------------------


def test_hang_past_the_timeout_kills_the_group(
    runner: Runner, plugin: Callable[..., Path], tmp_path: Path
) -> None:
    """Reference 3.13 item 50: the plugin and its helper are SIGKILLed at the deadline."""
    pidfile = tmp_path / "pid"
    p = plugin(f"echo $$ > {pidfile}; echo started >&2; sleep 30 & sleep 30")
    started = time.monotonic()
    with pytest.raises(PluginTimeoutError) as info:
        runner.run(p, timeout=TIMEOUT)
    elapsed = time.monotonic() - started
    assert TIMEOUT <= elapsed < TIMEOUT + 1.5
    err = info.value
    assert str(err).startswith("netplugin failed with no error message:")
    assert "plug" in str(err)
    assert "0.5s" in str(err)
    assert (err.timeout, err.signal, err.verb) == (TIMEOUT, "SIGKILL", "ADD")
    assert err.stderr_tail == "started\n"
    assert_group_gone(_read_pid(pidfile))


def test_plugin_that_closes_its_pipes_and_hangs(
    runner: Runner, plugin: Callable[..., Path], tmp_path: Path
) -> None:
    pidfile = tmp_path / "pid"
    p = plugin(f"echo $$ > {pidfile}; exec >&- 2>&-; sleep 30")
    with pytest.raises(PluginTimeoutError):
        runner.run(p, timeout=TIMEOUT)
    assert_group_gone(_read_pid(pidfile))


def test_expired_timeout_does_not_start_the_plugin(
    runner: Runner, plugin: Callable[..., Path], tmp_path: Path
) -> None:
    """Reference 3.13 item 50: a deadline already passed fails before starting."""
    p = plugin(f"touch {tmp_path}/ran")
    with pytest.raises(PluginTimeoutError) as info:
        runner.run(p, timeout=0)
    assert info.value.signal is None
    assert not (tmp_path / "ran").exists()


def test_grandchild_holding_stdout_does_not_block(
    runner: Runner, plugin: Callable[..., Path], tmp_path: Path
) -> None:
    """A forked helper keeps stdout open: after a short grace it is killed, the result kept."""
    pidfile = tmp_path / "pid"
    p = plugin(f"echo $$ > {pidfile}; sleep 30 & echo '{{\"ok\":true}}'")
    started = time.monotonic()
    assert runner.run(p, exit_grace=0.1) == b'{"ok":true}\n'
    assert time.monotonic() - started < 2
    assert_group_gone(_read_pid(pidfile))


def test_helper_that_released_the_pipes_is_left_alone(
    runner: Runner, plugin: Callable[..., Path], tmp_path: Path, reap_strays: list[int]
) -> None:
    """Only helpers holding our pipes are killed; a well-behaved daemon keeps running."""
    pidfile = tmp_path / "pid"
    p = plugin(f"echo $$ > {pidfile}; sleep 30 >/dev/null 2>&1 </dev/null & echo '{{}}'")
    assert runner.run(p) == b"{}\n"
    pgid = _read_pid(pidfile)
    reap_strays.append(pgid)
    assert _live_members(pgid)


def test_grandchild_holding_stdout_under_a_timeout(
    runner: Runner, plugin: Callable[..., Path], tmp_path: Path
) -> None:
    pidfile = tmp_path / "pid"
    p = plugin(f"echo $$ > {pidfile}; sleep 30 & echo '{{}}'")
    assert runner.run(p, timeout=5, exit_grace=0.05) == b"{}\n"
    assert_group_gone(_read_pid(pidfile))


# --------------------------------------------------------------------------------------------
# sizes and pipes
# --------------------------------------------------------------------------------------------


def test_twenty_megabytes_of_output(runner: Runner, plugin: Callable[..., Path]) -> None:
    p = plugin("head -c 20000000 /dev/zero")
    out = runner.run(p)
    assert len(out) == 20_000_000
    assert out.count(0) == 20_000_000


def test_big_stdin_and_big_stdout_at_once(runner: Runner, plugin: Callable[..., Path]) -> None:
    """Writing stdin while reading stdout: no deadlock whatever the sizes."""
    data = os.urandom(1 << 16) * 160  # 10 MiB
    p = plugin("cat; echo done >&2")
    assert runner.run(p, data) == data


def test_output_over_the_cap(runner: Runner, plugin: Callable[..., Path], tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    p = plugin(f"echo $$ > {pidfile}; head -c 3000000 /dev/zero; sleep 30")
    with pytest.raises(PluginOutputTooLargeError) as info:
        runner.run(p, max_output=1 << 20, timeout=10)
    assert "more than 1048576 bytes" in str(info.value)
    assert info.value.plugin_type == "plug"
    assert_group_gone(_read_pid(pidfile))


def test_early_exit_with_epipe_is_not_an_error(runner: Runner, plugin: Callable[..., Path]) -> None:
    """The plugin exits without reading a big stdin: EPIPE on our side is ignored."""
    p = plugin("""echo '{"early":1}'""")
    assert runner.run(p, b"x" * (8 << 20)) == b'{"early":1}\n'
    p = plugin("exit 3", name="fails")
    with pytest.raises(PluginError, match="exit status 3"):
        runner.run(p, b"y" * (4 << 20))


# --------------------------------------------------------------------------------------------
# starting: text file busy, missing / non-executable / directory / dangling link, bad env
# --------------------------------------------------------------------------------------------


def test_text_file_busy_is_retried(runner: Runner, plugin: Callable[..., Path]) -> None:
    """Reference 4.2 item 6 (port decision): a fresh process per attempt until exec succeeds."""
    p = plugin("echo '{}'")
    fd = os.open(p, os.O_WRONLY)
    release = threading.Timer(0.3, os.close, (fd,))
    release.start()
    try:
        started = time.monotonic()
        assert runner.run(p, etxtbsy_backoff=0.05, etxtbsy_retries=8) == b"{}\n"
        assert time.monotonic() - started >= 0.25  # it really was busy, then retried
    finally:
        release.join()


def test_text_file_busy_exhaustion_returns_the_last_error(
    runner: Runner, plugin: Callable[..., Path]
) -> None:
    p = plugin("echo '{}'")
    fd = os.open(p, os.O_WRONLY)
    try:
        with pytest.raises(PluginError) as info:
            runner.run(p, etxtbsy_retries=2, etxtbsy_backoff=0.01)
    finally:
        os.close(fd)
    assert str(info.value) == (
        f"netplugin failed with no error message: fork/exec {p}: text file busy"
    )
    assert isinstance(info.value.__cause__, OSError)


def test_missing_plugin(runner: Runner, tmp_path: Path) -> None:
    """Reference 7.6 item 83: the error names the path."""
    missing = tmp_path / "nope"
    with pytest.raises(PluginError) as info:
        runner.run(missing)
    assert str(info.value) == (
        f"netplugin failed with no error message: fork/exec {missing}: no such file or directory"
    )
    assert info.value.plugin_path == str(missing)


def test_non_executable_plugin(runner: Runner, plugin: Callable[..., Path]) -> None:
    p = plugin("echo '{}'", mode=0o644)
    if os.access(p, os.X_OK):  # pragma: no cover - root with CAP_DAC_OVERRIDE still needs +x
        pytest.skip("file is executable for this user")
    with pytest.raises(PluginError) as info:
        runner.run(p)
    assert str(info.value).endswith(f"fork/exec {p}: permission denied")


def test_directory_plugin(runner: Runner, tmp_path: Path) -> None:
    with pytest.raises(PluginError) as info:
        runner.run(tmp_path)
    assert str(info.value).endswith(f"fork/exec {tmp_path}: permission denied (is a directory)")


def test_dangling_symlink_plugin(runner: Runner, tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "gone")
    with pytest.raises(PluginError) as info:
        runner.run(link)
    assert f"fork/exec {link}: no such file or directory (dangling symlink to " in str(info.value)


def test_bad_environment_is_a_plugin_error(runner: Runner, plugin: Callable[..., Path]) -> None:
    p = plugin("echo '{}'")
    env = plugin_environ(cni_env("ADD", args=[("K", "a\x00b")]))
    with pytest.raises(PluginError) as info:
        runner.run(p, environ=env)
    assert str(info.value).endswith(f"fork/exec {p}: invalid argument")


def test_plugin_not_found_by_lookup(runner: Runner, tmp_path: Path) -> None:
    """Reference 7.6 item 79: unknown plugin -> ``failed to find plugin``."""
    with pytest.raises(PluginNotFoundError, match='^failed to find plugin "nope" in path'):
        runner.version("nope", [str(tmp_path)])


# --------------------------------------------------------------------------------------------
# VERSION against real plugins
# --------------------------------------------------------------------------------------------


def test_version_info(runner: Runner, plugin: Callable[..., Path], tmp_path: Path) -> None:
    """Reference 4.5 items 18 and 20: dummy env, VERSION stdin, decoded answer."""
    plugin(
        f"cat > {tmp_path}/stdin; env > {tmp_path}/env\n"
        """echo '{"cniVersion":"1.1.0","supportedVersions":["0.4.0","1.0.0","1.1.0"]}'"""
    )
    info = runner.version("plug", [str(tmp_path / "nowhere"), str(tmp_path / "bin")])
    assert info.supported_versions == ("0.4.0", "1.0.0", "1.1.0")
    assert json.loads((tmp_path / "stdin").read_bytes()) == {"cniVersion": "1.1.0"}
    env = dict(line.split("=", 1) for line in (tmp_path / "env").read_text().splitlines())
    assert env["CNI_COMMAND"] == "VERSION"
    assert (env["CNI_NETNS"], env["CNI_IFNAME"], env["CNI_PATH"]) == ("dummy",) * 3


def test_version_of_a_pre_02_plugin(
    runner: Runner, plugin: Callable[..., Path], tmp_path: Path
) -> None:
    """Reference 4.5 item 19: ``unknown CNI_COMMAND: VERSION`` means ["0.1.0"]."""
    plugin("""echo '{"code":4,"msg":"unknown CNI_COMMAND: VERSION"}'; exit 1""")
    info = runner.version("plug", [str(tmp_path / "bin")])
    assert info.supported_versions == ("0.1.0",)


def test_version_failure_is_raised(
    runner: Runner, plugin: Callable[..., Path], tmp_path: Path
) -> None:
    plugin("echo 'nope' >&2; exit 1")
    with pytest.raises(PluginError, match=r'^netplugin failed: "nope\\n": exit status 1$'):
        runner.version("plug", [str(tmp_path / "bin")])


# --------------------------------------------------------------------------------------------
# protocols, asyncio cancellation, OpenTelemetry
# --------------------------------------------------------------------------------------------


def test_real_executors_satisfy_the_protocols() -> None:
    """Reference 3.2 item 7: three operations."""
    assert isinstance(SubprocessExecutor(), Executor)
    assert isinstance(AsyncSubprocessExecutor(), AsyncExecutor)
    assert SubprocessExecutor().decode_version(b'{"cniVersion":"0.2.0"}').supported_versions == (
        "0.1.0",
        "0.2.0",
    )


def test_async_cancellation_kills_the_group(plugin: Callable[..., Path], tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    p = plugin(f"echo $$ > {pidfile}; sleep 30 & sleep 30")
    executor = AsyncSubprocessExecutor()

    async def main() -> None:
        task = asyncio.create_task(
            executor.exec_plugin(str(p), b"", plugin_environ(cni_env("DEL")))
        )
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert_group_gone(_read_pid(pidfile))


def test_async_wait_for_kills_the_group(plugin: Callable[..., Path], tmp_path: Path) -> None:
    """An outer ``asyncio.wait_for`` cancels the call: same clean-up."""
    pidfile = tmp_path / "pid"
    p = plugin(f"echo $$ > {pidfile}; sleep 30")
    executor = AsyncSubprocessExecutor()

    async def main() -> None:
        call = executor.exec_plugin(str(p), b"", plugin_environ(cni_env("ADD")))
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(call, 0.3)

    asyncio.run(main())
    assert_group_gone(_read_pid(pidfile))


def test_concurrent_async_invocations(plugin: Callable[..., Path]) -> None:
    p = plugin("sleep 0.2; echo $$")
    executor = AsyncSubprocessExecutor()

    async def main() -> list[bytes]:
        env = plugin_environ(cni_env("ADD"))
        return await asyncio.gather(*(executor.exec_plugin(str(p), b"", env) for _ in range(8)))

    started = time.monotonic()
    outs = asyncio.run(main())
    assert time.monotonic() - started < 1.5  # concurrent, not serial (8 x 0.2 s)
    assert len(set(outs)) == 8


def test_opentelemetry_is_not_imported_by_pycni() -> None:
    code = (
        "import sys, pycni, pycni.exec, pycni.invoke\n"
        "assert not [m for m in sys.modules if m.startswith('opentelemetry')], 'imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)


def test_no_trace_variables_without_a_span(
    runner: Runner, plugin: Callable[..., Path], tmp_path: Path
) -> None:
    """Reference 3.4 item 17: without a valid span nothing is added."""
    p = plugin(f"env > {tmp_path}/env")
    runner.run(p, environ=plugin_environ(cni_env("ADD"), base={}))
    names = {line.split("=", 1)[0] for line in (tmp_path / "env").read_text().splitlines()}
    assert not names & {"TRACEPARENT", "TRACESTATE", "BAGGAGE"}


def test_trace_context_is_propagated(
    runner: Runner, plugin: Callable[..., Path], tmp_path: Path
) -> None:
    """Reference 3.4 item 17: TRACEPARENT / TRACESTATE / BAGGAGE from the active span."""
    trace = pytest.importorskip("opentelemetry.trace")
    context = pytest.importorskip("opentelemetry.context")
    baggage = pytest.importorskip("opentelemetry.baggage")
    span_context = trace.SpanContext(
        trace_id=0x0AF7651916CD43DD8448EB211C80319C,
        span_id=0xB7AD6B7169203331,
        is_remote=False,
        trace_flags=trace.TraceFlags(1),
        trace_state=trace.TraceState([("vendor", "v1")]),
    )
    ctx = trace.set_span_in_context(trace.NonRecordingSpan(span_context))
    ctx = baggage.set_baggage("tenant", "blue", context=ctx)
    p = plugin(f"env > {tmp_path}/env")
    token = context.attach(ctx)
    try:
        runner.run(p, environ=plugin_environ(cni_env("ADD"), base={"TRACEPARENT": "stale"}))
    finally:
        context.detach(token)
    env = dict(line.split("=", 1) for line in (tmp_path / "env").read_text().splitlines())
    assert env["TRACEPARENT"] == "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    assert env["TRACESTATE"] == "vendor=v1"
    assert env["BAGGAGE"] == "tenant=blue"
