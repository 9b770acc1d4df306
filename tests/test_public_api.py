"""The package's public surface."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pycni


def test_public_names_do_not_clash_with_submodules() -> None:
    """A lazily exported name equal to a submodule's name would be replaced by the module
    object as soon as that submodule is imported (``pycni.diagnose`` once was)."""
    submodules = {m.name for m in pkgutil.iter_modules(pycni.__path__)}
    assert [name for name in pycni.__all__ if name in submodules] == []


def test_every_public_name_resolves() -> None:
    """Every name in ``__all__`` is importable from the package."""
    for name in pycni.__all__:
        assert getattr(pycni, name) is not None, name


def test_import_stays_light() -> None:
    """``import pycni`` loads neither the runtime nor attrs-heavy modules (issue 2: import time)."""
    code = "import sys, pycni; print(sorted(m for m in sys.modules if m.startswith(('pycni', 'cattrs'))))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    loaded = eval(out.stdout)
    assert "pycni.runtime" not in loaded and "cattrs" not in loaded and "pycni.types" not in loaded


def test_the_package_docstring_opens_with_the_readme_example() -> None:
    """``help(pycni)`` starts with the README's "Five lines of Python", word for word."""
    import re
    import textwrap
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Five lines of Python", 1)[1]
    block = re.search(r"```python\n(.*?)```", section, re.S)
    assert block is not None
    example = block.group(1).strip().splitlines()
    assert len([line for line in example if line]) == 5
    doc = pycni.__doc__ or ""
    head = "\n".join(doc.splitlines()[:16])
    assert textwrap.indent("\n".join(example), "    ").replace("    \n", "\n") in head
