"""derivcheck.decide.formal: identity testing modulo P, gate classes, degree bounds."""
import pytest
import sympy

from derivcheck.core.functions import IsNonNeg, IsPos, ReLU, Sigmoid, Step
from derivcheck.decide.degree import degree_bound
from derivcheck.decide.formal import P, FormalEvaluator, rational_reconstruct

w, x, b = sympy.symbols("w x b")
g = w * x + b

IDENTITIES = [  # (lhs, rhs, mode, signs, equal)
    (ReLU(g), g * Step(g), "free", {}, True),
    (ReLU(g), g * Step(-g), "free", {}, False),
    (Step(g) + Step(-g), 1, "free", {}, False),       # both are Step(0) = c at g = 0
    (Step(g) + Step(-g), 1, "offkink", {}, True),
    (IsPos(g), Step(g), "offkink", {}, True),
    (IsPos(g), IsNonNeg(g), "free", {}, False),
    (Step(2 * g), Step(g), "free", {}, True),         # a positive factor is the same gate
    (Step(w * x), Step(w), "offkink", {x: 1}, True),  # x > 0 known: one gate
    (Step(w * x), Step(w), "offkink", {}, False),
    (Step(w * x), 1 - Step(w), "offkink", {x: -1}, True),
    (sympy.exp(2 * w) * sympy.exp(-w), sympy.exp(w), "free", {}, True),
    (sympy.tanh(w), (sympy.exp(2 * w) - 1) / (sympy.exp(2 * w) + 1), "free", {}, True),
    (Sigmoid(w), 1 / (1 + sympy.exp(-w)), "free", {}, True),
    (Sigmoid(w), 1 / (1 + sympy.exp(w)), "free", {}, False),
    ((w + x) ** 2, w**2 + 2 * w * x + x**2, "free", {}, True),
    ((w + x) ** 2, w**2 + x**2, "free", {}, False),
]


@pytest.mark.parametrize("lhs, rhs, mode, signs, equal", IDENTITIES)
def test_identities(lhs, rhs, mode, signs, equal):
    fe = FormalEvaluator({}, mode=mode, signs=signs)
    assert (fe.value(sympy.sympify(lhs)) == fe.value(sympy.sympify(rhs))) is equal


def test_definitions_are_followed():
    z = sympy.Symbol("z")
    fe = FormalEvaluator({z: g}, mode="free")
    assert fe.value(ReLU(z)) == fe.value(ReLU(g))


def test_a_pattern_fixes_a_gate_in_offkink_mode():
    keyer = FormalEvaluator({}, mode="offkink")
    keyer.value(Step(g))
    (key,) = keyer.gates
    on = FormalEvaluator({}, mode="offkink", pattern={key: 1}, keyer=keyer)
    off = FormalEvaluator({}, mode="offkink", pattern={key: 0}, keyer=keyer)
    assert on.value(ReLU(g)) == on.value(g) and on.free_gates == []
    assert off.value(ReLU(g)) == off.value(sympy.S.Zero)
    free = FormalEvaluator({}, mode="offkink", keyer=keyer)
    free.value(ReLU(g))
    assert free.free_gates == [key]


@pytest.mark.parametrize("expr, orientation", [
    (g, 1), (3 * g, 1), (-g, -1), (-g / 5, -1), (w * x + b + 1, None), (sympy.S.Zero, None),
])
def test_gate_of_names_the_class_and_its_orientation(expr, orientation):
    fe = FormalEvaluator({}, mode="offkink")
    fe.value(Step(g))
    found = fe.gate_of(expr)
    assert (found[1] if found else None) == orientation
    if found:
        assert found[0] in fe.gates


@pytest.mark.parametrize("n, d", [(1, 1), (-2, 3), (7, 1000), (-(1 << 20), 3)])
def test_rational_reconstruct_inverts_small_fractions(n, d):
    assert rational_reconstruct(n * pow(d, -1, P) % P) == (n, d)


def test_rational_reconstruct_refuses_large_ones():
    assert rational_reconstruct(pow(3, 40, P) * pow(7, 30, P) % P) is None


@pytest.mark.parametrize("expr, defs, bound", [
    (w, {}, 1), (w * x, {}, 2), (w**3 + x, {}, 3), (1 / (w + x), {}, 1), (1 / w + x, {}, 3),
    (sympy.Symbol("z") ** 2, {sympy.Symbol("z"): w * x}, 4), (Step(w) * x, {}, 2),
])
def test_degree_bound(expr, defs, bound):
    assert degree_bound(expr, defs) == bound


def test_a_product_through_definitions_splits_into_the_same_exp_terms_as_written_out():
    # exp(-z2) with z2 = w2 a1 + b2 and a1 = swish(w1 x + b1): the defined side and the
    # written-out side (w2 swish(b1 + w1 x) = w2 (b1 + w1 x) / (1 + exp(-b1 - w1 x)))
    # must meet (soundness run seed 20261129 cases 16, 164, 580: the correct gradient
    # itself was unknown)
    from derivcheck.core.functions import Sigmoid, Softplus, Swish
    from derivcheck.core.network import chain
    net = chain(["w1", "w2"], ["swish", "softplus"], loss="mse", biases=["b1", "b2"])
    b1, b2, w1, w2, x, y = sympy.symbols("b1 b2 w1 w2 x y")
    z2 = b2 + w2 * Swish(b1 + w1 * x)
    written = (2 * Softplus(z2) - 2 * y) * Sigmoid(z2) * Swish(b1 + w1 * x)
    fe = FormalEvaluator(net.definitions(), mode="free")
    assert fe.value(sympy.Symbol("dC/dw2")) == fe.value(written)
    assert fe.value(sympy.Symbol("dC/dw2")) != fe.value(written * Sigmoid(z2))


def test_a_gated_sum_behind_a_definition_is_kept_whole_as_written_out():
    # exp(z3) with z3 = w3 a2 + b3, a2 = swish(z2), z2 = w2 a1 + b2 and a1 = relu(z1):
    # z2 holds a gate only through a1; written out it shows it. Both sides must keep it
    # whole (soundness run seed 20261129 case 547: the correct gradient was unknown)
    from derivcheck.core.functions import Softplus, Swish
    from derivcheck.core.network import chain
    net = chain(["w1", "w2", "w3"], ["relu", "swish", "softplus"], loss="squared",
                biases=["b1", "b2", "b3"])
    b1, b2, b3, w1, w2, w3, x = sympy.symbols("b1 b2 b3 w1 w2 w3 x")
    written = Softplus(b3 + w3 * Swish(b2 + w2 * ReLU(b1 + w1 * x)))
    for mode in ("free", "offkink"):
        fe = FormalEvaluator(net.definitions(), mode=mode)
        assert fe.value(sympy.Symbol("a3")) == fe.value(written)


def test_a_named_product_in_an_exponent_splits_as_the_definition_it_names():
    # name_arguments turns exp(w2 leaky_relu(b1 + w1 x)) into exp(_u2) with _u2 a
    # product: it must split into the same terms as exp(z2) = exp(w2 a1 + b2) (soundness
    # run seed 20261129 case 63: an expanded correct ELU gradient was unknown)
    from derivcheck.core.functions import LeakyReLU
    from derivcheck.core.network import chain
    net = chain(["w1", "w2"], ["leaky_relu(1/10)", "elu"], loss="squared", biases=["b1", "b2"])
    b1, b2, w1, w2, x = sympy.symbols("b1 b2 w1 w2 x")
    u1, u2 = sympy.symbols("_u1 _u2")
    defs = {**net.definitions(), u1: b1 + w1 * x, u2: w2 * LeakyReLU(u1, sympy.Rational(1, 10))}
    for mode in ("free", "offkink"):
        fe = FormalEvaluator(defs, mode=mode)
        assert fe.value(sympy.exp(b2) * sympy.exp(u2)) == fe.value(sympy.exp(sympy.Symbol("z2")))


def test_sums_split_alike_whether_their_gates_show_or_hide_behind_a_definition():
    # exp(z4) with z4 = w4 a3 + b4, a3 = z3 = w3 a2 + b3 (identity), a2 = hardtanh(z2):
    # written out expanded, exp(w4 b3) exp(w4 w3 hardtanh(...)) exp(b4) (soundness run
    # seed 20261129 case 283)
    from derivcheck.core.functions import HardTanh, Swish
    from derivcheck.core.network import chain
    net = chain(["w1", "w2", "w3", "w4"], ["swish", "hardtanh", "identity", "elu"],
                loss="mse", biases=["b1", "b2", "b3", "b4"])
    b1, b2, b3, b4, w1, w2, w3, w4, x = sympy.symbols("b1 b2 b3 b4 w1 w2 w3 w4 x")
    h = HardTanh(b2 + w2 * Swish(b1 + w1 * x))
    written = sympy.exp(w4 * b3) * sympy.exp(b4) * sympy.exp(w4 * w3 * h)
    for mode in ("free", "offkink"):
        fe = FormalEvaluator(net.definitions(), mode=mode)
        assert fe.value(sympy.exp(sympy.Symbol("z4"))) == fe.value(written)


def test_exp_of_an_argument_that_is_zero_is_one_however_it_is_split():
    # on a kink stratum a leaf is overridden so that b + w relu(u + t) is 0; its terms b,
    # w u Step(u + t), w t Step(u + t) fall in exponential classes of their own, but exp
    # of the whole is 1
    b, w, u, t = sympy.symbols("b w u t")
    probe = FormalEvaluator({}, mode="free", seed=3)
    minus = tuple(-v % P for v in probe.value(w * ReLU(u + t)))
    fe = FormalEvaluator({}, mode="free", seed=3, overrides={b: minus})
    assert fe.value(sympy.exp(b + w * ReLU(u + t))) == fe.value(sympy.Integer(1))
    assert fe.value(sympy.exp(b + 2 * w * ReLU(u + t))) != fe.value(sympy.Integer(1))
