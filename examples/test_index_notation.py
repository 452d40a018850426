"""Every formula of examples/index_notation.toml is judged as expected (and diagnosed so),
and the output says how its indices and layers were read."""
from __future__ import annotations

from pathlib import Path

import pytest

import derivcheck
from derivcheck.app.question import read_question

# the file as `derivcheck run` reads it: checked whole, every network built once
_, _NETS, _FORMULAS = read_question(Path(__file__).parent / "index_notation.toml")


@pytest.mark.parametrize("formula", _FORMULAS, ids=[f["label"] for f in _FORMULAS])
def test_formula(formula):
    net = _NETS[formula["network"]]
    result = derivcheck.check(net, formula["text"])
    assert result.verdict == formula["expect"], (result.reason, result.method_detail)
    if "diagnosis" in formula:
        assert formula["diagnosis"] in [d.kind for d in result.diagnosis]
    readings = " | ".join(result.readings)
    if getattr(net, "is_matrix", False):
        assert "as entry [" in readings and "(free indices)" in readings, readings
        if result.verdict == "not_equivalent":
            cx = result.counterexample.to_json()
            assert cx["sizes"] and cx["matrices"] and cx["entry"]
            assert cx["candidate"] != cx["expected"]
    else:
        assert "as the statement for every j" in readings, readings


@pytest.mark.parametrize("formula", [f for f in _FORMULAS
                                     if any(s in f["text"] for s in ("^l", "^{(k)}", "^{[l]}"))],
                         ids=lambda f: f["label"])
def test_layer_letters_are_read_for_every_layer(formula):
    result = derivcheck.check(_NETS[formula["network"]], formula["text"])
    letter = "k" if "^{(k)}" in formula["text"] else "l"
    assert any(r.startswith(f"read {letter} as every layer: {letter} = ")
               for r in result.readings), result.readings
