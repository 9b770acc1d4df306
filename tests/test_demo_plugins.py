"""The example plugins of pycni.demo (noop, pycni-ipam) and the demo conflist.

In-process tests drive the plugins' callbacks through pycni.skel's dispatcher; the others run the
installed executables as a runtime would.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import pycni
import pycni.demo
from pycni.demo import ipam, noop
from pycni.errors import CNIError
from pycni.skel import Dispatcher
from pycni.version import ALL

PREV_IPS = [{"version": "4", "address": "10.1.2.3/24", "gateway": "10.1.2.1"}]


@pytest.fixture(autouse=True)
def _plugin_bytecode(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Let plugin processes cache bytecode (outside the tree) so each start is not a recompile."""
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)
    monkeypatch.setenv("PYTHONPYCACHEPREFIX", str(tmp_path_factory.getbasetemp() / "pycache"))


def dispatch(module: Any, command: str, config: dict[str, Any], **env: str) -> tuple[Any, Any]:
    """Run ``module``'s callbacks for one invocation; returns (error, parsed stdout or None)."""
    environ = {
        "CNI_COMMAND": command,
        "CNI_CONTAINERID": "ctr-1",
        "CNI_NETNS": "/run/netns/ctr-1",
        "CNI_IFNAME": "eth0",
        "CNI_PATH": "/nonexistent",
        **env,
    }
    stdout = io.BytesIO()
    err = Dispatcher(
        environ=environ,
        stdin=io.BytesIO(json.dumps(config).encode()),
        stdout=stdout,
        stderr=io.StringIO(),
    ).run(
        add=module.add,
        check=module.check,
        delete=module.delete,
        gc=module.gc,
        status=module.status,
        about=module.ABOUT,
    )
    out = stdout.getvalue()
    return err, (json.loads(out) if out else None)


# ------------------------------------------------------------------------------------- noop


@pytest.mark.parametrize("version", ["0.3.1", "0.4.0"])
def test_noop_passes_prev_result_through(version: str) -> None:
    """Reference 7.8 item 93: PASSTHROUGH of a 0.3.1 / 0.4.0 prevResult -> same IPs, dns {}."""
    config = {
        "cniVersion": version,
        "name": "noop-test",
        "type": "noop",
        "prevResult": {"cniVersion": version, "ips": PREV_IPS},
    }
    err, out = dispatch(noop, "ADD", config)
    assert err is None
    assert out == {"cniVersion": version, "ips": PREV_IPS, "dns": {}}


@pytest.mark.parametrize("version", ALL)
def test_noop_without_prev_result_prints_an_empty_result(version: str) -> None:
    """Reference 7.8 item 95 (debug), improved: an empty result in the config's version, for every
    version (libcni's debug plugin fails for 0.1.0/0.2.0 here)."""
    err, out = dispatch(noop, "ADD", {"cniVersion": version, "name": "n", "type": "noop"})
    assert err is None
    assert out["cniVersion"] == version
    assert pycni.create_result(version, out).ips == ()


@pytest.mark.parametrize("verb", ["DEL", "CHECK", "GC", "STATUS"])
def test_noop_other_verbs_print_nothing(verb: str) -> None:
    """Reference 7.8 item 95: only ADD prints a result."""
    config = {
        "cniVersion": "1.1.0",
        "name": "n",
        "type": "noop",
        "prevResult": {"cniVersion": "1.1.0"},
    }
    err, out = dispatch(noop, verb, config)
    assert err is None
    assert out is None


def test_noop_trace_records_every_call(tmp_path: Path) -> None:
    """Reference 7.8 item 95: the debug-format trace of each call, args recorded exactly."""
    trace = tmp_path / "trace"
    config = {"cniVersion": "1.1.0", "name": "n", "type": "noop", "trace": str(trace)}
    assert dispatch(noop, "ADD", config, CNI_ARGS="FOO=BAR;K=V")[0] is None
    assert dispatch(noop, "DEL", config)[0] is None
    lines = trace.read_text().splitlines()
    stdin = json.dumps(config)
    assert lines == [
        "CmdAdd",
        "ContainerID: ctr-1",
        "Netns: /run/netns/ctr-1",
        "IfName: eth0",
        "Args: FOO=BAR;K=V",
        "Path: /nonexistent",
        f"StdinData: {stdin}",
        "-" * 22,
        "CmdDel",
        "ContainerID: ctr-1",
        "Netns: /run/netns/ctr-1",
        "IfName: eth0",
        "Args: ",
        "Path: /nonexistent",
        f"StdinData: {stdin}",
        "-" * 22,
    ]


def test_noop_bad_prev_result() -> None:
    """Reference 5.5 item 37: a prevResult of another family than the config is an error."""
    config = {
        "cniVersion": "1.1.0",
        "name": "n",
        "type": "noop",
        "prevResult": {"cniVersion": "0.2.0", "ip4": {"ip": "10.0.0.1/24"}},
    }
    err, _ = dispatch(noop, "ADD", config)
    assert err is not None
    assert err.code == 999
    assert err.msg.startswith("could not parse prevResult: result type supports [1.0.0 1.1.0]")


def test_noop_missing_ipam_plugin() -> None:
    """Delegation to an IPAM plugin that is not in CNI_PATH fails with libcni's lookup error."""
    config = {"cniVersion": "1.1.0", "name": "n", "type": "noop", "ipam": {"type": "nope"}}
    err, _ = dispatch(noop, "ADD", config)
    assert err == CNIError(999, 'failed to find plugin "nope" in path [/nonexistent]')


# -------------------------------------------------------------------------------------- ipam


def ipam_config(tmp_path: Path, version: str = "1.1.0", **ipam_keys: Any) -> dict[str, Any]:
    ipam_conf = {"type": "pycni-ipam", "subnet": "10.9.0.0/29", "dataDir": str(tmp_path / "ipam")}
    ipam_conf.update(ipam_keys)
    return {"cniVersion": version, "name": "ipamnet", "ipam": ipam_conf}


def test_ipam_allocates_in_order_and_reuses_late(tmp_path: Path) -> None:
    """Addresses come from the range in order, skipping the gateway; DEL releases; a released
    address is not handed out again before the range wraps."""
    conf = ipam_config(tmp_path, routes=[{"dst": "0.0.0.0/0"}])
    got = []
    for cid in ("a", "b", "c"):
        err, out = dispatch(ipam, "ADD", conf, CNI_CONTAINERID=cid)
        assert err is None
        got.append(out["ips"][0]["address"])
    assert got == ["10.9.0.2/29", "10.9.0.3/29", "10.9.0.4/29"]
    assert out["ips"][0]["gateway"] == "10.9.0.1"
    assert out["routes"] == [{"dst": "0.0.0.0/0", "gw": "10.9.0.1"}]
    assert dispatch(ipam, "DEL", conf, CNI_CONTAINERID="a")[0] is None
    assert dispatch(ipam, "ADD", conf, CNI_CONTAINERID="d")[1]["ips"][0]["address"] == "10.9.0.5/29"


def test_ipam_add_is_idempotent_per_attachment(tmp_path: Path) -> None:
    """The same (container, ifname) gets its address again; another ifname gets a new one."""
    conf = ipam_config(tmp_path)
    first = dispatch(ipam, "ADD", conf)[1]
    assert dispatch(ipam, "ADD", conf)[1] == first
    other = dispatch(ipam, "ADD", conf, CNI_IFNAME="eth1")[1]
    assert other["ips"] != first["ips"]


def test_ipam_range_full_and_status(tmp_path: Path) -> None:
    """An exhausted range: ADD fails with code 100, STATUS with code 50 (reference 1.7 item 30)."""
    conf = ipam_config(tmp_path, rangeStart="10.9.0.2", rangeEnd="10.9.0.3")
    assert dispatch(ipam, "STATUS", conf)[0] is None
    for cid in ("a", "b"):
        assert dispatch(ipam, "ADD", conf, CNI_CONTAINERID=cid)[0] is None
    err, _ = dispatch(ipam, "ADD", conf, CNI_CONTAINERID="c")
    assert err is not None
    assert (err.code, err.msg) == (100, "pycni-ipam: no IP addresses available in range")
    err = dispatch(ipam, "STATUS", conf)[0]
    assert err is not None
    assert err.code == 50


def test_ipam_del_twice_and_check(tmp_path: Path) -> None:
    """Reference 1.7 item 28: DEL is idempotent; CHECK fails with code 3 once released."""
    conf = ipam_config(tmp_path)
    dispatch(ipam, "ADD", conf)
    assert dispatch(ipam, "CHECK", conf)[0] is None
    assert dispatch(ipam, "DEL", conf)[0] is None
    assert dispatch(ipam, "DEL", conf)[0] is None
    err = dispatch(ipam, "CHECK", conf)[0]
    assert err is not None
    assert err.code == 3


def test_ipam_gc_honours_valid_attachments(tmp_path: Path) -> None:
    """Reference 1.7 item 32: GC releases what is not in cni.dev/valid-attachments; an absent or
    null list releases nothing."""
    conf = ipam_config(tmp_path)
    for cid in ("keep", "drop"):
        dispatch(ipam, "ADD", conf, CNI_CONTAINERID=cid)
    state = tmp_path / "ipam" / "ipamnet"

    def allocated() -> list[str]:
        return sorted(
            p.name
            for p in state.iterdir()
            if p.name[0].isdigit() and "." in p.name and p.name != "last_reserved_ip"
        )

    assert dispatch(ipam, "GC", conf)[0] is None
    assert dispatch(ipam, "GC", {**conf, "cni.dev/valid-attachments": None})[0] is None
    assert allocated() == ["10.9.0.2", "10.9.0.3"]
    gc_conf = {**conf, "cni.dev/valid-attachments": [{"containerID": "keep", "ifname": "eth0"}]}
    assert dispatch(ipam, "GC", gc_conf)[0] is None
    assert allocated() == ["10.9.0.2"]
    assert dispatch(ipam, "GC", {**conf, "cni.dev/valid-attachments": []})[0] is None
    assert allocated() == []


@pytest.mark.parametrize(
    ("keys", "needle"),
    [
        ({"subnet": "nope"}, "invalid subnet"),
        ({"subnet": 5}, "subnet must be a CIDR string"),
        ({"gateway": "192.168.0.1"}, "outside subnet"),
        ({"rangeStart": "10.9.0.6", "rangeEnd": "10.9.0.2"}, "rangeStart is after rangeEnd"),
        ({"routes": [{"gw": "10.9.0.1"}]}, "each route needs a dst"),
    ],
)
def test_ipam_bad_config(tmp_path: Path, keys: dict[str, Any], needle: str) -> None:
    """Invalid IPAM settings are code 7 errors naming the problem."""
    err = dispatch(ipam, "ADD", ipam_config(tmp_path, **keys))[0]
    assert err is not None
    assert err.code == 7
    assert needle in err.msg


def test_ipam_ipv6(tmp_path: Path) -> None:
    """IPv6 subnets work (no broadcast address to skip)."""
    conf = ipam_config(tmp_path, subnet="fd00:9::/120")
    out = dispatch(ipam, "ADD", conf)[1]
    assert out["ips"] == [{"address": "fd00:9::2/120", "gateway": "fd00:9::1"}]


def test_ipam_0_2_0_result_has_ip4(tmp_path: Path) -> None:
    """Reference 5.4 item 26: a 0.2.0 request gets an ip4 result."""
    out = dispatch(ipam, "ADD", ipam_config(tmp_path, version="0.2.0"))[1]
    assert out["cniVersion"] == "0.2.0"
    assert out["ip4"]["ip"] == "10.9.0.2/29"


# ---------------------------------------------------------------------------- as processes


@pytest.fixture
def demo_bin(cni_bin_dir: Path) -> Path:
    pycni.demo.install_plugins(cni_bin_dir)
    return cni_bin_dir


def test_installed_plugins_answer_version_and_about(demo_bin: Path) -> None:
    """The installed executables answer VERSION (every version) and print their about text."""
    for name in pycni.demo.PLUGINS:
        out = subprocess.run(
            [str(demo_bin / name)],
            input=b'{"cniVersion":"1.0.0"}',
            env={**os.environ, "CNI_COMMAND": "VERSION"},
            capture_output=True,
            check=True,
        )
        assert json.loads(out.stdout) == {"cniVersion": "1.0.0", "supportedVersions": list(ALL)}
        about = subprocess.run(
            [str(demo_bin / name)],
            env={"PATH": os.environ["PATH"]},
            capture_output=True,
            check=True,
        )
        assert about.stderr.decode().startswith(f"pycni example plugin {name}")


def test_concurrent_adds_get_distinct_addresses(demo_bin: Path, tmp_path: Path) -> None:
    """The file lock keeps parallel ADDs from handing out one address twice."""
    conf = json.dumps(ipam_config(tmp_path, subnet="10.7.0.0/24")).encode()

    def add(index: int) -> str:
        env = {
            **os.environ,
            "CNI_COMMAND": "ADD",
            "CNI_CONTAINERID": f"ctr-{index}",
            "CNI_NETNS": "/run/netns/x",
            "CNI_IFNAME": "eth0",
            "CNI_PATH": str(demo_bin),
        }
        proc = subprocess.run(
            [str(demo_bin / "pycni-ipam")], input=conf, env=env, capture_output=True, check=True
        )
        return str(json.loads(proc.stdout)["ips"][0]["address"])

    with ThreadPoolExecutor(max_workers=6) as pool:
        addresses = list(pool.map(add, range(10)))
    assert len(set(addresses)) == 10


def test_demo_conflist_through_the_runtime(
    demo_bin: Path, cni: pycni.CNIConfig, tmp_path: Path
) -> None:
    """The bundled demo network: ADD allocates through delegation, CHECK, GC and DEL release."""
    conf = pycni.NetworkConfigList.from_bytes(
        pycni.demo.conflist_bytes(data_dir=tmp_path / "ipam", trace=tmp_path / "trace")
    )
    assert [p.type for p in conf.plugins] == ["noop", "noop"]
    rts = [
        pycni.RuntimeConf(container_id=f"ctr-{i}", netns=f"/run/netns/{i}", ifname="eth0")
        for i in range(2)
    ]
    results = [cni.add_network_list(conf, rt) for rt in rts]
    assert [str(r.ips[0].address) for r in results] == ["10.88.0.10/24", "10.88.0.11/24"]
    assert results[0].interfaces[0].name == "eth0"
    assert results[0].interfaces[0].sandbox == "/run/netns/0"
    cni.check_network_list(conf, rts[0])
    cni.get_status_network_list(conf)
    cni.gc_network_list(conf, pycni.GCArgs(valid_attachments=[("ctr-0", "eth0")]))
    state = tmp_path / "ipam" / "pycni-demo"
    assert (state / "10.88.0.10").exists()
    assert not (state / "10.88.0.11").exists()
    cni.del_network_list(conf, rts[0])
    assert not (state / "10.88.0.10").exists()
    trace = (tmp_path / "trace").read_text()
    assert trace.count("CmdAdd") == 4
    assert trace.count("CmdDel") >= 2


def test_ipam_error_code_reaches_the_runtime(
    demo_bin: Path, cni: pycni.CNIConfig, tmp_path: Path
) -> None:
    """A delegate's error code passes through the delegating plugin to the runtime."""
    body = json.loads(pycni.demo.conflist_bytes(data_dir=tmp_path / "ipam"))
    body["plugins"][0]["ipam"].update(rangeStart="10.88.0.10", rangeEnd="10.88.0.10")
    conf = pycni.NetworkConfigList.from_bytes(json.dumps(body).encode())
    cni.add_network_list(conf, pycni.RuntimeConf(container_id="a", netns="/x", ifname="eth0"))
    with pytest.raises(pycni.ChainError) as info:
        cni.add_network_list(conf, pycni.RuntimeConf(container_id="b", netns="/x", ifname="eth0"))
    assert info.value.code == 100
    with pytest.raises(pycni.CNIError) as status:
        cni.get_status_network_list(conf)
    assert status.value.code == 50
