"""The ``pycni`` commands beyond cnitool's verbs: list, show, validate, version, cache, doctor and
demo, run in subprocesses against plugins on disk (issue 7)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

CLI_ENV = ("NETCONFPATH", "CNI_PATH", "CNI_ARGS", "CAP_ARGS", "CNI_IFNAME", "NOOP_VERSIONS")
IP_RESULT = {"cniVersion": "1.0.0", "ips": [{"address": "10.9.8.7/24"}]}


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k not in CLI_ENV}
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "pycni", *args],
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stderr == ""
    return proc.stdout


def failed(proc: subprocess.CompletedProcess[str], code: int, needle: str = "") -> str:
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    (line,) = proc.stderr.splitlines()
    assert needle in line
    return line


def conflist(name: str, *types: str, version: str = "1.0.0", **plugin: Any) -> str:
    return json.dumps(
        {"cniVersion": version, "name": name, "plugins": [{"type": t, **plugin} for t in types]}
    )


@pytest.fixture
def dirs(tmp_path: Path, noop_bin: Path) -> dict[str, str]:
    """A conf dir with ``alpha`` (a conflist, and a shadowed .conf of the same name), a broken
    conflist, ``beta`` (after the broken file, so libcni's lookup cannot reach it) and ``gamma``
    whose plugin is missing."""
    conf = tmp_path / "net.d"
    conf.mkdir()
    debug = tmp_path / "debug.json"
    debug.write_text(json.dumps({"ReportResult": json.dumps(IP_RESULT)}))
    (conf / "10-alpha.conflist").write_text(
        conflist("alpha", "noop", debugFile=str(debug), capabilities={"portMappings": True})
    )
    (conf / "20-alpha.conf").write_text(json.dumps({"name": "alpha", "type": "noop"}))
    (conf / "30-broken.conflist").write_text("{oops")
    (conf / "40-beta.conflist").write_text(conflist("beta", "noop"))
    (conf / "05-gamma.conflist").write_text(conflist("gamma", "noop", "missing"))
    return {
        "NETCONFPATH": str(conf),
        "CNI_PATH": str(noop_bin),
        "cache": str(tmp_path / "cache"),
        "conf": str(conf),
        "bin": str(noop_bin),
    }


def test_list_shows_files_shadowing_and_failures(dirs: dict[str, str]) -> None:
    conf = dirs["conf"]
    text = ok(run_cli("list", env=dirs))
    assert f"networks in {conf}:" in text
    assert f"{conf}/20-alpha.conf (unused: {conf}/10-alpha.conflist wins)" in text
    assert f"  {conf}/30-broken.conflist: error parsing configuration list" in text
    assert "not loadable" in text.split("40-beta.conflist")[1].splitlines()[0]
    doc = json.loads(ok(run_cli("list", "--json", "--conf-dir", conf)))
    assert doc["confDir"] == conf
    by_file = {Path(n["file"]).name: n for n in doc["networks"]}
    assert set(by_file) == {
        "05-gamma.conflist",
        "10-alpha.conflist",
        "20-alpha.conf",
        "40-beta.conflist",
    }
    assert by_file["10-alpha.conflist"]["shadowedBy"] is None
    assert by_file["10-alpha.conflist"]["loadError"] is None
    assert by_file["20-alpha.conf"]["shadowedBy"] == f"{conf}/10-alpha.conflist"
    assert by_file["20-alpha.conf"]["kind"] == "conf"
    assert by_file["05-gamma.conflist"]["plugins"] == ["noop", "missing"]
    assert "30-broken.conflist" in by_file["40-beta.conflist"]["loadError"]
    assert [Path(f["file"]).name for f in doc["failures"]] == ["30-broken.conflist"]


def test_list_of_an_empty_or_missing_directory(tmp_path: Path) -> None:
    text = ok(run_cli("list", "--conf-dir", str(tmp_path / "nope")))
    assert text == f"no network configurations found in {tmp_path / 'nope'}\n"
    doc = json.loads(ok(run_cli("list", "--json", env={"NETCONFPATH": str(tmp_path)})))
    assert doc == {"confDir": str(tmp_path), "networks": [], "failures": []}


def test_show(dirs: dict[str, str]) -> None:
    text = ok(run_cli("show", "alpha", env=dirs))
    assert "network:    alpha" in text
    assert f"file:       {dirs['conf']}/10-alpha.conflist" in text
    assert f"1. noop         {dirs['bin']}/noop" in text
    assert "capabilities: portMappings" in text
    doc = json.loads(ok(run_cli("show", "gamma", "--json", env=dirs)))
    assert doc["cniVersion"] == "1.0.0"
    assert [(p["type"], p["binary"]) for p in doc["plugins"]] == [
        ("noop", f"{dirs['bin']}/noop"),
        ("missing", None),
    ]
    assert doc["config"]["name"] == "gamma"
    # libcni's lookup stops at the broken file before it finds (or not) a later network
    failed(run_cli("show", "delta", env=dirs), 2, "30-broken.conflist")
    clean = {**dirs, "NETCONFPATH": dirs["bin"]}
    failed(run_cli("show", "delta", env=clean), 2, "no net configurations found in")


def test_validate(dirs: dict[str, str]) -> None:
    """libcni's ValidateNetworkList through the CLI: exit 0, 1 for an unsupported version, 2 for
    a plugin that is in no plugin directory (naming it)."""
    text = ok(run_cli("validate", "alpha", env=dirs))
    assert "noop         ok" in text
    assert "capabilities: portMappings" in text
    old = {**dirs, "NOOP_VERSIONS": "0.3.1,0.4.0"}
    proc = run_cli("validate", "alpha", "--json", env=old)
    failed(proc, 1, "does not support")
    doc = json.loads(proc.stdout)
    assert doc["valid"] is False
    assert doc["plugins"][0]["supports"] is False
    assert doc["plugins"][0]["supportedVersions"] == ["0.3.1", "0.4.0"]
    # a plugin binary in no plugin directory is exit 2, as for every other command
    proc = run_cli("validate", "gamma", env=dirs)
    failed(proc, 2, 'failed to find plugin "missing"')
    assert "missing      error:" in proc.stdout


@pytest.mark.parametrize("command", [("validate", "alpha"), ("version", "noop")])
@pytest.mark.parametrize("cni_path", [None, "", ":"])
def test_no_plugin_directories_is_one_usage_error(
    dirs: dict[str, str], command: tuple[str, ...], cni_path: str | None
) -> None:
    """Without CNI_PATH (or with an empty one) and no --bin-dir: one line, exit 2, no report
    repeating libcni's "no paths provided" per plugin."""
    env = {k: v for k, v in dirs.items() if k != "CNI_PATH"}
    if cni_path is not None:
        env["CNI_PATH"] = cni_path
    proc = run_cli(*command, env=env)
    line = failed(proc, 2, "no plugin directories: set CNI_PATH or pass --bin-dir")
    assert line.count("no paths provided") == 1
    assert proc.stdout == ""
    proc = run_cli(*command, "--json", env=env)
    error = json.loads(failed(proc, 2))["error"]
    assert error["exitCode"] == 2 and error["type"] == "UsageError"


def test_version(dirs: dict[str, str]) -> None:
    text = ok(run_cli("version", "noop", "--bin-dir", dirs["bin"]))
    assert text.startswith("noop: 0.-42.0, 0.1.0, 0.2.0")
    assert text.rstrip().endswith(f"({dirs['bin']}/noop)")
    proc = run_cli("version", "noop", "missing", "--json", env=dirs)
    error = json.loads(failed(proc, 2))["error"]
    assert error["message"].startswith('failed to find plugin "missing"')
    noop, missing = json.loads(proc.stdout)
    assert noop["cniVersion"] == "1.1.0"
    assert "1.1.0" in noop["supportedVersions"]
    assert missing["plugin"] == "missing"
    assert "error" in missing


def test_cache_ls_show_rm(dirs: dict[str, str]) -> None:
    cache = ["--cache-dir", dirs["cache"]]
    assert ok(run_cli("cache", "ls", *cache)).startswith("no cached attachments in")
    ok(run_cli("add", "alpha", "/run/netns/c1", *cache, "--args", "A=B", env=dirs))
    ok(run_cli("add", "alpha", "/run/netns/c2", *cache, "--container-id", "c2", env=dirs))
    rows = ok(run_cli("cache", "ls", *cache)).splitlines()
    assert rows[0].split() == ["NETWORK", "CONTAINER", "IFNAME", "NETNS"]
    assert len(rows) == 3
    doc = json.loads(ok(run_cli("cache", "ls", "--json", "--container-id", "c2", *cache)))
    (entry,) = doc["attachments"]
    assert (entry["network"], entry["containerId"], entry["netns"]) == (
        "alpha",
        "c2",
        "/run/netns/c2",
    )
    assert Path(entry["file"]).exists()

    text = ok(run_cli("cache", "show", "alpha", "/run/netns/c1", *cache))
    assert "args:        A=B" in text
    assert '"address": "10.9.8.7/24"' in text
    shown = json.loads(
        ok(run_cli("cache", "show", "alpha", "--container-id", "c2", "--json", *cache))
    )
    assert shown["entry"]["result"] == IP_RESULT
    assert shown["entry"]["config"]["name"] == "alpha"  # base64 config decoded
    assert shown["entry"]["kind"] == "cniCacheV1"

    failed(run_cli("cache", "show", "alpha", "/run/netns/zz", *cache), 1, "no cached entry")
    failed(run_cli("cache", "show", "alpha", *cache), 2, "--container-id is required")
    ok(run_cli("cache", "rm", "alpha", "--container-id", "c2", *cache))
    assert not Path(entry["file"]).exists()
    failed(run_cli("cache", "rm", "alpha", "--container-id", "c2", *cache), 1, "no cached entry")
    failed(run_cli("cache", "rm", "alpha", "--container-id", "../x", *cache), 2, "containerID")
    assert len(ok(run_cli("cache", "ls", *cache)).splitlines()) == 2


def test_cache_without_action_prints_its_help() -> None:
    proc = run_cli("cache")
    assert proc.returncode == 2
    assert "ls" in proc.stdout
    assert "rm" in proc.stdout


def test_validate_and_doctor_name_a_missing_ipam_plugin(dirs: dict[str, str]) -> None:
    """Issue 17 item 5: both used to say "ok" with ``ipam.type`` missing from the search path;
    now each names the field, the plugin and the path, and fails."""
    conf = Path(dirs["conf"]).parent / "ipam.d"
    conf.mkdir()
    (conf / "10-ipam.conflist").write_text(
        conflist("ipamnet", "noop", ipam={"type": "host-local-nowhere"})
    )
    env = {**dirs, "NETCONFPATH": str(conf)}
    proc = run_cli("validate", "ipamnet", env=env)
    line = failed(proc, 2, 'ipam.type names plugin "host-local-nowhere", which is missing')
    assert dirs["bin"] in line
    assert 'error: ipam.type names plugin "host-local-nowhere"' in proc.stdout
    assert proc.stdout.rstrip().endswith("invalid")
    doc = json.loads(run_cli("validate", "ipamnet", "--json", env=env).stdout)
    assert doc["valid"] is False
    assert "host-local-nowhere" in doc["plugins"][0]["missingDelegates"][0]
    proc = run_cli("doctor", "--conf-dir", str(conf), "--bin-dir", dirs["bin"], "--no-loopback")
    assert proc.returncode == 1, proc.stdout
    assert 'ipam.type names plugin "host-local-nowhere", which is missing' in proc.stdout


def test_doctor(dirs: dict[str, str]) -> None:
    """pycni.diagnose through the CLI: exit 1 with a problem (gamma's plugin is missing, a file is
    broken, no loopback plugin), 0 when everything is usable."""
    proc = run_cli("doctor", "--json", env=dirs)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert isinstance(doc, dict)
    assert '"missing"' in proc.stdout
    assert "30-broken.conflist" in proc.stdout
    good = Path(dirs["conf"]).parent / "good.d"
    good.mkdir()
    (good / "10-alpha.conflist").write_text(conflist("alpha", "noop"))
    proc = run_cli("doctor", "--conf-dir", str(good), "--bin-dir", dirs["bin"], "--no-loopback")
    assert proc.returncode == 0, proc.stdout
    assert "verdict: ok" in proc.stdout


# --------------------------------------------------------------------------------------------
# demo
# --------------------------------------------------------------------------------------------


def test_demo_runs_add_check_cache_del() -> None:
    """``pycni demo`` needs no configuration, root or network, and says what happened."""
    proc = run_cli("demo", env={"NETCONFPATH": "/nonexistent", "CNI_PATH": "/nonexistent"})
    text = ok(proc)
    for heading in ("1. ADD:", "2. CHECK:", "3. CACHE:", "4. DEL:"):
        assert heading in text
    assert "address 10.88.0.10/24 on eth0" in text
    assert "cache entry removed: yes" in text
    workspace = text.split("workspace  ")[1].split(" ")[0]
    assert not os.path.exists(workspace)


def test_demo_json() -> None:
    doc = json.loads(ok(run_cli("demo", "--json")))
    assert doc["ok"] is True
    assert [s["step"] for s in doc["steps"]] == ["ADD", "CHECK", "CACHE", "DEL"]
    add = doc["steps"][0]
    assert [(c["command"], c["plugin"]) for c in add["calls"]] == [("ADD", "noop"), ("ADD", "noop")]
    assert add["result"]["ips"][0]["address"] == "10.88.0.10/24"
    assert doc["steps"][2]["result"] == add["result"]
    assert [c["command"] for c in doc["steps"][3]["calls"]] == ["DEL", "DEL"]
    assert doc["steps"][3]["cacheRemoved"] is True
    assert not os.path.exists(doc["workspace"])


def _world_executable(path: str) -> bool:
    """Whether an unprivileged user can reach and run ``path`` (every parent searchable)."""
    current = Path(path).resolve()
    return all(part.stat().st_mode & stat.S_IXOTH for part in [current, *current.parents])


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to switch to an unprivileged user")
def test_demo_as_an_unprivileged_user(tmp_path: Path) -> None:
    import pycni

    package_root = str(Path(pycni.__file__).parent.parent)
    if not _world_executable(sys.executable) or not _world_executable(package_root):
        pytest.skip("this interpreter or checkout is not reachable by other users")
    tmp_path.chmod(0o777)
    proc = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
         sys.executable, "-m", "pycni", "demo", "--json"],
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "TMPDIR": str(tmp_path)},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["ok"] is True
