"""Issue 21 item 1: numbers are written the way Go's encoding/json writes a float64.

libcni decodes a config into ``float64`` and re-marshals it, so a plugin gets ``1500`` for
``1500.0``; Go plugins decoding into an ``int`` refuse ``1500.0``. The expected texts below are
Go's (``strconv.FormatFloat(f, 'f' or 'e', -1, 64)`` with the exponent cleaned up, as
``encoding/json`` does). Integers stay exact: pycni's documented improvement over Go.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import pycni
from pycni import _json, cache, protocol
from pycni.cli._output import dumps as cli_dumps
from pycni.config import NetworkConfig
from pycni.testing import FakeExecutor

#: (JSON text in a config, what Go's encoding/json writes for it)
NUMBERS = [
    ("0", "0"),
    ("-1", "-1"),
    (str(2**53 + 1), str(2**53 + 1)),  # Go: 9007199254740992 (pycni keeps it exact)
    (str(2**63), str(2**63)),  # Go: 9223372036854775808 (exact in float64 too)
    ("1500.0", "1500"),
    ("8e1", "80"),
    ("2.5E+3", "2500"),
    ("123456789012.0", "123456789012"),
    ("1e20", "100000000000000000000"),
    ("1e21", "1e+21"),
    ("1e-6", "0.000001"),
    ("1e-7", "1e-7"),
    ("1.5e-7", "1.5e-7"),
    ("0.1", "0.1"),
    ("100000.0", "100000"),
    ("-0.0", "-0"),
    ("0.0", "0"),
    ("5e-324", "5e-324"),
    ("1.7976931348623157e308", "1.7976931348623157e+308"),
    ("-2.5e-10", "-2.5e-10"),
    ("1e16", "10000000000000000"),
    ("12.5", "12.5"),
    ("1.234e-5", "0.00001234"),
    ("1e100", "1e+100"),
]


@pytest.mark.parametrize(("text", "go"), NUMBERS)
def test_stdin_writes_numbers_like_go(text: str, go: str) -> None:
    """The stdin a plugin gets holds each number exactly as libcni would write it."""
    conf = NetworkConfig.from_bytes(f'{{"type":"x","v":{text},"l":[{text}]}}'.encode())
    stdin = protocol.build_stdin(conf, "net", "1.0.0")
    assert stdin == f'{{"cniVersion":"1.0.0","l":[{go}],"name":"net","type":"x","v":{go}}}'.encode()


@pytest.mark.parametrize(
    ("text", "go"), [pair for pair in NUMBERS if "." in pair[0] or "e" in pair[0].lower()]
)
def test_format_float_table(text: str, go: str) -> None:
    """The float writer alone, on the float values of the table."""
    assert _json.format_float(float(text)) == go


def test_integers_are_not_floats() -> None:
    """Python ints are written as integers, exactly, however large."""
    assert _json.dumps_sorted({"a": 2**64 + 1, "b": -(2**70), "t": True}) == (
        f'{{"a":{2**64 + 1},"b":{-(2**70)},"t":true}}'.encode()
    )


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_floats_are_refused(value: float) -> None:
    """JSON has no NaN or infinity; writing one is a ValueError (as before, and as in Go)."""
    with pytest.raises(ValueError, match="not JSON compliant"):
        _json.dumps_sorted({"v": [1.5, value]})


@pytest.mark.parametrize(
    "text",
    ["x, 1.5]", "10.0.0.1", "a:1e+5}", ":-0.0,", "1e-07"],
)
def test_strings_that_look_like_floats_are_untouched(text: str) -> None:
    """Only real floats change; strings (even ones mimicking the internal marker) stay as they are."""
    doc = {"s": text, "f": 2.0, text: [text, 3.0]}
    written = _json.dumps_sorted(doc)
    assert json.loads(written) == {"s": text, "f": 2, text: [text, 3]}
    assert b"2.0" not in written and b"3.0" not in written


def test_float_subclasses_are_floats() -> None:
    """A float subclass is written like a float."""

    class Metres(float):
        def __repr__(self) -> str:
            return "Metres()"

    assert _json.dumps_sorted([Metres(1500.0)]) == b"[1500]"


def test_deep_documents() -> None:
    """Floats deep inside a document are rewritten too (the rewrite works on the text)."""
    doc: Any = {"f": 1.5e-7, "s": "1.0e-07, 2.0]"}
    for _ in range(500):
        doc = [doc, 2.0]
    written = _json.dumps_sorted(doc)
    assert written.count(b",2]") == 500
    assert b'{"f":1.5e-7,"s":"1.0e-07, 2.0]"}' in written


@pytest.mark.parametrize(
    "text",
    ['a"b, 1.5]', "back\\slash 2.5,", 'q\\" 3.5}', "\u00e9 1e-07,", "é 4.0]"],
)
def test_strings_with_escapes_are_untouched(text: str) -> None:
    """Escaped quotes and backslashes do not confuse where strings end."""
    for ensure_ascii in (False, True):
        written = _json.dumps([text, 1.0, {text: 2.0}], ensure_ascii=ensure_ascii)
        assert json.loads(written) == [text, 1, {text: 2}]
        assert written.endswith(":2}]") or written.endswith(": 2}]")


def test_indented_and_spaced_output() -> None:
    """Pretty-printed output (CLI, ``Result.__str__``) uses the same number rules."""
    assert _json.dumps_indented({"mtu": 1500.0, "r": [1e-7]}) == (
        '{\n    "mtu": 1500,\n    "r": [\n        1e-7\n    ]\n}'
    )
    assert cli_dumps({"mtu": 1500.0}) == '{\n    "mtu": 1500\n}'
    assert _json.dumps([1.0, 2.5], separators=(", ", ": ")) == "[1, 2.5]"


def test_runtime_config_prev_result_and_cache() -> None:
    """Every document of a chain (runtimeConfig, prevResult, the cache envelope) uses Go's rules."""
    conf = pycni.NetworkConfigList.from_bytes(
        b'{"cniVersion":"1.0.0","name":"net","plugins":[{"type":"first","mtu":1500.0,'
        b'"capabilities":{"bandwidth":true}},{"type":"second","w":2.5E+3}]}'
    )
    rt = pycni.RuntimeConf(
        container_id="c1",
        netns="/run/netns/x",
        ifname="eth0",
        capability_args={"bandwidth": {"ingressRate": 1e6, "ingressBurst": 1.5e-7}},
    )
    first_stdin = protocol.build_stdin(
        conf.plugins[0], "net", "1.0.0", capability_args=rt.capability_args
    )
    assert first_stdin == (
        b'{"capabilities":{"bandwidth":true},"cniVersion":"1.0.0","mtu":1500,"name":"net",'
        b'"runtimeConfig":{"bandwidth":{"ingressBurst":1.5e-7,"ingressRate":1000000}},"type":"first"}'
    )
    second_stdin = protocol.build_stdin(
        conf.plugins[1], "net", "1.0.0", prev_result={"cniVersion": "1.0.0", "x": 8e1}
    )
    assert second_stdin == (
        b'{"cniVersion":"1.0.0","name":"net","prevResult":{"cniVersion":"1.0.0","x":80},'
        b'"type":"second","w":2500}'
    )
    envelope = cache.encode_entry(b"{}", "net", rt, {"cniVersion": "1.0.0", "v": 1e21})
    assert envelope == (
        b'{"capabilityArgs":{"bandwidth":{"ingressBurst":1.5e-7,"ingressRate":1000000}},'
        b'"config":"e30=","containerId":"c1","ifName":"eth0","kind":"cniCacheV1",'
        b'"netns":"/run/netns/x","networkName":"net","result":{"cniVersion":"1.0.0","v":1e+21}}'
    )


def test_chain_stdin_through_the_runtime(tmp_path: Any) -> None:
    """The bytes a plugin really receives from ``add_network_list`` (fake executor)."""
    fake = FakeExecutor()
    fake.add_plugin("bridge")
    conf = pycni.NetworkConfigList.from_bytes(
        b'{"cniVersion":"1.0.0","name":"net","plugins":[{"type":"bridge","mtu":1500.0}]}'
    )
    cni = pycni.CNIConfig(path=["/opt/cni/bin"], executor=fake, cache_dir=str(tmp_path))
    cni.add_network_list(conf, pycni.RuntimeConf(container_id="c1", netns="/x", ifname="eth0"))
    (call,) = fake.calls_for("bridge", "ADD")
    assert call.stdin == b'{"cniVersion":"1.0.0","mtu":1500,"name":"net","type":"bridge"}'
