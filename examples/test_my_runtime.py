"""How to test a runtime built on pycni with the ``pycni`` pytest plugin (copy this file).

The plugin is active as soon as pycni is installed; no conftest is needed. Run with:

    pytest examples/test_my_runtime.py

``PodNetwork`` below stands for *your* code: something that loads a network configuration and
calls pycni's runtime API. The tests use the plugin's fixtures:

* ``cni_conf_dir`` / ``cni_bin_dir`` / ``cni_cache_dir``: fresh directories per test;
* ``fake_plugin``: real executable plugins that record every call and answer from a script;
* ``cni``: a ``pycni.CNIConfig`` searching ``cni_bin_dir`` and caching in ``cni_cache_dir``;
* ``netns``: a real network namespace (skips unless root), removed after the test.

``pycni.testing.FakeExecutor`` replaces processes with Python functions for very fast tests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import pycni
from pycni.testing import PASSTHROUGH, FakeExecutor, FakePluginFactory

# --------------------------------------------------------------------------------------------
# The code under test (yours would live in your package)
# --------------------------------------------------------------------------------------------


class PodNetwork:
    """Attaches pods to the network ``network`` defined in ``conf_dir``."""

    def __init__(self, cni: Any, conf_dir: Path, network: str = "podnet") -> None:
        self.cni = cni
        self.conf_dir = conf_dir
        self.network = network

    def _rt(self, pod: str, netns: str) -> pycni.RuntimeConf:
        return pycni.RuntimeConf(
            container_id=pod, netns=netns, ifname="eth0", args=[("K8S_POD_NAME", pod)]
        )

    def setup(self, pod: str, netns: str) -> list[str]:
        """ADD the pod; returns its addresses."""
        conf = pycni.load_conf_list(str(self.conf_dir), self.network)
        result = self.cni.add_network_list(conf, self._rt(pod, netns))
        return [str(ip.address) for ip in result.ips]

    def teardown(self, pod: str, netns: str) -> None:
        """DEL the pod."""
        conf = pycni.load_conf_list(str(self.conf_dir), self.network)
        self.cni.del_network_list(conf, self._rt(pod, netns))


# --------------------------------------------------------------------------------------------
# The tests
# --------------------------------------------------------------------------------------------

BRIDGE_RESULT = {
    "cniVersion": "1.0.0",
    "interfaces": [{"name": "eth0", "sandbox": "/run/netns/pod-1"}],
    "ips": [{"address": "10.22.0.5/16", "gateway": "10.22.0.1", "interface": 0}],
}


@pytest.fixture
def podnet(cni_conf_dir: Path) -> Path:
    """The network configuration the tests run against: a main plugin, then a chained one."""
    conf = {
        "cniVersion": "1.0.0",
        "name": "podnet",
        "plugins": [{"type": "bridge", "bridge": "cni0"}, {"type": "portmap"}],
    }
    path = cni_conf_dir / "10-podnet.conflist"
    path.write_text(json.dumps(conf))
    return path


def test_setup_returns_the_addresses(
    podnet: Path, cni: pycni.CNIConfig, cni_conf_dir: Path, fake_plugin: FakePluginFactory
) -> None:
    bridge = fake_plugin("bridge", result=BRIDGE_RESULT)
    portmap = fake_plugin("portmap", result=PASSTHROUGH)

    addresses = PodNetwork(cni, cni_conf_dir).setup("pod-1", "/run/netns/pod-1")

    assert addresses == ["10.22.0.5/16"]
    (add,) = bridge.calls("ADD")
    assert add.container_id == "pod-1"
    assert add.args == "K8S_POD_NAME=pod-1"
    assert add.config["bridge"] == "cni0"
    # the chained plugin got the bridge's result as prevResult
    assert portmap.calls("ADD")[0].config["prevResult"]["ips"][0]["address"] == "10.22.0.5/16"


def test_teardown_deletes_in_reverse_order(
    podnet: Path, cni: pycni.CNIConfig, cni_conf_dir: Path, fake_plugin: FakePluginFactory
) -> None:
    fake_plugin("bridge", result=BRIDGE_RESULT)
    fake_plugin("portmap", result=PASSTHROUGH)
    net = PodNetwork(cni, cni_conf_dir)
    net.setup("pod-1", "/run/netns/pod-1")

    net.teardown("pod-1", "/run/netns/pod-1")

    assert [(name, call.command) for name, call in fake_plugin.calls()] == [
        ("bridge", "ADD"),
        ("portmap", "ADD"),
        ("portmap", "DEL"),
        ("bridge", "DEL"),
    ]
    assert cni.get_cached_attachments("pod-1") == []


def test_plugin_failure_reaches_the_caller(
    podnet: Path, cni: pycni.CNIConfig, cni_conf_dir: Path, fake_plugin: FakePluginFactory
) -> None:
    fake_plugin("bridge", error=(11, "try again later", "IP pool busy"))
    fake_plugin("portmap", result=PASSTHROUGH)

    with pytest.raises(pycni.ChainError) as failure:
        PodNetwork(cni, cni_conf_dir).setup("pod-1", "/run/netns/pod-1")

    assert failure.value.code == 11
    assert failure.value.plugin_type == "bridge"


def test_without_processes(podnet: Path, cni_conf_dir: Path, cni_cache_dir: Path) -> None:
    """The same code against Python functions instead of plugin processes."""
    fake = FakeExecutor()
    fake.add_plugin(
        "bridge", lambda command, env, stdin: BRIDGE_RESULT if command == "ADD" else None
    )
    fake.add_plugin("portmap")  # default: passes prevResult through
    cni = pycni.CNIConfig(path=["/opt/cni/bin"], cache_dir=str(cni_cache_dir), executor=fake)

    assert PodNetwork(cni, cni_conf_dir).setup("pod-2", "/run/netns/pod-2") == ["10.22.0.5/16"]
    assert [(c.plugin_type, c.command) for c in fake.calls] == [
        ("bridge", "ADD"),
        ("portmap", "ADD"),
    ]


def test_with_a_real_network_namespace(
    podnet: Path,
    cni: pycni.CNIConfig,
    cni_conf_dir: Path,
    fake_plugin: FakePluginFactory,
    netns: str,
) -> None:
    """Skipped unless root: real plugins would configure interfaces inside ``netns``."""
    bridge = fake_plugin("bridge", result=BRIDGE_RESULT)
    fake_plugin("portmap", result=PASSTHROUGH)

    PodNetwork(cni, cni_conf_dir).setup("pod-3", netns)

    assert bridge.calls("ADD")[0].netns == netns
