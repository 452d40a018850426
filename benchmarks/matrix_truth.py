"""The matrix networks of the soundness run built again from the contract, without
derivcheck: forward pass, loss, reduction, the style's layout and gradient names, and a
formula's entries compared with ``sympy.diff`` of the scalar loss at exact rational points
(:class:`Truth`, :func:`compare_at`; Heaviside(0) = c for each kink convention c in
{0, 1/2, 1}), or, at sizes past SymPy's reach, with torch autograd in float64
(:func:`torch_compare`). benchmarks/soundness_matrices.py judges verdicts with these.

>>> net = mc.Net([1, 1], ["relu"], "half_squared", None, False, "mean", "ng")
>>> vals = random_values(net, {}, random.Random(0))
>>> sorted(k[0] for k in vals)
['W', 'X', 'Y', 'b']
>>> differ(Rational(1, 3), Rational(1, 3)), differ(Rational(1, 3), Rational(1, 2))
(0, 1)
"""
from __future__ import annotations

import functools
import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import sympy  # noqa: E402
from sympy import Rational  # noqa: E402

import matrix_cases as mc  # noqa: E402

C_VALUES = (Rational(0), Rational(1, 2), Rational(1))
DIGITS, TOLERANCE = 50, 30
H = sympy.Function("H")
PIECEWISE = ("relu", "leaky_relu(1/10)")

# -- the network again, from the contract -----------------------------------------------------

class Relu(sympy.Function):
    """max(0, z), decided at once for a rational z (else when the point is evaluated); its
    derivative is the gate H(z), whose value at 0 is the kink convention. (SymPy's Max
    decides its sign through the assumptions system, many times slower on these trees.)"""

    @classmethod
    def eval(cls, z):
        if z.is_Rational:
            return z if z > 0 else sympy.S.Zero
        if not z.free_symbols:       # a constant: placed once, at 30 digits
            try:
                return z if _sign(z) > 0 else sympy.S.Zero
            except Unverifiable:
                return None
        return None

    def fdiff(self, argindex=1):
        return H(self.args[0])


def act(name, z):
    if name == "relu":
        return Relu(z)
    if name == "leaky_relu(1/10)":
        return z / 10 + Rational(9, 10) * Relu(z)
    if name == "tanh":
        return sympy.tanh(z)
    if name == "sigmoid":
        return 1 / (1 + sympy.exp(-z))
    if name == "identity":
        return z
    raise ValueError(name)


def softmax(col):
    e = [sympy.exp(z) for z in col]
    s = sympy.Add(*e)
    return [x / s for x in e]


def shapes(net: mc.Net, sizes: dict) -> dict:
    w, m = net.dims(sizes)
    out = {("X",): (w[0], m), ("Y",): (w[-1], m), ("P",): (w[-1], m)}
    for l in range(1, net.L + 1):
        out[("W", l)] = (w[l], w[l - 1])
        out[("b", l)] = (w[l], 1)
        out[("Z", l)] = out[("A", l)] = (w[l], m)
    return out


def random_values(net: mc.Net, sizes: dict, rng: random.Random) -> dict:
    """Canonical matrices of exact rationals; targets valid for the loss."""
    sh = shapes(net, sizes)

    def draw(shape):
        return np.array([[Rational(rng.choice([-1, 1]) * rng.randint(1, 24), rng.randint(1, 8))
                          for _ in range(shape[1])] for _ in range(shape[0])], dtype=object)

    vals = {("X",): draw(sh[("X",)])}
    for l in range(1, net.L + 1):
        vals[("W", l)] = draw(sh[("W", l)])
        vals[("b", l)] = (draw(sh[("b", l)]) if net.bias
                           else np.full(sh[("b", l)], sympy.S.Zero, dtype=object))
    c, m = sh[("Y",)]
    if net.loss == "cross_entropy":
        Y = np.full((c, m), sympy.S.Zero, dtype=object)
        for k in range(m):
            Y[rng.randrange(c), k] = sympy.S.One
    elif net.loss == "bce":
        Y = np.array([[Rational(rng.randint(0, 6), 6) for _ in range(m)] for _ in range(c)],
                     dtype=object)
    else:
        Y = draw((c, m))
    vals[("Y",)] = Y
    return vals


def forward(net: mc.Net, vals: dict, sym_key=None, linear_softmax=None):
    """(loss, quantities, symbols): the forward pass with ``sym_key``'s entries as symbols
    (the others at their values), the loss reduced over the batch. ``linear_softmax``
    (layer -> the pre-activations at the point) replaces softmax by its diagonal
    linearization there, P0 + P0 (1 - P0) (Z - Z0): its derivatives at the point are the
    backward pass with softmax's derivative taken elementwise."""
    q = dict(vals)
    syms = None

    def symbolic(key, arr):
        nonlocal syms
        syms = np.array([[sympy.Symbol(f"s_{i}_{j}", real=True) for j in range(arr.shape[1])]
                         for i in range(arr.shape[0])], dtype=object)
        return syms

    for key in (("X",), ("Y",)) + tuple(k for l in range(1, net.L + 1) for k in
                                        (("W", l), ("b", l))):
        if key == sym_key:
            q[key] = symbolic(key, vals[key])
    prev = q[("X",)]
    for l in range(1, net.L + 1):
        Z = q[("W", l)] @ prev + q[("b", l)]
        if sym_key == ("Z", l):
            Z = symbolic(sym_key, Z)
        q[("Z", l)] = Z
        a = net.acts[l - 1]
        if a == "softmax" and linear_softmax is not None:
            Z0 = linear_softmax[l]
            P0 = np.array([softmax(Z0[:, k]) for k in range(Z0.shape[1])], dtype=object).T
            A = P0 + P0 * (1 - P0) * (Z - Z0)
        elif a == "softmax":
            A = np.array([softmax(Z[:, k]) for k in range(Z.shape[1])], dtype=object).T
        else:
            A = np.vectorize(lambda z, a=a: act(a, z), otypes=[object])(Z)
        if sym_key == ("A", l):
            A = symbolic(sym_key, A)
        q[("A", l)] = A
        prev = A
    out, Y = q[("A", net.L)], q[("Y",)]
    if net.loss == "cross_entropy" and net.acts[-1] != "softmax":
        out = q[("P",)] = np.array([softmax(out[:, k]) for k in range(out.shape[1])],
                                   dtype=object).T
    c, m = out.shape
    terms = []
    for k in range(m):
        for j in range(c):
            o, y = out[j, k], Y[j, k]
            terms.append({"half_squared": (y - o) ** 2 / 2, "squared": (y - o) ** 2,
                          "mse": (y - o) ** 2 / c,
                          "bce": -(y * sympy.log(o) + (1 - y) * sympy.log(1 - o)),
                          "cross_entropy": -y * sympy.log(o)}[net.loss])
    loss = sympy.Add(*terms)
    if net.reduce == "mean" and m > 1:
        loss = loss / m
    return loss, q, syms


class Unverifiable(ValueError):
    """A value the verifier cannot certify (undefined, or a gate it cannot place)."""


@functools.lru_cache(maxsize=100_000)
def _sign(x) -> int:
    if x.is_Rational:
        return int(bool(x > 0)) - int(bool(x < 0))
    v = sympy.N(x, 30)
    if not v.is_Number or v == 0:
        if _exactly_zero(x):   # exactly on the kink: a leaf solved for it
            return 0
        raise Unverifiable(f"cannot place the gate H({x})")
    return 1 if v > 0 else -1


def value(expr, c, digits=DIGITS):
    """An exact Rational, or a Float of ``digits`` digits, with H(0) = c."""
    if expr.has(Relu):
        expr = expr.replace(Relu, lambda z: z if _sign(z) > 0 else sympy.S.Zero)
    gates = {g: {1: sympy.S.One, -1: sympy.S.Zero, 0: c}[_sign(g.args[0])]
             for g in expr.atoms(H)}
    e = expr.xreplace(gates) if gates else expr
    if e.is_Rational:
        return e
    maxn = max(2000, 12 * digits)
    try:
        v = sympy.N(e, digits, maxn=maxn, strict=True)
    except (sympy.core.evalf.PrecisionExhausted, ValueError, TypeError,
            ZeroDivisionError) as exc:
        # a saturated sigmoid or softmax: 1 - 1/(1 + exp(-500)) is ~1e-217, and evalf
        # cannot tell such a denominator from 0; the same value as one cancelled
        # rational function of its exp/log/tanh terms has no such difference
        form = _cancelled(e)
        if form == 0:
            return sympy.S.Zero
        try:
            v = sympy.N(form, digits, maxn=maxn, strict=True)
        except (sympy.core.evalf.PrecisionExhausted, ValueError, TypeError,
                ZeroDivisionError):
            if _exactly_zero(e):   # exactly 0 at a kink a leaf was solved for
                return sympy.S.Zero
            raise Unverifiable(str(exc)) from exc
    if not v.is_Number or v.has(sympy.zoo, sympy.nan, sympy.oo):
        raise Unverifiable(f"no value: {e}")
    return v


#: Values simplified to tell an exact 0 (a kink solved for) only up to this size:
#: simplify on a large expression can take minutes.
SIMPLIFY_OPS = 150


def _exactly_zero(x) -> bool:
    """Is ``x`` 0 by simplification (small expressions only)?"""
    return sympy.count_ops(x) <= SIMPLIFY_OPS and sympy.simplify(x) == 0


def _cancelled(e):
    """``e`` as one cancelled rational function of its exp/log/tanh terms (each replaced
    by a fresh symbol, then put back): the same value; 0 when it is 0 whatever those
    terms are."""
    atoms = sorted(e.atoms(sympy.exp, sympy.log, sympy.tanh), key=sympy.default_sort_key)
    fresh = {a: sympy.Dummy(f"t{i}") for i, a in enumerate(atoms)}
    form = sympy.cancel(sympy.together(e.xreplace(fresh)))
    return form.xreplace({v: k for k, v in fresh.items()})


def differ(a, b, tolerance=TOLERANCE) -> int:
    """0 when equal (to ``tolerance`` digits relative to max(|a|, |b|, 1e-20)), 1 when
    they differ, 2 when they differ by at most 1e-8 of that scale: possibly digits lost
    to cancellation in the formula's arithmetic on rounded leaves (1 - tanh(z)^2 at a
    large z), which compare_at decides again at three times the precision."""
    if a.is_Rational and b.is_Rational:
        return int(a != b)
    scale = max(abs(a), abs(b), sympy.Float(1e-20))
    gap = abs(a - b)
    if not gap > scale * sympy.Float(10) ** -tolerance:
        return 0
    return 2 if gap <= scale * sympy.Float(1e-8) else 1


class Truth:
    """True gradients at one point by sympy.diff, per quantity and per Step(0) value."""

    def __init__(self, net, vals, elementwise_softmax=False):
        self.net, self.vals = net, vals
        self.loss, self.q, _ = forward(net, vals)
        self.linear = ({l: self.q[("Z", l)] for l in range(1, net.L + 1)}
                       if elementwise_softmax else None)
        self._diffs, self._gated, self._values = {}, {}, {}

    def quantity(self, key):
        return self.q[key]

    def quantity_value(self, key, c, digits=DIGITS):
        """The quantity's entries as numbers (value), under H(0) = c."""
        return self._evaluated(("q", key), self.q[key], c, digits)

    def _evaluated(self, tag, arr, c, digits=DIGITS):
        """value() of every entry, once per Step(0) only where a gate H occurs."""
        if tag not in self._gated:
            self._gated[tag] = any(getattr(e, "has", lambda *_: False)(H) for e in arr.flat)
        k = (tag, c if self._gated[tag] else None, digits)
        if k not in self._values:
            try:
                self._values[k] = np.vectorize(lambda e: value(e, c, digits),
                                               otypes=[object])(arr)
            except Unverifiable as exc:
                self._values[k] = exc
        out = self._values[k]
        if isinstance(out, Unverifiable):
            raise out
        return out

    def grad(self, key, c, digits=DIGITS):
        if key not in self._diffs:
            loss, q, syms = forward(self.net, self.vals, key, self.linear)
            at = self.q[key]
            point = {syms[idx]: at[idx] for idx in np.ndindex(syms.shape)}
            out = np.empty(syms.shape, dtype=object)
            for idx in np.ndindex(syms.shape):
                d = sympy.diff(loss, syms[idx]).replace(sympy.Heaviside, lambda *a: H(a[0]))
                out[idx] = d.xreplace(point)
            self._diffs[key] = out
        return self._evaluated(("grad", key), self._diffs[key], c, digits)


def style_view(net, key, arr):
    v = net.view(key)
    if v == "T":
        return arr.T
    if v == "vec":
        return arr.reshape(-1)
    return arr


def compare_at(net, node, lhs_key, truth: Truth, c, sizes, detail=None) -> tuple:
    """(shape fits, entries that differ, entries compared) of the formula at one point;
    ``detail`` (a dict), when given, receives the gradient's shape and which entries
    differ (flattened, row by row). Entries that differ only slightly are decided again
    with every value at three times the precision (see :func:`differ`)."""
    fits, flags, shape = _compare(net, node, lhs_key, truth, c, sizes, DIGITS, TOLERANCE)
    if fits and 2 in flags:
        _, again, _ = _compare(net, node, lhs_key, truth, c, sizes, 3 * DIGITS,
                               3 * DIGITS - 2 * TOLERANCE)
        flags = [bool(g) if f == 2 else f for f, g in zip(flags, again)]
    flags = [bool(f) for f in flags]
    if detail is not None and fits:
        detail.update(shape=shape, differ=flags)
    return fits, sum(flags), len(flags)


def _compare(net, node, lhs_key, truth, c, sizes, digits, tolerance) -> tuple:
    """(fits, differ() of each entry, the gradient's shape) at ``digits``."""
    scale_of = lambda key: net.grad_name(key)[1].xreplace({mc.M: sympy.Integer(  # noqa: E731
        net.dims(sizes)[1])})

    def leaf(key):
        return style_view(net, key, truth.quantity_value(key, c, digits))

    def grad(key):
        return style_view(net, key, truth.grad(key, c, digits) * scale_of(key))

    want = grad(lhs_key)
    try:
        got = np.asarray(mc.evaluate(node, leaf, grad, _named(net, sizes), exact=True),
                         dtype=object)
    except mc.ShapeError:
        return False, [], None
    if _strip(got.shape) != _strip(want.shape):
        return False, [], None
    shape = want.shape
    got, want = got.reshape(-1), want.reshape(-1)
    return True, [differ(sympy.sympify(g), w, tolerance) for g, w in zip(got, want)], shape


def named_entry(entry: str, shape) -> int | None:
    """The flat position of a counterexample's entry ("dW1[2,3]", 1-based, row then
    column of the style's matrix) in a gradient of ``shape``; None when it names none."""
    m = re.search(r"\[([\d,\s]+)\]$", entry or "")
    if not m:
        return 0 if int(np.prod(shape)) == 1 else None
    idx = [int(i) - 1 for i in m.group(1).split(",")]
    if len(idx) != len(shape):
        if len(idx) == 1 and sum(d > 1 for d in shape) <= 1:
            return idx[0]
        return None
    return int(np.ravel_multi_index(idx, shape))


def _named(net, sizes) -> dict:
    """Every size name's value, the batch as ``m``."""
    out = dict(sizes)
    out["m"] = net.dims(sizes)[1]
    return out


def _strip(shape):
    shape = tuple(shape)
    while shape and shape[0] == 1:
        shape = shape[1:]
    return shape


# -- torch, at sizes past the instances -------------------------------------------------------

def torch_compare(net, node, lhs_key, sizes, rng, elementwise_softmax=False) -> tuple:
    """(shape fits, entries that differ, entries compared) by torch autograd, float64;
    with ``elementwise_softmax``, softmax's backward is taken as P (1 - P) elementwise
    (the value P, the gradient of P0 + P0 (1 - P0) (Z - Z0))."""
    import torch
    torch.set_num_threads(1)     # tiny tensors: a thread pool only spins on shared cores
    sh = shapes(net, sizes)
    g = torch.Generator().manual_seed(rng.randrange(2 ** 31))
    leaves = {("X",): torch.randn(sh[("X",)], generator=g, dtype=torch.float64)}
    for l in range(1, net.L + 1):
        leaves[("W", l)] = torch.randn(sh[("W", l)], generator=g, dtype=torch.float64)
        leaves[("b", l)] = (torch.randn(sh[("b", l)], generator=g, dtype=torch.float64)
                            if net.bias else torch.zeros(sh[("b", l)], dtype=torch.float64))
    c, m = sh[("Y",)]
    if net.loss == "cross_entropy":
        Y = torch.zeros((c, m), dtype=torch.float64)
        Y[torch.randint(c, (m,), generator=g), torch.arange(m)] = 1
    elif net.loss == "bce":
        Y = torch.rand((c, m), generator=g, dtype=torch.float64)
    else:
        Y = torch.randn((c, m), generator=g, dtype=torch.float64)
    leaves[("Y",)] = Y
    for t in leaves.values():
        t.requires_grad_(True)
    q = dict(leaves)
    prev = q[("X",)]
    for l in range(1, net.L + 1):
        Z = q[("W", l)] @ prev + q[("b", l)]
        Z.retain_grad()
        a = net.acts[l - 1]
        A = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
             "identity": lambda z: z * 1.0, "softmax": lambda z: torch.softmax(z, dim=0),
             "leaky_relu(1/10)": lambda z: torch.nn.functional.leaky_relu(z, 0.1)}[a](Z)
        if a == "softmax" and elementwise_softmax:
            P0 = A.detach()
            A = P0 + P0 * (1 - P0) * (Z - Z.detach())
        A.retain_grad()
        q[("Z", l)], q[("A", l)] = Z, A
        prev = A
    out = q[("A", net.L)]
    if net.loss == "cross_entropy" and net.acts[-1] != "softmax":
        out = q[("P",)] = torch.softmax(out, dim=0)
    per = {"half_squared": lambda o: ((Y - o) ** 2 / 2).sum(0),
           "squared": lambda o: ((Y - o) ** 2).sum(0),
           "mse": lambda o: ((Y - o) ** 2).sum(0) / c,
           "bce": lambda o: -(Y * torch.log(o) + (1 - Y) * torch.log(1 - o)).sum(0),
           "cross_entropy": lambda o: -(Y * torch.log(o)).sum(0)}[net.loss](out)
    loss = per.mean() if net.reduce == "mean" else per.sum()
    loss.backward()
    batch = net.dims(sizes)[1]

    def leaf(key):
        return style_view(net, key, q[key].detach().numpy())

    def grad(key):
        scale = float(net.grad_name(key)[1].xreplace({mc.M: sympy.Integer(batch)}))
        return style_view(net, key, q[key].grad.numpy()) * scale

    want = grad(lhs_key)
    try:
        got = np.asarray(mc.evaluate(node, leaf, grad, _named(net, sizes), exact=False),
                         dtype=float)
    except mc.ShapeError:
        return False, 0, 0
    if _strip(got.shape) != _strip(want.shape):
        return False, 0, 0
    got, want = got.reshape(-1), want.reshape(-1)
    scale = max(1.0, float(np.abs(want).max(initial=0)))
    bad = int((np.abs(got - want) > 1e-7 * scale).sum())
    return True, bad, len(want)
