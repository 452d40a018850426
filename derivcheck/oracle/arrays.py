"""The oracle at training sizes: exact forward and backward passes over whole matrices.

:class:`ArrayOracle` evaluates a :class:`~derivcheck.core.matrix.network.MatrixNetwork`
(``derivcheck.mlp([784, 128, 10], "relu,identity", bias=True, loss="cross_entropy")``) at
named arrays, in the style's names and layout (``W1``, ``b1``, ``X``, ``Y`` under ``ng``):
no per-parameter symbolic expression is built. Matrices are exact integers over a common
denominator (:mod:`.dyadic`; a float64 array is an exact dyadic rational), products run
in numpy ``int64`` while they provably fit and in Python integers otherwise; softmax,
sigmoid, tanh and the log of the loss are certified balls (python-flint ``arb``), carried
through the backward pass with rigorous radii, and the precision doubles until every
gradient is known to 2^-70 of its largest entry.

``gradients`` returns a :class:`Gradients` (a dict name -> exact object array of
Fractions, with ``.float`` name -> float64 array, ``.loss``, ``.certified``: the largest
relative radius, 0 when exact).

>>> import numpy as np
>>> from derivcheck.core.matrix.network import MatrixNetwork
>>> net = MatrixNetwork([2, 2, 1], ["relu", "identity"], bias=True)
>>> g = ArrayOracle(net, "torch").gradients({"W1": [[1, -1], [0.5, 2]], "b1": [[0], [0]],
...     "W2": [[1, 1]], "b2": [[0]], "X": [[1], [1]], "Y": [[0]]})
>>> g["W1"].tolist(), g.float["b2"].tolist(), g.loss
([[Fraction(0, 1), Fraction(0, 1)], [Fraction(5, 2), Fraction(5, 2)]], [[2.5]], Fraction(25, 8))
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..core.conventions import get_convention
from ..errors import SpecError
from .dyadic import Mat, NeedPrecision
from .units import apply, from_arbs, to_arbs

__all__ = ["ArrayOracle", "Gradients", "as_mat"]

#: Bits the balls start with, and at most.
START_PREC, MAX_PREC = 128, 4096
#: Every gradient is certified to this fraction of its largest entry.
TARGET = 2.0 ** -70


class Gradients(dict):
    """name -> exact gradient (object array of Fractions); ``.float`` name -> float64;
    ``.loss`` (a Fraction, or a float for a transcendental loss); ``.certified``."""

    def __init__(self, mats: dict, loss: Mat, certified: float):
        super().__init__()
        self.mats, self.loss_mat, self.certified = mats, loss, certified
        self.float = {k: m.floats() for k, m in mats.items()}

    def __missing__(self, name):
        if name not in self.mats:
            raise KeyError(name)
        value = self[name] = self.mats[name].fractions()
        return value

    def __iter__(self):
        return iter(self.mats)

    def __len__(self):
        return len(self.mats)

    def keys(self):
        return self.mats.keys()

    def items(self):
        return [(k, self[k]) for k in self.mats]

    def values(self):
        return [self[k] for k in self.mats]

    def __contains__(self, name):
        return name in self.mats

    @property
    def exact(self) -> bool:
        return self.loss_mat.exact and all(m.exact for m in self.mats.values())

    @property
    def loss(self):
        return self.loss_mat.entry((0, 0)) if self.loss_mat.exact \
            else float(self.loss_mat.floats()[0, 0])


def as_mat(value, name: str) -> Mat:
    """A user's array (numpy, torch, jax, nested lists; floats, ints or Fractions) exactly."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    a = np.asarray(value)
    if a.dtype == object:
        try:
            return Mat.from_fractions(a)
        except (TypeError, ValueError):
            raise SpecError(f"{name} holds something that is not a number") from None
    if a.dtype.kind in "iub":
        return Mat(a.astype(np.int64))
    if a.dtype.kind != "f":
        raise SpecError(f"{name} is not an array of numbers (dtype {a.dtype})")
    try:
        return Mat.from_floats(a)
    except ValueError as exc:
        raise SpecError(f"{name}: {exc}") from None


class ArrayOracle:
    """Exact gradients of a matrix network at named arrays (see the module docstring)."""

    def __init__(self, net, convention="any"):
        if not getattr(net, "is_matrix", False):
            spec = getattr(net, "spec", None)
            if spec is None or spec.kind != "mlp":
                raise SpecError("the array oracle takes an MLP (matrix network)",
                                hint="build it with derivcheck.mlp(widths, ...); use "
                                     "Oracle(net) for chains and equations")
            from ..core.matrix.network import MatrixNetwork
            net = MatrixNetwork(spec.widths, spec.activations, spec.loss, bias=spec.bias)
        self.net = net
        self.convention = get_convention(convention)
        self.step0 = Fraction(str(self.convention.step0_values[0]))
        if any(isinstance(w, str) for w in net.widths):
            raise SpecError("the oracle needs the widths as numbers",
                            hint="e.g. --widths 784,128,10")
        self.parameters = [net.name(k) for k in net.keys if k[0] in ("W", "b")]
        self.inputs = [net.name(("X",))]
        self.targets = [net.name(("Y",))]
        self.names = self.parameters + self.inputs + self.targets
        self._keys = {net.name(k): k for k in net.keys if k[0] in ("W", "b", "X", "Y")}

    def __repr__(self) -> str:
        return f"ArrayOracle({self.net.describe()}, convention={self.convention.name!r})"

    # -- shapes ---------------------------------------------------------------------------
    def shapes(self, batch: int | None = None) -> dict:
        """name -> shape in the style's layout (the batch from ``batch`` when a name)."""
        m = self.net.batch if isinstance(self.net.batch, int) else batch
        out = {}
        for name, key in self._keys.items():
            shape = tuple(m if d == self.net.batch else d
                          for d in self.net.styled_shape(key))
            out[name] = shape
        return out

    def _batch_of(self, arrays: dict) -> int:
        if isinstance(self.net.batch, int):
            return self.net.batch
        x = np.shape(arrays[self.inputs[0]])
        if len(x) != 2:
            raise SpecError(f"{self.inputs[0]} must be a matrix when the batch is a name")
        return x[1] if self.net.view(("X",)) == "" else x[0]

    def canonical(self, arrays: dict) -> dict:
        """The named arrays as exact Mats in the canonical layout (examples as columns)."""
        missing = [n for n in self.names if n not in arrays]
        unknown = [n for n in arrays if n not in self._keys]
        if unknown:
            raise SpecError(f"{unknown[0]!r} is not an array of the network",
                            hint="arrays: " + ", ".join(self.names))
        if missing:
            raise SpecError("no array for " + ", ".join(missing),
                            hint="arrays: " + ", ".join(self.names))
        shapes = self.shapes(self._batch_of(arrays))
        out = {}
        for name, key in self._keys.items():
            mat = as_mat(arrays[name], name)
            want = shapes[name]
            if mat.shape != want:
                if int(np.prod(mat.shape)) == int(np.prod(want)) and (
                        len(mat.shape) == 1 or 1 in want):
                    mat = mat.reshape(*want)
                else:
                    raise SpecError(f"{name} has shape {mat.shape}, the network needs "
                                    f"{want}")
            view = self.net.view(key)
            out[key] = mat.T if view == "T" else mat.reshape(-1, 1) if view == "vec" else mat
        return out

    def styled(self, key, mat: Mat) -> Mat:
        view = self.net.view(key)
        return mat.T if view == "T" else mat.reshape(-1) if view == "vec" else mat

    # -- evaluation -----------------------------------------------------------------------
    def gradients(self, arrays: dict, *, step0: Fraction | None = None) -> Gradients:
        """Every parameter's gradient (named arrays in the style's layout) and the loss."""
        values = self.canonical(arrays)
        return self.run(values, self.step0 if step0 is None else Fraction(step0))

    def run(self, values: dict, step0: Fraction) -> Gradients:
        """:meth:`gradients` from canonical Mats, with the precision loop."""
        prec = START_PREC
        while True:
            try:
                grads, loss = self._pass(values, step0, prec)
                worst = max([m.widened() for m in grads.values()] + [loss.widened()])
                if worst <= TARGET:
                    return Gradients({self.net.name(k): self.styled(k, m)
                                      for k, m in grads.items()}, loss, worst)
            except NeedPrecision:
                pass
            if prec >= MAX_PREC:
                raise SpecError(f"the gradients are not certain at {prec} bits at this point "
                                "(a pre-activation too close to a kink to decide)")
            prec *= 2

    def forward(self, values: dict, step0: Fraction, prec: int = START_PREC):
        """Z and (activation, slope) per layer, exact or as balls."""
        net = self.net
        A, Zs, acts = {0: values[("X",)]}, {}, {}
        for l in range(1, net.L + 1):
            Z = values[("W", l)] @ A[l - 1]
            if net.has_bias(l):
                Z = Z + values[("b", l)]
            Zs[l] = Z
            act = net.activation(l)
            if act == "softmax":
                A[l], acts[l] = _softmax(Z, prec), None
            else:
                A[l], acts[l] = apply(act, Z, self.convention, step0, prec)
        return A, Zs, acts

    def _pass(self, values: dict, step0: Fraction, prec: int):
        net = self.net
        A, Zs, slopes = self.forward(values, step0, prec)
        L, Y = net.L, values[("Y",)]
        m = Y.shape[1]
        r = Fraction(1, m) if net.reduce == "mean" else Fraction(1)
        loss, dA, dZL = _loss(net, A[L], Zs[L], Y, r, prec)
        grads = {}
        if dZL is not None:
            dZ = dZL
        elif slopes[L] is None:        # a softmax output under another loss: its Jacobian
            P = A[L]
            dZ = P * (dA - (P * dA).total(0))
        else:
            dZ = dA * slopes[L]
        for l in range(L, 0, -1):
            grads[("W", l)] = dZ @ A[l - 1].T
            if net.has_bias(l):
                grads[("b", l)] = dZ.total(1)
            if l > 1:
                dZ = (values[("W", l)].T @ dZ) * slopes[l - 1]
        order = [k for k in net.keys if k in grads]
        return {k: grads[k] for k in order}, loss


def _softmax(Z: Mat, prec: int) -> Mat:
    """Softmax over each column, as balls."""
    n, m = Z.shape
    xs = to_arbs(Z, prec + 16)
    out = [None] * (n * m)
    for j in range(m):
        col = [xs[i * m + j] for i in range(n)]
        top = max(col, key=lambda x: x.mid())
        es = [(x - top).exp() for x in col]
        s = sum(es[1:], es[0])
        for i in range(n):
            out[i * m + j] = es[i] / s
    return from_arbs(out, Z.shape, prec)


def _loss(net, AL: Mat, ZL: Mat, Y: Mat, r: Fraction, prec: int):
    """(loss, dJ/dA_L, dJ/dZ_L or None)."""
    from flint import arb
    n, m = AL.shape
    if net.loss in ("half_squared", "squared", "mse"):
        coef = {"half_squared": Fraction(1, 2), "squared": Fraction(1),
                "mse": Fraction(1, n)}[net.loss]
        diff = AL - Y
        loss = (diff * diff).total(0).total(1).scale(coef * r)
        return loss, diff.scale(2 * coef * r), None
    if net.loss == "bce":
        a, y = to_arbs(AL, prec + 16), to_arbs(Y, prec + 16)
        terms = [-(yi * ai.log() + (1 - yi) * (1 - ai).log()) for ai, yi in zip(a, y)]
        grads = [(ai - yi) / (ai * (1 - ai)) for ai, yi in zip(a, y)]
        total = sum(terms[1:], terms[0]) * (arb(r.numerator) / r.denominator)
        return from_arbs([total], (1, 1), prec), \
            from_arbs(grads, AL.shape, prec).scale(r), None
    # cross_entropy: softmax of the logits (or the softmax output) and -sum Y log P
    P = AL if net.softmax_output else _softmax(AL, prec)
    logits = ZL if net.softmax_output else AL
    xs, ys = to_arbs(logits, prec + 16), to_arbs(Y, prec + 16)
    total = arb(0)
    for j in range(m):
        col = [xs[i * m + j] for i in range(n)]
        top = max(col, key=lambda x: x.mid())
        lse = sum(((x - top).exp() for x in col), arb(0)).log() + top
        for i in range(n):
            total += ys[i * m + j] * (lse - col[i])
    loss = from_arbs([total * (arb(r.numerator) / r.denominator)], (1, 1), prec)
    g = (P * Y.total(0) - Y).scale(r)      # dJ/dlogits, for any targets
    return (loss, None, g) if net.softmax_output else (loss, g, None)


def at_kink(oracle: ArrayOracle, arrays: dict) -> bool:
    """Does the gradient at ``arrays`` depend on the kink convention? Only when some
    piecewise unit sits exactly on a breakpoint; then the gradients under Step(0) = 0, 1
    (and the profile's own) are compared.

    >>> from derivcheck.core.matrix.network import MatrixNetwork
    >>> o = ArrayOracle(MatrixNetwork([1, 1, 1], "relu,identity"), "torch")
    >>> at_kink(o, {"W1": [[0]], "W2": [[1]], "X": [[1]], "Y": [[-1]]})
    True
    >>> at_kink(o, {"W1": [[1]], "W2": [[1]], "X": [[1]], "Y": [[-1]]})
    False
    """
    values = oracle.canonical(arrays)
    _, Zs, _ = oracle.forward(values, oracle.step0)
    from .units import breakpoints
    hit = False
    for l, Z in Zs.items():
        act = oracle.net.activation(l)
        if act != "softmax":
            hit = hit or any(_on(Z, k) for k in breakpoints(act))
    if not hit:
        return False
    runs = [ArrayOracle(oracle.net, c).run(values, Fraction(c)) for c in ("0", "1")]
    runs.append(oracle.run(values, oracle.step0))
    first = runs[0]
    return any(not np.array_equal(r.mats[k].floats(), first.mats[k].floats())
               or r[k].tolist() != first[k].tolist() for r in runs[1:] for k in first.mats)


def _on(Z: Mat, at) -> bool:
    """Is some entry of Z exactly ``at`` (entries known exactly only; a ball of positive
    radius is never exactly on a breakpoint as far as we know)?"""
    v = Fraction(at)
    diff = Z - Mat(np.full(Z.shape, v.numerator, dtype=np.int64), v.denominator)
    zero = diff.M == 0
    return bool((zero if diff.R is None else zero & (diff.R == 0)).any())
