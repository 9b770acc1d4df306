"""pycni's example plugins, written with :mod:`pycni.skel`, and the demo network that chains them.

* ``plugins/noop``: a chained plugin in the spirit of libcni's noop/debug test plugins: passes
  ``prevResult`` through, delegates to its ``ipam`` plugin when it is first in the chain, and
  appends a debug-style trace of every call to the file named by its ``trace`` key;
* ``plugins/pycni-ipam``: a tiny IPAM plugin handing out addresses from a configured range, with
  its state in a directory guarded by a file lock, releasing on DEL and honouring
  ``cni.dev/valid-attachments`` on GC;
* ``demo.conflist``: the two chained (``noop`` with ``pycni-ipam`` as IPAM, then a second
  ``noop``). Nothing needs root or touches the network.

The plugin files start with ``#!/usr/bin/env python3``; :func:`install_plugins` copies them into a
bin directory with the running interpreter in the shebang, which is what a runtime should execute.
This module imports nothing heavy: the launchers import it on every plugin start.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

__all__ = [
    "CONFLIST",
    "PLUGINS",
    "PLUGINS_DIR",
    "conflist_bytes",
    "install_plugins",
]

_HERE = os.path.dirname(os.path.abspath(__file__))
#: Directory holding the example plugin executables.
PLUGINS_DIR = os.path.join(_HERE, "plugins")
#: Path of the bundled demo network configuration list.
CONFLIST = os.path.join(_HERE, "demo.conflist")
#: The example plugins' names (their ``type``).
PLUGINS: tuple[str, ...] = ("noop", "pycni-ipam")


def install_plugins(bin_dir: str | os.PathLike[str], python: str | None = None) -> list[str]:
    """Copy the example plugins into ``bin_dir`` with ``python`` (default: this interpreter) in
    their shebang, executable; returns their paths. Existing files are replaced atomically."""
    target_dir = os.fspath(bin_dir)
    os.makedirs(target_dir, exist_ok=True)
    interpreter = python or sys.executable
    installed = []
    for name in PLUGINS:
        with open(os.path.join(PLUGINS_DIR, name), encoding="utf-8") as handle:
            source = handle.read()
        _, _, body = source.partition("\n")
        target = os.path.join(target_dir, name)
        tmp = f"{target}.tmp-{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(f"#!{interpreter}\n{body}")
        os.chmod(tmp, 0o755)
        os.replace(tmp, target)
        installed.append(target)
    return installed


def conflist_bytes(
    *,
    data_dir: str | os.PathLike[str] | None = None,
    trace: str | os.PathLike[str] | None = None,
    cni_version: str | None = None,
) -> bytes:
    """The demo conflist, optionally with the IPAM ``dataDir``, a ``trace`` file for both noop
    plugins and another ``cniVersion`` filled in."""
    with open(CONFLIST, "rb") as handle:
        conf: dict[str, Any] = json.load(handle)
    if cni_version is not None:
        conf["cniVersion"] = cni_version
    for plugin in conf["plugins"]:
        if data_dir is not None and isinstance(plugin.get("ipam"), dict):
            plugin["ipam"]["dataDir"] = os.fspath(data_dir)
        if trace is not None:
            plugin["trace"] = os.fspath(trace)
    return json.dumps(conf, indent=2).encode() + b"\n"
