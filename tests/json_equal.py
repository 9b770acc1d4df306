"""Equality of JSON values as Go's float64 numbers see them (for round-trip property tests).

pycni writes floats as Go's ``encoding/json`` does, so a float that is a whole number comes back
as an integer (``5.6e16`` is written ``56000000000000000``); both read as the same float64.
"""

from __future__ import annotations

from typing import Any


def same_json(written: Any, given: Any) -> bool:
    """Whether ``written`` (read back) is ``given``, floats compared as float64 values."""
    if isinstance(given, float):
        return (
            isinstance(written, (int, float))
            and not isinstance(written, bool)
            and float(written) == given
        )
    if isinstance(given, (list, tuple)):
        return (
            isinstance(written, (list, tuple))
            and len(written) == len(given)
            and all(same_json(w, g) for w, g in zip(written, given))
        )
    if isinstance(given, dict):
        return (
            isinstance(written, dict)
            and written.keys() == given.keys()
            and all(same_json(written[k], g) for k, g in given.items())
        )
    return type(written) is type(given) and bool(written == given)
