"""pycni.skel's dispatcher, driven with injected environment and streams (reference section 7.7)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from pycni.errors import CNIError
from pycni.skel import ALL_VERSIONS, CmdArgs, Dispatcher

STDIN = b'{ "name":"skel-test", "some": "config", "cniVersion": "9.8.7" }'
VERSIONS = ("9.8.7", "10.0.0")


class Recorder:
    """A verb callback that records its calls and returns or raises what it is told to."""

    def __init__(self, outcome: Any = None) -> None:
        self.calls: list[CmdArgs] = []
        self.outcome = outcome

    def __call__(self, args: CmdArgs) -> Any:
        self.calls.append(args)
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome


class FailingReader:
    """A stdin whose every read fails, counting the attempts."""

    def __init__(self) -> None:
        self.reads = 0

    def read(self, size: int = -1) -> bytes:
        self.reads += 1
        raise OSError("banana")


class Harness:
    def __init__(self) -> None:
        self.env = {
            "CNI_COMMAND": "ADD",
            "CNI_CONTAINERID": "some-container-id",
            "CNI_NETNS": "/some/netns/path",
            "CNI_IFNAME": "eth0",
            "CNI_ARGS": "some;extra;args",
            "CNI_PATH": "/some/cni/path",
        }
        self.stdin: Any = io.BytesIO(STDIN)
        self.stdout = io.BytesIO()
        self.stderr = io.StringIO()
        self.versions: Any = VERSIONS
        self.about = ""
        self.add = Recorder()
        self.check = Recorder()
        self.delete = Recorder()
        self.gc = Recorder()
        self.status = Recorder()

    def set_stdin(self, data: bytes) -> None:
        self.stdin = io.BytesIO(data)

    def run(self) -> CNIError | None:
        dispatcher = Dispatcher(
            environ=self.env, stdin=self.stdin, stdout=self.stdout, stderr=self.stderr
        )
        return dispatcher.run(
            add=self.add,
            check=self.check,
            delete=self.delete,
            gc=self.gc,
            status=self.status,
            versions=self.versions,
            about=self.about,
        )

    def called(self) -> dict[str, int]:
        names = ("add", "check", "delete", "gc", "status")
        return {n: len(getattr(self, n).calls) for n in names if getattr(self, n).calls}


@pytest.fixture
def h() -> Harness:
    return Harness()


def expected_args(command: str = "ADD") -> CmdArgs:
    return CmdArgs(
        container_id="some-container-id",
        netns="/some/netns/path",
        ifname="eth0",
        args="some;extra;args",
        path="/some/cni/path",
        stdin_data=STDIN,
        command=command,
    )


# ------------------------------------------------------------------------------------------ ADD


def test_add_calls_only_add_with_env_and_stdin(h: Harness) -> None:
    """Reference 7.7 item 84: ADD calls only Add with CmdArgs equal to env + stdin."""
    assert h.run() is None
    assert h.called() == {"add": 1}
    assert h.add.calls[0] == expected_args("ADD")
    assert h.stdout.getvalue() == b""


def test_invalid_container_id(h: Harness) -> None:
    """Reference 7.7 item 84: invalid container ID -> {4, invalid characters in containerID, id}."""
    h.env["CNI_CONTAINERID"] = "some-%%container-id"
    assert h.run() == CNIError(4, "invalid characters in containerID", "some-%%container-id")
    assert h.called() == {}


def test_container_id_with_trailing_newline_is_invalid(h: Harness) -> None:
    """Reference 11 item 1: the name rule matches the whole string (a trailing newline fails)."""
    h.env["CNI_CONTAINERID"] = "abc\n"
    err = h.run()
    assert err is not None
    assert (err.code, err.msg) == (4, "invalid characters in containerID")


@pytest.mark.parametrize(
    ("ifname", "msg", "details"),
    [
        (
            "1234567890123456",
            "interface name is too long",
            "interface name should be less than 16 characters",
        ),
        (".", "interface name is . or ..", ""),
        ("..", "interface name is . or ..", ""),
        ("test/test", "interface name contains / or : or whitespace characters", ""),
        ("test:test", "interface name contains / or : or whitespace characters", ""),
        ("test test", "interface name contains / or : or whitespace characters", ""),
        (
            "ééééééééé",
            "interface name is too long",
            "interface name should be less than 16 characters",
        ),
    ],
)
def test_invalid_interface_names(h: Harness, ifname: str, msg: str, details: str) -> None:
    """Reference 7.7 item 84 (ifname cases of 7.1 item 32): code 4 with pkg/utils' messages."""
    h.env["CNI_IFNAME"] = ifname
    assert h.run() == CNIError(4, msg, details)
    assert h.called() == {}


@pytest.mark.parametrize("verb", ["ADD", "CHECK", "DEL"])
@pytest.mark.parametrize(
    ("variable", "required"),
    [
        ("CNI_COMMAND", True),
        ("CNI_CONTAINERID", True),
        ("CNI_NETNS", True),
        ("CNI_IFNAME", True),
        ("CNI_ARGS", False),
        ("CNI_PATH", True),
    ],
)
def test_required_variables(h: Harness, verb: str, variable: str, required: bool) -> None:
    """Reference 7.7 items 84, 86, 88: each required variable missing is reported; ARGS optional,
    NETNS optional for DEL only."""
    h.env["CNI_COMMAND"] = verb
    h.set_stdin(STDIN.replace(b"9.8.7", b"10.0.0"))
    del h.env[variable]
    if verb == "DEL" and variable == "CNI_NETNS":
        required = False
    err = h.run()
    if required:
        assert err == CNIError(4, f"required env variables [{variable}] missing")
        assert h.called() == {}
    else:
        assert err is None
        assert sum(h.called().values()) == 1


def test_empty_value_counts_as_missing(h: Harness) -> None:
    """Reference 6.2 item 3: an empty string counts as missing."""
    h.env["CNI_PATH"] = ""
    assert h.run() == CNIError(4, "required env variables [CNI_PATH] missing")


@pytest.mark.parametrize("verb", ["ADD", "CHECK"])
def test_missing_variables_are_listed_together(h: Harness, verb: str) -> None:
    """Reference 7.7 items 84, 86: NETNS+IFNAME+PATH missing -> all listed in table order."""
    h.env["CNI_COMMAND"] = verb
    for name in ("CNI_NETNS", "CNI_IFNAME", "CNI_PATH"):
        del h.env[name]
    assert h.run() == CNIError(4, "required env variables [CNI_NETNS,CNI_IFNAME,CNI_PATH] missing")


def test_present_invalid_variable_wins_over_missing_ones(h: Harness) -> None:
    """Reference 11 item 32: the first present-but-invalid required variable beats missing ones."""
    h.env["CNI_IFNAME"] = "a/b"
    del h.env["CNI_NETNS"]
    del h.env["CNI_PATH"]
    err = h.run()
    assert err == CNIError(4, "interface name contains / or : or whitespace characters")


def test_first_invalid_variable_wins(h: Harness) -> None:
    """Reference 6.2 item 4: variables are examined in table order (CONTAINERID before IFNAME)."""
    h.env["CNI_CONTAINERID"] = "bad id"
    h.env["CNI_IFNAME"] = "a/b"
    err = h.run()
    assert err is not None
    assert err.msg == "invalid characters in containerID"


def test_missing_cni_version_means_0_1_0(h: Harness) -> None:
    """Reference 7.7 item 85: stdin without cniVersion and a plugin supporting 0.1.0 -> Add runs."""
    h.set_stdin(b'{ "name":"skel-test", "some": "config" }')
    h.versions = ["0.1.0"]
    assert h.run() is None
    assert h.called() == {"add": 1}


def test_incompatible_version_stops_before_callback(h: Harness) -> None:
    """Reference 7.7 item 85: plugin supports only 4.3.2 -> code 1 with libcni's details."""
    h.set_stdin(b'{ "name":"skel-test", "some": "config" }')
    h.versions = ["4.3.2"]
    err = h.run()
    assert err is not None
    assert (err.code, err.msg, err.details) == (
        1,
        "incompatible CNI versions",
        'config is "0.1.0", plugin supports ["4.3.2"]',
    )
    assert h.called() == {}


def test_non_string_cni_version_is_a_decoding_failure(h: Harness) -> None:
    """Reference 6.3 item 11: the config version cannot be decoded -> code 6."""
    h.set_stdin(b'{"name":"skel-test","cniVersion":1}')
    err = h.run()
    assert err is not None
    assert err.code == 6
    assert err.msg.startswith("decoding version from network config:")
    assert h.called() == {}


# ---------------------------------------------------------------------------------------- CHECK


def test_check_calls_only_check(h: Harness) -> None:
    """Reference 7.7 item 86: CHECK calls only Check with the same CmdArgs."""
    h.env["CNI_COMMAND"] = "CHECK"
    h.versions = ["0.4.0", "9.8.7"]
    assert h.run() is None
    assert h.called() == {"check": 1}
    assert h.check.calls[0] == expected_args("CHECK")


@pytest.mark.parametrize(
    ("verb", "config", "plugin", "expected"),
    [
        ("CHECK", "0.3.0", ["0.3.0", "0.4.0"], (1, "config version does not allow CHECK")),
        ("CHECK", "0.4.0", ["0.1.0", "0.2.0", "0.3.0"], (1, "plugin version does not allow CHECK")),
        ("GC", "0.3.0", ["0.3.0", "1.1.0"], (1, "config version does not allow GC")),
        ("GC", "1.1.0", ["0.1.0", "0.2.0", "0.3.0"], (1, "plugin version does not allow GC")),
        ("STATUS", "1.0.0", ["1.0.0", "1.1.0"], (1, "config version does not allow STATUS")),
        ("STATUS", "1.1.0", ["0.4.0", "1.0.0"], (1, "plugin version does not allow STATUS")),
    ],
)
def test_verb_gates(
    h: Harness, verb: str, config: str, plugin: list[str], expected: tuple[int, str]
) -> None:
    """Reference 7.7 items 86, 87 (and 6.3 item 9 for STATUS): version gates of CHECK/GC/STATUS."""
    h.env["CNI_COMMAND"] = verb
    h.set_stdin(json.dumps({"name": "skel-test", "cniVersion": config}).encode())
    h.versions = plugin
    err = h.run()
    assert err is not None
    assert (err.code, err.msg) == expected
    assert h.called() == {}


@pytest.mark.parametrize("verb", ["CHECK", "GC", "STATUS"])
def test_gate_with_bad_config_version(h: Harness, verb: str) -> None:
    """Reference 7.7 items 86, 87: an unparsable config version -> code 6, no callback."""
    h.env["CNI_COMMAND"] = verb
    h.set_stdin(b'{"name":"skel-test","cniVersion":"adsfsadf"}')
    err = h.run()
    assert err is not None
    assert err.code == 6
    assert "adsfsadf" in err.msg
    assert h.called() == {}


@pytest.mark.parametrize("verb", ["CHECK", "GC", "STATUS"])
def test_gate_with_bad_plugin_version(h: Harness, verb: str) -> None:
    """Reference 7.7 items 86, 87: an unparsable plugin version reached before a qualifying one
    -> code 6."""
    h.env["CNI_COMMAND"] = verb
    h.set_stdin(b'{"name":"skel-test","cniVersion":"1.1.0"}')
    h.versions = ["0.1.0", "adsfasdf", "1.1.0"]
    err = h.run()
    assert err is not None
    assert err.code == 6
    assert h.called() == {}


def test_gate_bad_plugin_version_after_a_qualifying_one_is_ignored(h: Harness) -> None:
    """Reference 6.3 item 8: a bad plugin version only matters if no earlier entry qualified."""
    h.env["CNI_COMMAND"] = "CHECK"
    h.set_stdin(b'{"name":"skel-test","cniVersion":"0.4.0"}')
    h.versions = ["0.4.0", "adsfasdf"]
    assert h.run() is None
    assert h.called() == {"check": 1}


def test_gate_passes_then_exact_membership_is_checked(h: Harness) -> None:
    """Reference 6.3 item 8: a qualifying plugin version is followed by the exact version check."""
    h.env["CNI_COMMAND"] = "CHECK"
    h.set_stdin(b'{"name":"skel-test","cniVersion":"0.4.0"}')
    h.versions = ["1.0.0"]
    err = h.run()
    assert err is not None
    assert (err.code, err.msg) == (1, "incompatible CNI versions")
    assert err.details == 'config is "0.4.0", plugin supports ["1.0.0"]'


@pytest.mark.parametrize("verb", ["CHECK", "GC"])
def test_bad_network_name(h: Harness, verb: str) -> None:
    """Reference 7.7 items 86, 87: a bad network name -> code 7 (even with a 0.4.0 config)."""
    h.env["CNI_COMMAND"] = verb
    h.set_stdin(b'{"name":"te%%st","cniVersion":"0.4.0"}')
    err = h.run()
    assert err == CNIError(7, "invalid characters found in network name", "te%%st")
    assert h.called() == {}


# ------------------------------------------------------------------------------------ GC, DEL


def test_gc_needs_only_command_and_path(h: Harness) -> None:
    """Reference 7.7 item 87: GC env has only COMMAND and PATH; CmdArgs has Path and StdinData."""
    h.env = {"CNI_COMMAND": "GC", "CNI_PATH": "/some/cni/path"}
    stdin = b'{"name":"skel-test","cniVersion":"1.1.0"}'
    h.set_stdin(stdin)
    h.versions = ["1.1.0"]
    assert h.run() is None
    assert h.called() == {"gc": 1}
    assert h.gc.calls[0] == CmdArgs(path="/some/cni/path", stdin_data=stdin, command="GC")


@pytest.mark.parametrize("verb", ["GC", "STATUS"])
def test_gc_and_status_missing_path(h: Harness, verb: str) -> None:
    """Reference 7.7 item 87: GC (and STATUS) without CNI_PATH -> [CNI_PATH] missing."""
    h.env = {"CNI_COMMAND": verb}
    assert h.run() == CNIError(4, "required env variables [CNI_PATH] missing")


def test_gc_does_not_validate_attachment_variables(h: Harness) -> None:
    """Reference 6.2 item 4: only variables required by the verb are validated."""
    h.env = {"CNI_COMMAND": "GC", "CNI_PATH": "/p", "CNI_CONTAINERID": "%%", "CNI_IFNAME": "a/b"}
    h.set_stdin(b'{"name":"skel-test","cniVersion":"1.1.0"}')
    h.versions = ["1.1.0"]
    assert h.run() is None
    assert h.called() == {"gc": 1}


def test_status_calls_status(h: Harness) -> None:
    """Reference 6.3 item 9: STATUS is gated like GC and calls only Status."""
    h.env = {"CNI_COMMAND": "STATUS", "CNI_PATH": "/p"}
    h.set_stdin(b'{"name":"skel-test","cniVersion":"1.1.0"}')
    h.versions = ["1.1.0"]
    assert h.run() is None
    assert h.called() == {"status": 1}


def test_del_calls_only_del(h: Harness) -> None:
    """Reference 7.7 item 88: DEL calls Del with the env and stdin data."""
    h.env["CNI_COMMAND"] = "DEL"
    assert h.run() is None
    assert h.called() == {"delete": 1}
    assert h.delete.calls[0] == expected_args("DEL")


def test_unset_callback_succeeds_silently(h: Harness) -> None:
    """Reference 6.3 item 11: an unset callback succeeds with no output after the version check."""
    h.env["CNI_COMMAND"] = "DEL"
    h.delete = None  # type: ignore[assignment]
    assert h.run() is None
    assert h.stdout.getvalue() == b""
    h2 = Harness()
    h2.env["CNI_COMMAND"] = "DEL"
    h2.delete = None  # type: ignore[assignment]
    h2.versions = ["1.0.0"]
    err = h2.run()
    assert err is not None
    assert err.code == 1


# ------------------------------------------------------------------------------------ VERSION


def test_version_prints_plugin_info(h: Harness) -> None:
    """Reference 7.7 item 89: VERSION prints {"cniVersion":"1.1.0","supportedVersions":[...]}."""
    h.env = {"CNI_COMMAND": "VERSION"}
    h.set_stdin(b"")
    assert h.run() is None
    out = h.stdout.getvalue()
    assert out.endswith(b"\n")
    assert json.loads(out) == {"cniVersion": "1.1.0", "supportedVersions": ["9.8.7", "10.0.0"]}
    assert h.called() == {}


def test_version_does_not_fail_on_unreadable_stdin(h: Harness) -> None:
    """Reference 7.7 item 89: only COMMAND is required and stdin problems never fail VERSION."""
    h.env = {"CNI_COMMAND": "VERSION"}
    h.stdin = FailingReader()
    assert h.run() is None
    assert json.loads(h.stdout.getvalue())["cniVersion"] == "1.1.0"


def test_version_echoes_a_supported_requested_version(h: Harness) -> None:
    """Improvement over skel (docs/plugins.md): VERSION answers with the requested version."""
    h.env = {"CNI_COMMAND": "VERSION"}
    h.set_stdin(b'{"cniVersion":"9.8.7"}')
    assert h.run() is None
    assert json.loads(h.stdout.getvalue())["cniVersion"] == "9.8.7"


@pytest.mark.parametrize("request_body", [b'{"cniVersion":"0.4.0"}', b"not json", b"[1]"])
def test_version_falls_back_to_current(h: Harness, request_body: bytes) -> None:
    """Reference 6.3 item 10: an unsupported or unreadable request gets the 1.1.0 answer."""
    h.env = {"CNI_COMMAND": "VERSION"}
    h.set_stdin(request_body)
    assert h.run() is None
    assert json.loads(h.stdout.getvalue())["cniVersion"] == "1.1.0"


def test_version_output_to_text_stream(h: Harness) -> None:
    """Text streams are accepted as stdout (the process's own sys.stdout is one)."""
    h.env = {"CNI_COMMAND": "VERSION"}
    h.stdout = io.StringIO()  # type: ignore[assignment]
    assert h.run() is None
    assert json.loads(h.stdout.getvalue())["supportedVersions"] == list(VERSIONS)


def test_default_versions_are_every_spec_version(h: Harness) -> None:
    """Reference 5.5 item 29: the default supported list is version.All."""
    from pycni.version import ALL

    assert ALL_VERSIONS == ALL
    h.env = {"CNI_COMMAND": "VERSION"}
    h.versions = None
    assert h.run() is None
    assert json.loads(h.stdout.getvalue())["supportedVersions"] == list(ALL)


def test_versions_from_plugin_info(h: Harness) -> None:
    """A pycni.version.PluginInfo is accepted as the supported-versions declaration."""
    from pycni.version import plugin_supports

    h.env = {"CNI_COMMAND": "VERSION"}
    h.versions = plugin_supports("0.4.0", "1.0.0")
    assert h.run() is None
    assert json.loads(h.stdout.getvalue())["supportedVersions"] == ["0.4.0", "1.0.0"]


# ---------------------------------------------------------------------------- unknown, about


def test_unknown_command(h: Harness) -> None:
    """Reference 7.7 item 90: NOPE -> {4, unknown CNI_COMMAND: NOPE}, no callback."""
    h.env["CNI_COMMAND"] = "NOPE"
    assert h.run() == CNIError(4, "unknown CNI_COMMAND: NOPE")
    assert h.called() == {}


def test_unknown_command_validates_stdin_first(h: Harness) -> None:
    """Reference 11 item 32: stdin validation precedes "unknown command"."""
    h.env["CNI_COMMAND"] = "NOPE"
    h.set_stdin(b'{"cniVersion":"1.0.0"}')
    assert h.run() == CNIError(7, "missing network name")


def test_blank_command_prints_about(h: Harness) -> None:
    """Reference 7.7 item 90: empty command with an about text -> success, about on stderr."""
    h.env["CNI_COMMAND"] = ""
    h.about = "test framework v42"
    assert h.run() is None
    assert "test framework v42" in h.stderr.getvalue()
    assert h.called() == {}


def test_empty_env_prints_about_exactly(h: Harness) -> None:
    """Reference 7.7 item 90: exact about text and supported versions on stderr."""
    h.env = {}
    h.about = "AWESOME PLUGIN"
    assert h.run() is None
    assert h.stderr.getvalue() == "AWESOME PLUGIN\nCNI protocol versions supported: 9.8.7, 10.0.0\n"
    assert h.stdout.getvalue() == b""


def test_empty_env_without_about(h: Harness) -> None:
    """Reference 7.7 item 90: empty env without about -> [CNI_COMMAND] missing."""
    h.env = {}
    assert h.run() == CNIError(4, "required env variables [CNI_COMMAND] missing")
    assert h.called() == {}


# ------------------------------------------------------------------------------------- stdin


def test_failing_stdin_reader(h: Harness) -> None:
    """Reference 7.7 item 91: failing stdin -> {5, error reading from stdin: banana}."""
    h.stdin = FailingReader()
    assert h.run() == CNIError(5, "error reading from stdin: banana")
    assert h.called() == {}


@pytest.mark.parametrize(
    ("stdin", "code", "msg_start"),
    [
        (b"{{{", 6, "error unmarshall network config: "),
        (b"[]", 6, "error unmarshall network config: json: cannot unmarshal array"),
        (b'{"name": 3}', 6, "error unmarshall network config: json: cannot unmarshal number"),
        (b"", 6, "error unmarshall network config: unexpected end of JSON input"),
        (b"null", 7, "missing network name"),
        (b"{}", 7, "missing network name"),
        (b'{"name": ""}', 7, "missing network name"),
        (b'{"name": "te%%st"}', 7, "invalid characters found in network name"),
        (b'{"name": "net\\n"}', 7, "invalid characters found in network name"),
    ],
)
def test_stdin_validation(h: Harness, stdin: bytes, code: int, msg_start: str) -> None:
    """Reference 6.2 item 6: stdin must be JSON with a valid name (codes 6 and 7)."""
    h.set_stdin(stdin)
    err = h.run()
    assert err is not None
    assert err.code == code
    assert err.msg.startswith(msg_start)
    assert h.called() == {}


def test_stdin_validation_precedes_version_check(h: Harness) -> None:
    """Reference 11 item 32: name validation comes before the version checks."""
    h.set_stdin(b'{"name":"bad name","cniVersion":"0.0.1"}')
    err = h.run()
    assert err is not None
    assert err.code == 7


# --------------------------------------------------------------------------------- callbacks


def test_callback_cni_error_is_returned_as_is(h: Harness) -> None:
    """Reference 7.7 item 92: a CNI error from the callback keeps its code."""
    h.add = Recorder(CNIError(1234, "insufficient something"))
    assert h.run() == CNIError(1234, "insufficient something")


def test_callback_plain_error_becomes_999(h: Harness) -> None:
    """Reference 7.7 item 92: any other error -> {999, its text}; the traceback goes to stderr."""
    h.add = Recorder(RuntimeError("potato"))
    assert h.run() == CNIError(999, "potato")
    assert "RuntimeError: potato" in h.stderr.getvalue()


def test_callback_error_without_text_is_named(h: Harness) -> None:
    """An exception without a message is reported by its type name, never as an empty msg."""
    h.add = Recorder(KeyError())
    err = h.run()
    assert err == CNIError(999, "KeyError")


def test_callback_returning_something_odd(h: Harness) -> None:
    """A callback must return a Result or None; anything else is a clear code-999 error."""
    h.add = Recorder({"cniVersion": "9.8.7"})
    err = h.run()
    assert err is not None
    assert err.code == 999
    assert "expected a pycni Result or None" in err.msg


def test_async_callback(h: Harness) -> None:
    """``async def`` callbacks are awaited."""
    seen: list[str] = []

    async def add(args: CmdArgs) -> None:
        seen.append(args.container_id)

    h.add = add  # type: ignore[assignment]
    assert h.run() is None
    assert seen == ["some-container-id"]


def test_async_callback_error(h: Harness) -> None:
    """Errors raised by async callbacks are reported like sync ones."""

    async def add(args: CmdArgs) -> None:
        raise CNIError(11, "try again later")

    h.add = add  # type: ignore[assignment]
    assert h.run() == CNIError(11, "try again later")


def test_no_versions_is_an_error(h: Harness) -> None:
    """A plugin that declares no versions cannot serve anything (libcni panics)."""
    h.versions = []
    err = h.run()
    assert err is not None
    assert err.code == 999


# ------------------------------------------------------------------------------------- netns

OWN_NETNS = "/proc/self/ns/net"


@pytest.mark.parametrize("verb", ["ADD", "DEL"])
def test_own_netns_is_refused_before_the_callback(h: Harness, verb: str) -> None:
    """Reference 6.3 item 12 (improved, docs/plugins.md): CNI_NETNS naming the plugin's own netns
    -> code 8, and the callback never runs (skel runs it first)."""
    h.env["CNI_COMMAND"] = verb
    h.env["CNI_NETNS"] = OWN_NETNS
    assert h.run() == CNIError(8, "plugin's netns and netns from CNI_NETNS should not be the same")
    assert h.called() == {}
    assert h.stdout.getvalue() == b""


@pytest.mark.parametrize("override", ["1", "true", "TRUE", "True"])
def test_netns_override_skips_the_check(h: Harness, override: str) -> None:
    """Reference 6.3 item 12: CNI_NETNS_OVERRIDE=1|true (any case) disables the self-check."""
    h.env["CNI_NETNS"] = OWN_NETNS
    h.env["CNI_NETNS_OVERRIDE"] = override
    assert h.run() is None
    assert h.add.calls[0].netns_override == override


def test_netns_override_other_values_keep_the_check(h: Harness) -> None:
    """Reference 6.3 item 12: other override values do not disable the check."""
    h.env["CNI_NETNS"] = OWN_NETNS
    h.env["CNI_NETNS_OVERRIDE"] = "yes"
    err = h.run()
    assert err is not None
    assert err.code == 8


def test_check_is_not_netns_guarded(h: Harness) -> None:
    """Reference 6.3 item 7: only ADD and DEL get the netns self-check."""
    h.env["CNI_COMMAND"] = "CHECK"
    h.env["CNI_NETNS"] = OWN_NETNS
    h.versions = ["9.8.7"]
    assert h.run() is None
    assert h.called() == {"check": 1}


def test_unopenable_netns_is_not_an_error(h: Harness, tmp_path: Any) -> None:
    """Reference 6.3 item 12: a netns that cannot be opened (or another file) is not refused."""
    h.env["CNI_NETNS"] = str(tmp_path / "gone")
    assert h.run() is None
    h2 = Harness()
    h2.env["CNI_NETNS"] = str(tmp_path)
    assert h2.run() is None


# --------------------------------------------------------------------------------- start-up


def test_import_and_version_stay_light() -> None:
    """Start-up budget (issue 6): importing pycni.skel and answering VERSION load neither attrs
    nor the result types (benchmarks/bench_skel_startup.py measures the time)."""
    import subprocess
    import sys

    code = (
        "import sys, io\n"
        "from pycni.skel import Dispatcher\n"
        "Dispatcher(environ={'CNI_COMMAND': 'VERSION'}, stdin=io.BytesIO(b''),\n"
        "           stdout=io.BytesIO(), stderr=io.StringIO()).run(add=lambda a: None)\n"
        "heavy = [m for m in ('attr', 'attrs', 'cattrs', 'pycni.types', 'pycni.version',\n"
        "                     'pycni._cmdargs', 'asyncio', 'traceback') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_cmdargs_is_reachable_lazily() -> None:
    """pycni.skel.CmdArgs is the attrs class, loaded on first access."""
    import attrs

    import pycni.skel

    assert attrs.has(pycni.skel.CmdArgs)
    with pytest.raises(AttributeError):
        pycni.skel.NoSuchName  # noqa: B018


# ------------------------------------------------------------------------------------ results


def test_result_is_printed_in_the_request_version(h: Harness) -> None:
    """Reference 5.1 item 13: a returned result is printed converted to the config's version,
    as 4-space indented JSON without a trailing newline."""
    from pycni.types import create_result

    h.set_stdin(b'{"name":"skel-test","cniVersion":"0.4.0"}')
    h.versions = ["0.4.0"]
    h.add = Recorder(
        create_result("1.1.0", {"cniVersion": "1.1.0", "ips": [{"address": "10.0.0.2/24"}]})
    )
    assert h.run() is None
    out = h.stdout.getvalue().decode()
    assert out.startswith('{\n    "cniVersion": "0.4.0"')
    assert not out.endswith("\n")
    assert json.loads(out)["ips"] == [{"version": "4", "address": "10.0.0.2/24"}]


def test_unconvertible_result_is_a_999(h: Harness) -> None:
    """Reference 7.8 item 95: an empty result cannot be printed as 0.2.0 (no IP) -> code 999."""
    from pycni.types import empty_result

    h.set_stdin(b'{"name":"skel-test","cniVersion":"0.2.0"}')
    h.versions = ["0.2.0"]
    h.add = Recorder(empty_result("1.1.0"))
    err = h.run()
    assert err is not None
    assert err.code == 999
    assert "no valid IP addresses" in err.msg
    assert h.stdout.getvalue() == b""


def test_print_helpers_write_to_text_streams() -> None:
    """print_result and print_error write libcni's shapes to any stream."""
    from pycni.skel import print_error, print_result
    from pycni.types import create_result

    text = io.StringIO()
    print_error(CNIError(7, "bad", "worse"), file=text)
    assert json.loads(text.getvalue()) == {"code": 7, "msg": "bad", "details": "worse"}
    binary = io.BytesIO()
    print_result(create_result("1.0.0", {"cniVersion": "1.0.0"}), "1.1.0", file=binary)
    assert json.loads(binary.getvalue()) == {"cniVersion": "1.1.0"}


def test_plugin_main_exits_1_with_the_error_on_stdout(tmp_path: Any) -> None:
    """Reference 6.1 item 1: plugin_main prints the error JSON on stdout and exits 1."""
    import os
    import subprocess
    import sys

    code = (
        "from pycni.errors import CNIError\n"
        "from pycni.skel import plugin_main\n"
        "def add(args):\n"
        "    raise CNIError(1234, 'insufficient something')\n"
        "plugin_main(add=add, versions=['1.1.0'])\n"
    )
    env = {
        **os.environ,
        "CNI_COMMAND": "ADD",
        "CNI_CONTAINERID": "c",
        "CNI_NETNS": "/x",
        "CNI_IFNAME": "eth0",
        "CNI_PATH": "/p",
    }
    proc = subprocess.run(
        [sys.executable, "-c", code],
        input=b'{"name":"n","cniVersion":"1.1.0"}',
        env=env,
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stdout == b'{\n    "code": 1234,\n    "msg": "insufficient something"\n}'


def test_version_never_hangs_on_an_open_silent_pipe(h: Harness) -> None:
    """A runtime that leaves stdin open without writing does not hang VERSION (pycni reads the
    request only to echo its version, with a short deadline)."""
    import os
    import time

    read_end, write_end = os.pipe()
    try:
        with os.fdopen(read_end, "rb", buffering=0) as reader:
            h.env = {"CNI_COMMAND": "VERSION"}
            h.stdin = reader
            started = time.monotonic()
            assert h.run() is None
            assert time.monotonic() - started < 5
    finally:
        os.close(write_end)
    assert json.loads(h.stdout.getvalue())["cniVersion"] == "1.1.0"


def test_version_reads_a_request_from_a_pipe(h: Harness) -> None:
    """A request written to a pipe (as runtimes do) is read and its version echoed."""
    import os

    read_end, write_end = os.pipe()
    os.write(write_end, b'{"cniVersion":"10.0.0"}')
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        h.env = {"CNI_COMMAND": "VERSION"}
        h.stdin = reader
        assert h.run() is None
    assert json.loads(h.stdout.getvalue())["cniVersion"] == "10.0.0"
