"""The ``pycni`` command's attachment verbs (add, check, del, gc, status), run as users run it: in a
subprocess (``python -m pycni``), against libcni's noop test plugin on disk (reference section 8,
cnitool, and the beyond-cnitool flags of issue 7)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import pycni
import pycni.k8s

CLI_ENV = ("NETCONFPATH", "CNI_PATH", "CNI_ARGS", "CAP_ARGS", "CNI_IFNAME", "CNI_COMMAND")
IP_RESULT = {"cniVersion": "1.1.0", "ips": [{"address": "10.1.2.3/24"}], "dns": {}}


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m pycni ARGS`` with the cnitool variables cleared, then ``env`` applied."""
    full = {k: v for k, v in os.environ.items() if k not in CLI_ENV}
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "pycni", *args],
        env=full,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def cnitool_id(netns: str) -> str:
    """cnitool's container ID, computed independently: first 10 bytes of SHA-512, hex."""
    return "cnitool-" + hashlib.sha512(netns.encode()).digest()[:10].hex()


def assert_one_error_line(proc: subprocess.CompletedProcess[str], code: int, *needles: str) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


class Net:
    """A conf dir with network ``testnet`` (two noop plugins), a plugin dir and a cache dir."""

    def __init__(self, tmp: Path, bin_dir: Path, version: str = "1.1.0") -> None:
        self.tmp = tmp
        self.bin_dir = bin_dir
        self.conf_dir = tmp / "net.d"
        self.conf_dir.mkdir()
        self.cache_dir = tmp / "cache"
        self.debug = [tmp / "debug0.json", tmp / "debug1.json"]
        self.debug[0].write_text(json.dumps({"ReportResult": json.dumps(IP_RESULT)}))
        self.debug[1].write_text(json.dumps({"ReportResult": "PASSTHROUGH"}))
        self.log = tmp / "log.json"
        self.log.write_text("[]")
        self.write(version)

    def write(self, version: str, name: str = "testnet", file: str = "10-test.conflist") -> Path:
        plugins: list[dict[str, Any]] = [
            {
                "type": "noop",
                "debugFile": str(self.debug[0]),
                "commandLog": str(self.log),
                "capabilities": {"portMappings": True, "bandwidth": True, "mac": False},
            },
            {"type": "noop", "debugFile": str(self.debug[1]), "commandLog": str(self.log)},
        ]
        path = self.conf_dir / file
        path.write_text(json.dumps({"cniVersion": version, "name": name, "plugins": plugins}))
        return path

    def no_passthrough(self) -> None:
        """Second plugin reports a fixed result (PASSTHROUGH needs a prevResult: GC has none)."""
        self.debug[1].write_text(json.dumps({"ReportResult": json.dumps(IP_RESULT)}))

    def env(self, **extra: str) -> dict[str, str]:
        return {"NETCONFPATH": str(self.conf_dir), "CNI_PATH": str(self.bin_dir), **extra}

    def run(self, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Any:
        return run_cli(
            *args, "--cache-dir", str(self.cache_dir), env=self.env(**(env or {})), cwd=cwd
        )

    def calls(self) -> list[tuple[str, dict[str, Any]]]:
        """Every plugin call so far: (command, CmdArgs with StdinData decoded)."""
        out = []
        for entry in json.loads(self.log.read_text()):
            args = dict(entry["CmdArgs"])
            args["StdinData"] = json.loads(base64.b64decode(args["StdinData"]))
            out.append((entry["Command"], args))
        return out

    def cache_files(self) -> list[str]:
        results = self.cache_dir / "results"
        return sorted(p.name for p in results.iterdir() if p.is_file()) if results.exists() else []


@pytest.fixture
def net(tmp_path: Path, noop_bin: Path) -> Net:
    return Net(tmp_path, noop_bin)


# --------------------------------------------------------------------------------------------
# cnitool parity
# --------------------------------------------------------------------------------------------


def test_add_with_cnitool_environment(net: Net) -> None:
    """Reference 8 items 2, 3, 5, 7: NETCONFPATH, CNI_PATH, CNI_ARGS, CAP_ARGS, CNI_IFNAME; the
    netns made absolute against the CWD; cnitool's container ID; the result printed with a
    4-space indent."""
    caps = {
        "portMappings": [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}],
        "mac": "x",
    }
    proc = net.run(
        "add",
        "testnet",
        "ns/blue",
        cwd=net.tmp,
        env={"CNI_ARGS": "FOO=BAR;K=V", "CAP_ARGS": json.dumps(caps), "CNI_IFNAME": "net1"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert json.loads(proc.stdout) == {
        "cniVersion": "1.1.0",
        "ips": [{"address": "10.1.2.3/24"}],
    }
    assert proc.stdout.startswith('{\n    "cniVersion"')
    netns = str(net.tmp / "ns" / "blue")
    calls = net.calls()
    assert [c for c, _ in calls] == ["ADD", "ADD"]
    first = calls[0][1]
    assert first["ContainerID"] == cnitool_id(netns)
    assert first["Netns"] == netns
    assert first["IfName"] == "net1"
    assert first["Args"] == "FOO=BAR;K=V"
    assert first["Path"] == str(net.bin_dir)
    # only the capabilities the plugin enables reach it
    assert first["StdinData"]["runtimeConfig"] == {"portMappings": caps["portMappings"]}
    assert "runtimeConfig" not in calls[1][1]["StdinData"]
    assert calls[1][1]["StdinData"]["prevResult"]["ips"] == [{"address": "10.1.2.3/24"}]
    assert net.cache_files() == [f"testnet-{cnitool_id(netns)}-net1"]


def test_ifname_defaults_to_eth0_and_flag_wins(net: Net) -> None:
    """Reference 8 item 3: --ifname, else a non-empty CNI_IFNAME, else eth0."""
    assert net.run("add", "testnet", "/run/netns/a", env={"CNI_IFNAME": ""}).returncode == 0
    assert net.calls()[-1][1]["IfName"] == "eth0"
    proc = net.run("add", "testnet", "/run/netns/a", "-i", "flag0", env={"CNI_IFNAME": "env0"})
    assert proc.returncode == 0, proc.stderr
    assert net.calls()[-1][1]["IfName"] == "flag0"
    assert net.cache_files() == [
        f"testnet-{cnitool_id('/run/netns/a')}-eth0",
        f"testnet-{cnitool_id('/run/netns/a')}-flag0",
    ]


def test_check_and_del_use_the_cached_result(net: Net) -> None:
    """Reference 8 item 8: check and del print nothing; CHECK gets the cached result as
    prevResult, DEL runs in reverse order and removes the cache entry."""
    assert net.run("add", "testnet", "/run/netns/c").returncode == 0
    proc = net.run("check", "testnet", "/run/netns/c")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    checks = [args for cmd, args in net.calls() if cmd == "CHECK"]
    assert len(checks) == 2
    assert checks[0]["StdinData"]["prevResult"] == {
        "cniVersion": "1.1.0",
        "ips": [{"address": "10.1.2.3/24"}],
    }
    proc = net.run("del", "testnet", "/run/netns/c")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    dels = [args for cmd, args in net.calls() if cmd == "DEL"]
    assert [d["StdinData"]["prevResult"]["cniVersion"] for d in dels] == ["1.1.0", "1.1.0"]
    assert json.loads(net.debug[0].read_text())["Command"] == "DEL"
    assert net.cache_files() == []


@pytest.mark.parametrize("verb", ["check", "del"])
def test_check_and_del_reuse_the_args_cached_at_add(net: Net, verb: str) -> None:
    """Issue 17 item 2: ``del`` without the ADD's ``--port`` used to run without portMappings
    (portmap left its DNAT chain behind) and delete the entry that held them. Now check and del
    use the cached CNI args and capability args when none are given, and say so in one line."""
    add = net.run("add", "testnet", "/run/netns/k", "--port", "18080:80/tcp", "--args", "K=V")
    assert add.returncode == 0, add.stderr
    proc = net.run(verb, "testnet", "/run/netns/k")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr == (
        f"pycni: {verb} uses the CNI args K=V and capability args portMappings cached at ADD\n"
    )
    first = [args for cmd, args in net.calls() if cmd == verb.upper()][-1 if verb == "del" else 0]
    assert first["Args"] == "K=V"
    assert first["StdinData"]["runtimeConfig"] == {
        "portMappings": [{"hostPort": 18080, "containerPort": 80, "protocol": "tcp"}]
    }


def test_flags_win_over_the_cached_args(net: Net) -> None:
    """Issue 17 item 2: arguments given to del are used as given (an empty CNI_ARGS too)."""
    assert (
        net.run("add", "testnet", "/run/netns/w", "--port", "18080:80", "--args", "K=V").returncode
        == 0
    )
    proc = net.run("del", "testnet", "/run/netns/w", "--port", "9090:90", env={"CNI_ARGS": ""})
    assert (proc.returncode, proc.stderr) == (0, "")
    last = [args for cmd, args in net.calls() if cmd == "DEL"][-1]
    assert last["Args"] == ""
    assert last["StdinData"]["runtimeConfig"]["portMappings"][0]["hostPort"] == 9090
    assert net.cache_files() == []


def test_gc_deletes_every_cached_attachment_with_nil_args(net: Net) -> None:
    """Reference 8 item 9: gc uses nil GCArgs: every cached attachment of the network is
    DELeted, and the plugins' GC gets no valid-attachments key. The netns is optional."""
    for netns in ("/run/netns/g1", "/run/netns/g2"):
        assert net.run("add", "testnet", netns).returncode == 0
    assert len(net.cache_files()) == 2
    net.no_passthrough()
    proc = net.run("gc", "testnet")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    commands = [cmd for cmd, _ in net.calls()]
    assert commands[4:] == ["DEL", "DEL", "DEL", "DEL", "GC", "GC"]
    gc_stdin = [args["StdinData"] for cmd, args in net.calls() if cmd == "GC"]
    assert all("cni.dev/valid-attachments" not in s for s in gc_stdin)
    assert net.cache_files() == []


def test_status_runs_every_plugin(net: Net) -> None:
    """Reference 8 item 8: status is GetStatusNetworkList (STATUS on each plugin, 1.1.0)."""
    net.no_passthrough()
    proc = net.run("status", "testnet", "/run/netns/s")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    assert [cmd for cmd, _ in net.calls()] == ["STATUS", "STATUS"]


def test_status_below_110_says_that_no_plugin_was_asked(net: Net) -> None:
    """Issue 20: status on a pre-1.1.0 network printed nothing (libcni runs no plugin there);
    now one line on stderr says so, exit 0, and ``--json`` carries ``"ran": false``."""
    net.write("1.0.0")
    proc = net.run("status", "testnet")
    assert (proc.returncode, proc.stdout) == (0, "")
    assert proc.stderr == (
        'pycni: status: network testnet has cniVersion "1.0.0"; STATUS exists from 1.1.0, '
        "so no plugin was asked\n"
    )
    assert net.calls() == []
    doc = json.loads(net.run("status", "testnet", "--json").stdout)
    assert doc["ran"] is False and doc["ok"] is True


def test_status_failure_exits_1_with_the_plugin_error(net: Net) -> None:
    net.debug[1].write_text(json.dumps({"ReportError": "no leases left", "ReportErrorCode": 50}))
    proc = net.run("status", "testnet", "--json")
    line = assert_one_error_line(proc, 1)
    error = json.loads(line)["error"]
    assert error["message"] == "no leases left"
    assert (error["code"], error["exitCode"]) == (50, 1)


# --------------------------------------------------------------------------------------------
# Errors and exit codes
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["FOO", "FOO=BAR;", "=x", "K=", "A=B=C"])
def test_invalid_cni_args_pair(net: Net, value: str) -> None:
    """Reference 8 item 2: cnitool's strict CNI_ARGS pair parsing; nothing runs."""
    proc = net.run("add", "testnet", "/run/netns/x", env={"CNI_ARGS": value})
    bad = value.rsplit(";", maxsplit=1)[-1] if value.endswith(";") else value
    assert_one_error_line(proc, 2, f'invalid CNI_ARGS pair "{bad}"')
    assert net.calls() == []


@pytest.mark.parametrize(
    ("value", "needle"),
    [("{not json", "CAP_ARGS is not valid JSON"), ("[1]", "got a JSON array")],
)
def test_bad_cap_args(net: Net, value: str, needle: str) -> None:
    """Reference 8 item 2: CAP_ARGS must be a JSON object; exit 2, nothing runs."""
    proc = net.run("add", "testnet", "/run/netns/x", env={"CAP_ARGS": value})
    assert_one_error_line(proc, 2, needle)
    proc = net.run("add", "testnet", "/run/netns/x", "--json", env={"CAP_ARGS": value})
    error = json.loads(assert_one_error_line(proc, 2))["error"]
    assert error["type"] == "UsageError"
    assert error["exitCode"] == 2
    assert needle in error["message"]
    assert proc.stdout == ""
    assert net.calls() == []


def test_unknown_network(net: Net) -> None:
    proc = net.run("add", "nope", "/run/netns/x")
    assert_one_error_line(proc, 2, f'no net configuration with name "nope" in {net.conf_dir}')
    proc = net.run("check", "nope", "/run/netns/x", "--json")
    error = json.loads(assert_one_error_line(proc, 2))["error"]
    assert error["type"] == "NotFoundError"


def test_missing_conf_dir(net: Net) -> None:
    proc = net.run("del", "testnet", "/run/netns/x", "--conf-dir", str(net.tmp / "absent"))
    assert_one_error_line(proc, 2, f"no net configurations found in {net.tmp / 'absent'}")


def test_missing_plugin(net: Net, tmp_path: Path) -> None:
    """A plugin binary that is in no plugin directory: exit 2, naming the plugin and the dirs."""
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = net.run("add", "testnet", "/run/netns/x", env={"CNI_PATH": str(empty)})
    assert_one_error_line(proc, 2, 'failed to find plugin "noop"', str(empty))
    proc = net.run("add", "testnet", "/run/netns/x", "--json", env={"CNI_PATH": ""})
    error = json.loads(assert_one_error_line(proc, 2))["error"]
    assert error["plugin"] == "noop"
    assert "no paths provided" in error["message"]


def test_plugin_failure_exits_1(net: Net) -> None:
    net.debug[1].write_text(json.dumps({"ReportError": "boom", "ReportErrorCode": 11}))
    proc = net.run("add", "testnet", "/run/netns/x")
    assert_one_error_line(proc, 1, 'plugin type="noop" failed (add): boom')
    assert proc.stdout == ""
    proc = net.run("add", "testnet", "/run/netns/x", "--json")
    error = json.loads(assert_one_error_line(proc, 1))["error"]
    assert error["type"] == "ChainError"
    assert (error["code"], error["msg"], error["plugin"], error["verb"]) == (
        11,
        "boom",
        "noop",
        "add",
    )
    assert error["index"] == 1
    # issue 17: the first plugin's result is cached, marked partial, for the DEL that follows
    (entry,) = net.cache_files()
    assert json.loads((net.cache_dir / "results" / entry).read_text())["pycniPartial"] == 1
    net.debug[1].write_text(json.dumps({"ReportResult": "PASSTHROUGH"}))
    assert net.run("del", "testnet", "/run/netns/x").returncode == 0
    first_del = [args for cmd, args in net.calls() if cmd == "DEL"][-1]
    assert first_del["StdinData"]["prevResult"]["ips"] == [{"address": "10.1.2.3/24"}]
    assert net.cache_files() == []


def test_check_below_040_is_a_config_error(net: Net) -> None:
    net.write("0.3.1")
    proc = net.run("check", "testnet", "/run/netns/x")
    assert_one_error_line(proc, 2, 'configuration version "0.3.1" does not support the CHECK')


def test_invalid_interface_name_is_usage(net: Net) -> None:
    proc = net.run("add", "testnet", "/run/netns/x", "--ifname", "a/b")
    assert_one_error_line(proc, 2, "interface name")
    assert net.calls() == []


@pytest.mark.parametrize("verb", ["add", "check", "del"])
def test_non_utf8_arguments_are_usage_errors(net: Net, verb: str) -> None:
    """Issue 16 item 4: argv bytes that are not UTF-8 (decoded by Python as lone surrogates)
    give one clear error line, never a traceback, and no plugin runs."""
    proc = net.run(verb, "testnet", "/run/netns/x", "--ifname", "eth\udc80")
    assert_one_error_line(proc, 2, "interface name is not valid UTF-8")
    assert "Traceback" not in proc.stderr
    assert net.calls() == []


def test_add_prints_a_result_holding_a_lone_surrogate_escape(net: Net) -> None:
    """Issue 16 item 4: a result with ``\\udc80`` (a valid JSON escape) made ``pycni add`` crash
    after the attachment was made; Go reads it as U+FFFD, and so does pycni now."""
    report = '{"cniVersion":"1.1.0","ips":[{"address":"10.1.2.3/24"}],"dns":{"domain":"a\\udc80"}}'
    net.debug[0].write_text(json.dumps({"ReportResult": report}))
    proc = net.run("add", "testnet", "/run/netns/s")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["dns"]["domain"] == "a\ufffd"
    assert "Traceback" not in proc.stderr


def test_usage_errors(net: Net) -> None:
    """Bad usage: exit 2, one line on stderr (a JSON object with --json), nothing on stdout."""
    proc = net.run("add", "testnet")
    assert_one_error_line(
        proc, 2, "the following arguments are required: NETNS", "pycni add --help"
    )
    proc = net.run("add", "testnet", "--json")
    error = json.loads(assert_one_error_line(proc, 2))["error"]
    assert error["type"] == "UsageError"
    proc = run_cli("frobnicate")
    assert_one_error_line(proc, 2, "invalid choice")
    proc = net.run("add", "testnet", "/x", "--timeout", "0")
    assert_one_error_line(proc, 2, "--timeout")
    assert proc.stdout == ""


def test_no_command_prints_help() -> None:
    proc = run_cli()
    assert proc.returncode == 2
    assert "commands:" in proc.stdout
    assert "add" in proc.stdout


def test_version_flag_and_console_script() -> None:
    from pycni import __version__

    proc = run_cli("--version")
    assert (proc.returncode, proc.stdout.strip()) == (0, f"pycni {__version__}")
    script = Path(sys.executable).parent / "pycni"
    if not script.exists():
        pytest.skip("the pycni console script is not installed next to this interpreter")
    same = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=False)
    assert (same.returncode, same.stdout) == (0, proc.stdout)


def test_timeout_kills_a_hung_plugin(net: Net) -> None:
    net.write("1.1.0", name="slow", file="20-slow.conflist")
    conf = json.loads((net.conf_dir / "20-slow.conflist").read_text())
    conf["plugins"] = [{"type": "sleep"}]
    (net.conf_dir / "20-slow.conflist").write_text(json.dumps(conf))
    proc = net.run("add", "slow", "/run/netns/x", "--timeout", "0.5")
    assert_one_error_line(proc, 1, "plugin sleep timed out after", "process group killed")


# --------------------------------------------------------------------------------------------
# Flags beyond cnitool
# --------------------------------------------------------------------------------------------


def test_flags_override_environment(net: Net, tmp_path: Path) -> None:
    """--conf-dir, --bin-dir (repeatable, in order), --container-id, --args, --cap-args win over
    NETCONFPATH, CNI_PATH, the derived ID, CNI_ARGS and CAP_ARGS."""
    other = tmp_path / "other-bin"
    other.mkdir()
    proc = run_cli(
        "add",
        "testnet",
        "/run/netns/f",
        "--conf-dir", str(net.conf_dir),
        "--bin-dir", str(other),
        "--bin-dir", str(net.bin_dir),
        "--cache-dir", str(net.cache_dir),
        "--container-id", "my-ctr",
        "--args", "A=1",
        "--cap-args", '{"portMappings": []}',
        env={"NETCONFPATH": "/nonexistent", "CNI_PATH": "/nonexistent", "CNI_ARGS": "bad",
             "CAP_ARGS": "bad"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    first = net.calls()[0][1]
    assert first["ContainerID"] == "my-ctr"
    assert first["Args"] == "A=1"
    assert first["Path"] == f"{other}:{net.bin_dir}"
    assert first["StdinData"]["runtimeConfig"] == {"portMappings": []}
    assert net.cache_files() == ["testnet-my-ctr-eth0"]


def test_port_and_bandwidth_shorthands(net: Net) -> None:
    proc = net.run(
        "add", "testnet", "/run/netns/p",
        "--port", "8080:80/tcp", "--port", "127.0.0.1:5353:53/UDP", "--port", "[::1]:9000:90",
        "--bandwidth", "ingress=10M,egress=1Ki",
        env={"CAP_ARGS": '{"portMappings": [{"hostPort": 1}], "mac": "m"}'},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    runtime_config = net.calls()[0][1]["StdinData"]["runtimeConfig"]
    assert runtime_config["portMappings"] == [
        {"hostPort": 8080, "containerPort": 80, "protocol": "tcp"},
        {"hostPort": 5353, "containerPort": 53, "protocol": "udp", "hostIP": "127.0.0.1"},
        {"hostPort": 9000, "containerPort": 90, "protocol": "tcp", "hostIP": "::1"},
    ]
    bandwidth = runtime_config["bandwidth"]
    assert (bandwidth["ingressRate"], bandwidth["egressRate"]) == (10_000_000, 1024)
    # the library's default burst rule: what Bandwidth(rate only) fills in
    library = pycni.Bandwidth(ingress_rate=10_000_000, egress_rate=1024).to_dict()
    assert bandwidth == library
    assert bandwidth["ingressBurst"] == bandwidth["egressBurst"] == pycni.k8s.CONTAINERD_BURST


def test_bandwidth_one_direction_leaves_the_other_unshaped(net: Net) -> None:
    proc = net.run("add", "testnet", "/run/netns/p", "--bandwidth", "egress=1M")
    assert proc.returncode == 0, proc.stderr
    bandwidth = net.calls()[0][1]["StdinData"]["runtimeConfig"]["bandwidth"]
    assert bandwidth == pycni.Bandwidth(egress_rate=1_000_000).to_dict()
    assert (bandwidth["ingressRate"], bandwidth["ingressBurst"]) == (0, 0)


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--port", "80"),
        ("--port", "0:80"),
        ("--port", "8080:80/icmp"),
        ("--port", "nothost:8080:80"),
        ("--bandwidth", "ingress=fast"),
        ("--bandwidth", "sideways=1M"),
    ],
)
def test_bad_shorthands_are_usage_errors(net: Net, flag: str, value: str) -> None:
    proc = net.run("add", "testnet", "/run/netns/p", flag, value)
    assert_one_error_line(proc, 2, flag)
    assert net.calls() == []


def test_json_output_of_every_verb(net: Net) -> None:
    proc = net.run("add", "testnet", "/run/netns/j", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc == {
        "command": "add",
        "network": "testnet",
        "cniVersion": "1.1.0",
        "containerId": cnitool_id("/run/netns/j"),
        "netns": "/run/netns/j",
        "ifname": "eth0",
        "result": {"cniVersion": "1.1.0", "ips": [{"address": "10.1.2.3/24"}]},
        "ok": True,
    }
    net.no_passthrough()
    for verb in ("check", "status", "del", "gc"):
        proc = net.run(verb, "testnet", "/run/netns/j", "--json")
        assert proc.returncode == 0, proc.stderr
        doc = json.loads(proc.stdout)
        assert (doc["command"], doc["network"], doc["ok"]) == (verb, "testnet", True)


# --------------------------------------------------------------------------------------------
# --dry-run
# --------------------------------------------------------------------------------------------


def test_dry_run_add_runs_nothing_and_prints_a_reproducible_call(net: Net) -> None:
    proc = net.run("add", "testnet", "/run/netns/d", "--dry-run", "--port", "8080:80")
    assert proc.returncode == 0, proc.stderr
    assert net.calls() == []
    assert net.cache_files() == []
    out = proc.stdout
    cid = cnitool_id("/run/netns/d")
    assert "CNI_COMMAND=ADD" in out
    assert f"CNI_CONTAINERID={cid}" in out
    assert f"CNI_PATH={net.bin_dir}" in out
    assert f"would write cache file {net.cache_dir}/results/testnet-{cid}-eth0" in out
    shells = [line for line in out.splitlines() if line.startswith("printf ")]
    assert len(shells) == 2
    # the shell line really reproduces the first call
    subprocess.run(["bash", "-c", shells[0]], check=True, capture_output=True)
    ((command, args),) = net.calls()
    assert command == "ADD"
    assert args["ContainerID"] == cid
    assert args["Netns"] == "/run/netns/d"
    assert args["StdinData"]["runtimeConfig"]["portMappings"][0]["hostPort"] == 8080
    assert args["StdinData"]["name"] == "testnet"


def test_dry_run_json_threads_prev_result(net: Net) -> None:
    proc = net.run("add", "testnet", "/run/netns/d", "--dry-run", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["dryRun"] is True
    first, second = doc["invocations"]
    assert first["env"]["CNI_COMMAND"] == "ADD"
    assert first["path"] == str(net.bin_dir / "noop")
    assert "prevResult" not in json.loads(first["stdin"])
    assert json.loads(second["stdin"])["prevResult"] == {"cniVersion": "1.1.0"}
    assert doc["cache"] == [
        {
            "action": "write",
            "file": f"{net.cache_dir}/results/testnet-{cnitool_id('/run/netns/d')}-eth0",
        }
    ]
    assert net.calls() == []


def test_dry_run_del_and_gc_read_the_real_cache(net: Net) -> None:
    assert net.run("add", "testnet", "/run/netns/r").returncode == 0
    before = net.calls()
    proc = net.run("del", "testnet", "/run/netns/r", "--dry-run", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    stdins = [json.loads(i["stdin"]) for i in doc["invocations"]]
    assert [s["prevResult"]["ips"] for s in stdins] == [[{"address": "10.1.2.3/24"}]] * 2
    assert [i["env"]["CNI_COMMAND"] for i in doc["invocations"]] == ["DEL", "DEL"]
    assert doc["cache"][0]["action"] == "remove"
    net.no_passthrough()
    proc = net.run("gc", "testnet", "--dry-run", "--json")
    assert proc.returncode == 0, proc.stderr
    commands = [i["env"]["CNI_COMMAND"] for i in json.loads(proc.stdout)["invocations"]]
    assert commands == ["DEL", "DEL", "GC", "GC"]
    assert net.calls() == before
    assert len(net.cache_files()) == 1


def test_dry_run_check_and_status(net: Net) -> None:
    proc = net.run("check", "testnet", "/run/netns/n", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines().count("CNI_COMMAND=CHECK") == 2
    proc = net.run("status", "testnet", "--dry-run", "--json")
    assert [i["plugin"] for i in json.loads(proc.stdout)["invocations"]] == ["noop", "noop"]
    assert net.calls() == []


def test_dry_run_reports_the_error_it_stops_at(net: Net, tmp_path: Path) -> None:
    conf = json.loads((net.conf_dir / "10-test.conflist").read_text())
    conf["plugins"][1]["type"] = "missing"
    (net.conf_dir / "10-test.conflist").write_text(json.dumps(conf))
    proc = net.run("add", "testnet", "/run/netns/e", "--dry-run")
    assert_one_error_line(proc, 2, 'failed to find plugin "missing"')
    assert proc.stdout.splitlines().count("CNI_COMMAND=ADD") == 1
