"""derivcheck.core.gradients: reverse mode against sympy.diff of the fully substituted loss.

Every gradient is compared by exact evaluation at random rational points: the reference
(``net.definitions()`` and the symbol ``dC/d<param>``) against ``sympy.diff`` of the
expanded loss (which uses derivcheck's ``fdiff``) and against ``sympy.diff`` of the
``decompose()``d loss (which does not: only Step, exp and log are left, so this side is
independent of every hand-written derivative). At kinks only the first comparison is
meaningful (both are the chain rule with Step(0) = c), and it is made for every c.
"""
from fractions import Fraction

import mpmath
import pytest
import sympy
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sympy import Rational, Symbol, symbols

from derivcheck import limits
from derivcheck.core.activations import parse_activation
from derivcheck.core.conventions import get_convention
from derivcheck.errors import LimitError, SpecError, UsageError
from derivcheck.decide.evaluate import PointEvaluator, Undetermined
from derivcheck.core.functions import (
    IsNonNeg, IsPos, LeakyReLU, ReLU, Sigmoid, Step, decompose,
)
from derivcheck.core.gradients import adjoint_name, backward, local_derivative, tree_size
from derivcheck.core.graph import build_graph
from derivcheck.core.network import chain, mlp
from derivcheck.core.spec import NetworkSpec

C_VALUES = (Fraction(0), Fraction(1, 2), Fraction(1))
TOL = mpmath.mpf(10) ** -40


def d(name):
    return Symbol(adjoint_name(name))


def mpf(v):
    return mpmath.mpf(v.numerator) / v.denominator if isinstance(v, Fraction) else v


def same(u, v):
    """Exactly equal when both are exact, else equal to 40 digits (values carry 60)."""
    if isinstance(u, Fraction) and isinstance(v, Fraction):
        return u == v
    with mpmath.workdps(60):
        return abs(mpf(u) - mpf(v)) <= TOL * (1 + abs(mpf(v)))


def at_kink(net, point):
    """True when some pre-activation sits on a breakpoint of its activation."""
    ev = PointEvaluator(net.graph.definitions, point)
    for node in net.graph.nodes:
        if node.role == "act" and node.activation is not None and node.activation.kind.kinks:
            pre = ev(node.expr.args[0])
            if any(pre == Fraction(k) for k in node.activation.kind.kinks):
                return True
    return False


def check_gradients(net, point, wrt=None):
    """Reference == diff(expanded loss) everywhere (every c); == diff(decomposed loss)
    off the kinks; the inline and expanded forms agree with the named one."""
    wrt = list(wrt or net.params + net.inputs)
    defs = net.definitions()
    loss = net.loss()
    plain_loss = decompose(loss)
    kink = at_kink(net, point)
    try:
        for c in C_VALUES:
            ref = PointEvaluator(defs, point, step0=c)
            mine = PointEvaluator({}, point, step0=c)
            fwd = PointEvaluator(net.graph.definitions, point, step0=c)
            for p in wrt:
                want = ref(d(p))
                assert same(mine(sympy.diff(loss, p)), want), (p, c)
                assert same(fwd(net.gradient(p, form="inline")), want), (p, c)
                assert same(mine(net.gradient(p)), want), (p, c)
                if not kink:  # log(1 - sigmoid) cancels digits when a unit saturates
                    wide = PointEvaluator({}, point, step0=c, dps=160)
                    assert same(wide(sympy.diff(plain_loss, p)), want), (p, c)
    except Undetermined:   # a transcendental value within rounding of a breakpoint
        assume(False)
    return kink


# --- random chains -------------------------------------------------------------------------

ACTS = ["relu", "leaky_relu", "leaky_relu(1/5)", "elu", "elu(1/2)", "sigmoid", "tanh",
        "softplus", "abs", "hardtanh", "identity", "prelu"]
small = st.fractions(min_value=-3, max_value=3, max_denominator=4)


@st.composite
def chains(draw):
    depth = draw(st.integers(1, 4))
    acts = draw(st.lists(st.sampled_from(ACTS), min_size=depth, max_size=depth))
    acts = [f"prelu(p{k})" if a == "prelu" else a for k, a in enumerate(acts, 1)]
    loss = draw(st.sampled_from(["half_squared", "squared", "mse", "bce"]))
    if loss == "bce":
        acts[-1] = "sigmoid"
    biases = [f"b{k}" for k in range(1, depth + 1)] if draw(st.booleans()) else None
    net = chain([f"w{k}" for k in range(1, depth + 1)], acts, biases=biases, loss=loss)
    point = {v: draw(small) for v in net.variables}
    if loss == "bce":
        point[Symbol("y")] = draw(st.fractions(0, 1, max_denominator=4))
    return net, point


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chains())
def test_random_chains_match_sympy_diff(case):
    net, point = case
    check_gradients(net, point)


@settings(max_examples=40, deadline=None)
@given(depth=st.integers(1, 5), data=st.data())
def test_relu_chains_at_integer_points_hit_kinks_too(depth, data):
    """Small integers put pre-activations on 0 often: the reference must still be the
    chain rule with Step(0) = c there, exactly like diff of the substituted loss."""
    net = chain([f"w{k}" for k in range(1, depth + 1)], "relu")
    point = {v: Fraction(data.draw(st.integers(-2, 2))) for v in net.variables}
    check_gradients(net, point)


# --- MLPs ------------------------------------------------------------------------------------

MLPS = [
    dict(widths=[2, 2, 1], activations="relu"),
    dict(widths=[2, 2, 1], activations="relu", bias=True),
    dict(widths=[2, 2, 1], activations="tanh,sigmoid", bias=True, loss="bce"),
    dict(widths=[2, 3, 2], activations="tanh,identity", loss="cross_entropy"),
    dict(widths=[2, 3, 2], activations="relu,identity", bias=True, loss="cross_entropy"),
    dict(widths=[1, 2, 2], activations="leaky_relu,sigmoid", loss="mse"),
    dict(widths=[2, 2, 1], activations="prelu(p)", bias=True),
]


@pytest.mark.parametrize("spec", MLPS, ids=lambda s: f"{s['widths']}-{s['activations']}")
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mlps_match_sympy_diff(spec, data):
    spec = dict(spec)
    widths = spec.pop("widths")
    net = mlp(widths, **spec)
    point = {v: data.draw(small) for v in net.variables}
    if spec.get("loss") == "bce":
        point[Symbol("y")] = data.draw(st.fractions(0, 1, max_denominator=4))
    if spec.get("loss") == "cross_entropy":   # a one-hot target
        hot = data.draw(st.integers(0, len(net.targets) - 1))
        point.update({t: Fraction(int(j == hot)) for j, t in enumerate(net.targets)})
    check_gradients(net, point)


@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_cross_entropy_output_adjoint_is_softmax_minus_y(data):
    net = mlp([2, 3, 2], "tanh,identity", loss="cross_entropy", bias=True)
    point = {v: data.draw(small) for v in net.variables}
    hot = data.draw(st.integers(0, 1))
    point.update({t: Fraction(int(j == hot)) for j, t in enumerate(net.targets)})
    ev = PointEvaluator(net.definitions(), point)
    with mpmath.workdps(60):
        logits = [mpf(ev(Symbol(f"a2_{j}"))) for j in (1, 2)]
        soft = [mpmath.exp(v) / mpmath.fsum(mpmath.exp(u) for u in logits) for v in logits]
        for j in (1, 2):
            assert same(ev(d(f"z2_{j}")), soft[j - 1] - int(j - 1 == hot))


def test_mlp_adjoints_sum_over_consumers():
    net = mlp([2, 2, 2], "relu")
    bw = net.backward()
    dC_da11 = bw.definitions[d("a1_1")]
    assert dC_da11 == d("z2_1") * Symbol("W1_11") + d("z2_2") * Symbol("W1_12")
    assert d("a1_1") in bw.compact()          # used twice: named in the output
    assert bw.gradients[Symbol("W0_21")] == d("z1_1") * Symbol("x2")


# --- explicit forward equations (needs derivcheck.parsing) --------------------------------

FORWARDS = [
    (["z1 = w1*x + b1", "h = relu(z1)", "yhat = w2*h + b2"], "x", "half_squared"),
    (["z = w1*x1 + w2*x2", "yhat = sigmoid(z)"], "x1,x2", "bce"),
    (["u = w*x", "v = tanh(u) + u**2", "yhat = v*w"], "x", "squared"),
    (["h1 = relu(w1*x)", "h2 = relu(w2*x)", "yhat = h1 + h2*h1"], "x", "half_squared"),
]


@pytest.mark.parametrize("equations, inputs, loss", FORWARDS)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_forward_networks_match_sympy_diff(equations, inputs, loss, data):
    from derivcheck.core.network import forward

    net = forward(equations, inputs=inputs, loss=loss)
    point = {v: data.draw(small) for v in net.variables}
    if loss == "bce":
        point[Symbol("y")] = data.draw(st.fractions(0, 1, max_denominator=4))
    check_gradients(net, point)


# --- structure: the seed answer's forms ------------------------------------------------------

def test_seed_one_layer_gradient_structurally():
    W0, x, y = symbols("W0 x y")
    assert chain(["W0"], "relu").gradient("W0") == (ReLU(W0 * x) - y) * Step(W0 * x) * x


def test_two_layer_expanded_gradient_structurally():
    w1, w2, x, y = symbols("w1 w2 x y")
    a1 = ReLU(w1 * x)
    a2 = ReLU(w2 * a1)
    net = chain(["w1", "w2"], "relu")
    assert net.gradient("w2") == (a2 - y) * Step(w2 * a1) * a1
    assert net.gradient("w1") == (a2 - y) * Step(w2 * a1) * w2 * Step(w1 * x) * x


@pytest.mark.parametrize("weights", [["w1", "w2", "w3"], ["W0", "W1", "W2"]])
def test_three_layer_inline_forms_are_the_seed_equations(weights):
    net = chain(weights, "relu")
    bw = net.backward()
    w = [Symbol(n) for n in weights]
    z1, z2, z3, a1, a2, a3, x, y = symbols("z1 z2 z3 a1 a2 a3 x y")
    assert bw.compact() == {
        d("z3"): (a3 - y) * Step(z3),
        d("z2"): d("z3") * w[2] * Step(z2),
        d("z1"): d("z2") * w[1] * Step(z1),
    }
    assert net.gradient(weights[0], form="named") == d("z1") * x
    assert net.gradient(weights[1], form="named") == d("z2") * a1
    assert net.gradient(weights[2], form="named") == d("z3") * a2
    assert net.gradient(weights[0], form="inline") == (
        (a3 - y) * Step(z3) * w[2] * Step(z2) * w[1] * Step(z1) * x)


def test_compact_with_biases_names_each_layer_once():
    net = chain(["w1", "w2"], "sigmoid", biases=["b1", "b2"])
    comp = net.backward().compact()
    assert set(comp) == {d("z1"), d("z2")}
    assert net.gradient("b1", form="named") == d("z1")
    z1, z2 = symbols("z1 z2")
    assert comp[d("z1")] == d("z2") * Symbol("w2") * Sigmoid(z1) * (1 - Sigmoid(z1))


def test_prelu_parameter_gradient_sums_over_layers():
    net = chain(["w1", "w2"], "prelu(p)")
    g = net.gradient("p", form="named")
    z1, z2 = symbols("z1 z2")
    assert g == d("a1") * (z1 - ReLU(z1)) + d("a2") * (z2 - ReLU(z2))


def test_input_gradient_is_offered():
    net = chain(["w1"], "relu")
    assert net.gradient("x", form="named") == d("z1") * Symbol("w1")


def test_gradient_forms_and_unknown_names():
    net = chain(["w1", "w2"], "relu")
    with pytest.raises(UsageError) as err:
        net.gradient("w1", form="pretty")
    assert "inline" in err.value.hint and isinstance(err.value, ValueError)
    with pytest.raises(SpecError) as err:
        net.gradient("w3")
    assert err.value.suggestion in {"w1", "w2"}
    assert net.parameter("W1") == Symbol("w1")     # one match up to case


# --- size: linear in depth, expand refuses when quadratic --------------------------------

def test_expand_refuses_a_deep_chain():
    net = chain([f"w{k}" for k in range(1, 301)], "relu")
    with pytest.raises(LimitError) as err:
        net.gradient("w1")
    assert "limit" in err.value.message
    assert err.value.kind == "limit_exceeded"
    # ... while the inline form is there, linear in depth
    g = net.gradient("w1", form="inline")
    assert tree_size(g) < 10 * 300


def test_expand_limit_is_a_parameter():
    net = chain(["w1", "w2", "w3"], "relu")
    bw = net.backward()
    with pytest.raises(LimitError):
        bw.expand(bw.gradients[Symbol("w1")], limit=10)
    assert bw.expand(bw.gradients[Symbol("w1")]) == net.gradient("w1")


def compact_size(depth):
    net = chain([f"w{k}" for k in range(1, depth + 1)], "relu")
    bw = net.backward()
    total = sum(tree_size(e) for e in bw.compact().values())
    return total + sum(tree_size(g) for g in bw.gradients.values())


def test_all_definitions_and_gradients_are_linear_in_depth():
    s100, s200 = compact_size(100), compact_size(200)
    assert s200 < 3 * s100
    assert s200 < 2.2 * s100


def test_deep_chain_backward_and_inline_do_not_recurse(monkeypatch):
    """Past the input limit on purpose: the machinery itself must stay iterative."""
    monkeypatch.setattr(limits, "MAX_DEPTH", 5_000)
    depth = 2000
    net = chain([f"w{k}" for k in range(1, depth + 1)], "relu")
    g = net.gradient("w1", form="inline")
    assert len(g.atoms(Step)) == depth
    size = tree_size(net.backward().gradients[Symbol("w1")], net.definitions())
    assert size > depth


def test_tree_size():
    x, y = symbols("x y")
    assert tree_size(x) == 1
    assert tree_size(x * y) == 3
    assert tree_size(Symbol("q"), {Symbol("q"): x * y}) == 3


# --- kink conventions flow through -----------------------------------------------------------

def test_torch_profile_uses_iverson_brackets():
    net = chain(["w1", "w2"], "relu")
    bw = net.backward("torch")
    z1, z2 = symbols("z1 z2")
    assert bw.definitions[d("z1")] == d("a1") * IsPos(z1)
    assert not any(e.has(Step) for e in bw.definitions.values())
    assert net.gradient("w1", convention="torch").has(IsPos)
    assert not net.gradient("w1", convention="torch").has(Step)
    assert net.backward("any").definitions[d("z1")] == d("a1") * Step(z1)


def test_jax_leaky_uses_nonneg_bracket():
    net = chain(["w1"], "leaky_relu(1/5)")
    got = net.backward("jax").definitions[d("z1")]
    assert got == d("a1") * (Rational(1, 5) + Rational(4, 5) * IsNonNeg(Symbol("z1")))


@pytest.mark.parametrize("conv, expected", [
    ("torch", 0), ("jax", 0), ("tensorflow", 0),
])
def test_profile_gradient_at_dead_kink(conv, expected):
    net = chain(["w1"], "relu")
    point = {Symbol("w1"): Fraction(0), Symbol("x"): Fraction(2), Symbol("y"): Fraction(1)}
    ev = PointEvaluator(net.definitions(conv), point)
    assert ev(d("w1")) == expected


@pytest.mark.parametrize("c", C_VALUES)
def test_step_convention_gradient_at_kink_is_c_times_chain_rule(c):
    net = chain(["w1"], "relu")
    point = {Symbol("w1"): Fraction(0), Symbol("x"): Fraction(2), Symbol("y"): Fraction(1)}
    ev = PointEvaluator(net.definitions(), point, step0=c)
    assert ev(d("w1")) == (0 - 1) * c * 2


@pytest.mark.parametrize("c", C_VALUES)
def test_after_a_dead_relu_the_gradient_does_not_depend_on_c(c):
    """Bias-free chain: z2 = w2 * relu(z1) is exactly 0 once z1 < 0; the gradient is 0."""
    net = chain(["w1", "w2", "w3"], "relu")
    point = {Symbol("w1"): Fraction(-1), Symbol("w2"): Fraction(2), Symbol("w3"): Fraction(3),
             Symbol("x"): Fraction(1), Symbol("y"): Fraction(1)}
    ev = PointEvaluator(net.definitions(), point, step0=c)
    for p in net.params:
        assert ev(d(p)) == 0


@pytest.mark.torch
@pytest.mark.parametrize("values", [
    dict(w1=0, w2=2, x=1, y=1),          # z1 = 0
    dict(w1=1, w2=0, x=1, y=1),          # z2 = 0
    dict(w1=2, w2=-1, x=Fraction(1, 2), y=Fraction(-1, 2)),
])
def test_torch_profile_matches_torch_autograd(values):
    torch = pytest.importorskip("torch")
    net = chain(["w1", "w2"], "leaky_relu(1/5),relu")
    point = {Symbol(k): Fraction(v) for k, v in values.items()}
    ev = PointEvaluator(net.definitions("torch"), point)
    t = {k: torch.tensor(float(v), dtype=torch.float64, requires_grad=True)
         for k, v in values.items()}
    a1 = torch.nn.functional.leaky_relu(t["w1"] * t["x"], 0.2)
    a2 = torch.relu(t["w2"] * a1)
    ((t["y"] - a2) ** 2 / 2).backward()
    for p in ("w1", "w2", "x"):
        assert abs(float(ev(d(p))) - t[p].grad.item()) < 1e-12, p


# --- the building blocks -----------------------------------------------------------------------

@pytest.mark.parametrize("expr, u, expected", [
    (ReLU(Symbol("w") * Symbol("x")) ** 2, "w",
     2 * Symbol("x") * ReLU(Symbol("w") * Symbol("x")) * Step(Symbol("w") * Symbol("x"))),
    (Symbol("a") * Symbol("b") + Symbol("b"), "b", Symbol("a") + 1),
    (Symbol("a"), "a", 1),
    (Symbol("a"), "b", 0),
    (sympy.exp(2 * Symbol("a")), "a", 2 * sympy.exp(2 * Symbol("a"))),
    (Symbol("a") ** Symbol("b"), "b", Symbol("a") ** Symbol("b") * sympy.log(Symbol("a"))),
    (LeakyReLU(Symbol("z"), Symbol("s")), "s", Symbol("z") - ReLU(Symbol("z"))),
])
def test_local_derivative(expr, u, expected):
    got = local_derivative(expr, Symbol(u), get_convention("any"))
    assert sympy.expand(got - expected) == 0


def test_local_derivative_uses_the_convention():
    z = Symbol("z")
    assert local_derivative(ReLU(2 * z), z, get_convention("torch")) == 2 * IsPos(2 * z)


def test_backward_on_a_graph_directly():
    g = build_graph(NetworkSpec.from_dict({"weights": ["w1", "w2"], "activations": "relu"}))
    bw = backward(g)
    assert set(bw.gradients) == {Symbol("w1"), Symbol("w2"), Symbol("x")}
    assert bw.definitions[d("a2")] == Symbol("a2") - Symbol("y")
    assert d("C") not in bw.definitions         # the loss's adjoint is 1, not a definition
    assert bw.adjoints[Symbol("z1")] == d("z1")


def test_adjoint_name():
    assert adjoint_name(Symbol("z2")) == "dC/dz2"
    assert adjoint_name("W0_12") == "dC/dW0_12"


def test_every_activation_backpropagates():
    """One layer of each table entry: the reference equals diff of the substituted loss."""
    from derivcheck.core.activations import activation_names

    for name in activation_names():
        spec = "prelu(p)" if name == "prelu" else name
        act = parse_activation(spec)
        net = chain(["w1"], spec, biases=["b1"])
        point = {v: Fraction(2, 3) for v in net.variables}
        point[Symbol("w1")] = Fraction(-5, 4) if act.kind.kinks else Fraction(3, 2)
        kink = check_gradients(net, point) if name != "necro_relu" else None
        assert not kink, name
