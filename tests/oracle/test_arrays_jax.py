"""The oracle at training sizes against jax (float64): random networks off the kinks to
1e-12 relative, and every piecewise layer on its kink under jax's convention."""
import numpy as np
import pytest

import derivcheck
from derivcheck.core.network import mlp
from derivcheck.oracle.array_points import place_kinks, random_arrays
from derivcheck.oracle.arrays import ArrayOracle, at_kink

jax = pytest.importorskip("jax")
jnp = jax.numpy
nn = jax.nn

ACTS = {"relu": nn.relu, "identity": lambda z: z, "sigmoid": nn.sigmoid, "tanh": jnp.tanh,
        "leaky_relu(0.25)": lambda z: nn.leaky_relu(z, 0.25), "elu": nn.elu,
        "gelu": lambda z: nn.gelu(z, approximate=False), "gelu_tanh": nn.gelu,
        "hardtanh": nn.hard_tanh, "swish": nn.silu, "softplus": nn.softplus,
        "relu6": nn.relu6, "abs": jnp.abs}


def jax_gradients(net, arrays: dict, acts: list):
    """jax.grad (float64) of the ng-style network (X columns, W out x in)."""
    def loss(p):
        a = p["X"]
        for l in range(1, net.L + 1):
            z = p[f"W{l}"] @ a + p[f"b{l}"]
            a = ACTS[acts[l - 1]](z)
        y, m = p["Y"], p["Y"].shape[1]
        if net.loss == "cross_entropy":
            value = -jnp.sum(y * nn.log_softmax(z, axis=0))
        elif net.loss == "bce":
            value = -jnp.sum(y * jnp.log(a) + (1 - y) * jnp.log(1 - a))
        else:
            value = jnp.sum((a - y) ** 2) * (0.5 if net.loss == "half_squared" else 1.0)
        return value / m
    with jax.enable_x64(True):
        grads = jax.grad(loss)({k: jnp.asarray(np.asarray(v, dtype=np.float64))
                                for k, v in arrays.items()})
        return {k: np.asarray(v) for k, v in grads.items() if k[0] in "Wb"}


def close(exact, theirs, rtol=1e-12) -> bool:
    scale = max(np.abs(exact).max(), 1e-300)
    return bool(np.all(np.abs(exact - theirs) <= rtol * scale))


CASES = [(["relu", "identity"], "cross_entropy"), (["sigmoid", "sigmoid"], "bce"),
         (["tanh", "relu"], "half_squared"), (["leaky_relu(0.25)", "identity"], "squared"),
         (["elu", "gelu"], "squared"), (["hardtanh", "swish"], "half_squared"),
         (["softplus", "relu6"], "half_squared"), (["abs", "gelu_tanh"], "squared")]


@pytest.mark.parametrize("acts,loss", CASES)
def test_random_networks_agree_with_jax_off_the_kinks(acts, loss):
    rng = np.random.default_rng(len(acts[0]) * 7 + len(loss))
    # one shape for every case: jax compiles each operation once per shape
    net = mlp([4, 3, 2], ",".join(acts), bias=True, loss=loss, batch=3, style="ng")
    arrays = random_arrays(net, 5)
    arrays = {k: (v + rng.normal(size=np.shape(v)) / 8 if k[0] in "Wb" else v)
              for k, v in arrays.items()}
    g = derivcheck.Oracle(net, "jax").gradients(arrays)
    assert not at_kink(ArrayOracle(net, "jax"), arrays)
    theirs = jax_gradients(net, arrays, acts)
    for k in theirs:
        assert close(g.float[k], theirs[k]), k


@pytest.mark.parametrize("acts", [["relu", "leaky_relu(0.25)"], ["abs", "relu6"],
                                  ["hardtanh", "relu"]])
def test_on_every_piecewise_layers_kink_exactly_jaxs_value(acts):
    net = mlp([4, 3, 3, 2], ",".join(acts) + ",identity", bias=True, loss="half_squared",
              batch=3, oracle=True, style="ng")
    arrays, sites = place_kinks(net, random_arrays(net, 2), "jax")
    assert [s[0] for s in sites] == ["Z1", "Z2"]
    oracle = ArrayOracle(net, "jax")
    assert at_kink(oracle, arrays)
    g = oracle.gradients(arrays)
    theirs = jax_gradients(net, arrays, [*acts, "identity"])
    for k in theirs:
        assert close(g.float[k], theirs[k], rtol=1e-15), k
