"""The side-by-side example: torch's gradcheck fails a right ReLU at a kink and passes a
wrong one; derivcheck's does the opposite."""
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
sys.path.insert(0, str(Path(__file__).resolve().parent))
import gradcheck_kink  # noqa: E402


def test_side_by_side(capsys):
    rows = gradcheck_kink.main()
    assert rows["torch.relu (right)"] == (False, True)
    assert rows["torch.where(z >= 0) (slope 1 at 0)"] == (False, False)
    assert "on a kink point" in capsys.readouterr().out
