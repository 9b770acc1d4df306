"""Fuzzing what plugins print: ADD results, error objects on failure, and stdout/stderr/exit status
for every verb driven through the runtime. Only PycniError may escape, a successful ADD leaves a
cache entry the runtime can read back, and a failed one leaves the cache as it was (issue 10)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from reliability_strategies import VERSIONS, document_bytes, encode, result_docs
from reliability_support import (
    FUZZ,
    VERSION_ANSWER,
    InProcessExecutor,
    only_pycni_errors,
)

import pycni
from pycni import cache
from pycni.errors import CNIError, PluginError, PycniError
from pycni.invoke import failure_from_output
from pycni.types import (
    Result,
    create_result,
    create_result_from_bytes,
    parse_error,
    parse_prev_result,
    result_from_plugin_output,
)
from pycni.version import ALL

outputs = document_bytes(result_docs)
spec_versions = st.sampled_from(VERSIONS)


@FUZZ
@given(data=outputs, version=spec_versions)
def test_fuzz_add_output(data: bytes, version: str) -> None:
    """ADD stdout: a typed result that serialises, re-parses and converts (or fails) cleanly."""
    result = only_pycni_errors(result_from_plugin_output, data, version)
    if isinstance(result, PycniError):
        return
    assert isinstance(result, Result)
    doc = result.to_dict()
    assert json.loads(result.to_json()) == doc
    again = create_result_from_bytes(result.to_bytes())
    assert again.to_dict() == doc
    for target in ALL:
        converted = only_pycni_errors(result.convert_to, target)
        if not isinstance(converted, PycniError):
            assert converted.to_dict()["cniVersion"] == target


@FUZZ
@given(doc=result_docs, version=spec_versions)
def test_fuzz_create_result(doc: dict[str, Any], version: str) -> None:
    """``create_result`` over decoded objects and ``parse_prev_result`` over plugin stdin."""
    only_pycni_errors(create_result, version, doc)
    only_pycni_errors(create_result_from_bytes, encode(doc))
    only_pycni_errors(parse_prev_result, {"cniVersion": version, "prevResult": doc})
    only_pycni_errors(parse_prev_result, {"cniVersion": doc.get("cniVersion"), "prevResult": doc})


@FUZZ
@given(stdout=outputs, stderr=st.binary(max_size=64), status=st.integers(1, 255))
def test_fuzz_error_output(stdout: bytes, stderr: bytes, status: int) -> None:
    """A failed run's stdout never breaks error parsing: always a PluginError with the facts."""
    err = failure_from_output(
        plugin_path="/opt/cni/bin/p",
        verb="DEL",
        stdout=stdout,
        stderr=stderr,
        exec_error=f"exit status {status}",
        exit_status=status,
    )
    assert isinstance(err, PluginError)
    assert (err.plugin_type, err.verb, err.exit_status) == ("p", "DEL", status)
    assert isinstance(err.code, int) and err.code >= 0
    if err.msg or err.details:
        assert str(err) == (f"{err.msg}; {err.details}" if err.details else err.msg)
    else:  # an error object without a message: pycni still names the plugin
        assert "plugin p " in str(err) and f"exit status {status}" in str(err)
    if not stdout:
        assert err.msg.startswith("netplugin failed")
    parsed = only_pycni_errors(parse_error, stdout)
    assert isinstance(parsed, PycniError)  # CNIError or a parse error, both PycniError
    if isinstance(parsed, CNIError) and not isinstance(parsed, PluginError):
        assert parsed.code >= 0


# --------------------------------------------------------------------------------------------
# every verb, end to end
# --------------------------------------------------------------------------------------------

#: What one plugin run does: exit status, stdout, stderr.
runs = st.tuples(
    st.sampled_from([0, 0, 0, 1, 2, 127, -9, -11]),
    st.one_of(outputs, st.just(VERSION_ANSWER), st.just(b"")),
    st.binary(max_size=32),
)


class Script:
    """A plugin whose answers per verb are drawn by Hypothesis."""

    def __init__(self, answers: Mapping[str, tuple[int, bytes, bytes]]) -> None:
        self.answers = answers

    def __call__(
        self, command: str, environ: Mapping[str, str], stdin: bytes
    ) -> tuple[int, bytes, bytes]:
        return self.answers[command]


@FUZZ
@given(
    answers=st.fixed_dictionaries(
        {verb: runs for verb in ("ADD", "CHECK", "DEL", "GC", "STATUS", "VERSION")}
    ),
    version=st.sampled_from(["0.3.1", "0.4.0", "1.0.0", "1.1.0"]),
    chain=st.integers(1, 3),
)
def test_fuzz_plugin_output_for_every_verb(
    tmp_path: Path, answers: dict[str, tuple[int, bytes, bytes]], version: str, chain: int
) -> None:
    """Any stdout/stderr/exit status for ADD, CHECK, DEL, GC, STATUS and VERSION: only PycniError
    escapes; a failed ADD leaves the cache as it was, a successful one leaves a readable entry."""
    conf = pycni.NetworkConfigList.from_bytes(
        encode({"cniVersion": version, "name": "net", "plugins": [{"type": "p"}] * chain})
    )
    cache_dir = tmp_path / "cache"
    executor = InProcessExecutor({"*": Script(answers)})
    cni = pycni.CNIConfig(path=["/fake"], cache_dir=cache_dir, executor=executor)
    rt = pycni.RuntimeConf("ctr", "/var/run/netns/ctr", "eth0")
    entry = cache_dir / "results" / cache.entry_name("net", "ctr", "eth0")
    before = entry.read_bytes() if entry.exists() else None

    added = only_pycni_errors(cni.add_network_list, conf, rt)
    after = entry.read_bytes() if entry.exists() else None
    if isinstance(added, PycniError):
        assert after == before, "a failed ADD changed the cache"
    else:
        assert after is not None
        cached = only_pycni_errors(cni.get_network_list_cached_result, conf, rt)
        if added is not None and added.to_dict()["cniVersion"] == version:
            assert not isinstance(cached, PycniError)
            assert cached is not None and cached.to_dict() == added.to_dict()
        attachments = cni.get_cached_attachments("ctr")
        assert [(a.network, a.ifname) for a in attachments] == [("net", "eth0")]

    only_pycni_errors(cni.check_network_list, conf, rt)
    before_del = entry.read_bytes() if entry.exists() else None
    deleted = only_pycni_errors(cni.del_network_list, conf, rt)
    if isinstance(deleted, PycniError):
        # a corrupt entry is dropped (it never blocks DEL); a readable one is kept
        assert not entry.exists() or entry.read_bytes() == before_del
    else:
        assert not entry.exists()
    only_pycni_errors(cni.gc_network_list, conf, pycni.GCArgs([]))
    only_pycni_errors(cni.get_status_network_list, conf)
    only_pycni_errors(cni.validate_network_list, conf)
    only_pycni_errors(cni.get_version_info, "p")


def test_empty_error_object_is_named() -> None:
    """Every error names what was wrong (issue 10): even a plugin's empty error object, whose
    libcni text would be empty."""
    cni = pycni.CNIConfig(
        path=["/fake"], executor=InProcessExecutor({"*": lambda c, e, s: (1, b"{}", b"")})
    )
    with pytest.raises(PluginError) as info:
        cni.get_version_info("p")
    assert info.value.exit_status == 1 and info.value.plugin_type == "p"
    assert str(info.value).strip()


def test_blank_error_message_is_named() -> None:
    """A whitespace-only message names nothing either (found by the nightly fuzz run)."""
    cni = pycni.CNIConfig(
        path=["/fake"],
        executor=InProcessExecutor({"*": lambda c, e, s: (1, b'{"msg": " "}', b"")}),
    )
    with pytest.raises(PluginError) as info:
        cni.get_version_info("p")
    assert str(info.value).strip()
