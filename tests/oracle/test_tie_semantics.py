"""max, min, clamp/clip, where and threshold as each framework differentiates them at a
tie, against torch (float64, CPU) and jax themselves (issue 19, "Framework semantics,
exactly"): torch.maximum/minimum and jnp.maximum/minimum/clip split a tie in half,
torch.clamp passes the gradient at both ends, where(z > 0, ...) and F.threshold give 0 and
where(z >= 0, ...) gives 1; relu'(0) stays 0."""
from fractions import Fraction

import pytest
from sympy import Symbol

import derivcheck
from derivcheck.core.network import forward
from derivcheck.oracle.adapters import compare_torch
from derivcheck.oracle.exact import Oracle
from derivcheck.oracle.points import sample_points

torch = pytest.importorskip("torch")
F = torch.nn.functional
pytestmark = pytest.mark.torch

X, Y = Fraction(7, 4), Fraction(-11, 4)
#: (the network's last equation, torch's yhat of z1, jax's (None: no jax op), the w1 values
#: at which z1 = w1 x sits on each kink)
OPS = [
    ("max(z1, 0)", lambda z: torch.maximum(z, torch.zeros_like(z)),
     lambda jnp, z: jnp.maximum(z, 0.0), [0]),
    ("max(0, z1)", lambda z: torch.maximum(torch.zeros_like(z), z),
     lambda jnp, z: jnp.maximum(0.0, z), [0]),
    ("torch.maximum(z1, 1)", lambda z: torch.maximum(z, torch.ones_like(z)),
     lambda jnp, z: jnp.maximum(z, 1.0), [Fraction(4, 7)]),
    ("min(z1, 0)", lambda z: torch.minimum(z, torch.zeros_like(z)),
     lambda jnp, z: jnp.minimum(z, 0.0), [0]),
    ("clamp(z1, -1/2, 1)", lambda z: torch.clamp(z, -0.5, 1.0),
     lambda jnp, z: jnp.clip(z, -0.5, 1.0), [Fraction(-2, 7), Fraction(4, 7)]),
    ("where(z1 > 0, z1, 0)", lambda z: torch.where(z > 0, z, torch.zeros_like(z)),
     lambda jnp, z: jnp.where(z > 0, z, 0.0), [0]),
    ("torch.where(z1 >= 0, z1, 0)", lambda z: torch.where(z >= 0, z, torch.zeros_like(z)),
     lambda jnp, z: jnp.where(z >= 0, z, 0.0), [0]),
    ("where(z1 < 1, 2*z1, z1 + 1)", lambda z: torch.where(z < 1, 2 * z, z + 1),
     lambda jnp, z: jnp.where(z < 1, 2 * z, z + 1), [Fraction(4, 7)]),
    ("threshold(z1, 1, 1)", lambda z: F.threshold(z, 1.0, 1.0), None, [Fraction(4, 7)]),
    ("relu(z1)", torch.relu, lambda jnp, z: __import__("jax").nn.relu(z), [0]),
]
IDS = [op[0] for op in OPS]


def _net(equation):
    return forward(["z1 = w1*x", f"yhat = {equation}"])


def _point(w1):
    return {"x": X, "w1": Fraction(w1), "y": Y}


def _torch_dw1(yhat_of, w1) -> float:
    w = torch.tensor(float(w1), dtype=torch.float64, requires_grad=True)
    ((yhat_of(w * float(X)) - float(Y)) ** 2 / 2).backward()
    return w.grad.item()


def _jax_dw1(yhat_of, w1) -> float:
    jax = pytest.importorskip("jax")
    with jax.enable_x64(True):
        g = jax.grad(lambda w: (yhat_of(jax.numpy, w * float(X)) - float(Y)) ** 2 / 2)
        return float(g(float(w1)))


def test_the_issue_example_max_z1_0_under_torch_is_2_40625():
    net = _net("max(z1, 0)")
    mine = Oracle(net, "torch").gradients(_point(0))["w1"]
    assert mine == Fraction(77, 32) == Fraction(2.40625)
    assert _torch_dw1(lambda z: torch.maximum(z, torch.zeros_like(z)), 0) == 2.40625
    # relu is not max: its kink takes the left side, 0, in torch and in derivcheck
    assert Oracle(_net("relu(z1)"), "torch").gradients(_point(0))["w1"] == 0
    assert _torch_dw1(torch.relu, 0) == 0.0


@pytest.mark.parametrize("equation, torch_of, jax_of, kinks", OPS, ids=IDS)
def test_exactly_torchs_value_on_every_kink_and_beside_it(equation, torch_of, jax_of, kinks):
    oracle = Oracle(_net(equation), "torch")
    for k in kinks:
        for w1 in (k, k - Fraction(1, 8), k + Fraction(1, 8)):
            mine = oracle.gradients(_point(w1))["w1"]
            assert float(mine) == _torch_dw1(torch_of, w1), (w1, mine)


@pytest.mark.parametrize("equation, torch_of, jax_of, kinks",
                         [op for op in OPS if op[2] is not None],
                         ids=[op[0] for op in OPS if op[2] is not None])
def test_exactly_jaxs_value_on_every_kink_and_beside_it(equation, torch_of, jax_of, kinks):
    oracle = Oracle(_net(equation), "jax")
    for k in kinks:
        for w1 in (k, k - Fraction(1, 8), k + Fraction(1, 8)):
            mine = oracle.gradients(_point(w1))["w1"]
            assert float(mine) == _jax_dw1(jax_of, w1), (w1, mine)


@pytest.mark.parametrize("equation", [op[0] for op in OPS])
def test_the_torch_adapter_computes_each_with_torchs_own_operation(equation):
    """compare_torch builds the network from the registry's torch operations
    (torch.maximum, torch.clamp, F.threshold, comparisons for where) and agrees at random
    points and on every kink."""
    result = compare_torch(_net(equation), points=3)
    assert result, str(result)


PLACED = [(op[0], op[3]) for op in OPS if "where" not in op[0]]


@pytest.mark.parametrize("equation, kinks", PLACED, ids=[p[0] for p in PLACED])
def test_kink_points_are_placed_on_each_tie(equation, kinks):
    placed = [p for p, at in sample_points(_net(equation), points=2, convention="torch")
              if at and p[Symbol("w1")] in kinks]
    assert placed, equation


def test_a_where_tie_is_no_kink_its_comparison_fixes_the_gradient():
    """where(z > 0, z, 0) at z = 0 has one gradient under every convention (the
    comparison's), so it is an ordinary point, as after a dead ReLU."""
    net = _net("where(z1 > 0, z1, 0)")
    for convention in ("any", "torch", "jax", "1"):
        oracle = Oracle(net, convention)
        assert not oracle.at_kink(_point(0))
        assert oracle.gradients(_point(0))["w1"] == 0


# --- the checker under each convention ---------------------------------------------------

NET = ["--forward", "z1 = w1*x", "--forward", "yhat = max(z1, 0)"]


@pytest.mark.parametrize("candidate, convention, verdict", [
    # max(0, z) is the ReLU function: the value may be written either way
    ("(max(w1*x, 0) - y)*step(w1*x)*x", "any", "equivalent"),
    ("(relu(w1*x) - y)*step(w1*x)*x", "any", "equivalent"),
    ("(max(0, w1*x) - y)*step(w1*x)*x", "1/2", "equivalent"),
    # right only under one tie value: equivalent almost everywhere, naming a tie
    ("(relu(w1*x) - y)*[w1*x > 0]*x", "any", "equivalent_almost_everywhere"),
    ("(relu(w1*x) - y)*[w1*x > 0]*x", "torch", "equivalent_almost_everywhere"),
    ("(relu(w1*x) - y)*([w1*x > 0] + [w1*x >= 0])/2*x", "torch", "equivalent"),
    ("(relu(w1*x) - y)*([w1*x > 0] + [w1*x >= 0])/2*x", "jax", "equivalent"),
    ("(relu(w1*x) - y)*[w1*x >= 0]*x", "tensorflow", "equivalent"),
    ("(relu(w1*x) - y)*x", "any", "not_equivalent"),
])
def test_the_checker_on_a_network_built_with_max(candidate, convention, verdict):
    net = _net("max(z1, 0)")
    result = derivcheck.check(net, candidate, wrt="w1", convention=convention)
    assert result.verdict == verdict, str(result)


def test_a_relu_network_still_accepts_max_0_z_in_a_candidate():
    net = _net("relu(z1)")
    for convention in ("any", "torch", "jax"):
        gate = "step(w1*x)" if convention == "any" else "[w1*x > 0]"
        result = derivcheck.check(net, f"(max(0, w1*x) - y)*{gate}*x", wrt="w1",
                                  convention=convention)
        assert result.verdict == "equivalent", (convention, str(result))


def test_vectors_on_the_issue_network_give_torchs_value_at_the_tie(capsys):
    import json

    from derivcheck.app.cli import main
    assert main(["vectors", "--forward", "z1 = w1*x", "--forward", "yhat = max(z1, 0)",
                 "--input", "x", "--target", "y", "--kinks", "--points", "1"]) == 0
    vectors = json.loads(capsys.readouterr().out)["vectors"]
    on_tie = [v for v in vectors if v["at_kink"]]
    assert [v["point"]["w1"] for v in on_tie] == ["0"]
    assert on_tie[0]["gradient"]["w1"] == "77/32"        # 2.40625, torch.maximum's


@pytest.mark.parametrize("w1", [Fraction(-2, 7), Fraction(4, 7), Fraction(1, 7)])
def test_clamp_with_bounds_that_are_parameters_against_torch_and_jax(w1):
    """clamp(z, lo, hi) with lo and hi learnable: on each end torch gives the gradient to
    z (none to the bound), jnp.clip splits it in half."""
    net = _net("clamp(z1, lo, hi)")
    point = {**_point(w1), "lo": Fraction(-1, 2), "hi": Fraction(1)}
    leaves = {k: torch.tensor(float(v), dtype=torch.float64, requires_grad=True)
              for k, v in point.items()}
    yhat = torch.clamp(leaves["w1"] * leaves["x"], leaves["lo"], leaves["hi"])
    ((yhat - leaves["y"]) ** 2 / 2).backward()
    mine = Oracle(net, "torch").gradients(point)
    for p in ("w1", "lo", "hi"):
        assert float(mine[p]) == leaves[p].grad.item(), p

    jax = pytest.importorskip("jax")
    with jax.enable_x64(True):
        def loss(w, lo, hi):
            return (jax.numpy.clip(w * float(X), lo, hi) - float(Y)) ** 2 / 2
        theirs = jax.grad(loss, argnums=(0, 1, 2))(float(w1), -0.5, 1.0)
    mine = Oracle(net, "jax").gradients(point)
    assert [float(mine[p]) for p in ("w1", "lo", "hi")] == [float(t) for t in theirs]
