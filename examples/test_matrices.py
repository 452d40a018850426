"""Every formula of examples/matrices.toml is judged as expected (and diagnosed so)."""
from __future__ import annotations

from pathlib import Path

import pytest

import derivcheck
from derivcheck.app.question import read_question

# the file as `derivcheck run` reads it: checked whole, every network built once
_, _NETS, _FORMULAS = read_question(Path(__file__).parent / "matrices.toml")


@pytest.mark.parametrize("formula", _FORMULAS, ids=[f["label"] for f in _FORMULAS])
def test_formula(formula):
    result = derivcheck.check(_NETS[formula["network"]], formula["text"],
                              convention=formula.get("kink_convention", "any"))
    assert result.verdict == formula["expect"], (result.reason, result.method_detail)
    if "diagnosis" in formula:
        assert formula["diagnosis"] in [d.kind for d in result.diagnosis]
    if result.verdict == "not_equivalent" and result.counterexample is not None:
        cx = result.counterexample.to_json()
        assert cx["sizes"] and cx["matrices"] and cx["entry"]
        assert cx["candidate"] != cx["expected"]
