"""The oracle at training sizes: exact matrices against torch (float64) and jax."""
from fractions import Fraction

import numpy as np
import pytest

import derivcheck
from derivcheck.core.network import mlp
from derivcheck.errors import SpecError
from derivcheck.oracle.array_points import place_kinks, random_arrays
from derivcheck.oracle.arrays import ArrayOracle, at_kink
from derivcheck.oracle.dyadic import Mat

torch = pytest.importorskip("torch")
F = torch.nn.functional

ACTS = {"relu": torch.relu, "identity": lambda z: z, "sigmoid": torch.sigmoid,
        "tanh": torch.tanh, "leaky_relu(0.01)": lambda z: F.leaky_relu(z, 0.01),
        "elu": F.elu, "gelu": F.gelu, "hardtanh": F.hardtanh, "swish": F.silu,
        "softplus": lambda z: F.softplus(z, threshold=1e300), "relu6": F.relu6,
        "abs": torch.abs, "leaky_relu(0.25)": lambda z: F.leaky_relu(z, 0.25)}


def torch_gradients(net, arrays: dict, acts: list):
    """Autograd (float64) on the canonical layout; gradients in the style's layout."""
    T = {k: torch.tensor(np.asarray(v, dtype=np.float64), requires_grad=True)
         for k, v in arrays.items()}

    def canon(key):
        t = T[net.name(key)]
        view = net.view(key)
        return t.T if view == "T" else t.reshape(-1, 1) if view == "vec" else t
    a = canon(("X",))
    for l in range(1, net.L + 1):
        z = canon(("W", l)) @ a + (canon(("b", l)) if net.has_bias(l) else 0)
        a = torch.softmax(z, 0) if acts[l - 1] == "softmax" else ACTS[acts[l - 1]](z)
    y = canon(("Y",))
    m = y.shape[1]
    if net.loss == "cross_entropy":
        loss = (-(y * torch.log(a)).sum() if acts[-1] == "softmax"
                else F.cross_entropy(z.T, y.T, reduction="sum"))
    elif net.loss == "bce":
        loss = F.binary_cross_entropy(a, y, reduction="sum")
    elif net.loss == "mse":
        loss = ((a - y) ** 2).sum() / y.shape[0]
    else:
        loss = ((a - y) ** 2).sum() * (0.5 if net.loss == "half_squared" else 1.0)
    loss = loss / m if net.reduce == "mean" else loss
    loss.backward()
    return loss.item(), {k: T[k].grad.numpy() for k in T if k[0] in "Wbw"}


def close(exact: np.ndarray, theirs: np.ndarray, rtol=1e-12) -> bool:
    scale = max(np.abs(exact).max(), 1e-300)
    return bool(np.all(np.abs(exact - theirs) <= rtol * scale))


CASES = [
    (["relu", "identity"], "cross_entropy"), (["sigmoid", "sigmoid"], "bce"),
    (["tanh", "relu"], "half_squared"), (["relu", "softmax"], "cross_entropy"),
    (["leaky_relu(0.01)", "identity"], "mse"), (["elu", "gelu"], "squared"),
    (["hardtanh", "swish"], "half_squared"), (["softplus", "relu6"], "half_squared"),
    (["abs", "tanh"], "squared"),
]


@pytest.mark.parametrize("style", ["ng", "cs231n"])
@pytest.mark.parametrize("acts,loss", CASES)
def test_random_networks_agree_with_torch(acts, loss, style):
    rng = np.random.default_rng(len(acts[0]) + len(loss))
    widths = [int(w) for w in rng.integers(2, 6, 3)]
    widths[-1] = max(widths[-1], 2)
    net = mlp(widths, ",".join(acts), bias=True, loss=loss, batch=3, style=style)
    arrays = random_arrays(net, 7)
    # off the grid of quarters: plain float64 draws, exactly as a user's arrays would be
    arrays = {k: (v + rng.normal(size=np.shape(v)) / 8 if k[0] in "Wb" else v)
              for k, v in arrays.items()}
    g = derivcheck.Oracle(net, "torch").gradients(arrays)
    loss_value, theirs = torch_gradients(net, arrays, acts)
    assert set(g) == set(theirs)
    for k in theirs:
        assert g.float[k].shape == theirs[k].shape
        assert close(g.float[k], theirs[k]), k
    assert abs(float(g.loss) - loss_value) <= 1e-12 * max(1.0, abs(loss_value))


def test_exact_values_by_hand_and_scalar_mlps_read_as_matrices():
    net = mlp([2, 2, 1], "relu,identity", bias=True)
    arrays = {"W1": [[0.5, -1], [2, 0.25]], "b1": [[0.75], [-1]], "W2": [[1.5, -0.5]],
              "b2": [[0]], "X": [[1], [3]], "Y": [[0.5]]}
    g = ArrayOracle(net, "torch").gradients(arrays)
    assert g.exact
    # z1 = (-1.75, 1.75): unit 1 dead; z2 = -0.875; dJ/dz2 = z2 - y = -11/8
    assert g["W2"].tolist() == [[Fraction(0), Fraction(-77, 32)]]
    assert g["W1"].tolist() == [[0, 0], [Fraction(11, 16), Fraction(33, 16)]]
    assert g.loss == Fraction(121, 128)


def test_kink_points_are_on_the_kink_in_float64_and_match_torch_exactly():
    net = mlp([6, 5, 4, 3], "relu,leaky_relu(0.25),identity", bias=True, loss="cross_entropy")
    net = mlp([6, 5, 4, 3], "relu,leaky_relu(0.25),identity", bias=True,
              loss="cross_entropy", oracle=True, batch=1)
    arrays, sites = place_kinks(net, random_arrays(net, 3), "torch")
    assert [s[0] for s in sites] == ["Z1", "Z2"]
    # float64 arithmetic, as a user's code does it, lands exactly on the breakpoint
    z1 = arrays["W1"] @ arrays["X"] + arrays["b1"]
    a1 = np.maximum(z1, 0)
    z2 = arrays["W2"] @ a1 + arrays["b2"]
    assert z1[sites[0][1]] == 0.0 and z2[sites[1][1]] == 0.0
    oracle = ArrayOracle(net, "torch")
    assert at_kink(oracle, arrays)
    g = oracle.gradients(arrays)
    _, theirs = torch_gradients(net, arrays, ["relu", "leaky_relu(0.25)", "identity"])
    for k in theirs:
        assert close(g.float[k], theirs[k]), k
    # under Step(0) = 1 the kink units pass the gradient: not what torch computes
    other = ArrayOracle(net, "1").gradients(arrays)
    assert any(not close(other.float[k], theirs[k]) for k in theirs)


def test_jax_convention_at_a_leaky_kink_agrees_with_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    net = mlp([3, 2, 1], "leaky_relu(0.25),identity", oracle=True, batch=1)
    arrays, sites = place_kinks(net, random_arrays(net, 1), "jax")
    assert sites

    def loss(p):
        z1 = p["W1"] @ p["X"]
        return 0.5 * jnp.sum((p["W2"] @ jax.nn.leaky_relu(z1, 0.25) - p["Y"]) ** 2)
    theirs = jax.grad(loss)({k: jnp.asarray(v) for k, v in arrays.items()})
    mine = ArrayOracle(net, "jax").gradients(arrays)
    torchs = ArrayOracle(net, "torch").gradients(arrays)
    for k in ("W1", "W2"):
        assert close(mine.float[k], np.asarray(theirs[k])), k
    assert not np.array_equal(mine.float["W1"], torchs.float["W1"])


def test_targets_make_sense_for_the_loss():
    ce = mlp([4, 3, 5], "relu,identity", loss="cross_entropy", batch=6)
    y = random_arrays(ce, 0)["Y"]
    assert set(np.unique(y)) <= {0.0, 1.0} and (y.sum(axis=0) == 1).all()
    bce = mlp([4, 3, 2], "relu,sigmoid", loss="bce", batch=6)
    y = random_arrays(bce, 0)["Y"]
    assert (y >= 0).all() and (y <= 1).all()


def test_the_training_size_network_in_a_few_seconds():
    import time
    net = mlp([784, 128, 10], "relu,identity", bias=True, loss="cross_entropy", oracle=True)
    arrays = random_arrays(net, 0)
    t = time.perf_counter()
    g = derivcheck.Oracle(net, "torch").gradients(arrays)
    assert time.perf_counter() - t < 5
    _, theirs = torch_gradients(net, arrays, ["relu", "identity"])
    for k in theirs:
        assert close(g.float[k], theirs[k]), k
    assert g.certified <= 2.0 ** -70


def test_arrays_in_other_shapes_and_errors():
    net = mlp([2, 2], "identity", oracle=True, batch=1)
    oracle = ArrayOracle(net)
    g = oracle.gradients({"W1": torch.eye(2, dtype=torch.float64), "X": [1.0, 2.0],
                          "Y": np.array([[Fraction(1, 3)], [0]], dtype=object)})
    assert g["W1"].tolist() == [[Fraction(2, 3), Fraction(4, 3)], [2, 4]]
    with pytest.raises(SpecError, match="shape"):
        oracle.gradients({"W1": np.eye(3), "X": [1.0, 2.0], "Y": [0.0, 0.0]})
    with pytest.raises(SpecError, match="no array for"):
        oracle.gradients({"W1": np.eye(2), "X": [1.0, 2.0]})
    with pytest.raises(SpecError, match="not an array of the network"):
        oracle.gradients({"W1": np.eye(2), "X": [1.0, 2.0], "Y": [0, 0], "W9": [1]})
    with pytest.raises(SpecError, match="NaN"):
        oracle.gradients({"W1": np.eye(2), "X": [np.nan, 2.0], "Y": [0.0, 0.0]})


@pytest.mark.parametrize("seed", range(5))
def test_floats_are_read_exactly(seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(4, 5)) * np.exp2(rng.integers(-80, 80, (4, 5)))
    m = Mat.from_floats(a)
    assert (m.fractions() == np.vectorize(Fraction, otypes=[object])(a)).all()
    b = rng.integers(-12, 13, (5, 3)) / 64
    prod = (m @ Mat.from_floats(b)).fractions()
    want = np.vectorize(Fraction, otypes=[object])(a) @ np.vectorize(Fraction,
                                                                      otypes=[object])(b)
    assert (prod == want).all()


def test_int64_overflow_falls_back_to_python_integers():
    big = Mat(np.full((2, 2), 2 ** 40, dtype=np.int64))
    prod = big @ big
    assert prod.fractions()[0, 0] == 2 * 2 ** 80


def test_softplus_under_torch_is_torch_softplus_past_its_threshold():
    net = mlp([1, 2, 1], "softplus,identity", oracle=True, batch=1)
    arrays = {"W1": [[10.0], [30.0]], "W2": [[1.0, 1.0]], "X": [[1.0]], "Y": [[0.0]]}
    T = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in arrays.items()}
    out = T["W2"] @ F.softplus(T["W1"] @ T["X"])         # torch's default threshold=20
    ((out - T["Y"]) ** 2 / 2).sum().backward()
    g = ArrayOracle(net, "torch").gradients(arrays)
    assert close(g.float["W1"], T["W1"].grad.numpy(), 1e-14)
    # z = 30 is past the threshold: the identity there, unlike log(1 + e^z) (jax)
    assert ArrayOracle(net, "jax").gradients(arrays).float["W1"][1, 0] != g.float["W1"][1, 0]


@pytest.mark.parametrize("acts,loss", [("relu,identity", "half_squared"),
                                       ("leaky_relu(0.25),relu", "squared"),
                                       ("tanh,identity", "cross_entropy"),
                                       ("relu,sigmoid", "bce")])
def test_the_array_oracle_agrees_with_the_scalar_oracle(acts, loss):
    """Two exact paths, one network: per-parameter definitions (W0_ij, the scalar MLP)
    and whole matrices (W1[j, i])."""
    scalar = mlp([3, 4, 2], acts, bias=True, loss=loss)
    arrays = random_arrays(ArrayOracle(scalar).net, 4)
    point = {}
    for k in (1, 2):
        W, b = arrays[f"W{k}"], arrays[f"b{k}"]
        for j in range(W.shape[0]):
            point[f"b{k}_{j + 1}"] = b[j, 0]
            for i in range(W.shape[1]):
                point[f"W{k - 1}_{i + 1}{j + 1}"] = W[j, i]
    point.update({f"x{i + 1}": arrays["X"][i, 0] for i in range(3)})
    point.update({f"y{i + 1}": arrays["Y"][i, 0] for i in range(2)})
    exact = derivcheck.Oracle(scalar, "torch").gradients(point)
    g = ArrayOracle(scalar, "torch").gradients(arrays)
    for name, value in exact.items():
        k, rest = name[1:].split("_")
        if name.startswith("W"):
            entry = g.mats[f"W{int(k) + 1}"], (int(rest[1]) - 1, int(rest[0]) - 1)
        else:
            entry = g.mats[f"b{k}"], (int(rest) - 1, 0)
        mat, idx = entry
        if mat.exact:
            assert mat.entry(idx) == value, name
        else:
            assert abs(float(mat.entry(idx)) - float(value)) <= 1e-15 * max(1, abs(float(value)))


def test_an_exact_zero_behind_a_transcendental_layer_stays_a_kink():
    """W2's zero row makes Z2[0] exactly 0 although A1 is only known as balls: its ReLU
    takes the convention's slope, no endless search for the sign."""
    net = mlp([2, 2, 2, 1], "sigmoid,relu,identity", oracle=True, batch=1)
    arrays = {"W1": [[1.0, -0.5], [0.25, 2.0]], "W2": [[0.0, 0.0], [1.0, 1.0]],
              "W3": [[1.0, 1.0]], "X": [[1.0], [0.5]], "Y": [[0.0]]}
    torch_g = ArrayOracle(net, "torch").gradients(arrays)
    one_g = ArrayOracle(net, "1").gradients(arrays)
    assert torch_g["W2"][0, 0] == 0 and one_g.float["W2"][0, 0] != 0
    assert at_kink(ArrayOracle(net, "torch"), arrays)


def test_biases_on_some_layers_only_agree_with_torch():
    net = derivcheck.forward(["Z1 = W1 @ X", "A1 = tanh(Z1)", "Z2 = W2 @ A1 + b2",
                              "A2 = sigmoid(Z2)"], shapes={"X": "3,4", "W1": "5,3",
                                                          "W2": "2,5"}, loss="bce")
    arrays = random_arrays(net, 11)
    assert "b1" not in arrays and "b2" in arrays
    g = derivcheck.Oracle(net, "torch").gradients(arrays)
    _, theirs = torch_gradients(net, arrays, ["tanh", "sigmoid"])
    assert set(g) == set(theirs) == {"W1", "W2", "b2"}
    for k in theirs:
        assert close(g.float[k], theirs[k]), k
