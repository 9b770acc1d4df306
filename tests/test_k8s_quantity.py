"""Bandwidth annotation values -> bits per second, with kubelet's quantity rules and limits."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pycni.errors import PycniError
from pycni.quantity import (
    FORMAT_MESSAGE,
    INT64_MAX,
    NUMERIC_MESSAGE,
    SUFFIX_MESSAGE,
    QuantityError,
    parse_bandwidth,
    parse_quantity,
)

SMALL = "resource is unreasonably small (< 1kbit)"
LARGE = "resource is unreasonably large (> 1Pbit)"

# (annotation value, bits per second or the error reason kubelet gives)
TABLE: list[tuple[str, int | str]] = [
    ("1M", 1_000_000),
    ("10M", 10_000_000),
    ("1Mi", 1_048_576),
    ("10Mi", 10_485_760),
    ("500k", 500_000),
    ("1k", 1_000),
    ("1Ki", 1_024),
    ("1.5G", 1_500_000_000),
    ("1.5Gi", 1_610_612_736),
    ("2.5M", 2_500_000),
    ("1e6", 1_000_000),
    ("1E6", 1_000_000),
    ("1e+6", 1_000_000),
    ("15e5", 1_500_000),
    ("1000", 1_000),
    ("1000000", 1_000_000),
    ("+1M", 1_000_000),
    ("0.5M", 500_000),
    (".5M", 500_000),
    ("1.M", 1_000_000),
    ("001M", 1_000_000),
    ("1000.5", 1_001),  # rounded up, as Quantity.Value() does
    ("1.0000001k", 1_001),
    ("1T", 10**12),
    ("1Ti", 2**40),
    ("1P", 10**15),
    ("1000T", 10**15),
    ("1e15", 10**15),
    ("999", SMALL),
    ("0.9k", SMALL),
    ("1m", SMALL),  # milli, not mega: 0.001 bit/s
    ("0", SMALL),
    ("-1M", SMALL),
    ("1.1P", LARGE),
    ("1Pi", LARGE),
    ("1E", LARGE),  # exa
    ("2e18", LARGE),
    ("1e100", LARGE),  # saturates at int64, never wraps
    ("9Ei", LARGE),
    ("", FORMAT_MESSAGE),
    ("1 M", FORMAT_MESSAGE),
    (" 1M", FORMAT_MESSAGE),
    ("1M ", FORMAT_MESSAGE),
    ("foo", FORMAT_MESSAGE),
    ("1Mb", FORMAT_MESSAGE),
    ("1.5.5M", FORMAT_MESSAGE),
    ("0x10", FORMAT_MESSAGE),
    ("1e5M", FORMAT_MESSAGE),
    ("1K", SUFFIX_MESSAGE),  # kilo is lower-case k
    ("1mi", SUFFIX_MESSAGE),
    ("1ki", SUFFIX_MESSAGE),
    ("1Mi5", SUFFIX_MESSAGE),
    ("1e", SUFFIX_MESSAGE),
    ("1Ee3", SUFFIX_MESSAGE),
    ("1e+", SUFFIX_MESSAGE),
    (".e-10", NUMERIC_MESSAGE),
]


@pytest.mark.parametrize(("text", "expected"), TABLE, ids=[repr(t) for t, _ in TABLE])
def test_bandwidth_annotation_table(text: str, expected: int | str) -> None:
    if isinstance(expected, int):
        assert parse_bandwidth(text) == expected
    else:
        with pytest.raises(QuantityError) as info:
            parse_bandwidth(text)
        assert info.value.reason == expected
        assert isinstance(info.value, PycniError)
        assert repr(text) in str(info.value)


def test_table_is_large_enough() -> None:
    assert len(TABLE) >= 30


@pytest.mark.parametrize(
    ("text", "value"),
    [("1.5", 2), ("-1.5", -2), ("1m", 1), ("-1m", -1), ("0.000000001", 1), ("1e-30", 1), ("0", 0)],
)
def test_value_rounds_away_from_zero(text: str, value: int) -> None:
    assert parse_quantity(text).value() == value


def test_value_saturates_instead_of_wrapping() -> None:
    assert parse_quantity("1e1000000000").value() == INT64_MAX
    assert parse_quantity("-1e40").value() == -(2**63)


def test_non_string_is_a_quantity_error() -> None:
    with pytest.raises(QuantityError):
        parse_quantity(1000)  # type: ignore[arg-type]


@settings(max_examples=200)
@given(st.integers(min_value=1_000, max_value=10**15))
def test_plain_integers_in_range_are_exact(n: int) -> None:
    assert parse_bandwidth(str(n)) == n


@settings(max_examples=200)
@given(
    st.integers(min_value=0, max_value=10**6),
    st.sampled_from([("k", 10**3), ("M", 10**6), ("G", 10**9), ("Ki", 2**10), ("Mi", 2**20)]),
)
def test_suffixes_multiply(n: int, suffix: tuple[str, int]) -> None:
    text, factor = suffix
    assert parse_quantity(f"{n}{text}").value() == n * factor


@settings(max_examples=200)
@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=1, max_value=999))
def test_fractions_round_up(whole: int, thousandths: int) -> None:
    exact_milli = whole * 1000 + thousandths
    expected = -(-exact_milli // 1000)
    assert parse_quantity(f"{whole}.{thousandths:03d}").value() == expected
