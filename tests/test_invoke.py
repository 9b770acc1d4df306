"""The pure side of plugin execution: names, lookup, environment, failure texts, VERSION rules."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pycni.errors import (
    PluginError,
    PluginNotFoundError,
    PluginOutputTooLargeError,
    PluginTimeoutError,
    PycniError,
    ValidationError,
)
from pycni.invoke import (
    CNI_VARS,
    VERSION_STDIN,
    ExecOptions,
    ExecOptionsError,
    InvalidPluginNameError,
    RawOutcome,
    cni_env,
    conclude,
    describe_returncode,
    exec_target,
    failure_from_output,
    find_in_path,
    go_quote_bytes,
    plugin_environ,
    start_failure,
    stderr_tail,
    timeout_error,
    validate_plugin_name,
    version_environ,
    version_info_from_failure,
)


def _file(path: Path, mode: int = 0o755) -> Path:
    path.write_text("#!/bin/sh\n")
    path.chmod(mode)
    return path


# --------------------------------------------------------------------------------------------
# plugin names
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "no plugin name provided"),
        ("../pluginname", "invalid plugin name: ../pluginname"),
        ("a/b", "invalid plugin name: a/b"),
        (".", "invalid plugin name: ."),
        ("..", "invalid plugin name: .."),
        ("br\x00idge", 'invalid plugin name: "br\\x00idge"'),
    ],
)
def test_invalid_plugin_names(name: str, message: str) -> None:
    """Reference 4.1 item 1 and 7.6 item 82 (plus ".", ".." and NUL, which pycni also rejects)."""
    with pytest.raises(InvalidPluginNameError) as info:
        validate_plugin_name(name)
    assert str(info.value) == message
    assert info.value.plugin_type == name
    # usable as either kind of error
    assert isinstance(info.value, PluginNotFoundError)
    assert isinstance(info.value, ValidationError)
    assert info.value.field == "type"


def test_non_string_plugin_name_is_a_pycni_error() -> None:
    with pytest.raises(InvalidPluginNameError, match="not a string"):
        validate_plugin_name(None)  # type: ignore[arg-type]


def test_plain_names_are_valid() -> None:
    for name in ("bridge", "host-local", "a.b", "...", "x\\y", "ünïcode"):
        validate_plugin_name(name)


def test_names_are_checked_before_paths_and_before_any_file_access(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Reference 4.1 item 1: name checks first, then the path list; no stat for a bad name."""

    def forbidden(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("file system touched")

    monkeypatch.setattr(os, "stat", forbidden)
    with pytest.raises(PluginNotFoundError, match=r"^no plugin name provided$"):
        find_in_path("", [])
    with pytest.raises(PluginNotFoundError, match=r"^invalid plugin name: \.\./x$"):
        find_in_path("../x", [])
    with pytest.raises(PluginNotFoundError, match=r"^no paths provided$"):
        find_in_path("bridge", [])


# --------------------------------------------------------------------------------------------
# find_in_path
# --------------------------------------------------------------------------------------------


def test_finds_in_the_second_directory(tmp_path: Path) -> None:
    """Reference 7.6 item 82."""
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    plugin = _file(second / "a-plugin")
    assert find_in_path("a-plugin", [str(first), str(second)]) == str(plugin)


def test_directory_order_wins(tmp_path: Path) -> None:
    """Reference 11 item 22: list order is honoured."""
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    _file(second / "p")
    found = _file(first / "p")
    assert find_in_path("p", [str(first), str(second)]) == str(found)


def test_not_found_lists_every_directory(tmp_path: Path) -> None:
    """Reference 4.1 item 3: Go slice formatting of the searched directories."""
    dirs = [str(tmp_path / "x"), str(tmp_path / "y")]
    with pytest.raises(PluginNotFoundError) as info:
        find_in_path("nope", dirs)
    assert str(info.value) == f'failed to find plugin "nope" in path [{dirs[0]} {dirs[1]}]'
    assert info.value.paths == dirs
    assert info.value.plugin_type == "nope"


def test_only_regular_files_count(tmp_path: Path) -> None:
    """Reference 4.1 item 2: a directory or a dangling link is skipped; a link to a file counts."""
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    (first / "p").mkdir()
    (first / "q").symlink_to(tmp_path / "missing")
    target = _file(tmp_path / "real")
    (second / "q").symlink_to(target)
    with pytest.raises(PluginNotFoundError, match="failed to find plugin"):
        find_in_path("p", [str(first)])
    assert find_in_path("q", [str(first), str(second)]) == str(second / "q")


def test_executable_bit_is_not_checked(tmp_path: Path) -> None:
    """Reference 4.1 item 2 / 11 item 22: a non-executable regular file is found."""
    plugin = _file(tmp_path / "p", mode=0o644)
    assert find_in_path("p", [str(tmp_path)]) == str(plugin)


def test_empty_directory_entry_means_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reference 4.1 item 4."""
    _file(tmp_path / "p")
    monkeypatch.chdir(tmp_path)
    assert find_in_path("p", ["", "/nonexistent"]) == "p"
    assert exec_target("p") == "./p"
    assert exec_target("/opt/cni/bin/p") == "/opt/cni/bin/p"


def test_paths_are_joined_like_go(tmp_path: Path) -> None:
    plugin = _file(tmp_path / "p")
    assert find_in_path("p", [str(tmp_path) + "//"]) == str(plugin)
    assert find_in_path("p", [str(tmp_path / "sub" / "..")]) == str(plugin)


def test_a_string_is_a_cni_path(tmp_path: Path) -> None:
    plugin = _file(tmp_path / "p")
    assert find_in_path("p", f"/nonexistent{os.pathsep}{tmp_path}") == str(plugin)
    with pytest.raises(PluginNotFoundError, match=r"^no paths provided$"):
        find_in_path("p", "")


# --------------------------------------------------------------------------------------------
# environment
# --------------------------------------------------------------------------------------------


def test_cni_args_rendering() -> None:
    """Reference 3.4 item 14."""
    env = cni_env("ADD", args=[("KEY1", "VALUE1"), ("KEY2", "VALUE2")])
    assert env["CNI_ARGS"] == "KEY1=VALUE1;KEY2=VALUE2"
    assert cni_env("ADD", args="verbatim=1;x")["CNI_ARGS"] == "verbatim=1;x"
    assert cni_env("ADD", args=[("K", "a;b=c")])["CNI_ARGS"] == "K=a;b=c"  # no escaping


def test_bad_cni_args_entry_is_a_pycni_error() -> None:
    with pytest.raises(ValidationError, match="CNI_ARGS") as info:
        cni_env("ADD", args=[("only-one",)])  # type: ignore[list-item]
    assert info.value.field == "args"


def test_all_six_variables_always_present() -> None:
    """Reference 3.4 items 13, 15 and 16 (GC/STATUS leave the attachment variables empty)."""
    env = cni_env("GC", path=["/opt/cni/bin", "/usr/lib/cni"])
    assert list(env) == list(CNI_VARS)
    assert env == {
        "CNI_COMMAND": "GC",
        "CNI_CONTAINERID": "",
        "CNI_NETNS": "",
        "CNI_ARGS": "",
        "CNI_IFNAME": "",
        "CNI_PATH": f"/opt/cni/bin{os.pathsep}/usr/lib/cni",
    }
    full = cni_env("ADD", container_id="c1", netns="/run/netns/c1", ifname="eth0", path="/p")
    assert (full["CNI_CONTAINERID"], full["CNI_NETNS"], full["CNI_IFNAME"]) == (
        "c1",
        "/run/netns/c1",
        "eth0",
    )
    assert full["CNI_PATH"] == "/p"


def test_environment_overrides_inherited_values() -> None:
    """Reference 4.3 item 11 / 7.6 item 78: new values win, nothing else changes, same length."""
    base = {
        "CNI_COMMAND": "DEL",
        "CNI_IFNAME": "eth0",
        "CNI_CONTAINERID": "old",
        "CNI_NETNS": "/old",
        "CNI_ARGS": "A=B",
        "CNI_PATH": "/old",
        "HOME": "/root",
        "NOEQUALS": "",
    }
    snapshot = dict(base)
    env = plugin_environ(cni_env("ADD", container_id="c", netns="/n", ifname="eth1"), base)
    assert base == snapshot
    assert len(env) == len(base)
    assert env["CNI_COMMAND"] == "ADD"
    assert env["CNI_IFNAME"] == "eth1"
    assert env["CNI_ARGS"] == ""
    assert env["HOME"] == "/root"
    assert env["NOEQUALS"] == ""


def test_environment_defaults_to_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reference 3.4 item 13: the whole parent environment is inherited."""
    monkeypatch.setenv("PYCNI_TEST_MARKER", "42")
    monkeypatch.setenv("CNI_COMMAND", "NOPE")
    env = plugin_environ(cni_env("CHECK"))
    assert env["PYCNI_TEST_MARKER"] == "42"
    assert env["CNI_COMMAND"] == "CHECK"
    assert os.environ["CNI_COMMAND"] == "NOPE"
    assert plugin_environ({"CNI_COMMAND": "ADD"}, base={}) == {"CNI_COMMAND": "ADD"}


def test_version_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reference 4.5 item 18 and 11 item 21: dummy values; the runtime's CNI_ARGS never leaks."""
    monkeypatch.setenv("CNI_ARGS", "IgnoreUnknown=1")
    monkeypatch.setenv("PYCNI_TEST_MARKER", "x")
    env = version_environ()
    assert env["CNI_COMMAND"] == "VERSION"
    assert env["CNI_CONTAINERID"] == ""
    assert env["CNI_NETNS"] == "dummy"
    assert env["CNI_IFNAME"] == "dummy"
    assert env["CNI_PATH"] == "dummy"
    assert env["CNI_ARGS"] == ""
    assert env["PYCNI_TEST_MARKER"] == "x"
    assert version_environ(base={})["CNI_NETNS"] == "dummy"


def test_version_stdin() -> None:
    """Reference 4.5 item 18."""
    assert json.loads(VERSION_STDIN) == {"cniVersion": "1.1.0"}


# --------------------------------------------------------------------------------------------
# failures
# --------------------------------------------------------------------------------------------


def _fail(
    stdout: bytes = b"", stderr: bytes = b"", exec_error: str = "exit status 1"
) -> PluginError:
    return failure_from_output(
        plugin_path="/opt/cni/bin/noop",
        verb="ADD",
        stdout=stdout,
        stderr=stderr,
        exec_error=exec_error,
        exit_status=1,
        elapsed=0.25,
    )


def test_silent_failure_text() -> None:
    """Reference 4.2 item 8 / 7.6 item 83."""
    err = _fail()
    assert str(err) == "netplugin failed with no error message: exit status 1"
    assert err.code == 0
    assert (err.plugin_type, err.plugin_path, err.verb) == ("noop", "/opt/cni/bin/noop", "ADD")
    assert err.exit_status == 1
    assert err.elapsed == 0.25


def test_stderr_only_failure_text() -> None:
    """Reference 4.2 item 8 / 7.6 item 83: Go-quoted stderr then the exec error."""
    err = _fail(stderr=b"some stderr message")
    assert str(err) == 'netplugin failed: "some stderr message": exit status 1'
    assert err.stderr_tail == "some stderr message"
    multi = _fail(stderr=b'line "1"\n\tline 2\n\xff', exec_error="signal: killed")
    assert str(multi) == 'netplugin failed: "line \\"1\\"\\n\\tline 2\\n\\xff": signal: killed'
    assert "\n" not in str(multi)


def test_json_error_on_stdout_wins_over_stderr() -> None:
    """Reference 4.2 item 8 and 11 item 19."""
    err = _fail(
        stdout=b'{"cniVersion":"1.0.0","code":7,"msg":"banana","details":"split","extra":1}',
        stderr=b"ignored in the text",
    )
    assert (err.code, err.msg, err.details) == (7, "banana", "split")
    assert str(err) == "banana; split"
    assert err.stderr_tail == "ignored in the text"
    assert str(_fail(stdout=b'{"code":11,"msg":"try later"}')) == "try later"


def test_json_non_error_gives_an_empty_message() -> None:
    """Reference 4.2 item 8 / 11 item 19: a JSON value that is not an error -> code 0 and an
    empty msg (libcni's facts); unlike libcni's empty text, str() then names the plugin."""
    for stdout in (b'{"some":"result"}', b"null", b'{"msg":null,"code":null}'):
        err = _fail(stdout=stdout)
        assert (err.code, err.msg, err.details) == (0, "", ""), stdout
        assert "returned an error object without a message" in str(err)


@pytest.mark.parametrize(
    ("stdout", "problem"),
    [
        (b'{"cniVersion":"1.0.0"}{"code":1,"msg":"x"}', "invalid character"),
        (b'{"code":-1,"msg":"x"}', "cannot unmarshal number -1 into Go struct field Error.code"),
        (b'{"code":1.5,"msg":"x"}', "cannot unmarshal number 1.5 into Go struct field Error.code"),
        (b'{"code":"1","msg":"x"}', "cannot unmarshal string into Go struct field Error.code"),
        (b'{"code":1,"msg":5}', "cannot unmarshal number into Go struct field Error.msg"),
        (b"[1,2]", "cannot unmarshal array into Go value of type types.Error"),
        (b"not json", "invalid character"),
    ],
)
def test_unparsable_diagnostic(stdout: bytes, problem: str) -> None:
    """Reference 4.2 item 8: the quoted stdout and the decoding error."""
    err = _fail(stdout=stdout, stderr=b"unused")
    prefix = f"netplugin failed but error parsing its diagnostic message {go_quote_bytes(stdout)}: "
    assert str(err).startswith(prefix)
    assert problem in str(err)


def test_well_typed_fields_survive_a_bad_sibling() -> None:
    """Like Go's decoder: a type error in one field keeps the fields that decoded."""
    err = _fail(stdout=b'{"code":5,"msg":[],"details":"d"}')
    assert err.code == 5
    assert err.details == "d"
    assert err.msg.startswith("netplugin failed but error parsing its diagnostic message")


def test_describe_returncode() -> None:
    assert describe_returncode(1) == ("exit status 1", 1, None)
    assert describe_returncode(0) == ("exit status 0", 0, None)
    assert describe_returncode(-9) == ("signal: killed", None, "SIGKILL")
    assert describe_returncode(-15) == ("signal: terminated", None, "SIGTERM")
    assert describe_returncode(-11) == ("signal: segmentation fault", None, "SIGSEGV")
    text, status, name = describe_returncode(-200)
    assert (text, status, name) == ("signal: signal 200", None, "SIG200")


def test_start_failure_names_the_path(tmp_path: Path) -> None:
    """Reference 4.2 item 8: ``fork/exec <path>: <errno text>``."""
    missing = str(tmp_path / "missing")
    err = start_failure(missing, "ADD", FileNotFoundError(2, "No such file or directory"))
    assert str(err) == (
        f"netplugin failed with no error message: fork/exec {missing}: no such file or directory"
    )
    assert err.plugin_path == missing
    link = tmp_path / "dangling"
    link.symlink_to(tmp_path / "gone")
    err = start_failure(str(link), "DEL", FileNotFoundError(2, "x"))
    assert f"fork/exec {link}: no such file or directory (dangling symlink to " in str(err)
    err = start_failure(str(tmp_path), "ADD", PermissionError(13, "x"))
    assert str(err).endswith(f"fork/exec {tmp_path}: permission denied (is a directory)")
    err = start_failure("/p", "ADD", ValueError("embedded null byte"))
    assert str(err) == "netplugin failed with no error message: fork/exec /p: invalid argument"


def test_stderr_tail_is_bounded_and_decodable() -> None:
    assert stderr_tail(b"abc", 0) == ""
    assert stderr_tail(b"x" * 10 + b"tail", 4) == "tail"
    # the cut falls inside "é" (2 bytes): no replacement character at the start
    assert stderr_tail("aé!".encode(), 2) == "!"
    assert stderr_tail(b"\xffok", 10) == "\ufffdok"
    err = _fail(stderr=b"x" * 10000 + b"END")
    assert len(err.stderr_tail) == 4096
    assert err.stderr_tail.endswith("END")


def test_timeout_and_overflow_errors() -> None:
    err = timeout_error("/bin/p", "ADD", 0.5, stderr=b"partial", elapsed=0.6)
    assert isinstance(err, PluginTimeoutError)
    assert str(err).startswith("netplugin failed with no error message:")
    assert "p" in str(err)
    assert "0.5s" in str(err)
    assert (err.signal, err.stderr_tail, err.timeout) == ("SIGKILL", "partial", 0.5)
    assert timeout_error("/bin/p", "ADD", 0, started=False).signal is None


def _conclude(outcome: RawOutcome, max_output: int = 1 << 20) -> bytes:
    return conclude(
        outcome,
        plugin_path="/bin/p",
        verb="ADD",
        timeout=1.0,
        elapsed=0.1,
        max_output=max_output,
        tail_limit=4096,
    )


def test_conclude() -> None:
    """Reference 4.2 item 10: exit 0 is success even with an error object on stdout."""
    ok = RawOutcome("exited", 0, b'{"code":1,"msg":"x"}', b"")
    assert _conclude(ok) == b'{"code":1,"msg":"x"}'
    with pytest.raises(PluginError, match=r'^netplugin failed: "e": signal: killed$') as info:
        _conclude(RawOutcome("exited", -9, b"", b"e"))
    assert info.value.signal == "SIGKILL"
    with pytest.raises(PluginTimeoutError, match="after 1s"):
        _conclude(RawOutcome("timeout", None, b"", b""))
    with pytest.raises(PluginOutputTooLargeError, match="more than 10 bytes"):
        _conclude(RawOutcome("overflow", None, b"", b""), max_output=10)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.binary(max_size=200))
def test_failure_parsing_never_raises(stdout: bytes, stderr: bytes) -> None:
    """Any output yields a PluginError; without stdout the text is one line."""
    err = _fail(stdout=stdout, stderr=stderr)
    assert isinstance(err, PluginError)
    if not stdout:
        assert "\n" not in str(err)
        assert "\r" not in str(err)


_SIMPLE_ESCAPES = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, '"': 34}


def _go_unquote(quoted: str) -> bytes:
    """Decode a Go double-quoted literal (the escapes %q produces) back to bytes."""
    body, out, i = quoted[1:-1], bytearray(), 0
    while i < len(body):
        char = body[i]
        if char != "\\":
            out += char.encode()
            i += 1
            continue
        kind = body[i + 1]
        if kind in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[kind])
            i += 2
        elif kind == "x":
            out.append(int(body[i + 2 : i + 4], 16))
            i += 4
        else:
            width = 4 if kind == "u" else 8
            out += chr(int(body[i + 2 : i + 2 + width], 16)).encode()
            i += 2 + width
    return bytes(out)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=100) | st.text(max_size=50).map(str.encode))
def test_go_quote_bytes_reads_back(data: bytes) -> None:
    """The quoted text is a one-line Go literal that decodes back to the very bytes."""
    quoted = go_quote_bytes(data)
    assert quoted.startswith('"')
    assert quoted.endswith('"')
    assert "\n" not in quoted
    assert _go_unquote(quoted) == data


# --------------------------------------------------------------------------------------------
# VERSION and options
# --------------------------------------------------------------------------------------------


def test_unknown_version_command_means_legacy_plugin() -> None:
    """Reference 4.5 item 19 / 11 item 23: exact-text detection only."""
    info = version_info_from_failure(
        _fail(stdout=b'{"code":4,"msg":"unknown CNI_COMMAND: VERSION"}')
    )
    assert info is not None
    assert info.supported_versions == ("0.1.0",)
    assert version_info_from_failure(PycniError("unknown CNI_COMMAND: VERSION")) is not None
    assert (
        version_info_from_failure(_fail(stdout=b'{"msg":"unknown CNI_COMMAND: VERSION!"}')) is None
    )
    detailed = b'{"msg":"unknown CNI_COMMAND: VERSION","details":"x"}'
    assert version_info_from_failure(_fail(stdout=detailed)) is None
    assert version_info_from_failure(_fail(stderr=b"unknown CNI_COMMAND: VERSION")) is None


def test_etxtbsy_backoff_is_bounded() -> None:
    opts = ExecOptions(etxtbsy_retries=4, etxtbsy_backoff=0.1, etxtbsy_backoff_max=0.3)
    assert [opts.etxtbsy_delay(n) for n in range(1, 6)] == [0.1, 0.2, 0.3, 0.3, None]
    assert ExecOptions(etxtbsy_retries=0).etxtbsy_delay(1) is None


def test_bad_options_are_pycni_errors() -> None:
    with pytest.raises(ExecOptionsError, match="max_output must be positive"):
        ExecOptions(max_output=0)
    with pytest.raises(PycniError, match="exit_grace must be >= 0"):
        ExecOptions(exit_grace=-1)
