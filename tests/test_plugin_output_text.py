"""Issue 21 item 2: invalid UTF-8 and lone surrogates in what plugins print, decoded as Go does.

Go's ``encoding/json`` turns each invalid byte of a string, and each lone surrogate of a ``\\u``
escape, into U+FFFD instead of failing, so libcni keeps a plugin's error code (retry logic sees
code 11) and accepts such results. pycni does the same, for both runtimes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from plugin_files import install_plugin

import pycni
from pycni import _json, cache
from pycni.errors import ChainError, PluginError
from pycni.version import decode_plugin_info

#: A plugin printing ``OUT[command]`` (bytes) and exiting with ``STATUS[command]``.
PLUGIN = """
import os, sys
OUT = {out!r}
STATUS = {status!r}
command = os.environ.get("CNI_COMMAND", "")
sys.stdin.buffer.read()
sys.stdout.buffer.write(OUT.get(command, b""))
sys.stdout.flush()
sys.exit(STATUS.get(command, 0))
"""

ERROR_OBJECT = b'{"code":11,"msg":"caf\xe9","details":"d"}'
RESULT = (
    b'{"cniVersion":"1.0.0","interfaces":[{"name":"eth\xe9","mac":"\xff"}],'
    b'"ips":[{"address":"10.1.2.3/24","interface":0}],'
    b'"dns":{"domain":"x\\ud800y","search":["\\uDC00","\\ud83d\\ude00"]}}'
)


def plugin(bin_dir: Path, name: str, out: dict[str, bytes], status: dict[str, int]) -> None:
    install_plugin(bin_dir, name, PLUGIN.format(out=out, status=status))


def conf_list(*types: str) -> pycni.NetworkConfigList:
    plugins = ",".join(f'{{"type":"{t}"}}' for t in types)
    return pycni.NetworkConfigList.from_bytes(
        f'{{"cniVersion":"1.0.0","name":"net","plugins":[{plugins}]}}'.encode()
    )


def rt() -> pycni.RuntimeConf:
    return pycni.RuntimeConf(container_id="c1", netns="/run/netns/x", ifname="eth0")


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    return folder


def test_error_object_with_invalid_utf8_keeps_its_code(
    runtime: Any, bin_dir: Path, tmp_path: Path
) -> None:
    """``{"code":11,"msg":"caf\\xe9"}`` on exit 1: code 11 and msg ``caf\\ufffd``, not code 0."""
    plugin(bin_dir, "busy", {"ADD": ERROR_OBJECT}, {"ADD": 1})
    cni = runtime.make(path=[str(bin_dir)], cache_dir=str(tmp_path / "cache"))
    with pytest.raises(ChainError) as caught:
        cni.add_network_list(conf_list("busy"), rt())
    err = caught.value
    assert (err.code, err.msg, err.details) == (11, "caf\ufffd", "d")
    assert isinstance(err.error, PluginError)
    assert err.error.code == 11
    assert "caf\ufffd; d" in str(err)


def test_error_object_with_a_lone_surrogate(runtime: Any, bin_dir: Path, tmp_path: Path) -> None:
    """A lone ``\\ud800`` escape in the message is U+FFFD; the code is kept."""
    plugin(bin_dir, "busy", {"DEL": b'{"code":11,"msg":"a\\ud800b"}'}, {"DEL": 1})
    cni = runtime.make(path=[str(bin_dir)], cache_dir=str(tmp_path / "cache"))
    with pytest.raises(ChainError) as caught:
        cni.del_network_list(conf_list("busy"), rt())
    assert (caught.value.code, caught.value.msg) == (11, "a\ufffdb")


def test_result_with_invalid_utf8_and_surrogates_is_accepted(
    runtime: Any, bin_dir: Path, tmp_path: Path
) -> None:
    """A successful ADD whose result holds invalid bytes and lone surrogates succeeds; the text
    has U+FFFD in their place, in the returned result and in the cache."""
    plugin(bin_dir, "odd", {"ADD": RESULT}, {})
    cni = runtime.make(path=[str(bin_dir)], cache_dir=str(tmp_path / "cache"))
    conf = conf_list("odd")
    result = cni.add_network_list(conf, rt())
    doc = result.to_dict()
    assert doc["interfaces"][0] == {"name": "eth\ufffd", "mac": "\ufffd"}
    assert doc["dns"] == {"domain": "x\ufffdy", "search": ["\ufffd", "\U0001f600"]}
    cached = cni.get_network_list_cached_result(conf, rt())
    assert cached is not None and cached.to_dict() == doc
    path = cache.entry_path(str(tmp_path / "cache"), "net", "c1", "eth0")
    assert "eth\ufffd".encode() in Path(path).read_bytes()  # valid UTF-8 in the cache


def test_prev_result_of_the_next_plugin_is_valid_utf8(
    runtime: Any, bin_dir: Path, tmp_path: Path
) -> None:
    """The next plugin of the chain gets the cleaned text as its prevResult."""
    plugin(bin_dir, "odd", {"ADD": RESULT}, {})
    log = tmp_path / "stdin"
    install_plugin(
        bin_dir,
        "record",
        "import sys\n"
        f"data = sys.stdin.buffer.read()\nopen({str(log)!r}, 'wb').write(data)\n"
        "import json\nsys.stdout.write(json.dumps(json.loads(data)['prevResult']))\n",
    )
    cni = runtime.make(path=[str(bin_dir)], cache_dir=str(tmp_path / "cache"))
    cni.add_network_list(conf_list("odd", "record"), rt())
    stdin = log.read_bytes()
    stdin.decode("utf-8")  # strict: no invalid byte, no surrogate reached the plugin
    assert '"name":"eth\ufffd"'.encode() in stdin


def test_version_answer_with_invalid_utf8() -> None:
    """A VERSION answer with an invalid byte in an unrelated field still decodes."""
    info = decode_plugin_info(b'{"cniVersion":"1.0.0","supportedVersions":["1.0.0"],"x":"\xff"}')
    assert info.supported_versions == ("1.0.0",)


def test_cache_entry_with_invalid_utf8_is_read() -> None:
    """A cache file (written by another tool) with invalid bytes in its strings is read."""
    data = (
        b'{"kind":"cniCacheV1","containerId":"c1","config":"e30=","ifName":"eth0",'
        b'"networkName":"net","netns":"/run/netns/\xe9","result":{"cniVersion":"1.0.0",'
        b'"interfaces":[{"name":"\xff"}]}}'
    )
    attachment = cache.decode_attachment(data)
    assert attachment is not None and attachment.netns == "/run/netns/\ufffd"
    result = cache.decode_cached_result(data, "1.0.0")
    assert result.to_dict()["interfaces"] == [{"name": "\ufffd"}]


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b'"caf\xe9"', "caf\ufffd"),
        (b'"\xe2\x82!"', "\ufffd\ufffd!"),  # a truncated sequence: one U+FFFD per byte, as Go
        (b'"\xed\xa0\x80"', "\ufffd" * 3),  # an encoded surrogate is invalid UTF-8
        (b'"\xc0\x80"', "\ufffd" * 2),  # an overlong NUL
        (b'"\\ud800"', "\ufffd"),
        (b'"\\uDBFF\\u0041"', "\ufffdA"),
        (b'"\\udc00\\ud800\\udc00"', "\ufffd\U00010000"),
        (b'"\\\\ud800"', "\\ud800"),  # an escaped backslash, not an escape
        (b'"\xf0\x9f\x98\x80"', "\U0001f600"),
    ],
)
def test_loads_decodes_text_as_go(data: bytes, text: str) -> None:
    """The decoder's rules on single strings."""
    assert _json.loads(data) == text


def test_lone_surrogates_in_keys_and_deep_values() -> None:
    """Keys are cleaned too, and deep documents are walked without recursion."""
    deep = b"[" * 900 + b'"\\ud800"' + b"]" * 900
    value = _json.loads(deep)
    for _ in range(900):
        value = value[0]
    assert value == "\ufffd"
    assert _json.loads(b'{"\\ud800":{"k\\udfff":1}}') == {"\ufffd": {"k\ufffd": 1}}


def test_invalid_bytes_outside_strings_are_still_errors() -> None:
    """Only string contents are lenient: a stray byte elsewhere is a syntax error, as in Go."""
    with pytest.raises(_json.JSONError, match="invalid character"):
        _json.loads(b'{"a":1}\xff')
    with pytest.raises(_json.JSONError, match="BOM"):
        _json.loads(b'\xef\xbb\xbf{"a":1}')


def test_megabytes_of_invalid_utf8_are_decoded_cheaply_and_like_go() -> None:
    """Issue 16 item 1 with item 21.2: each invalid byte becomes one U+FFFD, also past the size
    where pycni switches to Python's fast decoder (a run of 0xff is one U+FFFD per byte there
    too); only a truncated multi-byte sequence in such a document counts once."""
    from pycni import _json

    small = _json.loads(b'"a\xe2\x82b"')
    assert small == "a\ufffd\ufffdb"  # Go: one per byte of the truncated sequence
    size = _json.EXACT_REPLACEMENT_LIMIT + 10
    big = _json.loads(b'"' + b"\xff" * size + b'"')
    assert big == "\ufffd" * size
