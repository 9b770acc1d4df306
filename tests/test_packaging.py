"""The distribution metadata: SPDX license, the license file, and an sdist whose tests can run.

Nothing is built here (``nox -s build`` runs ``python -m build`` and ``twine check``); these tests
read ``pyproject.toml``, ``MANIFEST.in`` and the README as the build backend and an index page do.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]


def _project() -> dict[str, Any]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return data


def test_license_is_an_spdx_expression_with_its_file() -> None:
    data = _project()
    project = data["project"]
    assert project["license"] == "Apache-2.0", "PEP 639: a plain SPDX expression, not a table"
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text
    assert "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
    # no license classifier next to an SPDX expression (PEP 639 forbids both)
    assert not [c for c in project["classifiers"] if c.startswith("License ::")]


def test_the_build_backend_understands_license_files() -> None:
    """setuptools supports PEP 639 ``license``/``license-files`` from version 77 on."""
    requires = _project()["build-system"]["requires"]
    setuptools = [r for r in requires if r.startswith("setuptools")]
    assert len(setuptools) == 1
    found = re.fullmatch(r"setuptools>=(\d+)(\.\d+)*", setuptools[0])
    assert found is not None, setuptools[0]
    assert int(found.group(1)) >= 77


def test_metadata_names_authors_and_classifiers() -> None:
    project = _project()["project"]
    assert project["authors"] == [{"name": "pycni developers"}]
    classifiers = project["classifiers"]
    assert "Typing :: Typed" in classifiers
    python = re.compile(r"Programming Language :: Python :: 3\.(\d+)$")
    minors = sorted(int(m.group(1)) for c in classifiers if (m := python.match(c)))
    floor = int(project["requires-python"].removeprefix(">=3."))
    assert minors[0] == floor, "the oldest version classifier is requires-python's"


def test_the_long_description_reads_on_an_index_page() -> None:
    """No relative links (they break on an index page) and no clone-only wording without context."""
    readme = (ROOT / _project()["project"]["readme"]).read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)]+)\)", readme)
    relative = [link for link in links if not re.match(r"[a-z]+://", link)]
    assert relative == [], f"relative links in the README: {relative}"
    assert "fresh clone" not in readme
    assert "pip install pycni" not in readme, "pycni is not on a package index yet"


def test_the_sdist_ships_a_runnable_test_tree() -> None:
    """MANIFEST.in grafts everything the tests read, so ``pytest`` runs in an unpacked sdist."""
    lines = (ROOT / "MANIFEST.in").read_text(encoding="utf-8").splitlines()
    grafted = {line.split()[1] for line in lines if line.startswith("graft ")}
    included = {w for line in lines if line.startswith("include ") for w in line.split()[1:]}
    assert {"tests", "docs", "examples"} <= grafted
    assert {"LICENSE", "README.md", "mkdocs.yml"} <= included
    for needed in ("tests/conftest.py", "tests/plugins", "tests/reliability", "tests/docblocks.py"):
        assert (ROOT / needed).exists(), needed
    # what the tests read outside tests/ is shipped
    for path in sorted((ROOT / "tests").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for top in re.findall(
            r'parents?\[1\]\s*/\s*"([\w.-]+)"|parent\.parent\s*/\s*"([\w.-]+)"', text
        ):
            name = next(t for t in top if t)
            assert name in grafted | included, f"{path.name} reads {name}, not in the sdist"


def test_the_quickstart_installs_from_a_source_tree() -> None:
    quickstart = (ROOT / "docs" / "quickstart.md").read_text(encoding="utf-8")
    assert "pip install pycni\n" not in quickstart
    assert "pip install ." in quickstart
