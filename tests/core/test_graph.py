"""derivcheck.core.graph: forward equations, names of intermediates, clashes, MLP naming."""
import pytest
import sympy
from sympy import Symbol, symbols

from derivcheck.errors import SpecError
from derivcheck.core.functions import PReLU, ReLU, Sigmoid
from derivcheck.core.graph import build_graph, product
from derivcheck.core.network import chain, mlp
from derivcheck.core.spec import NetworkSpec


def equations(net):
    return [(str(n.symbol), str(n.expr)) for n in net.graph.nodes]


def names(xs):
    return [str(x) for x in xs]


# --- chains ------------------------------------------------------------------------------

def test_chain_equations_and_roles():
    net = chain(["w1", "w2"], "relu")
    assert equations(net) == [("z1", "w1*x"), ("a1", "ReLU(z1)"), ("z2", "a1*w2"),
                              ("a2", "ReLU(z2)"), ("C", "(-a2 + y)**2/2")]
    assert [n.role for n in net.graph.nodes] == ["pre", "act", "pre", "act", "loss"]
    assert [n.layer for n in net.graph.nodes] == [1, 1, 2, 2, None]
    assert names(net.params) == ["w1", "w2"]
    assert names(net.inputs) == ["x"] and names(net.targets) == ["y"]
    assert net.graph.outputs == [Symbol("a2")] and net.graph.loss == Symbol("C")
    assert net.graph.depth == 2


def test_chain_aliases_r_a0_yhat():
    ns = chain(["w1", "w2", "w3"], "relu").namespace
    x, a1, a3 = symbols("x a1 a3")
    assert ns.lookup("r1") == a1 and ns.lookup("r3") == a3
    assert ns.lookup("a0") == x
    assert ns.lookup("yhat") == a3
    assert ns.roles["w2"] == "parameter" and ns.roles["x"] == "input"
    assert ns.roles["y"] == "target" and ns.roles["z2"] == "intermediate"
    assert "C" not in ns.symbols


@pytest.mark.parametrize("weights, expected_z1", [
    (["w3", "w2", "w1"], "w3*x"),     # input side first, whatever the numbers say
    (["W0", "W1"], "W0*x"),
    (["alpha", "beta"], "alpha*x"),
])
def test_chain_user_weight_names(weights, expected_z1):
    net = chain(weights, "relu")
    assert names(net.params) == weights
    assert equations(net)[0] == ("z1", expected_z1)
    assert net.graph.definitions[Symbol("z2")] == Symbol("a1") * Symbol(weights[1])


def test_seed_names_W0_W1():
    net = chain(["W0", "W1"], "relu")
    assert equations(net)[:4] == [("z1", "W0*x"), ("a1", "ReLU(z1)"), ("z2", "W1*a1"),
                                  ("a2", "ReLU(z2)")]


def test_chain_biases():
    net = chain(["w1", "w2"], "sigmoid", biases=["b1", "b2"])
    assert equations(net)[0] == ("z1", "b1 + w1*x")
    assert equations(net)[1] == ("a1", "Sigmoid(z1)")
    assert equations(net)[2] == ("z2", "a1*w2 + b2")
    assert names(net.params) == ["w1", "b1", "w2", "b2"]
    z1 = net.graph.nodes[0]
    assert z1.linear == {Symbol("w1"): Symbol("x"), Symbol("x"): Symbol("w1"), Symbol("b1"): 1}


def test_chain_input_and_target_names():
    net = chain(["w1"], "relu", input="u", target="t")
    u, w1, t, a1 = symbols("u w1 t a1")
    assert list(net.graph.definitions.values()) == [u * w1, ReLU(Symbol("z1")),
                                                     (t - a1) ** 2 / 2]
    assert net.namespace.lookup("a0") == Symbol("u")


def test_per_layer_activations_and_prelu_parameter():
    net = chain(["w1", "w2", "w3"], "prelu(p),leaky_relu(1/5),sigmoid")
    nodes = net.graph.nodes
    assert nodes[1].expr == PReLU(Symbol("z1"), Symbol("p"))
    assert str(nodes[3].expr) == "LeakyReLU(z2, 1/5)"
    assert nodes[5].expr == Sigmoid(Symbol("z3"))
    assert names(net.params) == ["w1", "w2", "w3", "p"]
    assert [n.activation.name for n in nodes if n.role == "act"] == [
        "prelu", "leaky_relu", "sigmoid"]


def test_shared_prelu_parameter_is_one_parameter():
    net = chain(["w1", "w2"], "prelu(p)")
    assert names(net.params) == ["w1", "w2", "p"]


# --- clashes -----------------------------------------------------------------------------

def test_weights_named_like_pre_activations_move_z_to_another_letter():
    net = chain(["z1", "z2"], "relu")
    assert equations(net)[:3] == [("s1", "x*z1"), ("a1", "ReLU(s1)"), ("s2", "a1*z2")]
    ns = net.namespace
    assert ns.roles["z1"] == "parameter"          # offered once, as the weight
    assert ns.lookup("z1") == Symbol("z1")
    assert ns.lookup("s2") == Symbol("s2") and ns.roles["s2"] == "intermediate"


def test_weights_named_like_activations_move_a_to_h():
    net = chain(["a1", "a2"], "relu")
    assert equations(net)[:2] == [("z1", "a1*x"), ("h1", "ReLU(z1)")]
    ns = net.namespace
    assert ns.roles["a1"] == "parameter"
    assert ns.lookup("r1") == Symbol("h1") and ns.lookup("yhat") == Symbol("h2")
    assert ns.lookup("h0") == Symbol("x")


def test_weights_named_r_drop_the_r_aliases():
    ns = chain(["r1", "r2"], "relu").namespace
    assert ns.lookup("r1") == Symbol("r1") and ns.roles["r1"] == "parameter"
    assert ns.lookup("a1") == Symbol("a1")


def test_input_named_a0_moves_activation_letter():
    net = chain(["w1"], "relu", input="a0")
    assert equations(net)[1] == ("h1", "ReLU(z1)")
    assert net.namespace.roles["a0"] == "input"


def test_loss_symbol_avoids_user_names():
    net = chain(["C", "J"], "relu")
    assert net.graph.loss == Symbol("L")
    assert equations(net)[-1] == ("L", "(-a2 + y)**2/2")


@pytest.mark.parametrize("make, message", [
    (lambda: chain(["w1", "w1"], "relu"), "used twice"),
    (lambda: chain(["w1", "x"], "relu"), "used twice"),
    (lambda: chain(["w1"], "relu", biases=["y"]), "used twice"),
    (lambda: chain(["w1"], "prelu(x)"), "'x'"),
    (lambda: chain(["w1"], "prelu(w1)"), "'w1'"),
    (lambda: mlp([2, 1], inputs=["z1_1", "x2"]), "'z1_1'"),
    (lambda: mlp([2, 1], inputs=["W0_11", "x2"]), "'W0_11'"),
    (lambda: mlp([2, 1], inputs=["x", "x"]), "used twice"),
    (lambda: mlp([1, 1], "prelu(W0_11)"), "'W0_11'"),
    (lambda: mlp([1, 1], "prelu(x)"), "'x'"),
    (lambda: mlp([2, 2, 1], "prelu(b1_1)", bias=True), "'b1_1'"),
    (lambda: chain(["w1", "w2"], "relu,bogus"), "unknown activation"),
])
def test_name_clashes_are_errors_not_silent_merges(make, message):
    with pytest.raises(SpecError) as err:
        make()
    assert message in err.value.message


def test_mlp_target_named_C_gets_another_loss_symbol():
    net = mlp([1, 1], targets=["C"])
    assert net.graph.loss != Symbol("C")
    assert net.graph.nodes[-1].expr.has(Symbol("C"))


def test_prelu_parameter_named_like_a_free_intermediate_letter_is_fine():
    net = chain(["w1"], "prelu(z1)")
    assert equations(net)[:2] == [("s1", "w1*x"), ("a1", "PReLU(s1, z1)")]
    assert names(net.params) == ["w1", "z1"]


# --- MLPs --------------------------------------------------------------------------------

def test_mlp_naming_2_2_1():
    net = mlp([2, 2, 1], "relu")
    assert equations(net) == [
        ("z1_1", "W0_11*x1 + W0_21*x2"), ("a1_1", "ReLU(z1_1)"),
        ("z1_2", "W0_12*x1 + W0_22*x2"), ("a1_2", "ReLU(z1_2)"),
        ("z2_1", "W1_11*a1_1 + W1_21*a1_2"), ("a2_1", "ReLU(z2_1)"),
        ("C", "(-a2_1 + y)**2/2")]
    assert names(net.params) == ["W0_11", "W0_21", "W0_12", "W0_22", "W1_11", "W1_21"]
    assert names(net.inputs) == ["x1", "x2"] and names(net.targets) == ["y"]
    ns = net.namespace
    assert ns.lookup("yhat") == Symbol("a2_1")
    assert ns.lookup("r1_2") == Symbol("a1_2") and ns.lookup("a0_2") == Symbol("x2")


def test_mlp_W0_12_connects_input_1_to_unit_2():
    net = mlp([2, 3, 1])
    z12 = net.graph.definitions[Symbol("z1_2")]
    assert z12.coeff(Symbol("x1")) == Symbol("W0_12")
    assert z12.coeff(Symbol("x2")) == Symbol("W0_22")


def test_mlp_biases_and_multiple_outputs():
    net = mlp([2, 3, 2], "sigmoid", bias=True, loss="cross_entropy")
    defs = net.graph.definitions
    assert str(defs[Symbol("z1_3")]) == "W0_13*x1 + W0_23*x2 + b1_3"
    assert str(defs[Symbol("z2_2")]) == "W1_12*a1_1 + W1_22*a1_2 + W1_32*a1_3 + b2_2"
    assert names(net.targets) == ["y1", "y2"]
    assert len(net.params) == 2 * 3 + 3 + 3 * 2 + 2
    assert {"b1_1", "b1_2", "b1_3", "b2_1", "b2_2"} <= set(names(net.params))
    ns = net.namespace
    assert ns.lookup("yhat1") == Symbol("a2_1") and ns.lookup("yhat2") == Symbol("a2_2")
    assert ns.lookup("yhat") is None


def test_mlp_wide_layers_use_separated_indices():
    net = mlp([10, 1])
    assert names(net.params)[:2] == ["W0_1_1", "W0_2_1"]


def test_mlp_prelu_parameter_once():
    net = mlp([2, 2, 1], "prelu(p)")
    assert names(net.params).count("p") == 1
    assert net.graph.definitions[Symbol("a2_1")] == PReLU(Symbol("z2_1"), Symbol("p"))


def test_mlp_input_and_target_names():
    net = mlp([2, 1], inputs=["u", "v"], targets=["t"])
    assert equations(net)[0] == ("z1_1", "W0_11*u + W0_21*v")
    with pytest.raises(SpecError):
        mlp([2, 1], inputs=["u"])


def test_graph_is_linear_in_depth():
    g = build_graph(NetworkSpec.from_dict({"weights": [f"w{k}" for k in range(1, 401)]}))
    assert len(g.nodes) == 2 * 400 + 1
    assert all(len(n.expr.free_symbols) <= 2 for n in g.nodes)


def test_activation_nodes_carry_their_table_entry():
    net = chain(["w1"], "relu")
    act = net.graph.node(Symbol("a1"))
    assert act.activation.name == "relu" and act.expr == ReLU(Symbol("z1"))
    assert net.namespace.activations["z1"].name == "relu"
    assert net.namespace.default_activation.name == "relu"
    mixed = chain(["w1", "w2"], "relu,tanh").namespace
    assert mixed.default_activation is None


# --- the fast product and the paused collector ------------------------------------------

@pytest.mark.parametrize("a, b", [
    (Symbol("w2"), Symbol("a1")), (Symbol("a1"), Symbol("w2")), (Symbol("dC/dz3"), Symbol("w3")),
    (Symbol("dC/da1"), ReLU(Symbol("z1"))), (Symbol("x"), Sigmoid(Symbol("z10"))),
    (Symbol("W0_12"), Symbol("x1")), (Symbol("b"), Symbol("B")), (Symbol("x"), Symbol("x")),
    (Symbol("x"), sympy.Integer(2)), (Symbol("x"), Symbol("y") + 1), (Symbol("x"), sympy.S.One),
    (ReLU(Symbol("z") + 1), Symbol("w")), (Symbol("x", positive=True), Symbol("y")),
    (Symbol("A", commutative=False), Symbol("B", commutative=False)),
])
def test_product_is_mul(a, b):
    got = product(a, b)
    want = sympy.Mul(a, b)
    assert got == want and got.args == want.args and type(got) is type(want)
    assert hash(got) == hash(want) and got.is_commutative == want.is_commutative


def test_build_and_backward_leave_the_collector_as_they_found_it():
    import gc

    assert gc.isenabled()
    net = chain(["w1", "w2"], "relu")
    net.backward()
    assert gc.isenabled()
    with pytest.raises(SpecError):
        chain(["w1", "w1"], "relu")
    assert gc.isenabled()
    gc.disable()
    try:
        chain(["w1"], "relu").backward()
        assert not gc.isenabled()
    finally:
        gc.enable()
