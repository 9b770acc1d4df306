"""Fuzzing VERSION answers and version strings: ``decode_plugin_info``, ``parse_version``,
``decode_config_version``, and VERSION answers met by validation and version negotiation in the
runtime (issue 10, "VERSION answers")."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from reliability_strategies import VERSIONS, document_bytes, encode, maybe, versions
from reliability_support import FUZZ, InProcessExecutor, ok_handler, only_pycni_errors

import pycni
from pycni.errors import PycniError, VersionError
from pycni.version import (
    PluginInfo,
    candidate_versions,
    decode_config_version,
    decode_plugin_info,
    parse_version,
)

version_answers = st.fixed_dictionaries(
    {},
    optional={
        "cniVersion": versions,
        "supportedVersions": maybe(st.lists(st.sampled_from(VERSIONS) | st.text(max_size=6))),
        "code": maybe(st.integers(0, 999)),
        "msg": maybe(st.text(max_size=8)),
    },
)
answer_bytes = document_bytes(version_answers)


@FUZZ
@given(data=answer_bytes)
def test_fuzz_decode_plugin_info(data: bytes) -> None:
    """A VERSION answer decodes into string versions or fails with a VersionError."""
    info = only_pycni_errors(decode_plugin_info, data)
    if isinstance(info, PycniError):
        assert isinstance(info, VersionError)
        return
    assert isinstance(info, PluginInfo)
    assert info.cni_version and all(isinstance(v, str) for v in info.supported_versions)
    assert info.supported_versions
    assert decode_plugin_info(info.to_bytes()) == info


@FUZZ
@given(text=st.sampled_from(VERSIONS) | st.text(max_size=12))
def test_fuzz_parse_version(text: str) -> None:
    """Version strings parse to three ints or fail with a VersionError."""
    parsed = only_pycni_errors(parse_version, text)
    if not isinstance(parsed, PycniError):
        assert len(parsed) == 3 and all(isinstance(n, int) for n in parsed)
    offered = only_pycni_errors(candidate_versions, text, [text, "1.0.0"])
    assert isinstance(offered, list)


@FUZZ
@given(data=document_bytes(st.fixed_dictionaries({}, optional={"cniVersion": versions})))
def test_fuzz_decode_config_version(data: bytes) -> None:
    """The ``cniVersion`` of any document: a non-empty string or a VersionError."""
    version = only_pycni_errors(decode_config_version, data)
    assert isinstance(version, VersionError) or (isinstance(version, str) and version)


@FUZZ
@given(
    answer=answer_bytes,
    status=st.sampled_from([0, 0, 1]),
    offered=st.lists(st.sampled_from(VERSIONS[:9]), max_size=3),
)
def test_fuzz_version_answers_in_the_runtime(
    tmp_path: Path, answer: bytes, status: int, offered: list[str]
) -> None:
    """Whatever a plugin answers to VERSION: version info, validation and negotiated ADDs raise
    only PycniError."""

    def plugin(command: str, environ: object, stdin: bytes) -> tuple[int, bytes, bytes]:
        if command == "VERSION":
            return status, answer, b""
        return ok_handler(command, environ, stdin)  # type: ignore[arg-type]

    doc = {"cniVersion": "1.0.0", "name": "net", "plugins": [{"type": "p"}, {"type": "q"}]}
    if offered:
        doc["cniVersions"] = offered
    conf = only_pycni_errors(pycni.NetworkConfigList.from_bytes, encode(doc))
    if isinstance(conf, PycniError):
        return
    for negotiate in (False, True):
        cni = pycni.CNIConfig(
            path=["/fake"],
            cache_dir=tmp_path,
            executor=InProcessExecutor({"*": plugin}),
            negotiate_versions=negotiate,
        )
        only_pycni_errors(cni.get_version_info, "p")
        only_pycni_errors(cni.validate_network_list, conf)
        only_pycni_errors(cni.validate_network, conf.plugins[0])
        rt = pycni.RuntimeConf("ctr", "/var/run/netns/x", "eth0")
        only_pycni_errors(cni.add_network_list, conf, rt)
        only_pycni_errors(cni.del_network_list, conf, rt)
