"""Griffe extension for the API reference: Sphinx roles in docstrings become Markdown code.

pycni's docstrings use reST roles (``:class:`~pycni.errors.PluginError```, ``:func:`x```,
``:data:`y```, ``:mod:`z```) because they read well in ``help()``. mkdocstrings renders Markdown,
where a role would show as literal text; this turns each role into an inline code span, keeping only
the last component when the target starts with ``~`` (as Sphinx displays it).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|attr|data|mod|obj|exc|const|ref):`(~?)([^`]+)`")


def _code(match: re.Match[str]) -> str:
    target = match.group(2).strip()
    if match.group(1):
        target = target.rsplit(".", 1)[-1]
    return f"`{target}`"


class SphinxRoles(griffe.Extension):
    """Rewrite roles in every docstring griffe loads."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        docstring = obj.docstring
        if docstring is not None and ":`" in docstring.value:
            docstring.value = _ROLE.sub(_code, docstring.value)
