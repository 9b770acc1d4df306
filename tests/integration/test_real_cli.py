"""Scenario 9 of issue 9: the ``pycni`` command as root, end to end with the real plugins.

``pycni exec --network NAME -- CMD`` creates a namespace, attaches loopback and the network, runs
CMD inside, then detaches and removes the namespace; ``pycni demo --real`` shows ADD, CHECK and
DEL with the real plugins in a namespace it creates and removes.
"""

from __future__ import annotations

import ipaddress
import json
import os
import select
import socket
import subprocess
import sys
from pathlib import Path

import realnet
from labkit import CNI_PATH, Lab

CONTAINER_PORT = 8080
EXEC_PREFIX = "pycni-exec-"


def pycni_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "pycni", *args]


def exec_network(lab: Lab, tmp_path: Path) -> tuple[Path, str, str, ipaddress.IPv4Network]:
    """A configuration directory with one bridge + portmap network; (dir, network, bridge, subnet)."""
    bridge, subnet, network = lab.bridge(), lab.subnet(), lab.network_name()
    plugins = [
        lab.bridge_plugin(bridge, subnet),
        {"type": "portmap", "capabilities": {"portMappings": True}, "snat": True},
    ]
    folder = tmp_path / "net.d"
    folder.mkdir()
    doc = {"cniVersion": "1.0.0", "name": network, "plugins": plugins}
    (folder / "10-exec.conflist").write_text(json.dumps(doc))
    return folder, network, bridge, subnet


def exec_args(lab: Lab, folder: Path, network: str, *more: str) -> list[str]:
    return pycni_command(
        "exec",
        "--network",
        network,
        "--conf-dir",
        str(folder),
        "--bin-dir",
        CNI_PATH,
        "--cache-dir",
        str(lab.cache_dir),
        "--timeout",
        "60",
        *more,
    )


def assert_exec_left_nothing(lab: Lab, network: str, bridge: str) -> None:
    assert not [n for n in realnet.netns_names() if n.startswith(EXEC_PREFIX)]
    assert realnet.links(master=bridge) == []
    assert lab.allocations(network) == {}
    assert lab.cni().get_cached_attachments() == []


def test_exec_runs_the_command_attached_and_cleans_up(lab: Lab, tmp_path: Path) -> None:
    """CMD sees ``lo`` UP with 127.0.0.1 and ``eth0`` with an address of the network; its exit
    status is pycni's; afterwards the namespace, the attachment and the allocation are gone."""
    folder, network, bridge, subnet = exec_network(lab, tmp_path)
    script = "ip -j -4 addr show; exit 7"
    done = subprocess.run(
        [*exec_args(lab, folder, network), "--", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 7, done.stderr
    seen = {
        entry["ifname"]: [
            ipaddress.IPv4Interface(f"{a['local']}/{a['prefixlen']}") for a in entry["addr_info"]
        ]
        for entry in json.loads(done.stdout)
    }
    assert seen["lo"] == [ipaddress.IPv4Interface("127.0.0.1/8")]
    [eth0] = seen["eth0"]
    assert eth0.network == subnet
    assert f"eth0 {eth0}" in done.stderr  # pycni's note names the address it attached
    assert_exec_left_nothing(lab, network, bridge)


SERVER = """
import socket
server = socket.create_server(("0.0.0.0", {port}))
print("READY", flush=True)
conn, peer = server.accept()
conn.sendall(conn.recv(100).upper())
conn.close()
"""


def test_exec_with_a_host_port(lab: Lab, tmp_path: Path) -> None:
    """``--port HOST:CONTAINER/tcp``: a server run by ``pycni exec`` answers at the hostPort on
    the bridge's address (portmap DNAT), and the DNAT rule goes away with the sandbox."""
    folder, network, bridge, subnet = exec_network(lab, tmp_path)
    host_port = realnet.free_tcp_port()
    argv = exec_args(lab, folder, network, "--port", f"{host_port}:{CONTAINER_PORT}/tcp")
    proc = subprocess.Popen(
        [*argv, "--", sys.executable, "-c", SERVER.format(port=CONTAINER_PORT)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready, "pycni exec did not start the server"
        assert proc.stdout.readline().strip() == "READY"
        assert [r for r in realnet.iptables_rules("nat") if f"--dport {host_port} -j DNAT" in r]
        with socket.create_connection((str(subnet[1]), host_port), 10) as conn:
            conn.sendall(b"hello through the host port")
            assert conn.recv(100) == b"HELLO THROUGH THE HOST PORT"
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert not [r for r in realnet.iptables_rules("nat") if f"--dport {host_port} " in r]
    assert_exec_left_nothing(lab, network, bridge)


DEMO_BRIDGE = "pycni-demo0"
PORTMAP_819 = "could not check ipv6 dnat"


def test_demo_real(lab: Lab) -> None:
    """``pycni demo --real --json``: loopback and a bridge + portmap + bandwidth network are
    attached in a namespace of the demo's own (``lo`` and ``eth0`` seen inside), checked, read
    from the cache and detached; the namespace, its DNAT rule and the demo bridge are gone
    afterwards. CHECK may only fail with Debian portmap's known bug (#819)."""
    bridge_existed = DEMO_BRIDGE in realnet.link_names()
    done = subprocess.run(
        pycni_command("demo", "--real", "--bin-dir", CNI_PATH, "--json"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["ok"] is True
    steps = doc["steps"]
    assert [(s["step"], s.get("network")) for s in steps] == [
        ("ADD", "pycni-demo-lo"),
        ("ADD", "pycni-demo-real"),
        ("INSIDE", None),
        ("CHECK", None),
        ("CACHE", None),
        ("DEL", "pycni-demo-real"),
        ("DEL", "pycni-demo-lo"),
    ]
    for step in steps:
        if step["step"] in ("ADD", "DEL"):
            assert step["calls"], step
            assert not [call for call in step["calls"] if "error" in call], step
    inside = {
        line.split()[0].split("@")[0]: line.split() for line in steps[2]["output"].splitlines()
    }
    assert "127.0.0.1/8" in inside["lo"]
    [eth0] = [a for a in inside["eth0"] if "." in a and "/" in a]
    ip = ipaddress.IPv4Interface(eth0)
    assert ip.network == ipaddress.IPv4Network(
        doc["network"]["config"]["plugins"][0]["ipam"]["ranges"][0][0]["subnet"]
    )
    if not doc["checkPassed"]:
        assert steps[3]["error"].startswith(PORTMAP_819), steps[3]["error"]

    assert os.path.basename(doc["netns"]) not in realnet.netns_names()
    assert (DEMO_BRIDGE in realnet.link_names()) == bridge_existed
    assert not [r for r in realnet.iptables_rules("nat") if str(ip.ip) in r]


def test_del_without_port_removes_portmap_rules(lab: Lab, tmp_path: Path) -> None:
    """Issue 17 item 2 with the real plugins: ``pycni add NET NETNS --port H:C/tcp`` then
    ``pycni del NET NETNS`` (no ``--port``). The DEL used to leave the ``CNI-DN-*`` chain and its
    DNAT rule behind; now it reuses the cached port mappings and nothing naming the host port
    or the pod address remains."""
    folder, network, bridge, _subnet = exec_network(lab, tmp_path)
    ns = lab.netns()
    host_port = realnet.free_tcp_port()
    common = ["--conf-dir", str(folder), "--bin-dir", CNI_PATH, "--cache-dir", str(lab.cache_dir)]

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            pycni_command(*args, *common), capture_output=True, text=True, timeout=120, check=False
        )

    add = cli("add", network, ns.path, "--port", f"{host_port}:{CONTAINER_PORT}/tcp")
    assert add.returncode == 0, add.stderr
    pod_ip = json.loads(add.stdout)["ips"][0]["address"].split("/")[0]
    assert [r for r in realnet.iptables_rules("nat") if f"--dport {host_port} -j DNAT" in r]
    # (no CHECK: Debian's portmap 1.1.1 fails it on IPv4-only hosts, see PORTMAP_819)
    done = cli("del", network, ns.path)
    assert done.returncode == 0, done.stderr
    assert "capability args portMappings cached at ADD" in done.stderr
    after = realnet.iptables_rules("nat")
    # portmap's shared CNI-HOSTPORT-* chains stay (the host guard removes them after the suite)
    assert not [r for r in after if f"--dport {host_port} " in r or f"{pod_ip}/" in r], after
    assert not [r for r in after if "CNI-DN-" in r], after
    assert realnet.links(master=bridge) == []
    assert lab.allocations(network) == {}
