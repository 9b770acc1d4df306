"""Kubernetes resource quantities (``1M``, ``10Mi``, ``500k``, ``1.5G``, ``1e6``) parsed exactly.

Kubelet and the CRI runtimes read the ``kubernetes.io/ingress-bandwidth`` and
``kubernetes.io/egress-bandwidth`` pod annotations with apimachinery's ``resource.ParseQuantity``
and then take ``Quantity.Value()``. This module reproduces both, without floating point:

* grammar: an optional sign, digits with an optional fraction (``1.``, ``.5`` are numbers), then
  one suffix: binary ``Ki Mi Gi Ti Pi Ei`` (powers of 1024), decimal ``n u m "" k M G T P E``
  (powers of 1000; ``m`` is milli, ``M`` mega, ``E`` exa) or an exponent ``e<int>``/``E<int>``.
  Suffixes are case-sensitive (``1K`` and ``1mi`` are errors); no spaces anywhere;
* errors carry apimachinery's three messages (format, numeric part, suffix);
* :meth:`Quantity.value` is ``Value()``: the integer value rounded away from zero (``1.5`` -> 2,
  ``1m`` -> 1), saturating at the int64 limits as current apimachinery does.

:func:`parse_bandwidth` adds kubelet's checks for the bandwidth annotations (1k..1P bits/s).
Pure functions only; :mod:`pycni.k8s` builds the ``bandwidth`` capability on top.
"""

from __future__ import annotations

from fractions import Fraction

import attrs

from .errors import PycniError

__all__ = [
    "MAX_BANDWIDTH",
    "MIN_BANDWIDTH",
    "INT64_MAX",
    "INT64_MIN",
    "Quantity",
    "QuantityError",
    "parse_bandwidth",
    "parse_quantity",
]

#: kubelet's limits for the bandwidth annotations, in bits per second ("1k" and "1P").
MIN_BANDWIDTH = 1_000
MAX_BANDWIDTH = 10**15
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)

#: apimachinery's pattern, quoted in its "wrong format" error.
SPLIT_PATTERN = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
FORMAT_MESSAGE = f"quantities must match the regular expression '{SPLIT_PATTERN}'"
NUMERIC_MESSAGE = "unable to parse numeric part of quantity"
SUFFIX_MESSAGE = "unable to parse quantity's suffix"

_SUFFIX_CHARS = frozenset("eEinumkKMGTP")
_DIGITS = frozenset("0123456789")
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
# |value| >= 10**_HUGE_DIGITS certainly exceeds int64; |value| < 10**-_TINY_DIGITS rounds to +-1.
_HUGE_DIGITS = 20
_TINY_DIGITS = 20


class QuantityError(PycniError, ValueError):
    """A string is not a Kubernetes quantity; ``text`` is the input, ``reason`` apimachinery's
    message (``str()`` adds the input)."""

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"{reason}: {text!r}")


@attrs.frozen
class Quantity:
    """A parsed quantity: ``sign * mantissa * 10**exponent * 2**binary_exponent``.

    ``mantissa`` is the integer written (fraction digits included, so ``1.5k`` is mantissa 15,
    exponent 2); ``suffix`` the suffix as written. Kept symbolic so that ``1e999999999`` costs
    nothing to represent; :meth:`value` and :meth:`exact` do the arithmetic.
    """

    text: str
    negative: bool
    mantissa: int
    exponent: int
    binary_exponent: int
    suffix: str

    def is_zero(self) -> bool:
        return self.mantissa == 0

    def _magnitude_digits(self) -> int:
        """An upper bound of log10(|value|) + 1 (number of integer digits, roughly)."""
        binary_digits = (self.binary_exponent * 3) // 10 + 1 if self.binary_exponent else 0
        return len(str(self.mantissa)) + self.exponent + binary_digits

    def exact(self) -> Fraction:
        """The exact value (refused for absurd exponents beyond +-10**6)."""
        if abs(self.exponent) > 10**6:
            raise QuantityError(self.text, "exponent too large to compute the exact value")
        scale = (
            Fraction(10**self.exponent) if self.exponent >= 0 else Fraction(1, 10**-self.exponent)
        )
        value = self.mantissa * scale * (1 << self.binary_exponent)
        return -value if self.negative else value

    def value(self) -> int:
        """apimachinery's ``Value()``: the value rounded away from zero, saturated to int64."""
        if self.mantissa == 0:
            return 0
        if self._magnitude_digits() > _HUGE_DIGITS:
            return INT64_MIN if self.negative else INT64_MAX
        if self._magnitude_digits() < -_TINY_DIGITS:
            return -1 if self.negative else 1
        magnitude = abs(self.exact())
        rounded = -((-magnitude.numerator) // magnitude.denominator)  # ceil of |value|
        if self.negative:
            return max(-rounded, INT64_MIN)
        return min(rounded, INT64_MAX)

    def __str__(self) -> str:
        return self.text


def _scan(text: str) -> tuple[bool, str, str, str]:
    """apimachinery's scanner: ``(negative, integer digits, fraction digits, suffix)``.

    The integer part has its leading zeros stripped (``"0"`` when nothing is left); errors are
    :class:`QuantityError` with the "wrong format" message.
    """
    end = len(text)
    pos = 0
    negative = False
    if text[:1] in ("+", "-"):
        negative = text[0] == "-"
        pos = 1
    while pos < end and text[pos] == "0":
        pos += 1
    if pos >= end:
        return negative, "0", "", ""
    start = pos
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    integer = text[start:pos] or "0"
    fraction = ""
    if pos < end and text[pos] == ".":
        pos += 1
        start = pos
        while pos < end and text[pos] in _DIGITS:
            pos += 1
        fraction = text[start:pos]
    suffix_start = pos
    while pos < end and text[pos] in _SUFFIX_CHARS:
        pos += 1
    if pos < end and text[pos] in "+-":
        pos += 1
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    if pos < end:
        raise QuantityError(text, FORMAT_MESSAGE)
    return negative, integer, fraction, text[suffix_start:]


def _interpret(text: str, suffix: str) -> tuple[int, int]:
    """``(decimal exponent, binary exponent)`` of a suffix, or the "suffix" error."""
    if suffix in _DECIMAL:
        return _DECIMAL[suffix], 0
    if suffix in _BINARY:
        return 0, _BINARY[suffix]
    if len(suffix) > 1 and suffix[0] in "eE":
        digits = suffix[1:]
        body = digits[1:] if digits[:1] in "+-" else digits
        if body and all(c in _DIGITS for c in body):
            exponent = int(digits)
            if INT64_MIN <= exponent <= INT64_MAX:  # Go's ParseInt(..., 64)
                return exponent, 0
    raise QuantityError(text, SUFFIX_MESSAGE)


def parse_quantity(text: str) -> Quantity:
    """Parse ``text`` as apimachinery's ``ParseQuantity`` does; raise :class:`QuantityError`.

    >>> parse_quantity("1.5M").value()
    1500000
    >>> parse_quantity("10Mi").value()
    10485760
    """
    if not isinstance(text, str):
        raise QuantityError(repr(text), f"quantity must be a string, not {type(text).__name__}")
    if text == "":
        raise QuantityError(text, FORMAT_MESSAGE)
    negative, integer, fraction, suffix = _scan(text)
    exponent, binary_exponent = _interpret(text, suffix)
    mantissa = int(integer + fraction)
    if exponent - len(fraction) < -9 and not any(
        c in _DIGITS for c in text[: len(text) - len(suffix)]
    ):
        # apimachinery's slow path cannot read a number without digits ("." before "e-10")
        raise QuantityError(text, NUMERIC_MESSAGE)
    return Quantity(
        text=text,
        negative=negative and mantissa != 0,
        mantissa=mantissa,
        exponent=exponent - len(fraction),
        binary_exponent=binary_exponent,
        suffix=suffix,
    )


# --------------------------------------------------------------------------------------------
# kubelet's bandwidth annotation values
# --------------------------------------------------------------------------------------------


def parse_bandwidth(text: str) -> int:
    """Bits per second from a bandwidth annotation value, with kubelet's rules.

    The value is a Kubernetes quantity (``1M`` = 1 000 000, ``10Mi`` = 10 485 760, ``1.5G``,
    ``1e6``), rounded up to an integer, and must lie within 1k..1P (:data:`MIN_BANDWIDTH`,
    :data:`MAX_BANDWIDTH`); a :class:`QuantityError` carries kubelet's message as ``reason``.
    """
    value = parse_quantity(text).value()
    if value < MIN_BANDWIDTH:
        raise QuantityError(text, "resource is unreasonably small (< 1kbit)")
    if value > MAX_BANDWIDTH:
        raise QuantityError(text, "resource is unreasonably large (> 1Pbit)")
    return value
