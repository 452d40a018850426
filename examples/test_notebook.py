"""The demo notebook runs from top to bottom in a fresh kernel, with the answers it
promises; results display as HTML with the maths in LaTeX."""
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
    cells = [cell.get("outputs", []) for cell in nb.cells if cell.cell_type == "code"]
    first, second = (c[0]["data"] for c in cells[:2])
    assert first["text/plain"].startswith("<Result not_equivalent")
    assert "sign_flip" in first["text/html"] and "missing_gate" in first["text/html"]
    assert r"\frac{\partial C}{\partial w_{1}}" in first["text/html"]  # maths, as LaTeX
    assert second["text/plain"].startswith("<Result equivalent")
    assert cells[2][0]["text"] == "accepted\n"
    assert cells[3][0]["text"].startswith("rejected: dC/dw1 = (y - relu(w1*x))*x is not the "
                                          "gradient")
