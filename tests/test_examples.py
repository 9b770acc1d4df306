"""The examples that need no root run as users run them: ``python examples/<name>.py``.

Root-only examples (``attach_netns.py``, ``runc_pod.py``, ``runc_pods_async.py``,
``notebook.ipynb``) run in the integration suite (``tests/integration/test_examples_root.py``,
``test_runc_pods.py``, ``test_notebook.py``).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
ROOT_ONLY = {"attach_netns.py", "runc_pod.py", "runc_pods_async.py"}
TESTED_ELSEWHERE = {"test_my_runtime.py"}  # a pytest file of the testing guide, run by its tests


def run(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *argv],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        check=False,
    )


def test_every_script_is_covered() -> None:
    """A new example must be added to a test (here, or to the root suite)."""
    scripts = {p.name for p in EXAMPLES.glob("*.py")}
    covered = {"list_networks.py", "async_many.py"} | ROOT_ONLY | TESTED_ELSEWHERE
    assert scripts <= covered, f"examples without a test: {sorted(scripts - covered)}"


def test_async_many_attaches_and_detaches_everything() -> None:
    done = run(str(EXAMPLES / "async_many.py"), "--count", "3", "--concurrency", "3")
    assert done.returncode == 0, done.stderr
    addresses = re.findall(r"^many-\d{4}  (10\.88\.0\.\d+/24)$", done.stdout, re.M)
    assert len(addresses) == 3
    assert len(set(addresses)) == 3
    assert "attached 3 containers" in done.stdout
    assert "detached them" in done.stdout


def test_async_many_rejects_bad_counts() -> None:
    done = run(str(EXAMPLES / "async_many.py"), "--count", "0")
    assert done.returncode == 2
    assert "--count must be between 1 and 240" in done.stderr


def test_list_networks_on_the_bundled_directory() -> None:
    done = run(str(EXAMPLES / "list_networks.py"))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["NAME", "VERSION", "PLUGINS", "FILE"]
    assert any(line.startswith("demo ") and "bridge -> portmap" in line for line in lines)
    assert any(line.startswith("lo ") and "loopback" in line for line in lines)


def test_list_networks_reports_broken_files(tmp_path: Path) -> None:
    (tmp_path / "10-ok.conflist").write_text(
        json.dumps({"cniVersion": "1.0.0", "name": "ok", "plugins": [{"type": "bridge"}]})
    )
    (tmp_path / "00-bad.conflist").write_text("{")
    done = run(str(EXAMPLES / "list_networks.py"), str(tmp_path))
    assert done.returncode == 1
    assert "ok" in done.stdout
    assert "00-bad.conflist" in done.stderr


@pytest.mark.parametrize("script", sorted(ROOT_ONLY))
def test_root_examples_explain_themselves(script: str) -> None:
    """``--help`` works anywhere, so a reader can see what a root-only example will do."""
    done = run(str(EXAMPLES / script), "--help")
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout


def test_the_notebook_is_valid_and_stored_without_outputs() -> None:
    notebook = json.loads((EXAMPLES / "notebook.ipynb").read_text(encoding="utf-8"))
    assert notebook["nbformat"] == 4
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert code, "the notebook has no code cells"
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    source = "".join("".join(c["source"]) for c in code)
    for step in ("create_netns", "add_network_list", "run_in_netns", "del_network_list"):
        assert step in source
    for cell in code:
        compile("".join(cell["source"]), "notebook.ipynb", "exec")


@pytest.mark.parametrize("script", ["runc_pod.py", "runc_pods_async.py"])
def test_runc_examples_use_only_public_names(script: str) -> None:
    """The runc examples are meant to be copied: every ``pycni.X`` and ``k8s.X`` they use is in
    that module's ``__all__``, and they import nothing from pycni but ``pycni`` and ``pycni.k8s``."""
    import ast
    import importlib

    tree = ast.parse((EXAMPLES / script).read_text(encoding="utf-8"))
    modules = {"pycni": "pycni", "k8s": "pycni.k8s"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pycni"):
            assert node.module == "pycni" and [a.name for a in node.names] == ["k8s"], ast.dump(
                node
            )
        if isinstance(node, ast.Import):
            assert all(a.name in ("pycni",) or "pycni" not in a.name for a in node.names)
    used = [
        (node.value.id, node.attr)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in modules
    ]
    assert used, f"{script} uses no pycni names?"
    for alias, name in used:
        public = importlib.import_module(modules[alias]).__all__
        assert name in public, f"{script} uses {alias}.{name}, which is not public"
