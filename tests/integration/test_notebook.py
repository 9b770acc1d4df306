"""The example notebook runs top to bottom against real plugins (issue 12).

``examples/notebook.ipynb`` creates a namespace, attaches ``lo`` and a bridge network, shows the
result, runs a command inside and tears down. Here it is executed with nbclient, in a kernel
started from this interpreter, with names, subnet and state directory chosen by the suite's
:class:`~labkit.Lab` (so the host guard sees them and cleans up if a cell fails).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import pytest
import realnet
from labkit import CNI_PATH, Lab

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "notebook.ipynb"
MISSING = [m for m in ("nbclient", "nbformat", "ipykernel") if importlib.util.find_spec(m) is None]


def _outputs(cell: Any, kind: str) -> str:
    return "".join(
        out.get("text", "") if kind == "stream" else out.get("data", {}).get(kind, "")
        for out in cell.outputs
    )


@pytest.mark.skipif(bool(MISSING), reason=f"notebook tests need {', '.join(MISSING)} (.[notebook])")
def test_notebook_attaches_a_namespace_and_cleans_up(
    lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nbclient
    import nbformat

    subnet = lab.subnet()
    name = f"{lab.prefix}-nb"
    bridge = lab.bridge()
    state = tmp_path  # lab.cache_dir is <tmp>/cache, lab.ipam_dir <tmp>/ipam: the notebook's layout
    monkeypatch.setenv("PYCNI_NB_CNI_PATH", CNI_PATH)
    monkeypatch.setenv("PYCNI_NB_NETNS", name)
    monkeypatch.setenv("PYCNI_NB_BRIDGE", bridge)
    monkeypatch.setenv("PYCNI_NB_SUBNET", str(subnet))
    monkeypatch.setenv("PYCNI_NB_STATE_DIR", str(state))

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(state)}}
    )
    try:
        client.execute()
    finally:
        realnet.delete_netns(name)  # a failed cell may leave it; the lab cleans the rest

    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    html = "".join(_outputs(cell, "text/html") for cell in code)
    text = "".join(_outputs(cell, "stream") for cell in code)
    # The result, the config and the error rendered as tables.
    assert "Result100" in html and "NetworkConfigList" in html and "ChainError" in html
    assert html.count("<table") >= 3
    address = next(line for line in text.splitlines() if line.startswith("eth0 has "))
    assert address.startswith(f"eth0 has {subnet.network_address + 2}/24")
    assert f"namespace {name} removed: True" in text
    assert name not in realnet.netns_names()
    assert bridge not in realnet.link_names()
    assert lab.allocations("pycni-nb") == {}
    assert not os.listdir(lab.cache_dir / "results") or set(
        os.listdir(lab.cache_dir / "results")
    ) <= {".locks"}
