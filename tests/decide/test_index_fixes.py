r"""Named mistakes of index-form candidates (derivcheck.decide.index_fixes, verified by
derivcheck.decide.matrix_fixes): each diagnosis is a fix that makes the formula right for
every size, re-checked; a formula no single fix explains is ``unexplained`` or keeps its
``shape_mismatch``."""
import pytest

import derivcheck
from derivcheck.core.matrix.expr import Leaf, mul
from derivcheck.core.matrix.indexed import Entry, IndexForm, IndexSum
from derivcheck.core.matrix.network import MatrixNetwork
from derivcheck.decide.index_fixes import index_rewrites

NIELSEN = MatrixNetwork(["n1", "n2", "n3", "n4"], "sigmoid", bias=True, style="nielsen")
NG = MatrixNetwork(["n0", "n1", 1], "tanh,sigmoid", "bce", batch="m", bias=True, style="ng")
SEED = MatrixNetwork(["n0", "n1", "n2"], "relu", style="seed")
BP2 = r"\delta^l_j = \sum_k w^{l+1}_{kj} \delta^{l+1}_k \sigma'(z^l_j)"


@pytest.mark.parametrize("net,text,kind,fix", [
    (NIELSEN, BP2.replace("w^{l+1}_{kj}", "w^{l+1}_{jk}"), "missing_transpose",
     "write w3[k,j]"),
    (NIELSEN, BP2.replace(r"\delta^{l+1}_k", r"\delta^{l+1}_j"), "wrong_sum_axis",
     "write delta3[k] for delta3[j]"),
    (NIELSEN, BP2.replace(r" \sigma'(z^l_j)", ""), "missing_factor", "sigmoid'(z2)"),
    (NIELSEN, BP2.replace(r"= \sum", r"= -\sum"), "sign_flip", "sign"),
    (NIELSEN, r"\frac{\partial C}{\partial w^l_{jk}} = a^{l-1}_j \delta^l_k",
     "missing_transpose", "the free indices j and k are swapped"),
    (NG, r"db^{[l]}_j = \frac{1}{m}\sum_i dZ^{[l]}_{ij}", "wrong_sum_axis",
     "wrong axis of dZ1: write dZ1[j,i]"),
    (NG, r"dW^{[l]}_{jk} = \frac{1}{m}\sum_i dZ^{[l]}_{ji} A^{[l-1]}_{ik}",
     "missing_transpose", "write A0[k,i]"),
    (NG, "dW1[j,k] = sum(i, dZ1[j,i] * X[k,i])", "missing_batch_mean", "1/m"),
    (SEED, r"\frac{\partial C}{\partial r^{(k)}_i} = \sum_{\forall j} \frac{\partial C}"
           r"{\partial z^{(k+1)}_j} W^{(k)}_{ji}", "missing_transpose", "write W0[i,j]"),
    (SEED, r"\frac{\partial C}{\partial z^{(k+1)}_j} = \frac{\partial C}{\partial r^{(k+1)}_j}",
     "missing_gate", "mask"),
])
def test_a_mistake_in_the_indices_is_named_with_its_fix(net, text, kind, fix):
    r = derivcheck.check(net, text)
    assert r.verdict == "not_equivalent"
    # a formula whose shapes do not fit is a shape_mismatch first (CONTRACT section 5),
    # then the fix that makes it right
    assert [d.kind for d in r.diagnosis] in ([kind], ["shape_mismatch", kind]), r.diagnosis
    assert fix in r.diagnosis[-1].message and "with this fix the formula is right" in \
        r.diagnosis[-1].message


def test_the_fixed_formula_is_the_gradient():
    # what the message says to write is right: checked again from its text
    r = derivcheck.check(NG, r"db^{[l]}_j = \frac{1}{m}\sum_i dZ^{[l]}_{ij}")
    assert "write dZ1[j,i]" in r.diagnosis[-1].message
    assert derivcheck.check(NG, "db1_j = 1/m * sum(i, dZ1[j,i])").verdict == "equivalent"


def test_two_mistakes_are_no_single_fix():
    # both factors with swapped indices: no one fix makes it right, so only the shapes
    r = derivcheck.check(NG, "dW1[j,k] = 1/m * sum(i, dZ1[i,j] * X[i,k])")
    assert [d.kind for d in r.diagnosis] == ["shape_mismatch"]
    assert "with this fix" not in r.diagnosis[0].message


def test_a_wrong_formula_no_fix_explains_is_unexplained():
    r = derivcheck.check(NIELSEN, r"\frac{\partial C}{\partial b^l_j} = \delta^l_j \sigma'(z^l_j)")
    assert r.verdict == "not_equivalent"
    assert [d.kind for d in r.diagnosis] == ["unexplained"]


def test_only_fixes_that_fit_are_offered():
    w, d = Leaf("w3", ("n3", "n2")), Leaf("delta3", ("n3", 1))
    body = IndexSum("k", "n2", mul(Entry(w, ("j", "k")), Entry(d, ("k", None))))
    wrong = IndexForm(body, ("j", None), ("n2", 1))
    fixes = [(kind, fixed.text(), fixed.shape) for kind, _, fixed in index_rewrites(wrong)]
    # j and k swapped in w3 is the one fix that fits; the sum then runs over n3
    assert fixes == [("missing_transpose", "[j] sum_k w3[k,j] * delta3[k]", ("n2", 1))]
    fixed = next(f for _, _, f in index_rewrites(wrong))
    assert fixed.body.size == "n3"
    assert list(index_rewrites(mul(Entry(w, ("j", "k")), Entry(d, ("k", None))))) == []
