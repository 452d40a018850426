"""Grader back ends, checked against the published fields of each format.

Gradescope's autograder results.json (the "Output format" of its autograder
specification): top level ``score``, ``execution_time``, ``output``, ``output_format``,
``test_output_format``, ``test_name_format``, ``visibility``, ``stdout_visibility``,
``extra_data``, ``tests``, ``leaderboard``; each test ``score``, ``max_score``, ``status``
(passed / failed), ``name``, ``name_format``, ``number``, ``output``, ``output_format``,
``tags``, ``visibility`` (hidden / after_due_date / after_published / visible),
``extra_data``. PrairieLearn's external grading results (docs/externalGrading.md):
``gradable``, ``score`` in [0, 1] (needed when gradable), ``format_errors`` (a string or
a list of strings), ``message``, ``output``, ``images``, ``tests`` of ``name``,
``description``, ``points``, ``max_points``, ``message``, ``output``, ``images``.
"""
import json

import jsonschema
import pytest

from derivcheck import schemas
from derivcheck.app.cli import main
from derivcheck.app.graders import DEFAULT_POLICY, PolicyError, parse_policy

GS_TOP = {"score", "execution_time", "output", "output_format", "test_output_format",
          "test_name_format", "visibility", "stdout_visibility", "extra_data", "tests",
          "leaderboard"}
GS_TEST = {"score", "max_score", "status", "name", "name_format", "number", "output",
           "output_format", "tags", "visibility", "extra_data"}
GS_VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
PL_TOP = {"gradable", "score", "format_errors", "message", "output", "images", "tests"}
PL_TEST = {"name", "description", "points", "max_points", "message", "output", "images"}

NET = {"weights": ["w1"], "activations": "relu"}
RIGHT = "x*(relu(w1*x)-y)*step(w1*x)"


def answers(tmp_path, *candidates):
    lines = [{"id": f"q{i}", "network": NET, "wrt": "w1", "candidate": c}
             for i, c in enumerate(candidates, 1)]
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def run(tmp_path, fmt, *candidates, policy=None):
    src, out = answers(tmp_path, *candidates), tmp_path / f"{fmt}.json"
    argv = ["batch", str(src), "-o", str(out), "--format", fmt, "--no-progress"]
    assert main(argv + (["--score", policy] if policy else [])) == 0
    return json.loads(out.read_text())


def schema_check(data, name):
    """``data`` fits the shipped schema ``name`` (itself a valid draft 2020-12 schema)."""
    jsonschema.Draft202012Validator.check_schema(schemas.schema(name))
    schemas.validate(data, name)


def valid_gradescope(data):
    schema_check(data, "gradescope")
    assert set(data) <= GS_TOP and isinstance(data["score"], float)
    for test in data["tests"]:
        assert set(test) <= GS_TEST
        assert isinstance(test["name"], str) and isinstance(test["output"], str)
        assert isinstance(test["score"], float) and isinstance(test["max_score"], float)
        assert test["status"] in ("passed", "failed") and test["visibility"] in GS_VISIBILITY
    assert data["visibility"] in GS_VISIBILITY


def valid_prairielearn(data):
    schema_check(data, "prairielearn")
    assert set(data) <= PL_TOP and isinstance(data["gradable"], bool)
    if data["gradable"]:
        assert 0.0 <= data["score"] <= 1.0
        for test in data["tests"]:
            assert set(test) <= PL_TEST and 0 <= test["points"] <= test["max_points"]
    else:
        errors = data["format_errors"]
        assert isinstance(errors, (str, list)) and errors and "score" not in data


def test_gradescope_one_test_per_answer(tmp_path):
    data = run(tmp_path, "gradescope", RIGHT, "x*(y-relu(w1*x))", "x*(relu(w1*x)-y))")
    valid_gradescope(data)
    assert [t["name"] for t in data["tests"]] == ["q1", "q2", "q3"]
    right, wrong, typo = data["tests"]
    assert (right["score"], right["status"]) == (1.0, "passed")
    assert (wrong["score"], wrong["status"]) == (0.0, "failed")
    assert "counterexample: at x = " in wrong["output"]
    assert "diagnosis (sign_flip)" in wrong["output"]
    # the reading error, with the caret under the formula as typed
    lines = typo["output"].splitlines()
    at = lines.index("  x*(relu(w1*x)-y))")
    assert lines[at + 1] == "                  ^" and typo["tags"] == ["needs_review"]
    assert data["score"] == 1.0 and data["extra_data"] == {"needs_review": ["q3"]}


def test_prairielearn_score_is_a_fraction(tmp_path):
    data = run(tmp_path, "prairielearn", RIGHT, "x*(y-relu(w1*x))", RIGHT)
    valid_prairielearn(data)
    assert data["gradable"] is True and data["score"] == pytest.approx(2 / 3)
    assert [t["points"] for t in data["tests"]] == [1.0, 0.0, 1.0]
    assert "counterexample" in data["tests"][1]["output"]


def test_prairielearn_unreadable_answer_is_not_gradable(tmp_path):
    data = run(tmp_path, "prairielearn", RIGHT, "x*(relu(w1*x)-y))")
    valid_prairielearn(data)
    assert data["gradable"] is False
    assert data["format_errors"][0].startswith("q2: error: ')' closes nothing")
    assert "\n                  ^" in data["format_errors"][0]


def test_score_policy(tmp_path):
    data = run(tmp_path, "gradescope", RIGHT, "x*(y-relu(w1*x))",
               policy="not_equivalent=0.25,equivalent=0.5")
    valid_gradescope(data)
    assert [t["score"] for t in data["tests"]] == [0.5, 0.25]
    assert data["score"] == 0.75 and "extra_data" not in data


def test_policy_errors_point_at_the_mistake():
    assert parse_policy(None) == DEFAULT_POLICY
    with pytest.raises(PolicyError) as err:
        parse_policy("equivalent=1, unknown=2")
    assert err.value.position == 14
    with pytest.raises(PolicyError):
        parse_policy("equivalent")


def test_bad_policy_is_exit_2(tmp_path, capsys):
    src = answers(tmp_path, RIGHT)
    code = main(["batch", str(src), "-o", str(tmp_path / "r.json"), "--format", "gradescope",
                 "--score", "nope=1"])
    assert code == 2 and "unknown verdict 'nope'" in capsys.readouterr().err


def test_the_schemas_reject_what_the_formats_do_not_have():
    good = {"score": 1.0, "output": "", "visibility": "visible",
            "tests": [{"name": "q1", "score": 1.0, "max_score": 1.0, "status": "passed",
                       "output": "", "visibility": "visible"}]}
    schema_check(good, "gradescope")
    for bad in ({**good, "points": 1}, {**good, "tests": [{**good["tests"][0], "status": "ok"}]}):
        with pytest.raises(jsonschema.ValidationError):
            schema_check(bad, "gradescope")
    with pytest.raises(jsonschema.ValidationError):  # not gradable and yet a score
        schema_check({"gradable": False, "format_errors": ["x"], "score": 0.0}, "prairielearn")
    with pytest.raises(jsonschema.ValidationError):  # a score above 1
        schema_check({"gradable": True, "score": 2.0, "tests": []}, "prairielearn")


def test_results_never_overwrite_the_answers(tmp_path, capsys):
    src = answers(tmp_path, RIGHT)
    before = src.read_text()
    code = main(["batch", str(src), "-o", str(tmp_path / "." / "in.jsonl"), "--format",
                 "gradescope", "--no-progress"])
    assert code == 2 and "is the input file" in capsys.readouterr().err
    assert src.read_text() == before


def test_fail_on_error_with_a_grader_format(tmp_path):
    src = answers(tmp_path, RIGHT, "x*(")
    argv = ["batch", str(src), "-o", str(tmp_path / "r.json"), "--format", "prairielearn",
            "--no-progress"]
    assert main(argv) == 0
    assert main(argv + ["--fail-on-error"]) == 1
