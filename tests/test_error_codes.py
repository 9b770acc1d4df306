"""Issue 21 item 3: a plugin's CNI error code stays reachable through aggregated errors.

In Go a GC whose stale DEL fails with code 11 returns a joined error on which ``errors.As`` finds
the ``*types.Error`` with code 11. In pycni each ``GCError`` entry proxies ``code``/``msg``/
``details`` like ``ChainError``, and :func:`pycni.find_cni_error` finds the CNI error inside any
pycni error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from plugin_files import install_plugin

import pycni
from pycni.errors import (
    ChainError,
    CNIError,
    GCError,
    PluginError,
    PycniError,
    ValidateNetworkError,
    WrappedError,
    find_cni_error,
)

#: ADD prints an empty 1.1.0 result; DEL and GC fail with code 11 ("try again later").
BUSY = """
import os, sys
sys.stdin.buffer.read()
command = os.environ["CNI_COMMAND"]
if command == "ADD":
    print('{"cniVersion":"1.1.0"}')
elif command in ("DEL", "GC"):
    print('{"code":11,"msg":"busy","details":"' + command + '"}')
    sys.exit(1)
elif command == "VERSION":
    print('{"cniVersion":"1.1.0","supportedVersions":["1.0.0","1.1.0"]}')
"""


def conf_list(version: str) -> pycni.NetworkConfigList:
    return pycni.NetworkConfigList.from_bytes(
        f'{{"cniVersion":"{version}","name":"net","plugins":[{{"type":"busy"}}]}}'.encode()
    )


@pytest.mark.parametrize("version", ["1.0.0", "1.1.0"])
def test_gc_stale_del_code_is_reachable(runtime: Any, tmp_path: Path, version: str) -> None:
    """The stale attachment's failed DEL: ``errors[0].code == 11`` (and msg/details)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    install_plugin(bin_dir, "busy", BUSY)
    cni = runtime.make(path=[str(bin_dir)], cache_dir=str(tmp_path / "cache"))
    conf = conf_list(version)
    cni.add_network_list(conf, pycni.RuntimeConf(container_id="c1", netns="/x", ifname="eth0"))

    with pytest.raises(GCError) as caught:
        cni.gc_network_list(conf, pycni.GCArgs(valid_attachments=[]))

    gc_error = caught.value
    first = gc_error.errors[0]
    assert isinstance(first, WrappedError)
    assert (first.code, first.msg, first.details) == (11, "busy", "DEL")
    assert str(first).startswith("failed to delete stale attachment c1 eth0: ")
    assert isinstance(first.error, ChainError) and first.__cause__ is first.error
    found = find_cni_error(gc_error)
    assert isinstance(found, PluginError) and found.code == 11
    if version == "1.1.0":  # the GC verb itself failed too, after the DEL
        second = gc_error.errors[1]
        assert str(second).startswith("failed to GC plugin busy: ")
        assert (second.code, second.details) == (11, "GC")
    else:
        assert len(gc_error.errors) == 1


def test_find_cni_error_in_any_shape() -> None:
    """Depth-first like ``errors.As``: the error itself, aggregate entries in order, inner errors
    of wrappers, ``__cause__`` chains; ``None`` when there is no CNI error."""
    busy = CNIError(11, "busy")
    other = CNIError(7, "other")
    assert find_cni_error(busy) is busy
    chain = ChainError(busy, plugin_type="x", verb="add", index=0, network="n")
    assert find_cni_error(chain) is busy and chain.code == 11
    wrapped = WrappedError("context: " + str(chain), chain)
    assert find_cni_error(wrapped) is busy and wrapped.msg == "busy"
    assert find_cni_error(GCError([ValueError("x"), wrapped, other])) is busy
    assert find_cni_error(ValidateNetworkError([other, busy])) is other
    plain = PycniError("outer")
    try:
        try:
            raise busy
        except CNIError as exc:
            raise plain from exc
    except PycniError:
        pass
    assert find_cni_error(plain) is busy
    nothing = WrappedError("no code here", ValueError("x"))
    assert find_cni_error(nothing) is None
    assert (nothing.code, nothing.msg, nothing.details) == (None, None, None)


def test_find_cni_error_survives_cycles() -> None:
    """A cause chain that loops back does not hang the search."""
    first = PycniError("a")
    second = PycniError("b")
    first.__cause__ = second
    second.__cause__ = first
    assert find_cni_error(first) is None
