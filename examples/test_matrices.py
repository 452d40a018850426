"""Every formula of examples/matrices.toml is judged as expected (and diagnosed so)."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

import derivcheck
from derivcheck.core.network import from_dict

_DATA = tomllib.loads((Path(__file__).parent / "matrices.toml").read_text())
_NETS: dict = {}


def _net(name):
    if name not in _NETS:
        _NETS[name] = from_dict(_DATA["networks"][name])
    return _NETS[name]


@pytest.mark.parametrize("formula", _DATA["formulas"], ids=[f["label"] for f in _DATA["formulas"]])
def test_formula(formula):
    result = derivcheck.check(_net(formula["network"]), formula["text"],
                              convention=formula.get("kink_convention", "any"))
    assert result.verdict == formula["expect"], (result.reason, result.method_detail)
    if "diagnosis" in formula:
        assert formula["diagnosis"] in [d.kind for d in result.diagnosis]
    if result.verdict == "not_equivalent" and result.counterexample is not None:
        cx = result.counterexample.to_json()
        assert cx["sizes"] and cx["matrices"] and cx["entry"]
        assert cx["candidate"] != cx["expected"]
