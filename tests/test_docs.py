"""The documentation runs: every code block of docs/*.md, the API reference and the site build.

The block conventions (what runs, what is a doctest, the ``docs-test`` markers) are described in
``tests/docblocks.py``. Root-only blocks run in ``tests/integration/test_docs_root.py``.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import docblocks
import pytest

import pycni

ROOT = Path(__file__).resolve().parents[1]
PAGES = docblocks.pages()


def test_the_docs_directory_has_pages() -> None:
    names = {p.name for p in PAGES}
    assert {"index.md", "quickstart.md", "concepts.md", "runtime-guide.md", "api.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_code_blocks_run(page: Path, tmp_path: Path) -> None:
    """Every python, pycon, console and json block of the page runs (root blocks compile)."""
    docblocks.run_page(page, tmp_path, include_root=False)


def test_my_pages_have_runnable_blocks() -> None:
    """The guide pages teach by running code: most of their blocks must actually run here."""
    for name in ("quickstart.md", "concepts.md", "runtime-guide.md", "troubleshooting.md"):
        found = docblocks.checked(docblocks.DOCS / name)
        run = [b for b in found if b.mode == "run" and b.lang == "python"]
        assert len(run) >= 3, f"{name} has only {len(run)} python blocks that run"
        skipped = [b for b in found if b.mode == "skip"]
        assert all(b.note for b in skipped), f"{name}: a skip marker must say why"


def test_block_extraction_follows_the_conventions(tmp_path: Path) -> None:
    page = tmp_path / "sample.md"
    page.write_text(
        "# t\n\n```python\nx = 1\n```\n\n<!-- docs-test: skip (reader's machine) -->\n"
        "```python\nopen('/etc/cni/net.d/x')\n```\n\n"
        "1. a list item\n\n    ```pycon\n    >>> x + 1\n    2\n    ```\n\n"
        "<!-- docs-test: root -->\n~~~console\n$ echo a \\\n  b\nsample output\n~~~\n\n"
        '```text\nnot checked\n```\n\n```json\n{"a": 1}\n```\n',
        encoding="utf-8",
    )
    found = docblocks.checked(page)
    assert [(b.lang, b.mode, b.line) for b in found] == [
        ("python", "run", 3),
        ("python", "skip", 8),
        ("pycon", "run", 14),
        ("console", "root", 20),
        ("json", "run", 30),
    ]
    assert found[1].note == "reader's machine"
    assert found[2].code == ">>> x + 1\n2\n"
    assert list(docblocks.console_commands(found[3].code)) == ["echo a  b"]
    assert docblocks.run_page(page, tmp_path, include_root=False) == 3


def test_a_failing_block_is_reported_with_its_line(tmp_path: Path) -> None:
    page = tmp_path / "bad.md"
    page.write_text("```python\nok = True\n```\n\n```python\nraise ValueError('boom')\n```\n")
    with pytest.raises(docblocks.BlockFailure, match=r"bad\.md:5: .*ValueError: boom"):
        docblocks.run_page(page, tmp_path, include_root=False)
    page.write_text("```pycon\n>>> 1 + 1\n3\n```\n")
    with pytest.raises(docblocks.BlockFailure, match="doctest failed"):
        docblocks.run_page(page, tmp_path, include_root=False)
    page.write_text("```console\n$ false\n```\n")
    with pytest.raises(docblocks.BlockFailure, match="exited 1"):
        docblocks.run_page(page, tmp_path, include_root=False)
    page.write_text('```json\n{"a": 1,}\n```\n')
    with pytest.raises(docblocks.BlockFailure, match="json block failed"):
        docblocks.run_page(page, tmp_path, include_root=False)
    page.write_text("<!-- docs-test: root -->\n```python\nnot python(\n```\n")
    with pytest.raises(docblocks.BlockFailure, match="does not compile"):
        docblocks.run_page(page, tmp_path, include_root=False)
    page.write_text("<!-- docs-test: sometimes -->\n```python\npass\n```\n")
    with pytest.raises(docblocks.MarkerError, match="bad.md:1"):
        docblocks.run_page(page, tmp_path, include_root=False)


def _api_directives() -> set[str]:
    text = (docblocks.DOCS / "api.md").read_text(encoding="utf-8")
    return {m.group(1) for m in re.finditer(r"^:::\s+([\w.]+)\s*$", text, re.M)}


def test_every_public_name_is_in_the_api_reference() -> None:
    """Each name of ``pycni.__all__`` has a mkdocstrings directive that resolves to it."""
    directives = _api_directives()
    text = (docblocks.DOCS / "api.md").read_text(encoding="utf-8")
    missing = []
    for name in pycni.__all__:
        if name == "__version__":
            if "`pycni.__version__`" not in text:
                missing.append(name)
            continue
        target = next((d for d in directives if d.rsplit(".", 1)[-1] == name), None)
        if target is None:
            missing.append(name)
            continue
        module, _, attr = target.rpartition(".")
        obj = getattr(importlib.import_module(module), attr)
        assert obj is getattr(pycni, name), f"api.md documents {target}, not pycni.{name}"
    assert not missing, f"public names missing from docs/api.md: {missing}"


def test_api_directives_resolve() -> None:
    """Every ``::: target`` of api.md is an importable module or an attribute of one."""
    for directive in sorted(_api_directives()):
        if importlib.util.find_spec(directive.split(".")[0]) is None:
            pytest.fail(f"docs/api.md: {directive} names an unknown package")
        module, _, attr = directive.rpartition(".")
        try:
            importlib.import_module(directive)
            continue
        except ImportError:
            pass
        owner = importlib.import_module(module)
        assert hasattr(owner, attr), f"docs/api.md: {directive} does not exist"


def test_nav_names_every_page() -> None:
    """mkdocs.yml lists each page of docs/ (and strict mode rejects nav entries without one)."""
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    listed = set(re.findall(r":\s*([\w-]+\.md)\s*$", text, re.M))
    on_disk = {p.name for p in PAGES}
    assert on_disk <= listed, f"pages missing from the nav: {sorted(on_disk - listed)}"


@pytest.mark.slow
def test_site_builds_strict(tmp_path: Path) -> None:
    """What ``nox -s docs`` runs: ``mkdocs build --strict`` (warnings are errors)."""
    for module in ("mkdocs", "material", "mkdocstrings_handlers.python", "pymdownx"):
        if importlib.util.find_spec(module.split(".")[0]) is None:
            pytest.skip(f"{module} is not installed (pip install -e '.[docs]')")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-5000:]
    assert (tmp_path / "site" / "api" / "index.html").is_file()
