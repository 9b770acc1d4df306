"""CNI_ARGS parsing for plugins (reference 5.1 item 8)."""

from __future__ import annotations

import ipaddress

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pycni.args import (
    ArgsError,
    CommonArgs,
    arg,
    load_args,
    parse_bool,
    parse_ip,
    split_args,
)
from pycni.errors import PycniError


@attrs.frozen
class IPArgs(CommonArgs):
    IP: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None


@attrs.frozen
class CIDRArgs(CommonArgs):
    IP: ipaddress.IPv4Interface | None = None


@attrs.frozen
class PodArgs(CommonArgs):
    K8S_POD_NAME: str = ""
    K8S_POD_NAMESPACE: str = ""
    IP: ipaddress.IPv4Address | None = None


@attrs.frozen
class NoIgnore:
    FOO: str = ""


def test_empty_string_gives_defaults() -> None:
    """Reference 5.1 item 8: an empty string sets nothing."""
    assert load_args("", PodArgs) == PodArgs()
    assert load_args("", {"FOO": str}) == {}


@pytest.mark.parametrize("text", ["IgnoreUnknown=True;Unk=nown", "IgnoreUnknown=1;Unk=nown"])
def test_ignore_unknown_true(text: str) -> None:
    """Reference 5.1 item 8: IgnoreUnknown=True lets unknown keys through."""
    assert load_args(text, IPArgs) == IPArgs(IgnoreUnknown=True)


def test_unknown_args_fail() -> None:
    """Reference 5.1 item 8: unknown keys -> ARGS: unknown args ["Unk=nown"]."""
    with pytest.raises(ArgsError, match=r'^ARGS: unknown args \["Unk=nown"\]$'):
        load_args("Unk=nown", IPArgs)


def test_unknown_args_listed_together() -> None:
    """Reference 5.1 item 8: every unknown pair is listed, Go-quoted."""
    with pytest.raises(ArgsError) as info:
        load_args('A=1;IP=10.0.0.1;B="x"', IPArgs)
    assert str(info.value) == 'ARGS: unknown args ["A=1" "B=\\"x\\""]'


def test_ignore_unknown_zero_with_comma_fails() -> None:
    """Reference 5.1 item 8: `IgnoreUnknown=0, Unk=nown` is not one valid pair."""
    with pytest.raises(ArgsError):
        load_args("IgnoreUnknown=0, Unk=nown", IPArgs)


def test_ignore_unknown_alone() -> None:
    """Reference 5.1 item 8: IgnoreUnknown=1 ok."""
    assert load_args("IgnoreUnknown=1", IPArgs).IgnoreUnknown is True


def test_ignore_unknown_false_keeps_errors() -> None:
    """IgnoreUnknown=false keeps unknown keys fatal."""
    with pytest.raises(ArgsError, match="unknown args"):
        load_args("IgnoreUnknown=false;X=1", IPArgs)


def test_ignore_unknown_understood_without_field() -> None:
    """pycni understands IgnoreUnknown even when the spec has no such field (Go would not)."""
    assert load_args("IgnoreUnknown=1;Other=2", NoIgnore) == NoIgnore()
    assert load_args("IgnoreUnknown=1;Other=2;FOO=x", {"FOO": str}) == {"FOO": "x"}


def test_ip_field() -> None:
    """Reference 5.1 item 8: an IP-typed field parses IP=10.0.0.0 (pointer too)."""
    v4 = load_args("IP=10.0.0.0", IPArgs).IP
    v6 = load_args("IP=fd00::1", IPArgs).IP
    assert (v4, v6) == (ipaddress.IPv4Address("10.0.0.0"), ipaddress.IPv6Address("fd00::1"))
    assert load_args("IP=", IPArgs).IP is None


def test_ip_field_family_is_enforced() -> None:
    """An IPv4Address field refuses an IPv6 address with libcni's message."""
    with pytest.raises(ArgsError, match=r'error parsing value of pair "IP=fd00::1": invalid IP'):
        load_args("IP=fd00::1", PodArgs)


def test_invalid_ip() -> None:
    """Reference 5.1 item 8: bad values -> ARGS: error parsing value of pair "<pair>": <err>."""
    with pytest.raises(ArgsError) as info:
        load_args("IP=10.0.0.x", IPArgs)
    assert (
        str(info.value)
        == 'ARGS: error parsing value of pair "IP=10.0.0.x": invalid IP address: 10.0.0.x'
    )
    assert info.value.key == "IP"
    assert info.value.pair == "IP=10.0.0.x"


def test_cidr_field_has_no_parser() -> None:
    """Reference 5.1 item 8: a CIDR-typed field with IP=10.0.0.0/24 fails (no text parser)."""
    with pytest.raises(ArgsError, match=r"^ARGS: cannot unmarshal into field 'IP' - type"):
        load_args("IP=10.0.0.0/24", CIDRArgs)


def test_explicit_parser() -> None:
    """A field may declare its own parser with arg(parser=...)."""

    @attrs.frozen
    class WithCIDR:
        NET: ipaddress.IPv4Network | None = arg(parser=ipaddress.IPv4Network, default=None)  # noqa: RUF009

    expected = ipaddress.IPv4Network("10.0.0.0/24")
    assert expected == load_args("NET=10.0.0.0/24", WithCIDR).NET
    with pytest.raises(ArgsError, match="error parsing value"):
        load_args("NET=10.0.0.1/24", WithCIDR)


@pytest.mark.parametrize("pair", ["A", "A=B=C", ""])
def test_invalid_pairs(pair: str) -> None:
    """Reference 5.1 item 8: each pair must have exactly one '='."""
    with pytest.raises(ArgsError) as info:
        split_args(pair or "A=1;")
    assert str(info.value).startswith("ARGS: invalid pair ")


def test_trailing_semicolon_is_an_empty_pair() -> None:
    """Reference 5.1 item 8: a trailing ';' yields an empty pair -> error."""
    with pytest.raises(ArgsError, match=r'^ARGS: invalid pair ""$'):
        load_args("K8S_POD_NAME=a;", PodArgs)


def test_strings_and_last_wins() -> None:
    """String fields accept anything (including empty); a repeated key: the last value wins."""
    parsed = load_args("K8S_POD_NAME=a;K8S_POD_NAMESPACE=;K8S_POD_NAME=b", PodArgs)
    assert parsed == PodArgs(K8S_POD_NAME="b", K8S_POD_NAMESPACE="")


def test_keys_are_case_sensitive() -> None:
    """Reference 5.1 item 8: keys match field names exactly."""
    with pytest.raises(ArgsError, match="unknown args"):
        load_args("ip=10.0.0.1", IPArgs)


@pytest.mark.parametrize(
    ("text", "value"), [("1", True), ("TRUE", True), ("tRuE", True), ("0", False), ("False", False)]
)
def test_parse_bool(text: str, value: bool) -> None:
    """Reference 5.1 item 8: bools accept 1/true/0/false case-insensitively."""
    assert parse_bool(text) is value


def test_parse_bool_error_lowercases() -> None:
    """Reference 5.1 item 8: the error shows the lower-cased input."""
    with pytest.raises(ValueError, match="^boolean unmarshal error: invalid input yes$"):
        parse_bool("YES")
    with pytest.raises(ArgsError, match="boolean unmarshal error: invalid input nope"):
        load_args("IgnoreUnknown=NOPE", IPArgs)


def test_mapping_spec() -> None:
    """A mapping of key -> parser gives a dict of the keys present."""
    spec = {"IP": parse_ip, "NAME": str}
    assert load_args("NAME=x;IP=1.2.3.4", spec) == {
        "NAME": "x",
        "IP": ipaddress.IPv4Address("1.2.3.4"),
    }


def test_bad_spec() -> None:
    """Only attrs classes and mappings are specs; anything else is a clear PycniError."""
    with pytest.raises(PycniError, match="spec must be"):
        load_args("A=1", int)  # type: ignore[call-overload]


def test_required_field_missing() -> None:
    """A field without a default that CNI_ARGS does not set is a clear ArgsError."""

    @attrs.frozen
    class Needs:
        NAME: str

    with pytest.raises(ArgsError, match="cannot build Needs"):
        load_args("", Needs)


_key = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
_value = st.text(alphabet=st.characters(blacklist_characters=";="), max_size=10)


@settings(max_examples=200)
@given(st.lists(st.tuples(_key, _value), min_size=1, max_size=6))
def test_split_round_trip(pairs: list[tuple[str, str]]) -> None:
    """Rendering pairs as K=V;... and splitting gives the pairs back."""
    text = ";".join(f"{k}={v}" for k, v in pairs)
    assert split_args(text) == pairs
    assert load_args(text + ";IgnoreUnknown=1", {}) == {}


def test_class_defined_outside_a_module() -> None:
    """A spec class from exec'd code (a notebook, a doc page) with string annotations still works."""
    namespace: dict[str, object] = {"__name__": "not_a_module"}
    source = (
        "from __future__ import annotations\n"
        "import ipaddress, attrs\n"
        "from pycni.args import CommonArgs\n"
        "@attrs.frozen\n"
        "class Spec(CommonArgs):\n"
        "    IP: ipaddress.IPv4Address | None = None\n"
        "    NAME: str = ''\n"
    )
    exec(compile(source, "<notebook>", "exec"), namespace)
    parsed = load_args("IP=10.0.0.1;NAME=x", namespace["Spec"])  # type: ignore[call-overload]
    assert (str(parsed.IP), parsed.NAME) == ("10.0.0.1", "x")
