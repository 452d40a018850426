"""cs231n's masking line pasted with the line before it."""
from __future__ import annotations

import pytest

from derivcheck.core.matrix.network import MatrixNetwork
from derivcheck.errors import NameError_
from derivcheck.parsing import parse_formula
from derivcheck.parsing.masking import split_masking

CS = MatrixNetwork(["D", "H", 3], "relu,identity", "cross_entropy", batch="N", bias=True,
                   style="cs231n")


@pytest.mark.parametrize("text", ["dhidden = np.dot(dscores, W2.T)\ndhidden[hidden_layer <= 0] = 0",
                                  "dhidden = dscores.dot(W2.T); dhidden[H <= 0] = 0;"])
def test_the_two_statements_are_the_value_after_the_masking_line(text):
    f = parse_formula(text, CS.namespace)
    assert f.wrt == "dhidden"
    assert f.expr.text().startswith("dscores @ W2.T * (1 - (")
    assert any(r.startswith("read the masking line dhidden[") for r in f.readings)


@pytest.mark.parametrize("text", ["dW = a\nb[x] = 0", "a = b; c = d; a[x] = 0", "a = b\na[x] = 1",
                                  "a = b"])
def test_other_texts_are_no_masking_pair(text):
    assert split_masking(text) is None


def test_an_error_in_the_masking_line_points_into_the_text_as_typed():
    text = "dhidden = np.dot(dscores, W2.T)\ndhidden[hiden_layer <= 0] = 0"
    with pytest.raises(NameError_) as err:
        parse_formula(text, CS.namespace)
    assert err.value.position == text.index("hiden_layer") and err.value.text == text
