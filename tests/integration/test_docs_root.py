"""Documentation pages with root-only blocks run whole, root blocks included (issue 12).

The normal suite (``tests/test_docs.py``) runs every other block and only compiles the blocks
marked ``<!-- docs-test: root -->``. Here, inside the integration suite's host guard (root, real
plugins, network namespaces), each page that has such a block runs from top to bottom, so a root
block can use what the page's earlier blocks defined. See ``tests/docblocks.py`` for the rules.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import docblocks

ROOT_PAGES = [p for p in docblocks.pages() if any(b.mode == "root" for b in docblocks.checked(p))]


def test_some_page_has_root_blocks() -> None:
    assert ROOT_PAGES, "no documentation page has a root block (the quickstart should)"


@pytest.mark.parametrize("page", ROOT_PAGES, ids=[p.name for p in ROOT_PAGES])
def test_page_runs_as_root(page: Path, tmp_path: Path, host_guard: object) -> None:
    ran = docblocks.run_page(page, tmp_path, include_root=True)
    assert ran >= 1
