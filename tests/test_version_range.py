"""Issue 21 item 4: version numbers beyond Go's ``int`` are refused as libcni refuses them.

libcni parses the version with ``strconv.Atoi`` for CHECK and DEL; ``99999999999999999999``
overflows a 64-bit ``int`` (``value out of range``) and the verb fails before any plugin runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import pycni
from pycni.errors import VersionError
from pycni.testing import FakeExecutor
from pycni.version import parse_version

HUGE = "99999999999999999999.0.0"


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("9223372036854775807.0.0", (2**63 - 1, 0, 0)),
        ("1.-9223372036854775808", (1, -(2**63), 0)),
        ("+1.2.3", (1, 2, 3)),
    ],
)
def test_numbers_that_fit_an_int64(version: str, expected: tuple[int, int, int]) -> None:
    """The edges of Go's 64-bit ``int`` parse."""
    assert parse_version(version) == expected


@pytest.mark.parametrize(
    ("version", "part"),
    [(HUGE, "99999999999999999999"), ("1.9223372036854775808", "9223372036854775808")],
)
def test_numbers_beyond_int64_are_out_of_range(version: str, part: str) -> None:
    """One past the edge: libcni's text, ``value out of range``."""
    with pytest.raises(VersionError) as caught:
        parse_version(version)
    label = "major" if version.startswith(part) else "minor"
    assert str(caught.value) == (
        f'failed to convert {label} version part "{part}": '
        f'strconv.Atoi: parsing "{part}": value out of range'
    )


@pytest.mark.parametrize("verb", ["check_network_list", "del_network_list"])
def test_check_and_del_refuse_before_any_plugin(verb: str, tmp_path: Path) -> None:
    """CHECK and DEL of a list with a huge version fail and run no plugin."""
    fake = FakeExecutor()
    fake.add_plugin("bridge")
    cni = pycni.CNIConfig(path=["/opt/cni/bin"], executor=fake, cache_dir=str(tmp_path))
    conf = pycni.NetworkConfigList.from_bytes(
        f'{{"cniVersion":"{HUGE}","name":"net","plugins":[{{"type":"bridge"}}]}}'.encode()
    )
    rt = pycni.RuntimeConf(container_id="c1", netns="/x", ifname="eth0")
    with pytest.raises(VersionError, match="value out of range"):
        getattr(cni, verb)(conf, rt)
    assert [c for c in fake.calls if c.command != "VERSION"] == []
