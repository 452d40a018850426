"""The shipped JSON Schemas describe the real output: every command's JSON, the batch
lines, the seed question file, validated against them (CONTRACT section 2)."""
import json
import tomllib
from pathlib import Path

import jsonschema
import pytest

from derivcheck import schemas
from derivcheck.app.batch import run_batch
from derivcheck.app.cli import main

ROOT = Path(__file__).resolve().parents[2]
ONE = ["--weights", "w1", "--act", "relu"]


def printed(capsys, *argv):
    main(list(argv))
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("name", schemas.NAMES)
def test_every_schema_is_a_valid_draft_2020_12_schema(name):
    jsonschema.Draft202012Validator.check_schema(schemas.schema(name))


@pytest.mark.parametrize("argv", [
    [*ONE, "--wrt", "w1", "x*(relu(w1*x) - y)*step(w1*x)"],
    [*ONE, "--wrt", "w1", "x*(relu(w1*x) - y)*[w1*x > 0]"],
    [*ONE, "--wrt", "w1", "--assume", "x > 0", "(y - relu(w1*x))*x"],
    [*ONE, "--wrt", "w1", "W_1 x*(relu(w1*x) - y)*step(w1*x)"],
    ["--weights", "w1,w2,w3,w4,w5,w6,w7,w8", "--act", "relu", "--wrt", "w1", "x"],
    ["--weights", "w1", "--act", "sigmoid", "--wrt", "w1", "exp(x*w1)"],
    [*ONE, "--wrt", "w1", "(y - relu(w1*x)*x"],
    [*ONE, "--wrt", "w1", "q*x"],
    ["--wrt", "w1", "x"],
    [*ONE, "--wrt", "w1", "--assume", "x >> 0", "x"],
])
def test_check_json_fits_the_schema_and_has_every_key(capsys, argv):
    data = printed(capsys, "check", "--format", "json", *argv)
    schemas.validate(data, "check")
    if data["verdict"] != "error":  # one shape: nothing appears only sometimes
        assert set(data) == set(schemas.schema("check")["$defs"]["result_fields"]["required"])


def test_check_json_errors_are_indented_like_results(capsys):
    main(["check", "--format", "json", *ONE, "--wrt", "w1", "(x"])
    out = capsys.readouterr().out
    assert json.loads(out)["verdict"] == "error" and out.startswith("{\n")


def test_a_counterexample_always_carries_step0(capsys):
    data = printed(capsys, "check", "--format", "json", *ONE, "--wrt", "w1", "(y - relu(w1*x))*x")
    assert data["counterexample"]["step0"] is None and data["kink_point"] is None
    assert data["readings"] == [] and data["warnings"] == [] and data["reason"] is None


@pytest.mark.parametrize("argv", [
    [*ONE, "--wrt", "w1"],
    ["--weights", "w1,w2", "--act", "relu"],
    ["--weights", "w1,w2", "--act", "relu", "--wrt", "w1", "--expand"],
    ["--weights", ",".join(f"w{i}" for i in range(1, 8)), "--act", "relu", "--wrt", "w1"],
    ["--weights", ",".join(f"w{i}" for i in range(1, 8)), "--act", "relu"],
    ["--widths", "2,2,1", "--act", "relu,identity"],
])
def test_gradient_json_has_one_shape(capsys, argv):
    data = printed(capsys, "gradient", "--format", "json", *argv)
    schemas.validate(data, "gradient")
    assert set(data) == {"gradients", "definitions", "kink_convention"}


@pytest.mark.parametrize("argv", [
    ["--weights", "w1,w2", "--act", "relu", "--kinks"],
    ["--widths", "2,2,1", "--act", "relu,identity", "--bias", "--points", "2"],
    ["--forward", "z = w*x + b", "--forward", "yhat = sigmoid(z)", "--loss", "bce"],
])
def test_vectors_fit_the_schema(capsys, argv):
    schemas.validate(printed(capsys, "vectors", "--points", "2", *argv), "vectors")


def test_batch_lines_fit_the_schemas(tmp_path):
    net = {"weights": ["w1"], "activations": "relu"}
    items = [{"id": "right", "network": net, "wrt": "w1",
              "candidate": "x*(relu(w1*x) - y)*step(w1*x)"},
             {"id": 2, "network": net, "candidate": "dC/dw1 = x", "assume": ["x > 0"],
              "kink_convention": "torch"},
             {"id": "bad", "network": net, "wrt": "w1", "candidate": "(x"}]
    for item in items:
        schemas.validate(item, "batch-input")
    lines = [json.dumps(i) for i in items] + ["{not json", '{"id": "x", "network": 3}']
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n")
    run_batch(tmp_path / "in.jsonl", tmp_path / "out.jsonl", progress=False)
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert len(out) == 5
    for record in out:
        schemas.validate(record, "batch-output")
    unreadable = [r for r in out if r.get("error", {}).get("kind") == "invalid_json"]
    assert unreadable and all(r["id"] is None for r in unreadable)


def test_batch_input_schema_refuses_what_batch_refuses():
    with pytest.raises(jsonschema.ValidationError):
        schemas.validate({"id": 1, "network": {"weights": ["w1"]}, "candidate": "x",
                          "kink-convention": "torch"}, "batch-input")


def test_the_seed_question_fits_the_question_schema():
    from derivcheck.examples import example_path
    data = tomllib.loads(example_path("seed").read_text())
    schemas.validate(data, "question")
    with pytest.raises(jsonschema.ValidationError):
        schemas.validate({**data, "formula": []}, "question")


def test_run_json_fits_the_schema(capsys, tmp_path):
    main(["run", "--example", "seed", "--out", str(tmp_path), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    schemas.validate(data, "run")
    kinds = {f["result"]["verdict"] for f in data["formulas"]}
    assert "error" in kinds and "not_equivalent" in kinds and data["not_written"]


def test_the_readme_links_every_schema():
    readme = (ROOT / "README.md").read_text()
    for name in schemas.NAMES:
        assert f"derivcheck/schemas/{name}.schema.json" in readme
