"""The main job (`derivcheck run` on the seed question) and the sheet/gradient commands,
end to end: real PDFs from real pdflatex."""
import json
import subprocess
from pathlib import Path

import pytest

from derivcheck.app.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.pdf
def test_run_judges_the_seed_question_and_writes_pdfs(tmp_path, capsys):
    code = main(["run", str(ROOT / "examples" / "seed_003.toml"), "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "15 of 15 formulas judged as expected" in out
    assert "[EXPECTED" not in out
    sheet = tmp_path / "sheet-three_layer.pdf"
    assert sheet.read_bytes()[:5] == b"%PDF-"
    text = subprocess.run(["pdftotext", str(tmp_path / "report-1.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "not_equivalent" in text.replace("\u2009", "").replace(" ", "_") or \
        "not equivalent" in text.lower()


def test_run_reports_an_unmet_expectation(tmp_path, capsys):
    q = tmp_path / "q.toml"
    q.write_text('sheets = []\n[networks.one]\nweights = ["w1"]\n'
                 '[[formulas]]\nnetwork = "one"\nwrt = "w1"\ntext = "(y - relu(w1*x))*x"\n'
                 'expect = "equivalent"\n')
    assert main(["run", str(q), "--out", str(tmp_path / "out")]) == 1
    assert "[EXPECTED equivalent]" in capsys.readouterr().out


def test_run_names_an_undefined_network(tmp_path, capsys):
    q = tmp_path / "q.toml"
    q.write_text('[[formulas]]\nnetwork = "nope"\ntext = "x"\n')
    assert main(["run", str(q), "--out", str(tmp_path)]) == 2
    assert "nope" in capsys.readouterr().err


def test_gradient_json_single_has_every_definition_it_uses(capsys):
    ws = ",".join(f"w{i}" for i in range(1, 16))
    assert main(["gradient", "--weights", ws, "--act", "relu", "--wrt", "w1",
                 "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    names = {t for t in data["gradients"]["w1"].replace("(", " ").replace(")", " ")
             .replace("*", " ").replace("-", " ").split() if t[0] in "az"}
    assert names - {"x", "y", "step"} <= set(data["definitions"]) | {f"w{i}" for i in range(16)}
    assert data["definitions"]["a15"] == "relu(z15)"


def test_gradient_latex_has_definitions(capsys):
    assert main(["gradient", "--weights", "w1,w2", "--act", "relu", "--format", "latex"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("\\begin{align*}") and "z^{(1)} &=" in out
    assert "\\operatorname{Step}" in out
