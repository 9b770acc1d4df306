"""Issue 21 item 1 with Debian's real plugins: numbers reach Go plugins the way libcni writes them.

Go's ``bridge`` decodes ``mtu`` into an ``int`` and refuses the text ``1400.0``; libcni re-marshals
a config through ``float64`` and hands it ``1400``. pycni must do the same, or a conflist that
works under libcni fails under pycni.
"""

from __future__ import annotations

import os
import subprocess

import realnet
from labkit import CNI_PATH, Lab

import pycni

MTU = 1400  # not the default 1500, so the value seen in the namespace proves it was applied


def test_bridge_accepts_a_float_mtu(lab: Lab) -> None:
    """ADD then DEL with ``"mtu": 1400.0`` in the conflist succeed; eth0 gets MTU 1400."""
    bridge, subnet, ns = lab.bridge(), lab.subnet(), lab.netns()
    plugin = {**lab.bridge_plugin(bridge, subnet), "mtu": float(MTU)}
    conf = lab.conf_list("1.0.0", [plugin])
    assert b'"mtu": 1400.0' in conf.bytes  # the file really holds a float
    rt = pycni.RuntimeConf(lab.container_id(), ns.path, "eth0")
    cni = lab.cni()

    result = cni.add_network_list(conf, rt, timeout=30)

    assert result.ips, result
    eth0 = realnet.link("eth0", netns=ns.name)
    assert eth0 is not None and eth0["mtu"] == MTU
    cni.del_network_list(conf, rt, timeout=30)
    assert realnet.link("eth0", netns=ns.name) is None
    assert lab.allocations() == {}


def test_bridge_refuses_the_float_text_itself(lab: Lab) -> None:
    """The premise: the same plugin given ``1400.0`` verbatim refuses it (what pycni used to send).

    Run directly, with a config that fails to parse before the plugin touches anything.
    """
    ns = lab.netns()
    stdin = (
        b'{"cniVersion":"1.0.0","name":"n","type":"bridge","bridge":"unused0","mtu":1400.0,'
        b'"ipam":{}}'
    )
    env = {
        "CNI_COMMAND": "ADD",
        "CNI_CONTAINERID": lab.container_id(),
        "CNI_NETNS": ns.path,
        "CNI_IFNAME": "eth0",
        "CNI_PATH": CNI_PATH,
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    }
    done = subprocess.run(
        [os.path.join(CNI_PATH, "bridge")],
        input=stdin,
        env=env,
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert done.returncode != 0
    assert b"cannot unmarshal number 1400.0" in done.stdout, done.stdout
