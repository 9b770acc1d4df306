"""The recursion-free JSON reader and writer used past Python's own nesting limit (issue 16
item 8): same values and text as :mod:`json`, Go's 10,000-level limit on reading."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pycni import _deepjson, _json

_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=30,
)


def _reject(word: str) -> Any:
    raise ValueError(word)


@settings(max_examples=300, deadline=None)
@given(_JSON, st.sampled_from([None, 2, 4]), st.booleans(), st.booleans())
def test_same_as_the_json_module(value: Any, indent: int | None, sort: bool, ascii_: bool) -> None:
    text = json.dumps(value, indent=indent, sort_keys=sort, ensure_ascii=ascii_)
    parsed, end = _deepjson.parse(text, 0, float, _reject)
    assert end == len(text)
    assert json.dumps(parsed) == json.dumps(json.loads(text))
    separators = (",", ": ") if indent is not None else (", ", ": ")
    written = _deepjson.dump(
        value,
        sort_keys=sort,
        separators=separators,
        ensure_ascii=ascii_,
        float_text=float.__repr__,
        indent=indent,
    )
    assert written == text


@pytest.mark.parametrize(
    "text", ["[1,]", '{"a":1,}', "[1 2]", '{"a" 1}', "{1:2}", "[", "tru", '["a"', "NaN"]
)
def test_errors_are_json_decode_errors(text: str) -> None:
    with pytest.raises((json.JSONDecodeError, ValueError)):
        _deepjson.parse(text, 0, float, _reject)


def test_gos_depth_limit() -> None:
    """10,000 levels load (Python's parser stops near 1,000); 10,001 are refused as Go does."""
    assert _json.loads("[" * 10_000 + "]" * 10_000) is not None
    with pytest.raises(_json.JSONError, match="exceeded max depth"):
        _json.loads("[" * 10_001 + "]" * 10_001)
    deep = _json.loads('{"a":' * 5000 + "1" + "}" * 5000)
    for _ in range(5000):
        deep = deep["a"]
    assert deep == 1


def test_writing_has_no_depth_limit_and_finds_cycles() -> None:
    value: list[Any] = []
    tip = value
    for _ in range(50_000):
        tip.append([])
        tip = tip[0]
    text = _deepjson.dump(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, float_text=repr
    )
    assert text == "[" * 50_001 + "]" * 50_001
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular"):
        _deepjson.dump(
            loop, sort_keys=True, separators=(",", ":"), ensure_ascii=False, float_text=repr
        )


def test_a_config_nested_9997_deep_loads_displays_and_reaches_the_plugin() -> None:
    """Issue 16 item 8: 10,000 levels in all (Go's limit) load, render in a notebook and are
    written to the plugin's stdin; ``_repr_html_`` used to raise RecursionError near 1,000."""
    import pycni
    from pycni import protocol

    depth = 9_997  # plus the document, its plugins array and the plugin object
    deep = "[" * depth + "1.0" + "]" * depth
    doc = f'{{"cniVersion":"1.0.0","name":"n","plugins":[{{"type":"p","deep":{deep}}}]}}'
    conf = pycni.NetworkConfigList.from_bytes(doc.encode())
    assert "<table" in conf._repr_html_()
    assert "deep" in conf.plugins[0]._repr_html_()
    stdin = protocol.build_stdin(conf.plugins[0], "n", "1.0.0")
    assert b"[" * depth + b"1" + b"]" * depth in stdin  # 1.0 written as Go writes it
    deeper = "[" * (depth + 1) + "]" * (depth + 1)
    too_deep = f'{{"cniVersion":"1.0.0","name":"n","plugins":[{{"type":"p","deep":{deeper}}}]}}'
    with pytest.raises(pycni.ConfigError, match="exceeded max depth"):
        pycni.NetworkConfigList.from_bytes(too_deep.encode())
