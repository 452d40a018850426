"""The command line, question files and batch items with explicit matrix equations."""
import json

import pytest

from derivcheck import schemas
from derivcheck.app.cli import main

EQ = ["--forward", "Z1 = W1 @ X + b1", "--forward", "A1 = relu(Z1)",
      "--forward", "Z2 = W2 @ A1 + b2", "--forward", "Yhat = softmax(Z2)",
      "--shape", "X=n0,m", "--shape", "W1=n1,n0", "--shape", "W2=n2,n1",
      "--loss", "cross_entropy"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("extra,formula,verdict,code", [
    ([], "dW2 = 1/m * (Yhat - Y) @ A1.T", "equivalent", 0),
    ([], "dW2 = (Yhat - Y) @ A1.T", "not_equivalent", 1),
    (["--kink-convention", "torch"], "dW1 = 1/m * (W2.T @ (Yhat - Y) * (Z1 > 0)) @ X.T",
     "equivalent", 0),
    (["--reduce", "sum"], "dW2 = (Yhat - Y) @ A1.T", "equivalent", 0),
    (["--labels"], "dZ2 = Yhat - Y", "equivalent", 0),
    (["--wrt", "W1"], "X @ dZ1", "not_equivalent", 1),
])
def test_check_with_equations(capsys, extra, formula, verdict, code):
    c, out, _ = run(capsys, "check", *EQ, *extra, "--format", "json", formula)
    data = json.loads(out)
    assert c == code and data["verdict"] == verdict, data.get("reason")
    schemas.validate(data, "check")


def test_text_output_says_how_the_equations_were_read(capsys):
    code, out, _ = run(capsys, "check", *EQ, "dW2 = (Yhat - Y) @ A1.T")
    assert code == 1 and "read A1 -> activations of layer 1, a n1 x m matrix" in out
    assert "examples as columns" in out and "missing_batch_mean" in out


@pytest.mark.parametrize("argv,message,caret_under", [
    (["--shape", "X=n0,m", "--shape", "W1=n1,n2"], "contradict each other", "n2"),
    (["--shape", "X=n0,m", "--shape", "W1=n1,n0", "--shape", "V=2,3"], "no quantity", "V"),
    (["--shape", "X=n0,m", "--shape", "W1=n1,999"], "too large to instantiate", "999"),
    (["--shape", "X=n0,m"], "not given", "W1"),
    (["--shape", "X=n0,m", "--shape", "W1=n1,n0", "--batch", "k"], "contradict", None),
])
def test_bad_shapes_exit_2_with_the_position(capsys, argv, message, caret_under):
    base = ["--forward", "Z1 = W1 @ X + b1", "--forward", "A1 = relu(Z1)"]
    code, out, err = run(capsys, "check", *base, *argv, "dW1 = 0")
    assert code == 2 and message in err and "Traceback" not in err
    if caret_under is not None:
        lines = err.splitlines()
        text, caret = lines[1], lines[2]
        assert text[caret.index("^"):].startswith(caret_under)
    code, out, _ = run(capsys, "check", *base, *argv, "--format", "json", "dW1 = 0")
    data = json.loads(out)
    assert code == 2 and data["verdict"] == "error"
    assert caret_under is None or data["error"]["position"] is not None


def test_a_bad_equation_exits_2_with_the_position(capsys):
    code, _, err = run(capsys, "check", "--forward", "Z1 = W1 @ X + b1", "--forward",
                       "A1 = relu(Z7)", "--shape", "X=n0,m", "--shape", "W1=n1,n0", "dW1 = 0")
    assert code == 2 and "--forward 2" in err and "Z1 computed just above" in err
    lines = err.splitlines()
    assert lines[1].strip() == "A1 = relu(Z7)" and lines[1][lines[2].index("^"):] == "Z7)"


def test_help_shows_shapes_and_labels(capsys):
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    out = capsys.readouterr().out
    assert "--shape NAME=SIZES" in out and "--labels" in out and "--shape X=n0,m" in out


def test_question_file_with_equations(tmp_path, capsys):
    q = tmp_path / "q.toml"
    q.write_text('''
[networks.eq]
forward = ["Z1 = W1 @ X + b1", "A1 = tanh(Z1)", "Z2 = W2 @ A1 + b2", "A2 = sigmoid(Z2)"]
shape = {X = "n0,m", W1 = ["n1", "n0"], W2 = [1, "n1"]}
loss = "bce"
[[formulas]]
network = "eq"
text = 'dW^{[1]} = \\frac{1}{m} dZ^{[1]} X^T'
expect = "equivalent"
[[formulas]]
network = "eq"
text = 'dW1 = dZ1 @ X.T'
expect = "not_equivalent"
diagnosis = "missing_batch_mean"
''')
    import tomllib
    data = tomllib.loads(q.read_text())
    schemas.validate(data, "question")
    schemas.validate(data["networks"]["eq"], "network")
    code = main(["run", str(q), "--out", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == 0 and "2 of 2 formulas judged as expected" in out


def test_question_file_with_a_bad_shape_names_the_network(tmp_path, capsys):
    q = tmp_path / "q.toml"
    q.write_text('[networks.eq]\nforward = ["Z1 = W1 @ X", "A1 = relu(Z1)"]\n'
                 'shape = {X = "n0,m", W1 = "n1,n2"}\n'
                 '[[formulas]]\nnetwork = "eq"\ntext = "dW1 = 0"\n')
    code = main(["run", str(q), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "networks.eq" in err and "contradict" in err


def test_batch_item_with_equations(tmp_path, capsys):
    net = {"forward": ["H = np.maximum(0, X @ W1 + b1)", "scores = H @ W2 + b2"],
           "shape": {"X": "N,D", "W1": "D,K", "W2": "K,C"}, "loss": "cross_entropy"}
    lines = [{"id": "right", "network": net, "candidate": "dW2 = H.T @ dscores"},
             {"id": "wrong", "network": net, "candidate": "dW2 = H.T @ (P - Y)"},
             {"id": "bad", "network": {**net, "shape": {"X": "N,D", "W1": "E,K"}},
              "candidate": "dW2 = 0"}]
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    for line in lines:
        schemas.validate(line, "batch-input")
    assert main(["batch", str(src), "-o", str(dst), "--no-progress"]) == 0
    got = {r["id"]: r for r in map(json.loads, dst.read_text().splitlines())}
    assert got["right"]["verdict"] == "equivalent"
    assert got["wrong"]["verdict"] == "not_equivalent"
    assert got["bad"]["error"]["kind"] == "network_error"
    assert got["bad"]["error"]["position"] is not None


def test_biases_on_some_layers_and_a_shape_for_the_class_labels(capsys):
    eqs = ["--forward", "Z1 = W1 @ X", "--forward", "A1 = relu(Z1)", "--forward",
           "Z2 = W2 @ A1 + b2", "--forward", "Yhat = softmax(Z2)", "--shape", "X=n0,m",
           "--shape", "W1=n1,n0", "--shape", "W2=n2,n1", "--loss", "cross_entropy",
           "--labels"]
    assert main(["check", *eqs, "--shape", "y=m",
                 "db2 = 1/m * np.sum(Yhat - Y, axis=1, keepdims=True)"]) == 0
    capsys.readouterr()
    assert main(["check", *eqs, "--shape", "y=n2", "dZ2 = Yhat - Y"]) == 2
    err = capsys.readouterr().err
    assert "the number of examples is m" in err and "y=n2\n    ^" in err
    assert main(["check", "--widths", "n0,n1,n2", "--act", "relu,softmax", "--loss",
                 "cross_entropy", "--batch", "m", "--labels", "--shape", "y=m",
                 "dZ2 = A2 - Y"]) == 0
    capsys.readouterr()
    assert main(["check", "--widths", "n0,n1,n2", "--act", "relu,softmax", "--loss",
                 "cross_entropy", "--batch", "m", "--labels", "--shape", "y=n2",
                 "dZ2 = A2 - Y"]) == 2
    assert "y (the class labels, one per example) is a vector of length m" in \
        capsys.readouterr().err
