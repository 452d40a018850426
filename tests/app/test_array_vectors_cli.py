"""derivcheck vectors at training sizes: 784-128-10 in seconds, JSON and npz, oracle limits."""
import json
import time

import numpy as np
import pytest

from derivcheck import limits
from derivcheck.app.cli import main

BIG = ["--widths", "784,128,10", "--act", "relu,identity", "--loss", "cross_entropy",
       "--bias", "--points", "2", "--kinks", "--kink-convention", "torch"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_784_128_10_mlp_as_npz_in_seconds(capsys, tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "v.npz"
    t = time.perf_counter()
    code, out, _ = run(capsys, "vectors", *BIG, "--format", "npz", "-o", str(path))
    assert code == 0 and "3 vectors" in out
    assert time.perf_counter() - t < 20
    data = np.load(path)
    assert data["0/point/W1"].shape == (128, 784) and data["0/gradient/W1"].shape == (128, 784)
    assert not data["0/at_kink"] and data["2/at_kink"]
    # the float64 gradients are torch's own on the same arrays
    p = {k: torch.tensor(data[f"2/point/{k}"], requires_grad=True)
         for k in ("W1", "b1", "W2", "b2", "X", "Y")}
    z1 = p["W1"] @ p["X"] + p["b1"]
    assert (z1 == 0).any()                         # on the kink in float64 too
    z2 = p["W2"] @ torch.relu(z1) + p["b2"]
    torch.nn.functional.cross_entropy(z2.T, p["Y"].T).backward()
    for k in ("W1", "b1", "W2", "b2"):
        mine, theirs = data[f"2/gradient/{k}"], p[k].grad.numpy()
        assert np.abs(mine - theirs).max() <= 1e-12 * np.abs(theirs).max()
    assert str(data["0/gradient_exact/b2"][0, 0])


def test_json_names_arrays_and_targets_are_one_hot(capsys, tmp_path):
    path = tmp_path / "v.json"
    code, _, _ = run(capsys, "vectors", "--widths", "5,4,3", "--act", "relu,identity",
                     "--loss", "cross_entropy", "--bias", "--batch", "2", "--points", "1",
                     "--kinks", "-o", str(path))
    data = json.loads(path.read_text())
    assert code == 0 and data["style"] == "ng" and data["shapes"]["W1"] == [4, 5]
    v = data["vectors"][0]
    assert set(v["gradient"]) == {"W1", "b1", "W2", "b2"}
    y = np.array(v["point_float"]["Y"])
    assert (y.sum(axis=0) == 1).all() and set(np.unique(y)) == {0.0, 1.0}
    assert [x["at_kink"] for x in data["vectors"]] == [False, True]
    assert data["vectors"][1]["kinks"][0]["at"] == "Z1"


def test_symbolic_commands_keep_their_limits(capsys):
    code, _, err = run(capsys, "gradient", *BIG[:7])
    assert code == 2 and f"{limits.MAX_WIDTH} units" in err


def test_the_oracle_has_limits_of_its_own(capsys):
    code, _, err = run(capsys, "vectors", "--widths", f"4,{limits.MAX_ORACLE_WIDTH + 1},2")
    assert code == 2 and "for the oracle" in err


def test_npz_needs_a_file_and_a_matrix_network(capsys):
    code, _, err = run(capsys, "vectors", "--widths", "2,3,1", "--bias", "--format", "npz")
    assert code == 2 and "-o" in err
    code, _, err = run(capsys, "vectors", "--weights", "w1,w2", "--format", "npz", "-o", "x.npz")
    assert code == 2 and "npz" in err
