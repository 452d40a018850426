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


# -- issue 16: explanations that are true ---------------------------------------------------

from derivcheck.decide.check import check  # noqa: E402


def _kinds(r):
    return [(d.kind, d.layer) for d in r.diagnosis]


@pytest.mark.parametrize("net, formula, wrt, expected", [
    # w1 written in place of x: it was "extra_gate: There is a gate Step(w1*x)..." (false)
    (chain(["w1"], "relu"), "(relu(w1*x)-y)*step(w1*x)*w1", "w1", [("wrong_factor", None)]),
    # a2 written in place of a1
    (chain(["w1", "w2"], "relu"), "(yhat - y)*step(z2)*a2", "w2", [("wrong_factor", None)]),
    # a dropped ReLU gate, the output written with its own name
    (chain(["w1", "w2"], "relu"), "(yhat - y)*w2*step(z1)*x", "w1", [("missing_gate", 2)]),
    # the loss derivative 2(a - y) dropped under the squared loss
    (chain(["w1", "w2"], "relu", loss="squared"), "a1*step(z2)", "w2",
     [("missing_factor", 2)]),
    # two mistakes at once: the gate on a1, and layer 2's gate dropped
    (chain(["w1", "w2"], "relu"), "(a2-y)*w2*x*step(a1)", "w1",
     [("wrong_gate_argument", 1), ("missing_gate", 2)]),
])
def test_classic_mistakes_are_named(net, formula, wrt, expected):
    r = check(net, formula, wrt)
    assert r.verdict == "not_equivalent"
    assert _kinds(r) == expected


def test_the_wrong_factor_names_both_quantities():
    r = check(chain(["w1"], "relu"), "(relu(w1*x)-y)*step(w1*x)*w1", "w1")
    assert "w1 is written where x belongs" in r.diagnosis[0].message
    assert not any(d.kind == "extra_gate" for d in r.diagnosis)


def test_a_dead_unit_is_explained_as_the_convention_it_needs():
    r = check(chain(["w1", "w2"], "relu"), "(yhat - y)*step(z2)*w2*x", "w1")
    assert r.verdict == "not_equivalent"
    assert _kinds(r) == [("dead_unit_convention", None)]
    message = r.diagnosis[0].message
    assert "Unit 1 is dead" in message and "Step(0) = 0" in message and "torch" in message
    assert r.counterexample.dead == ["z2"] and r.counterexample.step0 != 0
    # and under torch's convention it is the gradient
    assert check(chain(["w1", "w2"], "relu"), "(yhat - y)*step(z2)*w2*x", "w1",
                 convention="torch").verdict in ("equivalent", "equivalent_almost_everywhere")


def test_the_counterexample_says_where_a_unit_is_dead():
    from derivcheck.write.textout import format_result
    r = check(chain(["w1", "w2"], "relu"), "(yhat - y)*step(z2)*w2*x", "w1")
    assert "z2 = 0 on a whole region around it, after a dead unit" in format_result(r)


@pytest.mark.parametrize("net, formula, wrt", [
    (chain(["w1"], "relu"), "(relu(w1*x)-y)*step(w1*x)*w1", "w1"),
    (chain(["w1", "w2"], "relu"), "(y - yhat)*step(z2)*a2", "w2"),
    (chain(["w1", "w2"], "relu"), "2*(yhat - y)*step(z2)*w2*x", "w1"),
    (chain(["w1", "w2"], "relu"), "(yhat-y)*step(z2)*w2*step(z1)*x*step(w2 - 1)", "w1"),
])
def test_a_printed_fix_makes_the_candidate_right(net, formula, wrt):
    """Applying the named fixes to the candidate gives the true gradient (decided)."""
    r = check(net, formula, wrt)
    e = r.explanation
    assert e.fixed is not None or e.changes is not None
    fixed = r.candidate_expr
    for m in e.mistakes:
        fixed = m.fix(fixed)
    assert fixed is not None
    assert check(net, fixed, wrt).verdict in ("equivalent", "equivalent_almost_everywhere")


def test_an_unverifiable_guess_is_said_as_a_guess():
    r = check(chain(["w1", "w2"], "relu"), "x**3 + w1", "w1")
    assert r.diagnosis[0].message.startswith("A guess, from this evidence")
    assert _kinds(check(chain(["w1", "w2"], "relu"), "0", "w1")) == [("unexplained", None)]


@pytest.mark.parametrize("net, formula, wrt, domain", [
    (chain(["w1"], "sigmoid", loss="bce"), "(yhat - y)*x*2", "w1",
     lambda p: 0 <= p["y"] <= 1),
    (__import__("derivcheck").core.network.mlp([2, 2, 3], ["relu", "identity"],
                                               loss="cross_entropy"),
     "(a2_1 - y1)*a1_2", "W1_11",
     lambda p: sorted((p["y1"], p["y2"], p["y3"])) == [0, 0, 1]),
])
def test_counterexamples_stay_inside_the_loss_domain(net, formula, wrt, domain):
    r = check(net, formula, wrt)
    assert r.verdict == "not_equivalent"
    assert domain(r.counterexample.point)
    assert set(r.counterexample.point) == {str(v) for v in net.variables}


def test_counterexamples_use_small_numbers():
    r = check(chain(["w1", "w2"], "relu"), "(yhat - y)*w2*step(z1)*x", "w1")
    assert all(abs(v.numerator) <= 2 and v.denominator <= 2
               for v in r.counterexample.point.values())


def test_an_extra_gate_is_not_named_as_a_quantity_written_for_another():
    # step(z2) -> step(z1) would also make it right off the kinks (step(z1) squared), but
    # the mistake is the gate the gradient lacks
    net = chain(["w1", "w2"], "relu,identity")
    r = check(net, "(z2 - y)*step(z2)*w2*step(z1)*x", "w1")
    assert r.verdict == "not_equivalent"
    assert [d.kind.value for d in r.diagnosis] == ["extra_gate"]
