"""Equality on the kink set stratum by stratum (decide/kink_strata.py): formulas that
agree on a kink only because the other gates are 0/1 and complementary there (an ELU's
derivative written with 1 - Step(-z) on another unit's kink) are proved equivalent, and
a difference on a stratum is never taken for equality. Each network below was `unknown`
(soundness run, seed 20261129) before."""
import sympy

from derivcheck.core.assumptions import Assumptions
from derivcheck.decide.check import check
from derivcheck.decide.equivalence import Procedure
from derivcheck.core.functions import ReLU, Step
from derivcheck.core.network import chain


def test_a_complemented_elu_gate_through_hardtanh_kinks_is_equivalent():
    net = chain(["w1", "w2", "w3", "w4"], ["elu", "hardtanh", "elu", "softplus"],
                biases=["b1", "b2", "b3", "b4"], loss="half_squared")
    z1, z2 = "b1 + w1*x", "b2 + w2*elu(b1 + w1*x, 1)"
    z3 = f"b3 + w3*hardtanh({z2})"
    z4 = f"b4 + w4*elu({z3}, 1)"
    cand = (f"(softplus({z4}) - y)*(1 + step(-({z3}))*exp({z3}) - step(-({z3})))"
            f"*((1 - step({z1}))*exp({z1}) + step({z1}))*sigmoid({z4})*w4*w3"
            f"*step(1 - ({z2}))*step(1 + {z2})*w2")
    result = check(net, cand, "b1", timeout=60)
    assert result.verdict == "equivalent", result.reason
    assert "strata" in result.method_detail


def test_an_idempotent_looking_elu_gate_in_a_bias_free_chain_is_equivalent():
    net = chain(["w1", "w2", "w3", "w4"], ["hardtanh", "hardtanh", "elu", "swish"],
                loss="squared")
    z3 = "w3*hardtanh(w2*hardtanh(w1*x))"
    a3 = f"elu({z3}, 1)"
    cand = (f"(2*swish(w4*{a3}) - 2*y)*((1 - sigmoid(w4*{a3}))*sigmoid(w4*{a3})*w4*{a3}"
            f" + sigmoid(w4*{a3}))*((1 - step(-{z3}))*step({z3})"
            f" + (1 - (1 - step(-{z3}))*step({z3}))*exp({z3}))*w4*hardtanh(w2*hardtanh(w1*x))")
    assert check(net, cand, "w3", timeout=60).verdict == "equivalent"


def test_a_difference_on_a_stratum_is_not_proved_away():
    # Step(z2)^2 for Step(z2): equal off the kinks, different on z2 = 0 under Step(0) = 1/2
    net = chain(["w1", "w2"], ["relu", "relu"], biases=["b1", "b2"], loss="half_squared")
    w1, w2, b1, b2, x, y = sympy.symbols("w1 w2 b1 b2 x y")
    z1 = w1 * x + b1
    z2 = w2 * ReLU(z1) + b2
    cand = (ReLU(z2) - y) * Step(z2) ** 2 * w2 * Step(z1) * x
    proc = Procedure(net, sympy.Symbol("dC/dw1"), cand, "any", Assumptions(), 60, 1)
    root, _ = proc.formal("free")
    assert proc.strata_proof(root) is None
    assert proc.run().verdict == "equivalent_almost_everywhere"


def test_a_stratum_the_evaluator_cannot_reach_proves_nothing():
    # z3 = b3 + w3 sigmoid(z2) = 0 solved for b3 is written with exp(-z2) spelled out, a
    # value the formal evaluator cannot tie to sigmoid(z2): the gate of z3 was then left
    # free, not at its kink, and Step(z3) against 1 - Step(-z3) "agreed" 0/1-wise (a
    # false equivalent under Step(0) = 0). Such a stratum must prove nothing.
    net = chain(["w1", "w2", "w3"], "abs,sigmoid,relu", biases=["b1", "b2", "b3"],
                loss="half_squared")
    g = net.gradient("w1", form="inline")
    z3 = sympy.Symbol("z3")
    mutant = g.subs(Step(z3), 1 - Step(-z3))
    proc = Procedure(net, sympy.Symbol("dC/dw1"), mutant, "any", Assumptions(), 60, 1)
    root, _ = proc.formal("free")
    assert proc.strata_proof(root) is None
    assert proc.run().verdict == "equivalent_almost_everywhere"


def test_an_elu_gate_multiplied_by_itself_behind_softplus_and_relu_is_equivalent():
    # ELU's derivative with (1 - Step(-z4)) Step(z4) for Step(z4) is 1 at z4 = 0 for every
    # Step(0); the strata through z1 (an ELU) and z3 (a ReLU behind softplus) must be
    # solved in the network's own shape (soundness run seed 20261130, case 1517)
    net = chain(["w1", "w2", "w3", "w4"], ["elu", "softplus", "relu", "elu"],
                biases=["b1", "b2", "b3", "b4"], loss="mse")
    z4 = "b4 + w4*relu(b3 + w3*softplus(b2 + w2*elu(b1 + w1*x, 1)))"
    s = f"(1 - step(-({z4})))*step({z4})"
    cand = f"(2*elu({z4}, 1) - 2*y)*({s} + (1 - {s})*exp({z4}))"
    result = check(net, cand, "b4", timeout=60)
    assert result.verdict == "equivalent", result.reason
    assert "strata" in result.method_detail


def test_a_cubed_elu_gate_at_relu6_upper_kink_is_proved_stratum_by_stratum():
    # Step(z3)^3 for Step(z3) in ELU's derivative (1 at z3 = 0 for every Step(0)); the
    # strata of relu6's upper kink z4 = 6 meet a leaky slope 1/10 + 9/10 Step(u) and
    # 6 (1 + exp(-w1 x)) = 0, neither ever 0 (soundness run seed 20261130, case 1877)
    from derivcheck.core.primitives.piecewise import ELU, LeakyReLU, ReLU6
    from derivcheck.core.primitives.smooth import Swish
    net = chain(["w1", "w2", "w3", "w4"], ["swish", "leaky_relu(1/10)", "elu", "relu6"],
                loss="half_squared")
    w1, w2, w3, w4, x, y = sympy.symbols("w1 w2 w3 w4 x y")
    tenth = sympy.Rational(1, 10)
    z3 = w3 * LeakyReLU(w2 * Swish(w1 * x), tenth)
    z4 = w4 * ELU(z3, 1)
    cand = (w3 * w4 * (ReLU6(z4) - y) * ((1 - Step(z3) ** 3) * sympy.exp(z3) + Step(z3) ** 3)
            * (9 * tenth * Step(w2 * Swish(w1 * x)) + tenth) * Step(z4) * Step(6 - z4)
            * Swish(w1 * x))
    proc = Procedure(net, sympy.Symbol("dC/dw2"), cand, "any", Assumptions(), 60, 1)
    root, _ = proc.formal("free")
    assert proc.strata_proof(root) is not None
    assert check(net, cand, "w2", timeout=60).verdict == "equivalent"
