"""Writing test plugins: importable by name from any test module (``conftest`` is not, since
each test directory has its own)."""

from __future__ import annotations

import stat
import sys
from pathlib import Path


def install_plugin(bin_dir: Path, name: str, source: Path | str) -> Path:
    """Write an executable Python plugin into ``bin_dir`` running under this interpreter.

    Args:
        bin_dir: The plugin directory.
        name: The plugin's file name (its type).
        source: Python source, or a file holding it.

    Returns:
        The plugin's path.
    """
    body = source.read_text() if isinstance(source, Path) else source
    target = bin_dir / name
    target.write_text(f"#!{sys.executable}\n{body}")
    target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return target
