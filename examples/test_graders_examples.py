"""The grader examples of examples/graders/, each run on sample submissions."""
import json
import os
import shutil
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.app.test_graders import valid_gradescope, valid_prairielearn
from tests.serve.live import live_server

HERE = Path(__file__).parent / "graders"
ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def run(script: Path, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(script)], env={**ENV, **env},
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("sample, score, statuses", [
    ("full", 3.0, ["passed", "passed", "passed"]),
    ("partial", 1.0, ["failed", "passed", "failed"]),
    ("typo", 0.0, ["failed", "failed", "failed"]),
])
def test_gradescope_run_autograder(tmp_path, sample, score, statuses):
    (tmp_path / "source").mkdir()
    shutil.copy(HERE / "questions.json", tmp_path / "source")
    shutil.copytree(HERE / "gradescope" / "samples" / sample, tmp_path / "submission")
    done = run(HERE / "gradescope" / "run_autograder", AUTOGRADER_ROOT=str(tmp_path))
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    valid_gradescope(results)
    assert results["score"] == score
    assert [t["name"] for t in results["tests"]] == ["dW0", "dw1", "dW1"]
    assert [t["status"] for t in results["tests"]] == statuses
    batch = results["tests"][2]["output"]
    if sample == "partial":   # deeplearning.ai's dW1 without its 1/m: sizes, matrices, entry
        assert "diagnosis (missing_batch_mean)" in batch
        assert "counterexample: at sizes m = " in batch and "\n  X = [" in batch
    if sample == "typo":      # X for X^T: shapes that do not fit, and the verified fix
        assert "does not fit" in batch and "the gradient is a 4 x 3 matrix" in batch
        assert "dZ1 @ X.T" in batch
    if sample == "typo":
        typo = results["tests"][0]
        assert typo["tags"] == ["needs_review"] and "^" in typo["output"]
        assert "diagnosis (sign_flip)" in results["tests"][1]["output"]


def test_gradescope_answers_saved_by_notepad(tmp_path):
    """A byte-order mark and CRLF line ends (Windows Notepad): the first answer was taken
    for an unknown question and graded as empty."""
    (tmp_path / "source").mkdir()
    shutil.copy(HERE / "questions.json", tmp_path / "source")
    (tmp_path / "submission").mkdir()
    text = (HERE / "gradescope" / "samples" / "full" / "answers.txt").read_text()
    (tmp_path / "submission" / "answers.txt").write_bytes(
        "\ufeff".encode() + text.replace("\n", "\r\n").encode())
    done = run(HERE / "gradescope" / "run_autograder", AUTOGRADER_ROOT=str(tmp_path))
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    assert results["score"] == 3.0


@pytest.mark.parametrize("sample, gradable, score", [
    ("right", True, 1.0), ("partial", True, 1 / 3), ("typo", False, None)])
def test_prairielearn_grader(tmp_path, sample, gradable, score):
    (tmp_path / "data").mkdir()
    shutil.copy(HERE / "prairielearn" / "samples" / f"{sample}.json",
                tmp_path / "data" / "data.json")
    grader = HERE / "prairielearn" / "serverFilesCourse" / "derivcheck_grader" / "grade.py"
    done = run(grader, GRADE_ROOT=str(tmp_path))
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    valid_prairielearn(results)
    assert results["gradable"] is gradable
    if gradable:
        assert results["score"] == pytest.approx(score)
    else:
        assert results["format_errors"][0].startswith("dw1: error: '(' is never closed")


def test_prairielearn_question_files():
    question = HERE / "prairielearn" / "questions" / "backpropSeed"
    info = json.loads((question / "info.json").read_text())
    assert info["gradingMethod"] == "External" and info["externalGradingOptions"]["enabled"]
    entry = info["externalGradingOptions"]["entrypoint"]
    assert (HERE / "prairielearn" / entry.removeprefix("/grade/")).is_file()
    sys.path.insert(0, str(question))
    try:
        import server
        data = {"params": {}}
        server.generate(data)
    finally:
        sys.path.remove(str(question))
    sample = json.loads((HERE / "prairielearn" / "samples" / "right.json").read_text())
    assert data["params"] == sample["params"]
    for q in data["params"]["questions"]:
        assert f'answers-name="{{{{id}}}}"' in (question / "question.html").read_text()
        assert set(q) == {"id", "network", "wrt", "prompt"}


def twig(template: str, answer: str, params: dict) -> str:
    """What CodeRunner's Twig makes of the template (the four placeholders it uses)."""
    def py(text):  # Twig's e('py'): escaped for a Python string literal
        return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return (template.replace("{{ STUDENT_ANSWER | e('py') }}", py(answer))
            .replace("{{ QUESTION.parameters.server }}", params["server"])
            .replace("{{ QUESTION.parameters.network | json_encode | e('py') }}",
                     py(json.dumps(params["network"])))
            .replace("{{ QUESTION.parameters.wrt }}", params["wrt"]))


def test_moodle_coderunner_question_calls_the_api(tmp_path):
    xml = ET.parse(HERE / "moodle" / "coderunner_backprop.xml").find("question")
    template = xml.find("template").text
    assert template == (HERE / "moodle" / "template.py.twig").read_text()
    assert xml.find("grader").text == "TemplateGrader"
    assert xml.find("iscombinatortemplate").text == "1"
    params = json.loads(xml.find("templateparams").text)
    samples = {"dC/dz2*w2*step(z1)*x": 1.0,
               r"\frac{\partial C}{\partial w_1} = (\hat{y} - y)\,x": 0.0,
               "dC/dz2*w2*step(z1*x": 0.0}
    with live_server(jobs=1, timeout=20) as base:
        params["server"] = base
        for answer, fraction in samples.items():
            script = tmp_path / "prog.py"
            script.write_text(twig(template, answer, params))
            done = subprocess.run([sys.executable, str(script)], capture_output=True,
                                  text=True, timeout=120)
            assert done.returncode == 0, done.stderr
            graded = json.loads(done.stdout)
            assert graded["fraction"] == fraction, (answer, graded)
            if "step(z1*x" in answer:
                assert "could not be read" in graded["epiloguehtml"]
                assert "^" in graded["epiloguehtml"]
            elif fraction == 0.0:
                assert "At " in graded["epiloguehtml"]


def test_moodle_template_without_a_server_leaves_the_answer_to_the_teacher(tmp_path):
    """A server that is down was a traceback in the student's feedback."""
    xml = ET.parse(HERE / "moodle" / "coderunner_backprop.xml").find("question")
    params = json.loads(xml.find("templateparams").text)
    with socket.socket() as sock:   # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        params["server"] = f"http://127.0.0.1:{sock.getsockname()[1]}"
        script = tmp_path / "prog.py"
        script.write_text(twig(xml.find("template").text, "dC/dz2*w2*step(z1)*x", params))
        done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                              timeout=120)
    assert done.returncode == 0, done.stderr
    graded = json.loads(done.stdout)
    assert graded["fraction"] == 0.0 and "your teacher will look" in graded["epiloguehtml"]
    assert "did not answer" in graded["epiloguehtml"]
