"""Plugins that print far too much: costs stay bounded (issue 16 items 1 and 3).

Sizes, record counts and message lengths are asserted, never time: the cost bounds in time and
memory are measured by ``benchmarks/bench_hostile_output.py``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

import pycni

_MiB = 1024 * 1024


def _plugin(bin_dir: Path, name: str, body: str) -> None:
    import sys

    path = bin_dir / name
    path.write_text(f"#!{sys.executable}\nimport sys, os\n{body}")
    path.chmod(0o755)


def _conf(plugin_type: str) -> pycni.NetworkConfigList:
    doc = {"cniVersion": "1.0.0", "name": "net", "plugins": [{"type": plugin_type}]}
    return pycni.NetworkConfigList.from_bytes(json.dumps(doc).encode())


_RT = pycni.RuntimeConf("ctr", "/proc/self/ns/net", "eth0")


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    path = tmp_path / "bin"
    path.mkdir()
    # 8 MiB of invalid UTF-8 on stdout, exit 1 (the attack script used 60 MiB)
    _plugin(path, "garbage", "os.write(1, b'\\xff' * (8 << 20))\nsys.exit(1)\n")
    # 8 MiB of stderr lines, nothing on stdout, exit 1
    _plugin(path, "noisy_fail", "os.write(2, b'line of noise\\n' * (600 << 10))\nsys.exit(1)\n")
    # 8 MiB of stderr lines, then a valid result
    _plugin(
        path,
        "noisy_ok",
        "os.write(2, b'line of noise\\n' * (600 << 10))\n"
        'sys.stdout.write(\'{"cniVersion":"1.0.0"}\')\n',
    )
    # an error object whose msg is 4 MiB long
    _plugin(
        path,
        "long_msg",
        'sys.stdout.write(\'{"code":11,"msg":"\' + \'m\' * (4 << 20) + \'","details":"d"}\')\n'
        "sys.exit(1)\n",
    )
    return path


def _fail(runtime: Any, bin_dir: Path, tmp_path: Path, plugin_type: str) -> pycni.ChainError:
    cni = runtime.make(path=[str(bin_dir)], cache_dir=tmp_path / "cache")
    with pytest.raises(pycni.ChainError) as info:
        cni.add_network_list(_conf(plugin_type), _RT)
    return info.value


def test_garbage_stdout_is_quoted_head_and_tail(
    runtime: Any, bin_dir: Path, tmp_path: Path
) -> None:
    """Item 1: 8 MiB of 0xff used to become a 33-million-character message; now the head and
    tail are quoted (Go's \\xff escapes) and the message says how much was cut."""
    err = _fail(runtime, bin_dir, tmp_path, "garbage")
    text = str(err)
    assert len(text) < 100_000
    assert "netplugin failed but error parsing its diagnostic message" in text
    assert '"\\xff\\xff' in text
    assert f"{8 * _MiB - 16 * 1024} bytes cut" in text
    inner = err.__cause__
    assert isinstance(inner, pycni.PluginError) and inner.exit_status == 1


def test_a_megabyte_message_is_cut(runtime: Any, bin_dir: Path, tmp_path: Path) -> None:
    """Item 1: the plugin's own msg is kept at its start and end; the code survives."""
    err = _fail(runtime, bin_dir, tmp_path, "long_msg")
    assert err.code == 11
    assert len(err.msg) < 20_000
    assert err.msg.startswith("mmmm") and err.msg.endswith("mmmm")
    assert "characters cut" in err.msg
    assert err.details == "d"


def test_stderr_is_capped_on_failure(runtime: Any, bin_dir: Path, tmp_path: Path) -> None:
    """Item 3: a failing plugin's 8 MiB of stderr is kept only up to ``max_stderr``."""
    err = _fail(runtime, bin_dir, tmp_path, "noisy_fail")
    text = str(err)
    assert text.startswith(
        'plugin type="noisy_fail" failed (add): netplugin failed: "line of noise'
    )
    assert len(text) < 100_000
    assert "bytes cut" in text
    assert text.endswith(": exit status 1")


def test_stderr_of_a_success_logs_a_bounded_number_of_records(
    runtime: Any, bin_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Item 3: 614,400 stderr lines used to become 614,400 log records; now the first and last
    128 KiB are logged with one record saying how much was dropped between them."""
    cni = runtime.make(path=[str(bin_dir)], cache_dir=tmp_path / "cache")
    with caplog.at_level(logging.INFO, logger="pycni.plugin"):
        result = cni.add_network_list(_conf("noisy_ok"), _RT)
    assert result is not None
    records = [r for r in caplog.records if r.name == "pycni.plugin"]
    line = len(b"line of noise\n")
    assert len(records) <= 2 * (256 * 1024 // 2 // line + 2)
    assert len(records) > 1000  # both halves were logged
    dropped = [r for r in records if "bytes of stderr dropped here" in r.getMessage()]
    assert len(dropped) == 1
    assert f"[pycni: {600 * 1024 * line - 256 * 1024} bytes" in dropped[0].getMessage()


def test_max_stderr_is_an_option(tmp_path: Path, bin_dir: Path) -> None:
    """``max_stderr`` is validated like the other executor options and bounds what is kept."""
    with pytest.raises(pycni.PycniError, match="max_stderr must be positive"):
        pycni.SubprocessExecutor(max_stderr=0)
    cni = pycni.CNIConfig(
        path=[str(bin_dir)],
        cache_dir=tmp_path / "cache",
        executor=pycni.SubprocessExecutor(max_stderr=1024),
    )
    with pytest.raises(pycni.ChainError) as info:
        cni.add_network_list(_conf("noisy_fail"), _RT)
    assert "bytes of stderr dropped here" in str(info.value)
    assert len(str(info.value)) < 3000
