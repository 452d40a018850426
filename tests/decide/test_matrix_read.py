"""cs231n's dhidden: before its mask dL/dH, after it dL/dZ1, with a warning saying which."""
from __future__ import annotations

import json

import pytest

import derivcheck
from derivcheck.app.cli import main
from derivcheck.core.matrix.network import MatrixNetwork

CS = MatrixNetwork(["D", "H", 3], "relu,identity", "cross_entropy", batch="N", bias=True,
                   style="cs231n")
ARGS = ["--widths", "D,H,3", "--act", "relu,identity", "--loss", "cross_entropy", "--batch",
        "N", "--bias", "--style", "cs231n"]


@pytest.mark.parametrize("text", ["dhidden = dscores.dot(W2.T)", "dhidden = np.dot(dscores, W2.T)",
                                  "dhidden = dscores @ W2.T"])
def test_dhidden_without_a_mask_is_the_gradient_wrt_the_hidden_activations(text):
    r = derivcheck.check(CS, text)
    assert r.verdict == "equivalent"
    assert any("read dhidden as dL/dA1, the gradient before the mask" in w for w in r.warnings)
    assert r.gradient.startswith("dhidden = dL/dZ2 @ W2.T")
    assert "read dhidden -> dL/dA1, a N x H matrix" in r.readings   # the notes agree
    assert not any("dhidden -> dL/dZ1" in n for n in r.readings)


def test_dhidden_with_the_mask_is_the_gradient_wrt_the_pre_activations():
    r = derivcheck.check(CS, "dhidden = dscores @ W2.T * (H > 0)")
    assert r.verdict == "equivalent_almost_everywhere"
    assert any("read dhidden as dL/dZ1, the gradient after the mask" in w for w in r.warnings)


def test_dhidden_after_the_masking_line_is_the_masked_gradient():
    r = derivcheck.check(CS, "dW1 = X.T.dot(dhidden)")
    assert r.verdict == "equivalent"
    assert any("read dhidden as dL/dZ1" in w for w in r.warnings)
    wrong = derivcheck.check(CS, "dW1 = X.T.dot(dhidden) / N")   # the 1/N twice
    assert wrong.verdict == "not_equivalent"
    assert [d.kind for d in wrong.diagnosis][:1] == ["missing_batch_mean"]


def test_another_activation_s_derivative_counts_as_the_mask():
    tanh = MatrixNetwork(["D", "H", 3], "tanh,identity", "cross_entropy", batch="N",
                         bias=True, style="cs231n")
    r = derivcheck.check(tanh, "dhidden = dscores @ W2.T * (1 - H**2)")
    assert r.verdict == "equivalent"
    assert any("after the mask" in w for w in r.warnings)


@pytest.mark.parametrize("text,kind", [
    ("dhidden = dscores @ W2", "shape_mismatch"),                  # unmasked, transpose lost
    ("dhidden = dscores.dot(W2.T) / N", "missing_batch_mean"),     # unmasked, 1/N twice
    ("dhidden = dscores @ W2.T * (hidden_layer <= 0)", None),      # the mask inverted
])
def test_wrong_dhidden_in_either_reading_is_refused(text, kind):
    r = derivcheck.check(CS, text)
    assert r.verdict == "not_equivalent"
    assert r.counterexample is not None
    if kind is not None:
        assert r.diagnosis[0].kind == kind


def test_the_json_and_exit_codes_keep_the_contract(capsys):
    assert main(["check", *ARGS, "--format", "json", "dhidden = dscores.dot(W2.T)"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["verdict"] == "equivalent" and out["wrt"] == "dhidden"
    assert any("before the mask" in w for w in out["warnings"])
    assert main(["check", *ARGS, "--format", "json", "dhidden = dscores @ W2.T * (H <= 0)"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["verdict"] == "not_equivalent"
    assert any("after the mask" in w for w in out["warnings"])


def test_cs231n_s_two_lines_pasted_as_they_are():
    text = "dhidden = np.dot(dscores, W2.T)\ndhidden[hidden_layer <= 0] = 0"
    r = derivcheck.check(CS, text)
    assert r.verdict == "equivalent_almost_everywhere"       # relu'(0) = 0 at the kink
    assert derivcheck.check(CS, text, convention="torch").verdict == "equivalent"
    assert any("dL/dZ1, the gradient after the mask" in w for w in r.warnings)
    wrong = derivcheck.check(CS, "dhidden = np.dot(dscores, W2.T)\ndhidden[hidden_layer > 0] = 0")
    assert wrong.verdict == "not_equivalent" and wrong.counterexample is not None
