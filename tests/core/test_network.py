"""derivcheck.core.network: the Network users hold (chains, MLPs, forward equations, TOML)."""
from fractions import Fraction

import pytest
import sympy
from sympy import Symbol, symbols

from derivcheck.errors import SpecError
from derivcheck.decide.evaluate import PointEvaluator
from derivcheck.core.functions import ReLU, Sigmoid, Step
from derivcheck.core.gradients import adjoint_name
from derivcheck.core.network import Network, chain, forward, from_dict, load, mlp

x, y, w1, w2, b1, b2 = symbols("x y w1 w2 b1 b2")


def d(name):
    return Symbol(adjoint_name(name))


def test_chain_basics():
    net = chain(["w1", "w2"], "relu", biases=["b1", "b2"])
    assert net.params == [w1, b1, w2, b2]
    assert net.inputs == [x] and net.targets == [y]
    assert net.variables == [x, w1, b1, w2, b2, y]
    assert repr(net).startswith("Network({'weights': ['w1', 'w2']")


def test_gradient_forms_agree():
    net = chain(["w1", "w2"], "relu")
    named = net.gradient("w1", form="named")
    inline = net.gradient("w1", form="inline")
    expanded = net.gradient("w1")
    assert named == d("z1") * x
    assert inline == w2 * x * (Symbol("a2") - y) * Step(Symbol("z1")) * Step(Symbol("z2"))
    assert not expanded.free_symbols - {w1, w2, x, y}
    point = {x: Fraction(1, 2), w1: Fraction(3), w2: Fraction(2), y: Fraction(1)}
    defs = net.definitions()
    ev = PointEvaluator(defs, point)
    assert ev(named) == ev(inline) == PointEvaluator({}, point)(expanded) == Fraction(2)


def test_definitions_are_in_evaluable_order():
    """Each definition uses only leaves and symbols defined before it."""
    net = chain(["w1", "w2", "w3"], "sigmoid", biases=["b1", "b2", "b3"])
    defs = net.definitions("torch")
    seen = set(net.variables)
    for sym, expr in defs.items():
        assert expr.free_symbols <= seen, sym
        seen.add(sym)
    assert list(defs)[:2] == [Symbol("z1"), Symbol("a1")]
    assert d("w1") in defs and d("b3") in defs and d("x") in defs


def test_contract_vector_example():
    """CONTRACT section 2: w1,w2 relu half_squared at x=1/2, w1=3, w2=2, y=1."""
    net = chain(["w1", "w2"], "relu")
    point = {x: Fraction(1, 2), w1: Fraction(3), w2: Fraction(2), y: Fraction(1)}
    ev = PointEvaluator(net.definitions("torch"), point)
    assert ev(Symbol("C")) == 2
    assert ev(d("w1")) == 2 and ev(d("w2")) == 3


def test_backward_is_cached_per_convention():
    net = chain(["w1"], "relu")
    assert net.backward("any") is net.backward("any")
    assert net.backward("torch") is net.backward("pytorch")
    assert net.backward("torch") is not net.backward("jax")


def test_loss_fully_substituted():
    net = chain(["w1"], "sigmoid", loss="bce")
    s = Sigmoid(w1 * x)
    assert net.loss() == -y * sympy.log(s) - (1 - y) * sympy.log(1 - s)


def test_namespace_offers_adjoints():
    ns = chain(["w1", "w2"], "relu").namespace
    assert ns.adjoints["z2"] == d("z2")
    assert ns.adjoints["w1"] == d("w1")
    assert ns.adjoints["yhat"] == d("a2")      # the alias stands for a2
    assert ns.adjoints["r1"] == d("a1")


def test_parameter_lookup_and_errors():
    net = chain(["W0", "W1"], "relu")
    assert net.parameter("W0") == Symbol("W0")
    assert net.parameter(Symbol("W1")) == Symbol("W1")
    assert net.parameter("x") == x
    assert net.parameter("w0") == Symbol("W0")              # one match up to case
    with pytest.raises(SpecError) as err:
        net.parameter("W2")
    assert "W0, W1" in err.value.hint and err.value.suggestion in {"W0", "W1"}
    with pytest.raises(SpecError):
        net.parameter("z1")                                    # not a parameter


def test_mlp_builder():
    net = mlp([2, 2, 1], "relu", bias=True, inputs=["u", "v"], targets=["t"])
    assert net.inputs == [Symbol("u"), Symbol("v")] and net.targets == [Symbol("t")]
    assert Symbol("b1_2") in net.params
    assert net.gradient("W1_21", form="named") == d("z2_1") * Symbol("a1_2")


def test_from_dict_and_load(tmp_path):
    data = {"weights": ["w1", "w2"], "activations": "relu,sigmoid", "loss": "bce"}
    net = from_dict(data)
    assert isinstance(net, Network) and net.spec.loss == "bce"
    path = tmp_path / "net.toml"
    path.write_text('[network]\nweights = ["w1", "w2"]\nactivations = "relu,sigmoid"\n'
                    'loss = "bce"\n')
    loaded = load(path)
    assert loaded.spec == net.spec
    assert loaded.gradient("w1") == net.gradient("w1")


def test_chain_defaults_are_the_contracts():
    net = chain(["w1"])
    assert net.spec.activations == ["relu"] and net.spec.loss == "half_squared"
    assert net.gradient("w1") == x * (ReLU(w1 * x) - y) * Step(w1 * x)


# --- forward equations ---------------------------------------------------------------------

def test_forward_network():
    net = forward(["z1 = w1*x + b1", "h = relu(z1)", "yhat = w2*h + b2"])
    assert set(net.params) == {w1, b1, w2, b2}
    assert net.inputs == [x] and net.targets == [y]
    act = net.graph.node(Symbol("h"))
    assert act.role == "act" and act.activation.name == "relu"
    z1, h, yhat = symbols("z1 h yhat")
    assert net.gradient("w1", form="inline") == w2 * x * (yhat - y) * Step(z1)
    assert net.gradient("w1") == (w2 * x * (b2 + w2 * ReLU(b1 + w1 * x) - y)
                                  * Step(b1 + w1 * x))
    assert net.gradient("b2", form="named") == d("yhat")


def test_forward_network_several_inputs_and_outputs():
    net = forward(["z = w1*x1 + w2*x2", "yhat1 = z", "yhat2 = -z"], inputs="x1,x2",
                  loss="cross_entropy")
    assert net.inputs == list(symbols("x1 x2"))
    assert net.targets == list(symbols("y1 y2"))
    assert net.graph.outputs == list(symbols("yhat1 yhat2"))


def test_forward_output_is_yhat_when_named():
    net = forward(["yhat = w*x", "extra = 2*yhat"])
    assert net.graph.outputs == [Symbol("yhat")]
    net = forward(["u = w*x", "out = u*u"])
    assert net.graph.outputs == [Symbol("out")]
    assert net.namespace.lookup("yhat") == Symbol("out")


@pytest.mark.parametrize("equations, fragment", [
    (["yhat = w*x", "yhat = 2*w*x"], "defined twice"),
    (["x = w", "yhat = x"], "defined twice"),
    (["y = w*x"], "defined twice"),
    (["h = relu(z1)", "z1 = w1*x", "yhat = w2*h"], "used before its own equation"),
    (["h = relu(h2)", "h2 = w*h", "yhat = h"], "used before its own equation"),
    (["h = w*h", "yhat = h"], "used before its own equation"),
])
def test_forward_errors(equations, fragment):
    with pytest.raises(SpecError) as err:
        forward(equations)
    assert fragment in err.value.message


def test_forward_out_of_order_would_have_lost_a_gradient():
    """Written in order, the same network has a non-zero gradient for w1."""
    net = forward(["z1 = w1*x", "h = relu(z1)", "yhat = w2*h"])
    point = {x: Fraction(1), w1: Fraction(2), w2: Fraction(3), y: Fraction(0)}
    assert PointEvaluator(net.definitions(), point)(d("w1")) == 18
