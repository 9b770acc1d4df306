"""Issue 21 item 4: quoting in messages follows libcni's format verbs.

libcni writes the config version with ``%q`` in "does not support config version" and "failed
to convert cached result", and the network name raw between quotes in the not-found message.
The difference shows only for text that ``%q`` escapes.
"""

from __future__ import annotations

import base64
import json

import pytest

import pycni
from pycni import cache
from pycni.errors import CacheError, NotFoundError, ValidateNetworkError
from pycni.testing import FakeExecutor


def test_not_found_writes_the_name_raw() -> None:
    """``no net configuration with name "%s" in %s``: the name is not escaped."""
    err = NotFoundError("/etc/cni/net.d", 'we"ird\tname')
    assert str(err) == 'no net configuration with name "we"ird\tname" in /etc/cni/net.d'


def test_does_not_support_config_version_quotes_with_go_q(tmp_path: object) -> None:
    """``plugin %s does not support config version %q``: the version is escaped like Go."""
    fake = FakeExecutor()
    fake.add_plugin("bridge", versions=["0.4.0"])
    cni = pycni.CNIConfig(path=["/opt/cni/bin"], executor=fake, cache_dir=str(tmp_path))
    conf = pycni.NetworkConfigList.from_bytes(
        b'{"cniVersion":"1.0.0\\t","name":"net","plugins":[{"type":"bridge"}]}'
    )
    with pytest.raises(ValidateNetworkError) as caught:
        cni.validate_network_list(conf)
    assert [str(e) for e in caught.value.errors] == [
        'plugin bridge does not support config version "1.0.0\\t"'
    ]


def test_failed_to_convert_cached_result_quotes_with_go_q() -> None:
    """``failed to convert cached result to config version %q: ...``."""
    data = json.dumps(
        {
            "kind": "cniCacheV1",
            "containerId": "c1",
            "config": base64.b64encode(b"{}").decode(),
            "ifName": "eth0",
            "networkName": "net",
            "result": {"cniVersion": "1.0.0"},
        }
    ).encode()
    with pytest.raises(CacheError) as caught:
        cache.decode_cached_result(data, '9.9"9')
    assert str(caught.value).startswith(
        'failed to convert cached result to config version "9.9\\"9": '
    )
