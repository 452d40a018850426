"""Soundness stress run, matrix family: random matrix networks x mutated formulas, every
verdict verified independently, entry by entry.

Each case draws a network (1-3 layers, sizes as names or numbers, a style among ng,
cs231n, nielsen and seed, activations, loss, batch or one example, biases, mean or sum;
benchmarks/matrix_cases.py), a quantity (a weight, bias, pre-activation or activation),
the formula a course writes for its gradient in that style, and a mutation of it: true
rewrites (the formula as is, (A B)^T = B^T A^T, distributing a product over a difference,
reordering a Hadamard product) or mistakes (a dropped transpose, the product order swapped,
elementwise for matrix product or back, 1/m missing or doubled, the wrong sum axis or
keepdims, softmax's derivative taken elementwise, a dropped mask or activation
derivative, a sign flip, a size hard-coded such as /5 for 1/m).

Each verdict is verified without derivcheck: the network is built again here from the
contract (forward pass, loss, reduction, the style's layout and gradient names), the
formula is evaluated with numpy arrays of exact SymPy numbers, and every entry is compared
with ``sympy.diff`` of the scalar loss at exact rational points (Heaviside(0) = c for each
kink convention c in {0, 1/2, 1}); at sizes past SymPy's reach, with torch autograd in
float64 (off the kinks, relative tolerance 1e-7):

* ``not_equivalent``: at the counterexample's sizes and matrices the formula's shape does
  not fit, or the entry it names differs, under every Step(0) it claims; targets one-hot
  for cross-entropy, in [0, 1] for bce; every diagnosis true (benchmarks/
  matrix_diagnoses.py: a fix of its kind makes the formula right, at the counterexample
  exactly and at other sizes by torch);
* ``equivalent``: every entry agrees at random points and at kink points (a row of
  weights and its bias zero, a first-layer pre-activation zero) under every c, at every
  size 1 and at random sizes up to 3, and, by torch, at sizes larger than its instances;
* ``equivalent_almost_everywhere``: agreement at the random points, a difference at the
  kink witness;
* ``unknown`` is counted, never wrong.

    python benchmarks/soundness_matrices.py --cases 5000 --jobs 1 --log msound.jsonl
    python benchmarks/soundness_matrices.py --summarize msound.jsonl
    python benchmarks/soundness_matrices.py --quick      # 28 cases
"""
from __future__ import annotations

import argparse
import functools
import json
import random
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import sympy  # noqa: E402
from sympy import Rational  # noqa: E402

import matrix_cases as mc  # noqa: E402
import matrix_diagnoses as md  # noqa: E402
import matrix_spelling as ms  # noqa: E402

C_VALUES = (Rational(0), Rational(1, 2), Rational(1))
CHECK_TIMEOUT = 10.0
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
            raise Unverifiable(str(exc)) from exc
    if not v.is_Number or v.has(sympy.zoo, sympy.nan, sympy.oo):
        raise Unverifiable(f"no value: {e}")
    return v


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


# -- verifying a verdict ----------------------------------------------------------------------

def _tried(detail: str) -> dict:
    """Sizes the decision tried, from its method text ("n0 in [3]; m in [2, 3]")."""
    return {k: [int(x) for x in v.split(",")]
            for k, v in re.findall(r"(\w+) in \[([\d, ]+)\]", detail or "")}


def witness_values(net, w) -> tuple:
    """(sizes, canonical values) of a derivcheck counterexample or kink witness."""
    sizes = {k: int(v) for k, v in w.sizes.items()}
    sh = shapes(net, sizes)
    vals = {}
    for key in [("X",), ("Y",)] + [(k, l) for l in range(1, net.L + 1) for k in "Wb"]:
        name = net.name(key)
        if key[0] == "b" and not net.bias:
            vals[key] = np.full(sh[key], sympy.S.Zero, dtype=object)
            continue
        rows = np.array([[Rational(x.numerator, x.denominator) if isinstance(x, Fraction)
                          else sympy.nsimplify(x) for x in row] for row in w.matrices[name]],
                        dtype=object)
        v = net.view(key)
        arr = rows.T if v == "T" else rows.reshape(-1, 1) if v == "vec" else rows
        if arr.shape != sh[key]:
            raise AssertionError(f"{name} is {arr.shape}, expected {sh[key]}")
        vals[key] = arr
    return sizes, vals


def targets_valid(net, Y) -> bool:
    if net.loss == "cross_entropy":
        return all(sorted(Y[:, k]) == [0] * (Y.shape[0] - 1) + [1] for k in range(Y.shape[1]))
    if net.loss == "bce":
        return all(0 <= y <= 1 for y in Y.flat)
    return True


def kinks_at(net, vals) -> list:
    """Pre-activations exactly 0 at a point where they are not 0 on a whole region: kinks
    (an entry of Z_l is 0 on an open set only when, without biases, the activations it
    reads are all 0 there: a column of dead units, an ordinary point)."""
    out, prev = [], vals[("X",)]
    for l in range(1, net.L + 1):
        Z = vals[("W", l)] @ prev + vals[("b", l)]
        for j, k in np.ndindex(Z.shape):
            dead = l > 1 and not net.bias and all(a == 0 for a in prev[:, k])
            if Z[j, k] == 0 and not dead:
                out.append((l, j, k))
        if net.acts[l - 1] == "softmax":
            break
        prev = np.vectorize(lambda z, a=net.acts[l - 1]: act(a, z), otypes=[object])(Z)
    return out


def off_kinks(net, vals, rng, tries: int = 3) -> dict:
    """The point, or one nudged off the kinks it lies on: every input and weight (and
    bias, with biases) times 1 + e with |e| < 1e-8, exactly. A kink moves off 0; a dead
    region keeps its zeros (its units stay off under a small move), so a difference that
    holds on such a region is still seen. (An almost-everywhere verdict may differ from
    the reference *on* a kink; the scalar verifier nudges the same way.)"""
    for _ in range(tries):
        if not kinks_at(net, vals):
            return vals
        keys = [("X",)] + [(q, l) for l in range(1, net.L + 1)
                           for q in (("W", "b") if net.bias else ("W",))]
        vals = dict(vals)
        for key in keys:
            vals[key] = np.array([[v * (1 + Rational(rng.choice([-1, 1]) * rng.randint(1, 999),
                                                     10 ** 11)) for v in row]
                                  for row in vals[key]], dtype=object)
    return vals


def kink_values(net, sizes, rng) -> list:
    """Points on ReLU kinks: a row of weights (and its bias) zero, so that a whole row of
    pre-activations is 0; with biases, one first-layer pre-activation made 0."""
    layers = [l for l in range(1, net.L + 1) if net.acts[l - 1] in PIECEWISE]
    out = []
    for l in layers[:2]:
        vals = random_values(net, sizes, rng)
        j = rng.randrange(vals[("W", l)].shape[0])
        vals[("W", l)][j, :] = sympy.S.Zero
        vals[("b", l)][j, 0] = sympy.S.Zero
        out.append(vals)
    if layers and layers[0] == 1 and net.bias:
        vals = random_values(net, sizes, rng)
        j = rng.randrange(vals[("W", 1)].shape[0])
        vals[("b", 1)][j, 0] = -(vals[("W", 1)][j, :] @ vals[("X",)][:, 0])
        out.append(vals)
    return out


def verify(result, net, node, lhs_key, rng, tally: Counter) -> str | None:
    """None if the verdict holds up, else what is wrong with it (see the module text)."""
    v = result.verdict

    made = []

    def at(sizes, vals, cs, details=None):
        truth = Truth(net, vals)
        made.append(truth)
        found = []
        for c in cs:
            detail = {}
            if details is not None:
                details.append(detail)
            try:
                fits, bad, n = compare_at(net, node, lhs_key, truth, c, sizes, detail)
            except Unverifiable:
                tally["unverifiable"] += 1
                found.append(None)
                continue
            tally["compared"] += n
            found.append((fits, bad))
        return found

    if v == "not_equivalent":
        w = result.counterexample
        sizes, vals = witness_values(net, w)
        if not targets_valid(net, vals[("Y",)]):
            return f"counterexample targets are not valid for {net.loss}: {vals[('Y',)].tolist()}"
        cs = C_VALUES if w.step0 is None else [Rational(w.step0.numerator, w.step0.denominator)]
        details = []
        found = at(sizes, vals, cs, details)
        for c, f, detail in zip(cs, found, details):
            if f is not None and f[0] and f[1] == 0:
                return (f"counterexample at sizes {sizes} shows no difference "
                        f"(Step(0) = {c})")
            if f is not None and f[0]:
                pos = named_entry(w.entry, detail["shape"])
                if pos is None:
                    tally["entry_unplaced"] += 1
                elif not detail["differ"][pos]:
                    return (f"counterexample at sizes {sizes}: its entry {w.entry} does not "
                            f"differ (Step(0) = {c}); others do")
        tally["evidence"] += all(f is not None for f in found)
        return md.check_diagnosis(_verifier(), result, net, node, lhs_key,
                                  (sizes, vals, cs), rng, tally, truth=made[0])
    if v not in ("equivalent", "equivalent_almost_everywhere"):
        return None
    tried = _tried(result.method_detail)
    names = net.size_names
    small = [{s: 1 for s in names}, {s: rng.randint(1, 3) for s in names}]
    if small[0] == small[1]:
        small = small[:1]
    before = tally["compared"]
    for sizes in small:
        for _ in range(3):      # a point past evaluation (a saturated softmax): another
            vals = off_kinks(net, random_values(net, sizes, rng), rng)
            found = at(sizes, vals, [C_VALUES[1]])
            if any(f is not None for f in found):
                break
        for f in found:
            if f is not None and (not f[0] or f[1]):
                return (f"{v}, but at sizes {sizes} the formula "
                        f"{'differs in ' + str(f[1]) + ' entries' if f[0] else 'does not fit'}"
                        f" at {_show(vals)}")
        if v == "equivalent":
            for vals in kink_values(net, sizes, rng)[:1 if len(small) > 1 else 2]:
                for c, f in zip(C_VALUES, at(sizes, vals, C_VALUES)):
                    if f is not None and (not f[0] or f[1]):
                        return (f"equivalent, but at sizes {sizes}, Step(0) = {c}, the formula "
                                f"differs at the kink {_show(vals)}")
    large = {s: max(tried.get(s, [3])) + rng.randint(1, 3) for s in names}
    if names:
        fits, bad, n = torch_compare(net, node, lhs_key, large, rng)
        tally["compared_torch"] += n
        if not fits or bad:
            return f"{v}, but torch autograd at sizes {large} disagrees in {bad} entries"
    enough = tally["compared"] - before > 0
    if v == "equivalent":
        tally["evidence"] += enough
        return None
    w = result.kink_point
    sizes, vals = witness_values(net, w)
    cs = C_VALUES if w.step0 is None else [Rational(w.step0.numerator, w.step0.denominator)]
    found = at(sizes, vals, cs)
    if all(f is not None and f[0] and f[1] == 0 for f in found):
        return f"kink witness at sizes {sizes} (Step(0) {w.step0}) shows no difference"
    tally["evidence"] += enough and any(f is not None for f in found)
    return None


def _verifier():
    """This module's checks, for matrix_diagnoses (which cannot import it back)."""
    import types
    return types.SimpleNamespace(Truth=Truth, compare_at=compare_at, C_VALUES=C_VALUES,
                                 torch_compare=torch_compare,
                                 random_values=random_values, Unverifiable=Unverifiable)


def _show(vals) -> str:
    return "; ".join(f"{k}={v.tolist()}" for k, v in vals.items())


# -- running ----------------------------------------------------------------------------------

def make_case(seed: int, index: int):
    """(net, wrt key, mutation kind, formula tree, text) of case ``index``: the mutation is
    ``index``'s in turn, on the first of up to 12 drawn networks and quantities where it
    applies (else the formula as is)."""
    rng = random.Random(seed * 1_000_003 + index)
    kind = mc.MUTATIONS[index % len(mc.MUTATIONS)]
    for _ in range(12):
        net = mc.random_net(rng)
        if net.acts[-1] == "softmax" and rng.random() < 0.3:
            key = ("Z", net.L)
        else:
            key = rng.choice(mc.wrt_keys(net))
        name, node = mc.formula(net, key, rng)
        mutated = mc.mutate(net, key, node, kind, rng)
        if mutated is not None:
            text, read = ms.spell(net, key, mutated, rng)
            return net, key, kind, read, text
    text, read = ms.spell(net, key, node, rng)
    return net, key, "same", read, text


def run_case(args):
    seed, index = args
    from derivcheck.decide.check import check
    from derivcheck.errors import DerivcheckError
    net, key, kind, node, text = make_case(seed, index)
    rng = random.Random(seed * 7_000_003 + index)
    row = dict(index=index, kind=kind, desc=net.describe(), wrt=str(key), candidate=text)
    start = time.perf_counter()
    try:
        result = check(net.derivcheck_net(), text, timeout=CHECK_TIMEOUT)
    except DerivcheckError as exc:  # refused: not a verdict, but worth a look
        return dict(row, verdict="refused", seconds=time.perf_counter() - start, wrong=None,
                    reason=exc.message)
    except Exception as exc:  # noqa: BLE001 - a crash is a finding
        return dict(row, verdict="crash", seconds=time.perf_counter() - start,
                    wrong=f"{type(exc).__name__}: {exc}")
    seconds = time.perf_counter() - start
    tally = Counter()
    vstart = time.perf_counter()
    try:
        wrong = verify(result, net, node, key, rng, tally)
    except Exception as exc:  # noqa: BLE001 - counted as unverified, and reported
        wrong = None
        tally["skipped"] = f"{type(exc).__name__}: {exc}"
    return dict(row, verdict=result.verdict, seconds=seconds, wrong=wrong,
                reason=result.reason, verify_seconds=time.perf_counter() - vstart,
                diagnosis=[d.kind for d in result.diagnosis], **tally)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=5000)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=20261129)
    ap.add_argument("--quick", action="store_true", help="28 cases, two per mutation")
    ap.add_argument("--log", help="append each case's outcome to this JSONL file as it ends "
                                  "(a run interrupted still has its figures; rerun resumes)")
    ap.add_argument("--summarize", metavar="LOG", help="print the report of a --log file")
    ap.add_argument("--recheck", action="store_true",
                    help="with --log: run again, with this code, every case of the log that "
                         "failed (a wrong verdict, a crash, an unconfirmed or failed "
                         "verification); the new outcome is appended and replaces the old")
    ap.add_argument("--recheck-where", action="append", default=[], metavar="FIELD=V1,V2",
                    help="with --log: also run again every case of the log whose FIELD "
                         "(a key of its row: verdict, kind, desc, candidate, wrt) is one of "
                         "the values (FIELD=V1,V2) or matches the regular expression "
                         "(FIELD~REGEX); repeat it for more (a case matching any is run "
                         "again), e.g. --recheck-where verdict=unknown "
                         "--recheck-where 'candidate~>|<|np.where'")
    args = ap.parse_args(argv)
    if args.summarize:
        rows = read_log(args.summarize)
        report(rows, source=args.summarize)
        return 1 if failed(rows) else 0
    cases = 28 if args.quick else args.cases
    rows = read_log(args.log) if args.log and Path(args.log).exists() else []
    done = {r["index"] for r in rows}
    work = [(args.seed, i) for i in range(cases) if i not in done]
    if args.recheck or args.recheck_where:
        wanted = [r for r in rows if (args.recheck and failed([r]))
                  or any(matches(r, w) for w in args.recheck_where)]
        again = {r["index"] for r in wanted}
        work = [(args.seed, i) for i in sorted(again)]
        rows = [r for r in rows if r["index"] not in again]
    start = time.perf_counter()
    pool = None
    if args.jobs == 1 or not work:
        it = map(run_case, work)
    else:
        import multiprocessing as mp
        pool = mp.get_context("fork").Pool(args.jobs, maxtasksperchild=200)
        it = pool.imap_unordered(run_case, work, chunksize=4)
    log = open(args.log, "a") if args.log else None
    for row in it:
        if args.recheck or args.recheck_where:
            row["rechecked"] = True
        rows.append(row)
        if log:
            log.write(json.dumps(row, default=str) + "\n")
            log.flush()
    if pool is not None:       # an unclosed pool can hang the interpreter's exit
        pool.close()
        pool.join()
    report(rows, time.perf_counter() - start, args.jobs, args.seed)
    return 1 if failed(rows) else 0


def matches(row, where: str) -> bool:
    """Whether a log row matches ``FIELD=V1,V2`` (one of the values) or ``FIELD~REGEX``.

    >>> row = {"verdict": "unknown", "candidate": "dZ1 = dA1 * (Z1 > 0)"}
    >>> matches(row, "verdict=equivalent,unknown"), matches(row, "candidate~> 0")
    (True, True)
    >>> matches(row, "verdict=equivalent")
    False
    """
    field, op, value = re.match(r"^(\w+)\s*([=~])(.*)$", where).groups()
    have = str(row.get(field, ""))
    if op == "=":
        return have in value.split(",")
    return re.search(value, have) is not None


def read_log(path) -> list:
    """The rows of a --log file, the last one of each case (a recheck replaces a row)."""
    rows = {}
    for line in open(path):
        if line.strip().endswith("}"):
            row = json.loads(line)
            rows.pop(row["index"], None)
            rows[row["index"]] = row
    return list(rows.values())


def failed(rows) -> bool:
    """Any wrong verdict, crash, or decided case whose evidence was not confirmed."""
    return any(r["wrong"] or r.get("skipped") or (
        r["verdict"] in ("equivalent", "equivalent_almost_everywhere", "not_equivalent")
        and not r.get("evidence")) for r in rows)


def report(rows, wall=None, jobs=None, seed=None, source=None) -> None:
    verdicts = Counter(r["verdict"] for r in rows)
    by_kind = defaultdict(Counter)
    for r in rows:
        by_kind[r["kind"]][r["verdict"]] += 1
    times = sorted(r["seconds"] for r in rows) or [0.0]
    if source:
        print(f"matrix soundness run: {len(rows)} cases, from {source}")
    else:
        print(f"matrix soundness run: {len(rows)} cases, seed {seed}, {jobs} worker(s), "
              f"{wall:.0f} s wall")
    print("verdicts: " + ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items())))
    print(f"check time: median {statistics.median(times) * 1000:.0f} ms, "
          f"p99 {times[int(0.99 * (len(times) - 1))]:.2f} s, max {times[-1]:.2f} s")
    names = ["equivalent", "equivalent_almost_everywhere", "not_equivalent", "unknown"]
    print(f"{'mutation':<24}" + "".join(f"{n[:14]:>16}" for n in names))
    for kind in mc.MUTATIONS:
        if kind in by_kind:
            print(f"{kind:<24}" + "".join(f"{by_kind[kind][n]:>16}" for n in names))
    for r in rows:
        if r["verdict"] in ("refused", "crash"):
            print(f"{r['verdict']} case {r['index']} ({r['kind']}, {r['desc']}): "
                  f"{r.get('reason') or r.get('wrong')}\n  candidate: {r['candidate']}")
        if r["verdict"] == "unknown":
            print(f"unknown case {r['index']} ({r['kind']}, {r['desc']}): {r.get('reason')}")
    reasons = Counter(reason_class(r.get("reason")) for r in rows if r["verdict"] == "unknown")
    for reason, n in reasons.most_common():
        print(f"unknown, {n} case(s): {reason}")
    rechecked = [r for r in rows if r.get("rechecked")]
    if rechecked:
        shown = ", ".join(str(r["index"]) for r in rechecked[:40])
        print(f"rechecked: {len(rechecked)} case(s) run again with newer code (--recheck, "
              f"--recheck-where): {shown}{', ...' if len(rechecked) > 40 else ''}")
    latex = sum(1 for r in rows if "\\" in r["candidate"] or "^{" in r["candidate"])
    print(f"spelling: {latex} LaTeX candidates, {len(rows) - latex} numpy-like")
    decided = [r for r in rows if r["verdict"] in names[:3]]
    print(f"verification: {sum(r.get('compared', 0) for r in rows)} entry comparisons by "
          f"sympy.diff at exact points, {sum(r.get('compared_torch', 0) for r in rows)} by "
          f"torch autograd at larger sizes, {sum(r.get('unverifiable', 0) for r in rows)} not "
          f"evaluable; the verdict's own evidence confirmed in "
          f"{sum(1 for r in decided if r.get('evidence'))} of {len(decided)} decided cases")
    diagnosed = Counter(k for r in rows for k in r.get("diagnosis") or [])
    print("diagnoses: " + ", ".join(f"{k} {v}" for k, v in diagnosed.most_common()))
    refuted = defaultdict(Counter)
    for r in rows:
        if r["verdict"] == "not_equivalent":
            refuted[r["kind"]]["all"] += 1
            refuted[r["kind"]]["named"] += bool(r.get("diagnosis"))
    print("refutations with a named mistake, by mutation: " + ", ".join(
        f"{k} {c['named']}/{c['all']}" for k, c in refuted.items()))
    unchecked = Counter(k[len("diagnosis_unchecked_"):] for r in rows for k in r
                        if k.startswith("diagnosis_unchecked_"))
    print(f"diagnoses verified true: {sum(r.get('diagnosis_checked', 0) for r in rows)}; "
          f"not evaluable: {sum(r.get('diagnosis_unverifiable', 0) for r in rows)}; claiming "
          f"nothing checkable: {dict(unchecked)}; counterexample entries placed and shown to "
          f"differ in every case but {sum(r.get('entry_unplaced', 0) for r in rows)}")
    for r in rows:
        if r.get("skipped"):
            print(f"verification failed, case {r['index']}: {r['skipped']}")
        elif r in decided and not r.get("evidence"):
            print(f"evidence unconfirmed, case {r['index']} ({r['kind']}, {r['desc']})")
    wrong = [r for r in rows if r["wrong"]]
    for r in wrong:
        print(f"WRONG case {r['index']} ({r['kind']}, {r['desc']}, d/d{r['wrt']}): "
              f"{r['verdict']}: {r['wrong']}\n  candidate: {r['candidate']}")
    print(f"WRONG verdicts: {len(wrong)}")


def reason_class(reason) -> str:
    """An unknown's reason with its sizes, numbers and formulas left out, to group by."""
    text = re.sub(r"\d+(\.\d+)?", "N", reason or "no reason given")
    text = re.sub(r"at [a-zA-Z]\w* = N(, [a-zA-Z]\w* = N)*", "at <sizes>", text)
    return text[:160]


if __name__ == "__main__":
    sys.exit(main())
