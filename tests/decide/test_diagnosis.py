"""derivcheck.decide.diagnosis: one mutation of the chain rule per mistake, as a table."""
import pytest
import sympy

from derivcheck.core.functions import ReLU, Sigmoid, Step
from derivcheck.core.network import chain
from derivcheck.decide.diagnosis import MISTAKES, MissingFactor, Mistake, diagnose
from derivcheck.decide.verdict import DiagnosisKind, Verdict

w1, w2, x, y = sympy.symbols("w1 w2 x y")
z1 = w1 * x
a1 = ReLU(z1)
z2 = w2 * a1
a2 = ReLU(z2)
RIGHT = (a2 - y) * Step(z2) * w2 * Step(z1) * x   # dC/dw1 of a two-layer relu chain

CASES = [  # (id, loss, candidate for dC/dw1, [(kind, layer)])
    ("sign", "half_squared", -RIGHT, [("sign_flip", None)]),
    ("factor", "half_squared", 2 * RIGHT, [("constant_factor", None)]),
    ("sign and factor", "half_squared", -2 * RIGHT, [("sign_flip", None),
                                                     ("constant_factor", None)]),
    ("squared loss", "squared", RIGHT, [("constant_factor", None)]),
    ("gate 1", "half_squared", RIGHT / Step(z1), [("missing_gate", 1)]),
    ("gate 2", "half_squared", RIGHT / Step(z2), [("missing_gate", 2)]),
    ("every gate", "half_squared", (a2 - y) * w2 * x, [("missing_gates", None)]),
    ("gate on a1", "half_squared", RIGHT / Step(z1) * Step(a1), [("wrong_gate_argument", 1)]),
    ("sigmoid'", "half_squared", RIGHT / Step(z1) * Sigmoid(z1) * (1 - Sigmoid(z1)),
     [("wrong_activation_derivative", 1)]),
    ("no w2", "half_squared", RIGHT / w2, [("missing_factor", 2)]),
    ("no w2 anywhere", "half_squared", x**3 + w1, [("reused_last_layer_formula", None)]),
    ("a gate of its own", "half_squared", RIGHT * Step(w2 - 1), [("extra_gate", None)]),
    # every gate of this one is a gate of the gradient: no "extra gate" (it claimed one);
    # the input factor of dC/dw1 = dC/dz1 * x is a factor of the chain rule like w2
    ("no x", "half_squared", RIGHT / x, [("missing_factor", 1)]),
]


@pytest.mark.parametrize("loss, candidate, expected", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_each_single_mistake_is_named(loss, candidate, expected):
    found = diagnose(chain(["w1", "w2"], "relu", loss=loss), w1, candidate)
    assert [(d.kind, d.layer) for d in found] == expected


def test_a_difference_only_on_the_kinks_is_convention_only():
    found = diagnose(chain(["w1"], "relu"), w1, RIGHT,
                     verdict=Verdict.EQUIVALENT_ALMOST_EVERYWHERE)
    assert [d.kind for d in found] == ["convention_only"]


def test_every_kind_has_one_class_with_a_filled_template():
    assert set(MISTAKES) == set(DiagnosisKind)
    assert all(issubclass(cls, Mistake) and cls.kind == kind for kind, cls in MISTAKES.items())
    fields = {"z": "z1", "layer": 1, "a": "a1", "act": "relu", "used": "tanh'(z1)",
              "right": "relu'(z1)", "factor": "w2", "why": "w", "arg": "x", "missing": "w2",
              "wrt": "w1", "where": "Unit 1 is dead, so ", "values": "0", "others": "1/2"}
    for cls in MISTAKES.values():
        names = cls.__dataclass_fields__
        message = cls(**{k: v for k, v in fields.items() if k in names}).message
        assert "{" not in message and "}" not in message, cls


def test_a_mistake_becomes_the_public_record():
    d = MissingFactor(factor="w2", why="dC/da1 = dC/dz2 * w2", layer=2).diagnosis()
    assert d.to_json() == {"kind": "missing_factor", "layer": 2,
                           "message": "A factor w2 is missing at layer 2: dC/da1 = dC/dz2 * w2"}
    assert d.kind is DiagnosisKind.MISSING_FACTOR
