"""pycni.diagnosis: files and shadowing, missing binaries, version skew, capabilities, known bugs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version

from pycni.diagnosis import KNOWN_BUGS, diagnose, parse_about
from pycni.testing.fake_executor import FakeExecutor

BIN = "/opt/cni/bin"


def write(path: Path, doc: dict[str, Any]) -> None:
    path.write_text(json.dumps(doc))


def conflist(name: str, version: str, *plugins: dict[str, Any]) -> dict[str, Any]:
    return {"cniVersion": version, "name": name, "plugins": list(plugins)}


@pytest.fixture
def fake() -> FakeExecutor:
    fx = FakeExecutor()
    for name in ("bridge", "portmap", "loopback"):
        fx.add_plugin(name, versions=("0.3.1", "0.4.0", "1.0.0"))
    return fx


def releases(table: dict[str, str]) -> Any:
    return lambda path: (table.get(Path(path).name), "about" if Path(path).name in table else None)


def test_healthy_directory(tmp_path: Path, fake: FakeExecutor) -> None:
    write(
        tmp_path / "10-k8s.conflist",
        conflist(
            "k8s",
            "1.0.0",
            {"type": "bridge"},
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ),
    )
    report = diagnose(tmp_path, [BIN], executor=fake, release_probe=releases({"portmap": "1.4.0"}))
    assert report.ok and report.exit_code == 0 and report.verdict == "ok"
    net = report.networks[0]
    assert net.name == "k8s" and net.source == str(tmp_path / "10-k8s.conflist")
    assert [p.path for p in net.plugins] == [f"{BIN}/bridge", f"{BIN}/portmap"]
    assert net.plugins[1].capabilities == ("portMappings",)
    assert net.plugins[1].release == "1.4.0"
    assert [n.name for n in report.networks] == ["k8s", "cni-loopback"]
    assert report.problems() == []
    text = report.render()
    assert "verdict: ok" in text and "portmap: /opt/cni/bin/portmap" in text
    json.dumps(report.to_dict())


def test_every_problem_is_reported(tmp_path: Path, fake: FakeExecutor) -> None:
    write(
        tmp_path / "10-k8s.conflist",
        conflist(
            "k8s",
            "1.1.0",
            {"type": "bridge"},
            {"type": "portmap", "capabilities": {"portMappings": True, "portMapings": True}},
            {"type": "calico"},
        ),
    )
    write(tmp_path / "20-k8s.conf", {"cniVersion": "0.4.0", "name": "k8s", "type": "bridge"})
    (tmp_path / "30-bad.conflist").write_text("{")
    report = diagnose(tmp_path, [BIN], executor=fake, release_probe=releases({"portmap": "1.1.1"}))
    assert not report.ok and report.exit_code == 1
    problems = "\n".join(report.problems())
    assert "30-bad.conflist does not load" in problems
    assert (
        'incompatible CNI versions: config is "1.1.0", plugin supports 0.3.1, 0.4.0, 1.0.0'
        in problems
    )
    assert (
        'plugin binary missing: failed to find plugin "calico" in path [/opt/cni/bin]' in problems
    )
    assert "capability 'portMapings' is not a well-known CNI capability" in problems
    assert "containernetworking/plugins#819" in problems
    assert "20-k8s.conf defines the same network and is ignored" in problems
    main, shadowed = report.networks[0], report.networks[1]
    assert main.shadows == (str(tmp_path / "20-k8s.conf"),)
    assert shadowed.shadowed_by == str(tmp_path / "10-k8s.conflist")
    calico = main.plugins[2]
    assert calico.path is None and calico.searched == (BIN,)
    data = report.to_dict()
    assert data["verdict"] == "failed"
    assert data["networks"][0]["plugins"][2]["path"] is None
    assert "FAIL  calico: not found in /opt/cni/bin" in report.render()


def test_version_negotiation_hint(tmp_path: Path, fake: FakeExecutor) -> None:
    doc = conflist("n", "1.1.0", {"type": "bridge"})
    doc["cniVersions"] = ["1.0.0", "1.1.0"]
    write(tmp_path / "n.conflist", doc)
    report = diagnose(tmp_path, [BIN], executor=fake, release_probe=None)
    assert not report.ok
    assert any(
        "negotiate_versions=True would use cniVersion 1.0.0" in f.message
        for f in report.networks[0].findings
    )


def test_old_cni_version_is_a_warning(tmp_path: Path, fake: FakeExecutor) -> None:
    write(tmp_path / "n.conflist", conflist("n", "0.3.1", {"type": "bridge"}))
    report = diagnose(tmp_path, [BIN], executor=fake, release_probe=None)
    assert report.ok
    assert any("older than 0.4.0" in p for p in report.problems())


@pytest.mark.parametrize(
    ("release", "warned"),
    [("1.0.1", False), ("1.1.0", True), ("1.2.0", True), ("1.3.0", False), (None, False)],
)
def test_known_bug_by_release(
    tmp_path: Path, fake: FakeExecutor, release: str | None, warned: bool
) -> None:
    write(tmp_path / "n.conflist", conflist("n", "1.0.0", {"type": "portmap"}))
    table = {"portmap": release} if release else {}
    report = diagnose(tmp_path, [BIN], executor=fake, release_probe=releases(table))
    findings = report.networks[0].plugins[0].findings
    assert any(f.level == "warning" and "#819" in f.message for f in findings) is warned
    if release is None:
        assert any(f.level == "info" and "release unknown" in f.message for f in findings)
    assert report.ok


def test_debian_package_versions_are_understood(tmp_path: Path, fake: FakeExecutor) -> None:
    write(tmp_path / "n.conflist", conflist("n", "1.0.0", {"type": "portmap"}))
    probe = lambda path: ("1.1.1+ds1-3+b5", "package")  # noqa: E731
    report = diagnose(tmp_path, [BIN], executor=fake, release_probe=probe)
    plugin = report.networks[0].plugins[0]
    assert plugin.release_source == "package"
    assert any("release 1.1.1" in f.message for f in plugin.findings)


def test_missing_directory_and_loopback(tmp_path: Path) -> None:
    fx = FakeExecutor()
    report = diagnose(tmp_path / "nope", [BIN], executor=fx, release_probe=None)
    assert not report.ok
    assert any("does not exist" in f.message for f in report.findings)
    lo = report.networks[-1]
    assert lo.name == "cni-loopback" and not lo.ok


def test_version_failure_is_an_error(tmp_path: Path) -> None:
    fx = FakeExecutor()
    fx.add_plugin("odd", lambda c, e, s: b"not json", versions=None)
    write(tmp_path / "n.conflist", conflist("n", "1.0.0", {"type": "odd"}))
    report = diagnose(tmp_path, [BIN], executor=fx, release_probe=None, loopback=False)
    assert not report.ok
    assert any("VERSION failed" in p for p in report.problems())


@pytest.mark.parametrize(
    ("text", "release"),
    [
        ("CNI portmap plugin v1.1.1\nCNI protocol versions supported: 0.1.0", "1.1.1"),
        ("CNI bridge plugin v1.4.0-rc1", "1.4.0-rc1"),
        ("CNI portmap plugin version unknown", None),
        ("", None),
    ],
)
def test_parse_about(text: str, release: str | None) -> None:
    assert parse_about(text) == release


def test_known_bug_table_is_well_formed() -> None:
    for bug in KNOWN_BUGS:
        assert bug.plugin and bug.reference and bug.summary
        assert Version(bug.introduced) < Version(bug.fixed)


@pytest.mark.skipif(
    not Path("/usr/lib/cni/portmap").exists(),
    reason="Debian containernetworking-plugins not installed",
)
def test_real_plugins_release_probe(tmp_path: Path) -> None:  # pragma: no cover - depends on host
    write(tmp_path / "n.conflist", conflist("n", "1.0.0", {"type": "portmap"}))
    report = diagnose(tmp_path, ["/usr/lib/cni"])
    plugin = report.networks[0].plugins[0]
    assert plugin.path == "/usr/lib/cni/portmap"
    assert plugin.supported_versions and "1.0.0" in plugin.supported_versions
    assert plugin.release is not None


@pytest.mark.parametrize(
    ("plugin", "field", "missing"),
    [
        ({"type": "bridge", "ipam": {"type": "host-local"}}, "ipam.type", "host-local"),
        ({"type": "flannel", "delegate": {"type": "ipvlan"}}, "delegate.type", "ipvlan"),
        ({"type": "flannel"}, "delegate.type", "bridge"),  # flannel's default delegate
    ],
)
def test_a_missing_delegated_plugin_is_an_error(
    tmp_path: Path, fake: FakeExecutor, plugin: dict[str, Any], field: str, missing: str
) -> None:
    """Issue 17 item 5: doctor used to say "ok" when ipam.type (or the plugin a meta plugin
    delegates to) was not in the search path; now the finding names the field, the plugin and
    the directories searched."""
    fake.add_plugin("flannel", versions=("0.3.1", "0.4.0", "1.0.0"))
    if missing == "bridge":
        fake.remove_plugin("bridge")
    write(tmp_path / "10-net.conflist", conflist("net", "1.0.0", plugin))
    report = diagnose(tmp_path, [BIN], executor=fake, release_probe=None, loopback=False)
    assert not report.ok and report.exit_code == 1
    (finding,) = [f for f in report.networks[0].plugins[0].findings if f.level == "error"]
    assert finding.message.startswith(f'{field} names plugin "{missing}", which is missing')
    assert BIN in finding.message
    fake.add_plugin(missing, versions=("1.0.0",))
    assert diagnose(tmp_path, [BIN], executor=fake, release_probe=None, loopback=False).ok


def test_render_without_plugin_directories_says_so(tmp_path: Path) -> None:
    """Issue 20: ``pycni doctor`` printed "plugins in -" when no directory was given."""
    report = diagnose(tmp_path, [], release_probe=None, loopback=False)
    text = report.render()
    assert f"CNI configuration {tmp_path}; no plugin directory" in text
    assert "plugins in -" not in text
    assert any("no plugin directories given" in p for p in report.problems())
