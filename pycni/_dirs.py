"""Create missing directories with an exact mode, whatever the process umask.

``os.makedirs(path, mode)`` applies ``mode`` to the last component only: the parents it creates
get ``0o777`` less the umask, so under umask 000 they are world-writable. pycni promises the
modes of every directory it creates (docs/security.md), so each missing component is created
here one by one and given the mode explicitly.
"""

from __future__ import annotations

import os


def make_dirs(path: str, mode: int) -> None:
    """Create ``path`` and each missing parent, every one of them with exactly ``mode``.

    Directories that already exist are left as they are (their mode is the owner's choice).

    Args:
        path: The directory to create.
        mode: Permission bits for every directory this call creates (e.g. ``0o700``).

    Raises:
        OSError: A component cannot be created (``FileExistsError`` is never raised: a component
            created concurrently by another process is accepted as it is).
    """
    missing: list[str] = []
    current = os.path.abspath(path)
    while not os.path.isdir(current):
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, mode)
        except FileExistsError:
            continue
        os.chmod(directory, mode)
