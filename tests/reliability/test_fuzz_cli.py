"""Fuzzing the command line: ``pycni.cli.main(argv)`` with generated argument vectors and
``CNI_ARGS`` / ``CAP_ARGS`` / ``CNI_IFNAME`` environments never raises, always returns a
documented exit status (0, 1 or 2), never prints a traceback, and writes nothing outside the
test's directory (issue 10, "CLI arguments").

Every command that can touch a cache gets ``--cache-dir`` inside the test directory first, and
generated tokens can never name another cache dir; ``exec`` and ``demo`` are not fuzzed (they run
commands or a whole demo by design).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from reliability_strategies import encode
from reliability_support import FUZZ, snapshot

pytest.importorskip("pycni.cli")
from pycni.cli import main

COMMANDS = [
    ("add",),
    ("check",),
    ("del",),
    ("gc",),
    ("status",),
    ("list",),
    ("show",),
    ("validate",),
    ("version",),
    ("cache", "ls"),
    ("cache", "show"),
    ("cache", "rm"),
    ("cache",),
    ("doctor",),
    (),
]
WITH_CACHE_DIR = {("add",), ("check",), ("del",), ("gc",), ("status",)} | {
    ("cache", action) for action in ("ls", "show", "rm")
}
FLAGS = [
    "--json",
    "--dry-run",
    "--conf-dir",
    "--bin-dir",
    "--container-id",
    "-i",
    "--ifname",
    "--args",
    "--cap-args",
    "--port",
    "--bandwidth",
    "--timeout",
    "--no-loopback",
    "--help",
    "--version",
    "--",
]
VALUES = [
    "net",
    "old",
    "missing",
    "noop",
    "eth0",
    "/var/run/netns/x",
    "netns",
    "K=V",
    "K=V;",
    "{}",
    "null",
    '{"portMappings":[]}',
    "[]",
    "1",
    "0",
    "-1",
    "nan",
    "inf",
    "1e308",
    "8080:80",
    "ingress=1M",
    "",
    " ",
    "é",
    "a\nb",
]
DEFAULT_CACHE_DIR = "/var/lib/cni"
DEFAULT_CACHE_EXISTED = os.path.exists(DEFAULT_CACHE_DIR)
tokens = st.one_of(
    st.sampled_from(FLAGS),
    st.sampled_from(VALUES),
    st.text(max_size=10).filter(lambda t: not t.startswith(("-", "/")) and ".." not in t),
)
NETWORKS = st.sampled_from(["net", "old", "missing", "", "../net", "é"])
NETNS = st.sampled_from(["/var/run/netns/x", "netns", "", "a\nb"])
POSITIONALS = {
    ("add",): [NETWORKS, NETNS],
    ("check",): [NETWORKS, NETNS],
    ("del",): [NETWORKS, NETNS],
    ("gc",): [NETWORKS],
    ("status",): [NETWORKS],
    ("show",): [NETWORKS],
    ("validate",): [NETWORKS],
    ("version",): [st.sampled_from(["noop", "missing", "../noop", ""])],
    ("cache", "show"): [NETWORKS, NETNS],
    ("cache", "rm"): [NETWORKS, NETNS],
}
options = st.lists(
    st.tuples(st.sampled_from(FLAGS[2:13]), st.sampled_from(VALUES))
    | st.tuples(st.sampled_from(FLAGS)),
    max_size=3,
).map(lambda pairs: [token for pair in pairs for token in pair])


@st.composite
def argvs(draw: st.DrawFn) -> tuple[tuple[str, ...], list[str]]:
    """A command, its positionals (mostly plausible), options, and sometimes stray tokens."""
    command = draw(st.sampled_from(COMMANDS))
    words = [draw(s) for s in POSITIONALS.get(command, [])]
    if draw(st.booleans()):
        words += draw(options)
    if draw(st.integers(0, 3)) == 0:
        words += draw(st.lists(tokens, max_size=2))
    return command, draw(st.permutations(words)) if draw(st.booleans()) else words


NOOP = """#!/bin/sh
case "$CNI_COMMAND" in
VERSION) echo '{"cniVersion":"1.1.0","supportedVersions":["0.3.1","0.4.0","1.0.0","1.1.0"]}' ;;
ADD) cat >/dev/null; echo '{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.2/24"}]}' ;;
*) cat >/dev/null ;;
esac
"""


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A conf dir with two networks, a bin dir with a harmless plugin, and the CWD in tmp."""
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "10-net.conflist").write_bytes(
        encode({"cniVersion": "1.0.0", "name": "net", "plugins": [{"type": "noop"}]})
    )
    (conf / "20-old.conf").write_bytes(
        encode({"cniVersion": "0.3.1", "name": "old", "type": "noop"})
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "noop").write_text(NOOP)
    (bin_dir / "noop").chmod(0o755)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("NETCONFPATH", str(conf))
    monkeypatch.setenv("CNI_PATH", str(bin_dir))
    for name in ("CNI_ARGS", "CAP_ARGS", "CNI_IFNAME"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@FUZZ
@given(
    generated=argvs(),
    environ=st.fixed_dictionaries(
        {},
        optional={
            "CNI_ARGS": st.sampled_from(["", "K=V", "K=", "=V", "a;b", "K=V;L=W"]),
            "CAP_ARGS": st.sampled_from(["", "{}", "null", "[]", "{", '{"mac":"x"}', "1e999"]),
            "CNI_IFNAME": st.sampled_from(["", "eth1", "..", "x" * 20, "a/b"]),
        },
    ),
)
def test_fuzz_cli_main(
    cli_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    generated: tuple[tuple[str, ...], list[str]],
    environ: dict[str, str],
) -> None:
    """Any argv: an exit status of 0, 1 or 2, no traceback, one JSON error object with --json,
    and no file written outside the test directory."""
    for name in ("CNI_ARGS", "CAP_ARGS", "CNI_IFNAME"):
        if name in environ:
            monkeypatch.setenv(name, environ[name])
        else:
            monkeypatch.delenv(name, raising=False)
    command, rest = generated
    argv = list(command)
    if command in WITH_CACHE_DIR:
        argv += ["--cache-dir", str(cli_env / "cache")]
    argv += rest
    capsys.readouterr()
    status = main(argv)
    out, err = capsys.readouterr()
    event(f"{' '.join(command) or '(none)'} -> exit status {status}")
    assert status in (0, 1, 2), (argv, status, err)
    assert "Traceback" not in err and "Traceback" not in out, (argv, err)
    end = argv.index("--") if "--" in argv else len(argv)
    wants_json = "--json" in argv[:end] and "--help" not in argv and "--version" not in argv
    if status != 0 and wants_json and err.strip():
        document = json.loads(err)
        assert isinstance(document, dict) and document, (argv, err)
    assert os.path.exists(DEFAULT_CACHE_DIR) == DEFAULT_CACHE_EXISTED, argv


def test_read_only_commands_write_nothing(cli_env: Path) -> None:
    """Listing and showing networks only read."""
    before = snapshot(cli_env)
    assert main(["list"]) == 0
    assert main(["show", "net", "--json"]) == 0
    assert main(["cache", "ls", "--cache-dir", str(cli_env / "nothing")]) in (0, 1)
    assert snapshot(cli_env) == before
