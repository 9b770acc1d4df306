"""Issue 21 item 5: cache entries libcni's ``GetCachedAttachments`` skips are skipped by pycni.

libcni decodes each cache file into its typed struct and skips the file when that fails; GC then
never runs a DEL for it. pycni used to list ``"netns": 5`` (as netns ``""``) and ``"result": "x"``
entries and DEL them.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

import pycni
from pycni import cache
from pycni.testing import FakeExecutor

CONFIG = b'{"cniVersion":"1.0.0","name":"net","plugins":[{"type":"bridge"}]}'


def entry(**changes: Any) -> bytes:
    doc: dict[str, Any] = {
        "kind": "cniCacheV1",
        "containerId": "c1",
        "config": base64.b64encode(CONFIG).decode(),
        "ifName": "eth0",
        "networkName": "net",
        "netns": "/run/netns/c1",
        "result": {"cniVersion": "1.0.0"},
    }
    doc.update(changes)
    return json.dumps({k: v for k, v in doc.items() if v is not ...}).encode()


@pytest.mark.parametrize(
    "changes",
    [
        {"netns": 5},
        {"result": "x"},
        {"result": [1]},
        {"config": "%%%"},
        {"config": 5},
        {"cniArgs": "A=b"},
        {"cniArgs": [[1, "b"]]},
        {"cniArgs": ["A=b"]},
        {"capabilityArgs": []},
        {"containerId": 5},
        {"ifName": ["eth0"]},
        {"networkName": {"n": 1}},
    ],
    ids=repr,
)
def test_wrongly_typed_entries_are_skipped(changes: dict[str, Any]) -> None:
    """A field Go cannot decode into the cache struct makes the whole entry skipped."""
    assert cache.decode_attachment(entry(**changes)) is None


@pytest.mark.parametrize(
    ("changes", "args"),
    [
        ({"cniArgs": [["A", "b"]]}, (("A", "b"),)),
        ({"cniArgs": [["A"]]}, (("A", ""),)),  # a [2]string: missing elements stay empty
        ({"cniArgs": [["A", "b", 5]]}, (("A", "b"),)),  # extra elements are dropped unread
        ({"cniArgs": [None, ["A", None]]}, (("", ""), ("A", ""))),
        ({"cniArgs": None, "netns": None, "result": None, "capabilityArgs": None}, ()),
    ],
    ids=repr,
)
def test_entries_go_decodes_are_listed(changes: dict[str, Any], args: tuple[Any, ...]) -> None:
    """What Go's decoder accepts (nulls, short or long cniArgs pairs) is listed, filled as Go
    fills the struct."""
    attachment = cache.decode_attachment(entry(**changes))
    assert attachment is not None
    assert attachment.cni_args == args
    assert attachment.config == CONFIG
    if "netns" in changes:
        assert attachment.netns == ""


def test_gc_does_not_delete_skipped_entries(tmp_path: Path) -> None:
    """GC runs DEL only for entries libcni would list; skipped files stay as they are."""
    results = tmp_path / "cache" / "results"
    results.mkdir(parents=True, mode=0o700)
    (tmp_path / "cache").chmod(0o700)
    good = results / "net-c1-eth0"
    good.write_bytes(entry())
    bad_netns = results / "net-c2-eth0"
    bad_netns.write_bytes(entry(containerId="c2", netns=5))
    bad_result = results / "net-c3-eth0"
    bad_result.write_bytes(entry(containerId="c3", result="x"))
    for path in (good, bad_netns, bad_result):
        path.chmod(0o600)
    fake = FakeExecutor()
    fake.add_plugin("bridge")
    cni = pycni.CNIConfig(path=["/opt/cni/bin"], executor=fake, cache_dir=str(tmp_path / "cache"))

    listed = cni.get_cached_attachments()
    assert [(a.container_id, a.ifname) for a in listed] == [("c1", "eth0")]

    cni.gc_network_list(pycni.NetworkConfigList.from_bytes(CONFIG))
    assert [call.container_id for call in fake.calls_for("bridge", "DEL")] == ["c1"]
    assert bad_netns.exists() and bad_result.exists()


def write_entry(tmp_path: Path, data: bytes) -> None:
    results = tmp_path / "cache" / "results"
    results.mkdir(parents=True, mode=0o700, exist_ok=True)
    (tmp_path / "cache").chmod(0o700)
    target = results / "net-c1-eth0"
    target.write_bytes(data)
    target.chmod(0o600)


RESULT = {"cniVersion": "1.0.0", "ips": [{"address": "10.1.2.3/24"}]}
RT = pycni.RuntimeConf(container_id="c1", netns="/run/netns/c1", ifname="eth0")


@pytest.mark.parametrize(
    "changes",
    [{"config": "%%%"}, {"cniArgs": "A=b"}, {"result": "x"}, {"netns": 5}],
    ids=repr,
)
def test_wrongly_typed_entry_is_an_old_style_empty_result(
    tmp_path: Path, changes: dict[str, Any]
) -> None:
    """libcni reads an envelope it cannot decode as an old-style result, which holds nothing:
    the cached result is empty and CHECK gets ``{"cniVersion": "1.0.0"}`` as prevResult."""
    write_entry(tmp_path, entry(**{"result": RESULT, **changes}))
    fake = FakeExecutor()
    fake.add_plugin("bridge")
    cni = pycni.CNIConfig(path=["/opt/cni/bin"], executor=fake, cache_dir=str(tmp_path / "cache"))
    conf = pycni.NetworkConfigList.from_bytes(CONFIG)

    cached = cni.get_network_list_cached_result(conf, RT)
    assert cached is not None and cached.to_dict() == {"cniVersion": "1.0.0"}

    cni.check_network_list(conf, RT)
    (call,) = fake.calls_for("bridge", "CHECK")
    assert call.config["prevResult"] == {"cniVersion": "1.0.0"}


def test_well_typed_entry_gives_its_result(tmp_path: Path) -> None:
    """The control: a well-typed envelope gives the cached result itself."""
    write_entry(tmp_path, entry(result=RESULT))
    cni = pycni.CNIConfig(
        path=["/opt/cni/bin"], executor=FakeExecutor(), cache_dir=str(tmp_path / "cache")
    )
    cached = cni.get_network_list_cached_result(pycni.NetworkConfigList.from_bytes(CONFIG), RT)
    assert cached is not None and cached.to_dict()["ips"] == [{"address": "10.1.2.3/24"}]


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        (
            {"result": "x"},
            "json: cannot unmarshal string into Go struct field cachedInfo.result of type "
            "map[string]interface {}",
        ),
        (
            {"cniArgs": [["A", 5]]},
            "json: cannot unmarshal number into Go struct field cachedInfo.cniArgs of type string",
        ),
        ({"config": "%%%"}, "illegal base64 data"),
    ],
    ids=repr,
)
def test_cached_config_of_a_wrongly_typed_entry_fails_like_go(
    tmp_path: Path, changes: dict[str, Any], fragment: str
) -> None:
    """``GetNetworkListCachedConfig`` fails with Go's unmarshal error for any mistyped field."""
    write_entry(tmp_path, entry(**changes))
    cni = pycni.CNIConfig(
        path=["/opt/cni/bin"], executor=FakeExecutor(), cache_dir=str(tmp_path / "cache")
    )
    with pytest.raises(pycni.PycniError) as caught:
        cni.get_network_list_cached_config(pycni.NetworkConfigList.from_bytes(CONFIG), RT)
    assert f'failed to unmarshal cached network "net" config: {fragment}' in str(caught.value)


def test_cached_config_fills_short_cni_args_pairs(tmp_path: Path) -> None:
    """``[["A"]]`` is the pair ``("A", "")``, as Go fills a ``[2]string``."""
    write_entry(tmp_path, entry(cniArgs=[["A"], ["B", "c", "ignored"]]))
    cni = pycni.CNIConfig(
        path=["/opt/cni/bin"], executor=FakeExecutor(), cache_dir=str(tmp_path / "cache")
    )
    cached = cni.get_network_list_cached_config(pycni.NetworkConfigList.from_bytes(CONFIG), RT)
    assert cached is not None
    assert cached[1].args == (("A", ""), ("B", "c"))
