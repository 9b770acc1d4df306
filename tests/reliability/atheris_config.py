"""A coverage-guided fuzz target for pycni's parsers (atheris / libFuzzer), run by hand.

Not part of the test suite (pytest does not collect it). Each input's first byte picks a parser,
the rest is its input; any exception that is not a :class:`pycni.errors.PycniError` is a finding
and stops the run with the crashing input saved by libFuzzer::

    pip install atheris
    python tests/reliability/atheris_config.py -max_total_time=600 -rss_limit_mb=2048 corpus/

(An empty ``corpus/`` directory is fine; libFuzzer fills it with interesting inputs.)
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import atheris

with atheris.instrument_imports():
    import pycni
    from pycni import cache
    from pycni.args import load_args, split_args
    from pycni.errors import PycniError
    from pycni.invoke import failure_from_output
    from pycni.runtime_conf import RuntimeConf
    from pycni.types import result_from_plugin_output
    from pycni.version import decode_plugin_info, parse_version

RT = RuntimeConf("ctr", "/var/run/netns/x", "eth0")


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


TARGETS: list[Callable[[bytes], Any]] = [
    pycni.NetworkConfig.from_bytes,
    pycni.NetworkConfigList.from_bytes,
    lambda d: result_from_plugin_output(d, "1.0.0"),
    lambda d: result_from_plugin_output(d, "0.3.1"),
    lambda d: failure_from_output(
        plugin_path="/p", verb="ADD", stdout=d, stderr=b"", exec_error="exit status 1"
    ),
    decode_plugin_info,
    lambda d: cache.decode_cached_result(d, "1.1.0"),
    lambda d: cache.decode_cached_config(d, "net", RT),
    cache.decode_attachment,
    lambda d: split_args(_text(d)),
    lambda d: load_args(_text(d), {"IP": str}),
    lambda d: parse_version(_text(d)),
]


def test_one_input(data: bytes) -> None:
    if not data:
        return
    target = TARGETS[data[0] % len(TARGETS)]
    try:
        target(data[1:])
    except PycniError as exc:
        if not str(exc).strip():
            raise AssertionError(f"{type(exc).__name__} with an empty message") from exc


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
