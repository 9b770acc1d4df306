"""CNI results: typed models for every spec version, their JSON, and conversion between them.

Three families, as in libcni: :class:`Result020` (0.1.0, 0.2.0), :class:`Result040` (0.3.0, 0.3.1,
0.4.0) and :class:`Result100` (1.0.0, 1.1.0), all subclasses of :class:`Result`. Parse with
:func:`create_result` / :func:`create_result_from_bytes` (or :func:`result_from_plugin_output` for
a plugin's stdout, :func:`parse_prev_result` for a plugin's stdin), emit with ``to_json`` /
``to_bytes``, convert with ``convert_to``. Importing this package builds the cattrs converter
once; ``import pycni`` alone does not import it.
"""

from __future__ import annotations

from ..version import ALL as SUPPORTED_VERSIONS
from .base import Result
from .common import (
    CIDR,
    DNS,
    IPAddress,
    Route,
    format_cidr,
    parse_cidr,
    parse_ip,
)
from .convert import convert, family_for
from .create import (
    create_result,
    create_result_from_bytes,
    empty_result,
    parse_error,
    parse_prev_result,
    result_from_plugin_output,
)
from .v020 import IPConfig020, Result020
from .v040 import Interface040, IPConfig040, Result040
from .v100 import Interface100, IPConfig100, Result100

__all__ = [
    "CIDR",
    "DNS",
    "IPAddress",
    "IPConfig020",
    "IPConfig040",
    "IPConfig100",
    "Interface040",
    "Interface100",
    "Result",
    "Result020",
    "Result040",
    "Result100",
    "Route",
    "SUPPORTED_VERSIONS",
    "convert",
    "create_result",
    "create_result_from_bytes",
    "empty_result",
    "family_for",
    "format_cidr",
    "parse_cidr",
    "parse_error",
    "parse_ip",
    "parse_prev_result",
    "result_from_plugin_output",
]
