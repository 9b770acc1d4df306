"""The result cache: libcni's format byte for byte, reading libcni-written files, atomicity,
permissions, symlink refusal and identifier validation (reference 3.9, 3.10, 11 items 6-8, 30)."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

import pycni
from pycni import cache
from pycni.runtime_conf import RuntimeConf

RT = RuntimeConf(
    container_id="ctr1",
    netns="/var/run/netns/ctr1",
    ifname="eth0",
    args=[("K8S_POD_NAME", "web-0"), ("IgnoreUnknown", "1")],
    capability_args={"portMappings": [{"hostPort": 80, "containerPort": 8080, "protocol": "tcp"}]},
)
CONFIG = b'{"cniVersion":"1.0.0","name":"net1","plugins":[{"type":"bridge"}]}'
RESULT = {"cniVersion": "1.0.0", "ips": [{"address": "10.1.2.3/24", "gateway": "10.1.2.1"}]}


def test_envelope_has_exactly_libcni_keys_and_encodings() -> None:
    """Reference 3.9 item 38 and 11 item 6: key spellings, base64 config, omit-empty rules."""
    doc = json.loads(cache.encode_entry(CONFIG, "net1", RT, RESULT))
    assert set(doc) == {
        "kind",
        "containerId",
        "config",
        "ifName",
        "networkName",
        "netns",
        "cniArgs",
        "capabilityArgs",
        "result",
    }
    assert doc["kind"] == "cniCacheV1"
    assert base64.b64decode(doc["config"], validate=True) == CONFIG
    assert doc["cniArgs"] == [["K8S_POD_NAME", "web-0"], ["IgnoreUnknown", "1"]]
    assert doc["containerId"] == "ctr1" and doc["ifName"] == "eth0" and doc["networkName"] == "net1"
    bare = json.loads(cache.encode_entry(CONFIG, "net1", RuntimeConf("ctr1", "", "eth0"), None))
    assert set(bare) == {"kind", "containerId", "config", "ifName", "networkName"}


def libcni_written_file(tmp_path: Path) -> Path:
    """A cache file as libcni writes it (key order, spacing and padding of Go's encoder)."""
    results = tmp_path / "results"
    results.mkdir(mode=0o700)
    path = results / "net1-ctr1-eth0"
    path.write_text(
        '{"kind":"cniCacheV1","containerId":"ctr1","config":"'
        + base64.b64encode(CONFIG).decode()
        + '","ifName":"eth0","networkName":"net1","netns":"/var/run/netns/ctr1",'
        '"cniArgs":[["K8S_POD_NAME","web-0"]],"capabilityArgs":{"bandwidth":{"ingressRate":1000}},'
        '"result":{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"/var/run/netns/ctr1"}],'
        '"ips":[{"interface":0,"address":"10.1.2.3/24","gateway":"10.1.2.1"}],'
        '"routes":[{"dst":"0.0.0.0/0","gw":"10.1.2.1"}],"dns":{}}}'
    )
    path.chmod(0o600)
    return path


def test_reads_a_libcni_written_cache_file(tmp_path: Path) -> None:
    """Issue 5: pycni reads libcni's format: result, config, args and attachments."""
    libcni_written_file(tmp_path)
    cni = pycni.CNIConfig(path=["/nonexistent"], cache_dir=str(tmp_path))
    conf = pycni.NetworkConfigList.from_bytes(CONFIG)
    rt = RuntimeConf("ctr1", "/var/run/netns/ctr1", "eth0")
    result = cni.get_network_list_cached_result(conf, rt)
    assert result is not None
    assert result.to_dict()["ips"] == [
        {"interface": 0, "address": "10.1.2.3/24", "gateway": "10.1.2.1"}
    ]
    cached = cni.get_network_list_cached_config(conf, rt)
    assert cached is not None
    assert cached[0] == CONFIG
    assert cached[1].args == (("K8S_POD_NAME", "web-0"),)
    assert dict(cached[1].capability_args) == {"bandwidth": {"ingressRate": 1000}}
    [attachment] = cni.get_cached_attachments("ctr1")
    assert attachment.netns == "/var/run/netns/ctr1" and attachment.network == "net1"


def test_writes_are_atomic_and_private(tmp_path: Path) -> None:
    """Issue 5: 0700 directory, 0600 file, no temporary file left, old content replaced whole."""
    name = cache.entry_name("net1", "ctr1", "eth0")
    cache.write_entry(str(tmp_path), name, b"first")
    cache.write_entry(str(tmp_path), name, b"second")
    results = tmp_path / "results"
    assert stat.S_IMODE(results.stat().st_mode) == 0o700
    assert stat.S_IMODE((results / name).stat().st_mode) == 0o600
    assert (results / name).read_bytes() == b"second"
    assert sorted(os.listdir(results)) == [name]


def test_symlinks_are_never_followed(tmp_path: Path) -> None:
    """Issue 5 and 10: a symlink planted at a cache path or at results/ is not followed."""
    victim = tmp_path / "victim"
    victim.write_text("precious")
    cache_dir = tmp_path / "cache"
    results = cache_dir / "results"
    results.mkdir(parents=True)
    link = results / "net1-ctr1-eth0"
    link.symlink_to(victim)
    with pytest.raises(pycni.CacheError, match="symlink"):
        cache.read_entry(str(cache_dir), "net1-ctr1-eth0")
    cache.write_entry(str(cache_dir), "net1-ctr1-eth0", b"new")
    assert victim.read_text() == "precious"
    assert not link.is_symlink() and link.read_bytes() == b"new"
    link.unlink()
    link.symlink_to(victim)
    cache.delete_entry(str(cache_dir), "net1-ctr1-eth0")
    assert victim.read_text() == "precious" and not link.exists()

    other = tmp_path / "other"
    other.mkdir()
    cache_dir2 = tmp_path / "cache2"
    cache_dir2.mkdir()
    (cache_dir2 / "results").symlink_to(other)
    with pytest.raises(pycni.CacheError, match="symlink"):
        cache.write_entry(str(cache_dir2), "net1-ctr1-eth0", b"x")
    assert list(other.iterdir()) == []


@pytest.mark.parametrize(
    ("network", "container_id", "ifname"),
    [
        ("../x", "ctr", "eth0"),
        ("a/b", "ctr", "eth0"),
        ("net", "../../etc", "eth0"),
        ("net", "x\n", "eth0"),
        ("net", "x\x00y", "eth0"),
        ("net", "ctr", "a/b"),
        ("net", "ctr", ".."),
        ("net", "ctr", "e\x00"),
        ("net", "ctr", "0123456789abcdef"),
        ("net", "ctr", "eth\u00a00"),
        ("net", "ctr", "eth\u20030"),
        ("net\n", "ctr", "eth0"),
    ],
)
def test_identifiers_are_validated_before_any_path(
    tmp_path: Path, network: str, container_id: str, ifname: str
) -> None:
    """Issue 5 and reference 11 item 30: bad names never become paths, for every verb."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    cni = pycni.CNIConfig(path=[str(bin_dir)], cache_dir=str(tmp_path / "cache"))
    rt = RuntimeConf(container_id, "/x", ifname)
    with pytest.raises(pycni.PycniError):
        cache.entry_name(network, container_id, ifname)
    conf = pycni.NetworkConfigList.from_bytes(
        json.dumps({"name": network, "cniVersion": "1.0.0", "plugins": [{"type": "x"}]}).encode()
    )
    for verb in (cni.add_network_list, cni.check_network_list, cni.del_network_list):
        with pytest.raises(pycni.PycniError):
            verb(conf, rt)
    with pytest.raises(pycni.PycniError):
        cni.get_network_list_cached_result(conf, rt)
    created = [p for p in tmp_path.rglob("*") if p != bin_dir]
    assert all(str(p).startswith(str(tmp_path / "cache")) for p in created)
    assert not any(".." in p.name or "\n" in p.name for p in created)


def test_relative_plugin_dirs_are_refused() -> None:
    """Issue 10: relative CNI_PATH entries are refused (libcni resolves them against the CWD)."""
    with pytest.raises(pycni.ConfigError, match="not an absolute path"):
        pycni.CNIConfig(path=["bin"])
    with pytest.raises(pycni.ConfigError):
        pycni.CNIConfig(path=":/opt/cni/bin")


@pytest.mark.parametrize("entry", ["/nonexistent:bin", "/usr/lib/cni:/opt/cni/bin", "/a\0b"])
def test_a_colon_inside_one_plugin_dir_is_refused(entry: str) -> None:
    """Issue 16 item 5: CNI_PATH is one ':'-separated string, so a ':' inside one list entry
    would hand plugins a relative directory (``bin`` searched from the runtime's CWD)."""
    with pytest.raises(pycni.ConfigError, match="contains ':' or a NUL byte") as info:
        pycni.CNIConfig(path=[entry, "/usr/lib/cni"])
    assert info.value.field == "path"
    with pytest.raises(pycni.ConfigError, match="contains ':'"):
        pycni.AsyncCNIConfig(path=[entry])


def test_gc_survives_a_cache_entry_whose_ifname_holds_a_surrogate(tmp_path: Path) -> None:
    """Issue 16 item 4: one cache file with ``"ifName":"eth\\udc80"`` made every GC of the
    network fail with UnicodeEncodeError. Go reads the escape as U+FFFD; so does pycni, and GC
    DELs the entry like any other stale attachment."""
    import json

    from pycni.testing.fake_executor import FakeExecutor

    fake = FakeExecutor()
    fake.add_plugin("p")
    cni = pycni.CNIConfig(path=["/opt/cni/bin"], cache_dir=tmp_path, executor=fake)
    conf = pycni.NetworkConfigList.from_bytes(
        json.dumps({"cniVersion": "1.1.0", "name": "net", "plugins": [{"type": "p"}]}).encode()
    )
    cni.add_network_list(conf, pycni.RuntimeConf("ctr", "/n", "eth0"))
    cni.add_network_list(conf, pycni.RuntimeConf("ctr2", "/n", "eth0"))
    entry = tmp_path / "results" / "net-ctr-eth0"
    entry.write_text(entry.read_text().replace('"eth0"', '"eth\\udc80"'))
    cni.gc_network_list(conf)
    dels = [c.env["CNI_IFNAME"] for c in fake.calls if c.command == "DEL"]
    assert sorted(dels) == ["eth0", "eth\ufffd"]
    assert not (tmp_path / "results" / "net-ctr2-eth0").exists()
