"""Hypothesis strategies shared by the fuzz suites: JSON values, CNI-shaped documents that are
almost right, and byte-level mutations of them."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

VERSIONS = [
    "",
    "0.1.0",
    "0.2.0",
    "0.3.0",
    "0.3.1",
    "0.4.0",
    "1.0.0",
    "1.1.0",
    "1.2.0",
    "0.-42.0",
    "1.0",
    "1",
    "01.0.0",
    "+1.0.0",
    "v1.0.0",
    "1.0.0-rc1",
    "1.0.0.0",
    " 1.0.0",
    "x",
]
NAMES = [
    "net",
    "net-1",
    "",
    "..",
    "../x",
    "a/b",
    "/etc",
    "n\n",
    "n\x00",
    "é",
    "ne\u200bt",
    "x" * 300,
    "eth\udc80",  # a lone surrogate: how Python holds bytes that are not UTF-8
]
CAPABILITIES = ["portMappings", "bandwidth", "ips", "mac", "ipRanges", "dns", "aliases", "io.x"]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def maybe(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a well-typed value, sometimes any JSON value at all."""
    return st.one_of(good, good, json_values)


versions = maybe(st.sampled_from(VERSIONS) | st.text(max_size=8))
names = maybe(st.sampled_from(NAMES) | st.text(max_size=16))
plugin_types = maybe(st.sampled_from(["bridge", "x", "", ".", "..", "a/b", "x\x00", "é"]))

ips = st.fixed_dictionaries(
    {},
    optional={
        "address": maybe(st.sampled_from(["10.0.0.2/24", "fd00::2/64", "10.0.0.2", "x", ""])),
        "gateway": maybe(st.sampled_from(["10.0.0.1", "fd00::1", "300.1.1.1", ""])),
        "interface": maybe(st.integers(-2, 3)),
        "version": maybe(st.sampled_from(["4", "6", "5", ""])),
    },
)
routes = st.fixed_dictionaries(
    {},
    optional={
        "dst": maybe(st.sampled_from(["0.0.0.0/0", "::/0", "x", ""])),
        "gw": maybe(st.sampled_from(["10.0.0.1", "y", ""])),
        "mtu": maybe(st.integers(-1, 9000)),
        "priority": maybe(st.integers(-1, 10)),
        "table": maybe(st.integers(-1, 300)),
        "scope": maybe(st.integers(-1, 300)),
    },
)
interfaces = st.fixed_dictionaries(
    {},
    optional={
        "name": maybe(st.sampled_from(["eth0", "", "lo"])),
        "mac": maybe(st.sampled_from(["aa:bb:cc:dd:ee:ff", "zz", ""])),
        "sandbox": maybe(st.sampled_from(["/var/run/netns/x", ""])),
        "mtu": maybe(st.integers(-1, 9000)),
        "socketPath": maybe(st.text(max_size=8)),
        "pciID": maybe(st.text(max_size=8)),
    },
)
dns = st.fixed_dictionaries(
    {},
    optional={
        "nameservers": maybe(st.lists(st.sampled_from(["1.1.1.1", "x"]), max_size=3)),
        "domain": maybe(st.text(max_size=8)),
        "search": maybe(st.lists(st.text(max_size=5), max_size=3)),
        "options": maybe(st.lists(st.text(max_size=5), max_size=3)),
    },
)

#: A result document of any family, often nearly valid.
result_docs = st.fixed_dictionaries(
    {},
    optional={
        "cniVersion": versions,
        "interfaces": maybe(st.lists(interfaces, max_size=3)),
        "ips": maybe(st.lists(ips, max_size=3)),
        "routes": maybe(st.lists(routes, max_size=3)),
        "dns": maybe(dns),
        "ip4": maybe(st.fixed_dictionaries({}, optional={"ip": st.just("10.0.0.2/24")})),
        "ip6": json_values,
        "code": maybe(st.integers(-1, 2**65)),
        "msg": maybe(st.text(max_size=8)),
        "details": maybe(st.text(max_size=8)),
    },
)

#: One plugin object of a configuration.
plugin_docs = st.fixed_dictionaries(
    {},
    optional={
        "type": plugin_types,
        "name": names,
        "cniVersion": versions,
        "capabilities": maybe(
            st.dictionaries(st.sampled_from(CAPABILITIES), maybe(st.booleans()), max_size=3)
        ),
        "ipam": maybe(st.fixed_dictionaries({}, optional={"type": plugin_types})),
        "dns": maybe(dns),
        "prevResult": maybe(result_docs),
        "runtimeConfig": json_values,
        "args": json_values,
        "cni.dev/valid-attachments": json_values,
        "extra": json_values,
    },
)

#: A conflist document.
conflist_docs = st.fixed_dictionaries(
    {},
    optional={
        "name": names,
        "cniVersion": versions,
        "cniVersions": maybe(st.lists(st.sampled_from(VERSIONS), max_size=4)),
        "plugins": maybe(st.lists(plugin_docs, min_size=1, max_size=3)),
        "disableCheck": maybe(st.sampled_from([True, False, "true", "FALSE", "yes"])),
        "disableGC": maybe(st.sampled_from([True, False, "True", "no"])),
        "loadOnlyInlinedPlugins": maybe(st.sampled_from([True, False, "true", "x"])),
    },
)


def encode(doc: Any) -> bytes:
    """JSON of ``doc`` as a plugin or config writer would produce it."""
    return json.dumps(doc).encode()


@st.composite
def mutated(draw: st.DrawFn, docs: st.SearchStrategy[Any]) -> bytes:
    """The bytes of a document with a random slice replaced (truncation, insertion, garbage)."""
    data = encode(draw(docs))
    start = draw(st.integers(0, len(data)))
    end = draw(st.integers(start, len(data)))
    return data[:start] + draw(st.binary(max_size=8)) + data[end:]


EDGE_BYTES = [
    b"",
    b" ",
    b"null",
    b"{}",
    b"[]",
    b'""',
    b"0",
    b"\xef\xbb\xbf{}",
    b"{}{}",
    b"{} x",
    b'{"a":NaN}',
    b'{"a":Infinity}',
    b'{"a":1e999}',
    b'{"a":"\\ud800"}',
    b'{"a":"\xff"}',
    b"[" * 5000,
    b'{"a":' * 3000,
    b'{"name":"n","name":"m"}',
    b'{"Name":"n","Type":"x"}',
]


#: Text Go decodes leniently (U+FFFD) and Python does not: lone surrogate escapes and bytes that
#: are not UTF-8 (a stray continuation byte, a truncated sequence, an encoded surrogate, a code
#: point past U+10FFFF).
HOSTILE_TEXT = [
    b"\\ud800",
    b"\\udc80",
    b"\\udfff\\ud800",
    b"\\uD83D",
    b"\xff",
    b"\x80",
    b"\xc3",
    b"\xe2\x82",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
]


@st.composite
def hostile(draw: st.DrawFn, docs: st.SearchStrategy[Any]) -> bytes:
    """A document with hostile text inside one of its strings (keys included), or with a value
    nested between 900 and 10,500 levels deep (Python's parser stops near 1,000, Go's at
    10,000)."""
    data = encode(draw(docs))
    if draw(st.booleans()):
        quotes = [i for i, byte in enumerate(data) if byte == ord('"')]
        if quotes:
            at = draw(st.sampled_from(quotes)) + 1
            return data[:at] + draw(st.sampled_from(HOSTILE_TEXT)) + data[at:]
        return data
    depth = draw(st.integers(900, 10_500))
    nest = draw(st.sampled_from([(b"[", b"]"), (b'{"d":', b"}")]))
    deep = nest[0] * depth + b"0" + nest[1] * depth
    if data.startswith(b"{") and len(data) > 2:
        return b'{"deep":' + deep + b"," + data[1:]
    return deep


def document_bytes(docs: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    """Bytes that are: the JSON of ``docs``, a mutation of it, the same with hostile text or deep
    nesting, an edge case or random bytes."""
    return st.one_of(
        docs.map(encode),
        docs.map(encode),
        mutated(docs),
        hostile(docs),
        st.sampled_from(EDGE_BYTES),
        st.binary(max_size=64),
    )
