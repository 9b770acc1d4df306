"""Fuzzing ``CNI_ARGS`` and ``CAP_ARGS`` strings: the plugin-side parser (:mod:`pycni.args`), the
plugin-side environment and stdin checks, and the command line's strict ``CNI_ARGS`` /
``CAP_ARGS`` parsing (issue 10, "CNI_ARGS and CAP_ARGS strings")."""

from __future__ import annotations

import ipaddress

import attrs
from hypothesis import given
from hypothesis import strategies as st
from reliability_strategies import document_bytes, encode, json_values, names
from reliability_support import FUZZ, only_pycni_errors

from pycni.args import ArgsError, CommonArgs, load_args, parse_bool, parse_ip, split_args
from pycni.errors import PycniError
from pycni.runtime_conf import RuntimeConf

KEYS = ["IP", "MAC", "K8S_POD_NAME", "IgnoreUnknown", "Flag", "ip", ""]
VALUES = ["1", "true", "FALSE", "0", "10.0.0.2", "::1", "::ffff:10.0.0.1", "", "x", "a=b"]
pairs = st.tuples(
    st.sampled_from(KEYS) | st.text(max_size=6), st.sampled_from(VALUES) | st.text(max_size=6)
)
cni_args_text = st.one_of(
    st.lists(pairs, max_size=5).map(lambda ps: ";".join(f"{k}={v}" for k, v in ps)),
    st.text(alphabet=st.sampled_from(list("K=V;;==aI1 \x00é")), max_size=16),
    st.text(max_size=24),
)


@attrs.frozen
class PodArgs(CommonArgs):
    """A typical plugin's ``CNI_ARGS`` description."""

    IP: ipaddress.IPv4Address | None = None
    K8S_POD_NAME: str = ""
    Flag: bool = False


@FUZZ
@given(text=cni_args_text)
def test_fuzz_split_args(text: str) -> None:
    """``split_args`` gives pairs that rebuild the text exactly, or an ArgsError naming the pair."""
    out = only_pycni_errors(split_args, text)
    if isinstance(out, PycniError):
        assert isinstance(out, ArgsError) and out.pair is not None
        assert out.pair in text
        return
    assert ";".join(f"{k}={v}" for k, v in out) == text


@FUZZ
@given(text=cni_args_text)
def test_fuzz_load_args(text: str) -> None:
    """Typed and mapping specs: parsed values of the declared types, or an ArgsError."""
    typed = only_pycni_errors(load_args, text, PodArgs)
    if isinstance(typed, PycniError):
        assert isinstance(typed, ArgsError)
    else:
        assert typed.IP is None or isinstance(typed.IP, ipaddress.IPv4Address)
        assert isinstance(typed.Flag, bool) and isinstance(typed.K8S_POD_NAME, str)
    mapped = only_pycni_errors(load_args, text, {"IP": parse_ip, "Flag": parse_bool})
    assert isinstance(mapped, (dict, ArgsError))


@FUZZ
@given(
    pairs=st.lists(
        st.tuples(
            st.text(min_size=1, max_size=6).filter(lambda s: ";" not in s and "=" not in s),
            st.text(max_size=6).filter(lambda s: ";" not in s and "=" not in s),
        ),
        max_size=4,
    )
)
def test_fuzz_runtime_args_reach_the_plugin_unchanged(pairs: list[tuple[str, str]]) -> None:
    """What a runtime renders into ``CNI_ARGS`` is what the plugin side splits back."""
    rendered = RuntimeConf("c", "/n", "eth0", args=pairs).cni_args()
    assert split_args(rendered) == pairs


@FUZZ
@given(
    environ=st.fixed_dictionaries(
        {},
        optional={
            "CNI_COMMAND": st.sampled_from(["ADD", "DEL", "CHECK", "GC", "STATUS", "VERSION", "x"]),
            "CNI_CONTAINERID": names.filter(lambda v: isinstance(v, str)).map(str),
            "CNI_NETNS": st.sampled_from(["/var/run/netns/x", "", "rel"]),
            "CNI_IFNAME": st.sampled_from(["eth0", "", "..", "a/b", "x" * 16, "a b"]),
            "CNI_ARGS": cni_args_text,
            "CNI_PATH": st.text(max_size=8),
        },
    ),
    stdin=document_bytes(st.fixed_dictionaries({}, optional={"name": names, "x": json_values})),
)
def test_fuzz_plugin_side_environment_and_stdin(environ: dict[str, str], stdin: bytes) -> None:
    """The plugin side's environment and stdin checks fail only with CNIError (code and msg)."""
    from pycni._skel_env import read_environment, validate_stdin_config

    for check, arg in ((read_environment, environ), (validate_stdin_config, stdin)):
        out = only_pycni_errors(check, arg)
        if isinstance(out, PycniError):
            assert isinstance(out.code, int) and out.msg  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------
# the command line's CNI_ARGS and CAP_ARGS
# --------------------------------------------------------------------------------------------

cap_args_text = st.one_of(
    document_bytes(st.dictionaries(st.text(max_size=8), json_values, max_size=3)).map(
        lambda b: b.decode("utf-8", "replace")
    ),
    st.dictionaries(st.sampled_from(["portMappings", "mac"]), json_values).map(
        lambda d: encode(d).decode()
    ),
    st.text(max_size=16),
)


@FUZZ
@given(cni_args=cni_args_text, cap_args=cap_args_text)
def test_fuzz_cli_cni_args_and_cap_args(cni_args: str, cap_args: str) -> None:
    """The CLI's ``CNI_ARGS`` (strict pairs) and ``CAP_ARGS`` (a JSON object) parsers."""
    from pycni.cli._options import parse_cap_args, parse_cni_args

    parsed = only_pycni_errors(parse_cni_args, cni_args)
    if not isinstance(parsed, PycniError):
        assert all(k and v for k, v in parsed)
        assert ";".join(f"{k}={v}" for k, v in parsed) == cni_args
    caps = only_pycni_errors(parse_cap_args, cap_args, "CAP_ARGS")
    if isinstance(caps, PycniError):
        assert "CAP_ARGS" in str(caps)
    else:
        assert isinstance(caps, dict)


@FUZZ
@given(
    port=st.sampled_from(["8080:80", "10.0.0.1:80:8080/udp", "[::1]:1:2/sctp", "0:1", "1:65536"])
    | st.text(alphabet=st.sampled_from(list("0123456789:/[]a.tcpudsx-")), max_size=24)
    | st.text(max_size=12),
    bandwidth=st.text(alphabet=st.sampled_from(list("ingresegr=,0123456789kMGiE.-")), max_size=24)
    | st.text(max_size=12),
)
def test_fuzz_cli_port_and_bandwidth(port: str, bandwidth: str) -> None:
    """``--port`` and ``--bandwidth`` shorthands: capability values or a UsageError."""
    from pycni.cli import _capargs

    mappings = only_pycni_errors(_capargs.port_mappings, [port])
    if not isinstance(mappings, PycniError):
        [mapping] = mappings
        assert 1 <= mapping["hostPort"] <= 65535 and 1 <= mapping["containerPort"] <= 65535
    only_pycni_errors(_capargs.bandwidth, bandwidth)
