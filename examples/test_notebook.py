"""The demo notebook runs from top to bottom in a fresh kernel, with the answers it
promises."""
import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).parent
ROOT = HERE.parent


def test_demo_notebook_runs(monkeypatch):
    nb = nbformat.read(HERE / "derivcheck_demo.ipynb", as_version=4)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT)}}).execute()
    outputs = ["".join(o.get("text", "") or o.get("data", {}).get("text/plain", "")
                       for o in cell.get("outputs", []))
               for cell in nb.cells if cell.cell_type == "code"]
    assert outputs[0].startswith("not_equivalent")
    assert "sign_flip" in outputs[0] and "missing_gate" in outputs[0]
    assert outputs[1] == "'equivalent'"
    assert outputs[2].strip() == "correct: equivalent"
    assert outputs[3].startswith("the grader rejects the first try: not_equivalent")
