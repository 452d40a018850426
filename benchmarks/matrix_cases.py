"""Random matrix networks and formulas for the matrix soundness run (benchmarks/
soundness_matrices.py): the networks, the gradient formulas as courses write them in each
style, their mutations, and an evaluator of those formulas that is independent of
derivcheck (numpy arrays of exact SymPy numbers, or of floats).

The style tables here are written from CONTRACT section 5, not read from derivcheck:

* ``ng``: examples as columns, W_l is n_l x n_{l-1}; ``dZ``/``dA`` are the per-example
  gradients stacked (m dJ/dQ under a mean), ``dW``/``db`` gradients of the mean cost;
* ``cs231n``: examples as rows, W1 is D x H, biases are vectors, ``dscores`` = dL/dZ_L,
  ``dhidden`` = dL/dZ1, every ``d`` name a gradient of the (mean) loss;
* ``nielsen``: columns, layers from 2 (``w2``, ``z2``, ``a2``; ``a1`` = x), ``delta`` = dC/dz;
* ``seed``: columns, W^{(k)} joins layer k to k+1 as an n_k x n_{k+1} matrix, k from 0
  (``W0``, ``z1``, ``r1``).

A formula is a small tree of tuples over *canonical* quantities (examples as columns,
W_l n_l x n_{l-1}): ("q", key) a quantity, ("g", key) dJ/dQ. It is put into the style's
layout (transposes pushed to the leaves, scalar factors pulled to the front), mutated there,
printed as numpy-like text, and evaluated with :func:`evaluate`.
"""
from __future__ import annotations

import random

import numpy as np
import sympy

M = sympy.Symbol("m")

STYLES = {
    # layout, weights, bias, layer offset in names, names
    "ng": dict(rows=False, in_out=False, vec=False, off=0, W="W{}", b="b{}", Z="Z{}",
               A="A{}", X="X", Y="Y", stacked=True),
    "cs231n": dict(rows=True, in_out=True, vec=True, off=0, W="W{}", b="b{}", Z="Z{}",
                   A="A{}", X="X", Y="Y", stacked=False),
    "nielsen": dict(rows=False, in_out=False, vec=False, off=1, W="w{}", b="b{}", Z="z{}",
                    A="a{}", X="x", Y="y", stacked=False),
    "seed": dict(rows=False, in_out=True, vec=False, off=0, W="W{}", b="b{}", Z="z{}",
                 A="r{}", X="x", Y="y", stacked=False, woff=-1),
}
HIDDEN = ["relu", "relu", "relu", "tanh", "sigmoid", "identity", "leaky_relu(1/10)"]
OUTPUT = {"half_squared": ["identity", "sigmoid", "tanh", "relu"],
          "squared": ["identity", "sigmoid"], "mse": ["identity", "tanh"],
          "bce": ["sigmoid"], "cross_entropy": ["softmax", "softmax", "identity"]}


class Net:
    """A random network: widths (numbers or size names), activations, loss, batch, bias,
    reduction and style (what derivcheck's MatrixNetwork is built from)."""

    def __init__(self, widths, acts, loss, batch, bias, reduce, style):
        self.widths, self.acts, self.loss = widths, acts, loss
        self.batch, self.bias, self.reduce, self.style = batch, bias, reduce, style
        self.L = len(widths) - 1
        self.t = STYLES[style]

    def describe(self) -> str:
        return (f"{self.style} widths {','.join(map(str, self.widths))} "
                f"acts {','.join(self.acts)} {self.loss} batch {self.batch} "
                f"{'+b ' if self.bias else ''}{self.reduce}")

    def derivcheck_net(self):
        from derivcheck.core.matrix.network import MatrixNetwork
        return MatrixNetwork(self.widths, ",".join(self.acts), self.loss, batch=self.batch,
                             style=self.style, bias=self.bias, reduce=self.reduce)

    @property
    def size_names(self) -> list:
        dims = list(self.widths) + ([self.batch] if self.batch is not None else [])
        return list(dict.fromkeys(d for d in dims if isinstance(d, str)))

    def dims(self, sizes: dict) -> tuple:
        """(widths, m) at concrete sizes."""
        w = [sizes[d] if isinstance(d, str) else d for d in self.widths]
        b = self.batch
        return w, (1 if b is None else sizes[b] if isinstance(b, str) else b)

    # -- names and views, per the contract ---------------------------------------------
    def name(self, key) -> str:
        t = self.t
        if key[0] in ("X", "Y"):
            return t[key[0]]
        if key[0] == "P":
            return "P" if self.style in ("ng", "cs231n") else "p"
        off = t.get("woff", 0) if key[0] in ("W", "b") else 0
        return t[key[0]].format(key[1] + t["off"] + off)

    def view(self, key) -> str:
        """'' (canonical), 'T' (transposed) or 'vec' (a bias vector)."""
        t = self.t
        if key[0] == "W":
            return "T" if t["in_out"] else ""
        if key[0] == "b":
            return "vec" if t["vec"] else ("T" if t["rows"] else "")
        return "T" if t["rows"] else ""

    def mean_scale(self):
        """m when the cost is a mean over a batch (the stacked gradients' factor)."""
        if self.batch is None or self.reduce == "sum":
            return sympy.S.One
        return M if isinstance(self.batch, str) else sympy.Integer(self.batch)

    def grad_name(self, key) -> tuple:
        """(name, scale): the style's name for dJ/dQ, whose value is scale * dJ/dQ."""
        if self.style == "nielsen" and key[0] == "Z":
            return f"delta{key[1] + 1}", sympy.S.One
        if self.style == "cs231n" and key == ("Z", self.L):
            return "dscores", sympy.S.One
        if self.style == "ng" and key[0] in ("Z", "A"):
            return "d" + self.name(key), self.mean_scale()
        return "d" + self.name(key), sympy.S.One

    def size_symbol(self, d):
        return sympy.Symbol(d) if isinstance(d, str) else sympy.Integer(d)


def random_net(rng: random.Random) -> Net:
    style = rng.choice(["ng", "ng", "cs231n", "cs231n", "nielsen", "seed"])
    depth = rng.choice([1, 2, 2, 2, 3])
    loss = rng.choice(["half_squared", "half_squared", "squared", "mse", "bce",
                       "cross_entropy", "cross_entropy"])
    names = iter(["D", "H", "H2", "C"] if style == "cs231n" else ["n0", "n1", "n2", "n3"])
    widths = []
    for k in range(depth + 1):
        name = next(names)
        widths.append(name if rng.random() < 0.7 else rng.choice([1, 2, 3]))
    if loss == "cross_entropy":
        widths[-1] = rng.choice([2, 3])
    elif loss == "bce" and rng.random() < 0.6:
        widths[-1] = 1
    acts = [rng.choice(HIDDEN) for _ in range(depth - 1)] + [rng.choice(OUTPUT[loss])]
    if style in ("ng", "cs231n"):
        batch = rng.choice(["m", "m", "m", None, 3]) if style == "ng" else rng.choice(
            ["N", "N", None, 3])
    else:
        batch = rng.choice([None, None, None, "m"])
    if batch == "N":
        batch = "m"   # one symbol for the batch throughout (sizes["m"])
    bias = rng.random() < 0.6
    reduce = "sum" if batch is not None and rng.random() < 0.2 else "mean"
    return Net(widths, acts, loss, batch, bias, reduce, style)


# -- the true formulas, canonical -----------------------------------------------------------

def prime(net: Net, l: int, rng: random.Random, elementwise_softmax: bool = False):
    """The derivative of layer l's activation, as courses write it (None for identity)."""
    act = net.acts[l - 1]
    Z, A = ("q", ("Z", l)), ("q", ("A", l))
    if act == "relu":
        return ("gt", Z) if rng.random() < 0.7 else ("where", Z)
    if act == "leaky_relu(1/10)":
        return ("leakyd", Z)
    if act == "tanh":
        return ("rsub", 1, ("pow2", A))
    if act == "sigmoid" or (act == "softmax" and elementwise_softmax):
        return ("had", A, ("rsub", 1, A))
    if act == "identity":
        return None
    raise ValueError(act)


def _times(e, p):
    return e if p is None else ("had", e, p)


def output_delta(net: Net, rng: random.Random):
    """dJ/dZ_L."""
    L = net.L
    r = sympy.S.One / net.mean_scale()
    A, Y = ("q", ("A", L)), ("q", ("Y",))
    if net.loss == "cross_entropy":
        P = A if net.acts[-1] == "softmax" else ("q", ("P",))
        d = ("coef", r, ("sub", P, Y))
        return d if net.acts[-1] == "softmax" else _times(d, prime(net, L, rng))
    if net.loss == "bce":
        return ("coef", r, ("sub", A, Y))
    c = {"half_squared": r, "squared": 2 * r,
         "mse": 2 * r / net.size_symbol(net.widths[-1])}[net.loss]
    return _times(("coef", c, ("sub", A, Y)), prime(net, L, rng))


def truth(net: Net, key, rng: random.Random):
    """dJ/dQ as a formula over quantities and other gradients (one step of the backward
    pass, in one of the ways courses write it)."""
    kind = key[0]
    L = net.L
    if kind == "W":
        l = key[1]
        prev = ("q", ("A", l - 1)) if l > 1 else ("q", ("X",))
        return ("mm", ("g", ("Z", l)), ("T", prev))
    if kind == "b":
        return ("sum", ("g", ("Z", key[1])), 1, True)
    if kind == "A":
        l = key[1]
        return ("mm", ("T", ("q", ("W", l + 1))), ("g", ("Z", l + 1)))
    if kind == "X":
        return ("mm", ("T", ("q", ("W", 1))), ("g", ("Z", 1)))
    l = key[1]
    if l == L:
        return output_delta(net, rng)
    if rng.random() < 0.5:
        return _times(("g", ("A", l)), prime(net, l, rng))
    return _times(("mm", ("T", ("q", ("W", l + 1))), ("g", ("Z", l + 1))), prime(net, l, rng))


def wrt_keys(net: Net) -> list:
    out = []
    for l in range(1, net.L + 1):
        out += [("W", l)] + ([("b", l)] if net.bias else []) + [("Z", l)]
        if l < net.L:
            out.append(("A", l))
    return out


# -- into the style -------------------------------------------------------------------------

def styled(net: Net, node):
    """The canonical formula in the style's names and layout (leaves ("sq", key) and
    ("sg", key) hold the style's own matrices)."""
    op = node[0]
    if op == "q":
        leaf = ("sq", node[1])
        return ("T", leaf) if net.view(node[1]) == "T" else leaf
    if op == "g":
        leaf = ("sg", node[1])
        _, scale = net.grad_name(node[1])
        leaf = ("T", leaf) if net.view(node[1]) == "T" else leaf
        return leaf if scale == 1 else ("coef", 1 / scale, leaf)
    if op in ("coef",):
        return (op, node[1], styled(net, node[2]))
    if op == "rsub":
        return (op, node[1], styled(net, node[2]))
    if op == "sum":
        return (op, styled(net, node[1]), node[2], node[3])
    return (op,) + tuple(styled(net, a) for a in node[1:])


def push(node, t: bool = False):
    """Transposes pushed to the leaves ((A B)^T = B^T A^T)."""
    op = node[0]
    if op == "T":
        return push(node[1], not t)
    if op in ("sq", "sg"):
        return ("T", node) if t else node
    if op == "mm":
        a, b = node[1], node[2]
        return ("mm", push(b, True), push(a, True)) if t else ("mm", push(a), push(b))
    if op in ("had", "add", "sub"):
        return (op, push(node[1], t), push(node[2], t))
    if op in ("neg", "pow2", "gt", "where", "leakyd"):
        return (op, push(node[1], t))
    if op in ("coef", "rsub"):
        return (op, node[1], push(node[2], t))
    if op == "sum":
        return ("sum", push(node[1], t), 1 - node[2] if t else node[2], node[3])
    raise ValueError(op)


def pull(node):
    """(scalar factor, node without it)."""
    op = node[0]
    if op == "coef":
        c, inner = pull(node[2])
        return node[1] * c, inner
    if op in ("mm", "had"):
        ca, a = pull(node[1])
        cb, b = pull(node[2])
        return ca * cb, (op, a, b)
    if op in ("add", "sub"):
        ca, a = pull(node[1])
        cb, b = pull(node[2])
        if sympy.simplify(ca - cb) == 0:
            return ca, (op, a, b)
        return sympy.S.One, (op, _coef(ca, a), _coef(cb, b))
    if op == "neg":
        c, a = pull(node[1])
        return -c, a
    if op == "sum":
        c, a = pull(node[1])
        return c, ("sum", a, node[2], node[3])
    if op == "T":
        c, a = pull(node[1])
        return c, ("T", a)
    if op == "pow2":
        c, a = pull(node[1])
        return c ** 2, ("pow2", a)
    return sympy.S.One, node


def _coef(c, node):
    return node if c == 1 else ("coef", c, node)


def formula(net: Net, key, rng: random.Random):
    """(left side name, the style's formula for it, as a tree with the factor in front)."""
    name, scale = net.grad_name(key)
    body = styled(net, truth(net, key, rng))
    if net.view(key) == "T":
        body = ("T", body)
    if net.view(key) == "vec":      # a bias vector: the column sum shown as a vector
        body = ("T", body)
    c, inner = pull(push(body))
    return name, _coef(sympy.simplify(scale * c), inner)


# -- printing -------------------------------------------------------------------------------

def text(net: Net, node, rng: random.Random, top: bool = True) -> str:
    """Numpy-like text, with random but equivalent surface forms (np.dot, / m)."""
    op = node[0]
    sub = lambda n: text(net, n, rng, False)  # noqa: E731
    if op == "sq":
        return net.name(node[1])
    if op == "sg":
        return net.grad_name(node[1])[0]
    if op == "T":
        inner = sub(node[1])
        return f"{inner}.T" if node[1][0] in ("sq", "sg") else f"({inner}).T"
    if op == "mm":
        if rng.random() < 0.2:
            return f"np.dot({sub(node[1])}, {sub(node[2])})"
        out = f"{sub(node[1])} @ {sub(node[2])}"
    elif op == "had":
        out = f"{sub(node[1])} * {sub(node[2])}"
    elif op in SHARED:
        return shared(node, sub, top)
    elif op == "pow2":
        return f"{sub(node[1])}**2"
    elif op == "gt":
        return f"({sub(node[1])} > 0)"
    elif op == "where":
        return f"np.where({sub(node[1])} > 0, 1, 0)"
    elif op == "leakyd":
        return f"(1/10 + 9/10 * ({sub(node[1])} > 0))"
    elif op == "sum":
        keep = ", keepdims=True" if node[3] else ""
        return f"np.sum({text(net, node[1], rng)}, axis={node[2]}{keep})"
    elif op == "coef":
        num, den = sympy.fraction(sympy.factor(node[1]))
        inner = text(net, node[2], rng)
        if den != 1 and num == 1 and rng.random() < 0.5:
            out = f"({inner}) / {_factor(den)}"
        elif num == -1 and den == 1:
            out = f"-({inner})"
        else:
            lead = _factor(num) if den == 1 else f"{_factor(num)}/{_factor(den)}"
            out = f"{lead} * ({inner})"
    else:
        raise ValueError(op)
    return out if top else f"({out})"


#: Nodes both notations (numpy-like and LaTeX) write alike.
SHARED = ("add", "sub", "neg", "rsub")


def shared(node, sub, top: bool) -> str:
    """A sum, difference, negation or ``c - X``, its operands written by ``sub``; nested
    in parentheses unless ``top`` (``c - X`` always is).

    >>> name = lambda n: n[1]
    >>> shared(("sub", ("sq", "A2"), ("sq", "Y")), name, True)
    'A2 - Y'
    >>> shared(("neg", ("sq", "dZ1")), name, False), shared(("rsub", 1, ("sq", "A1")), name, True)
    ('(-dZ1)', '(1 - A1)')
    """
    op = node[0]
    if op == "rsub":
        return f"({node[1]} - {sub(node[2])})"
    out = {"add": lambda: f"{sub(node[1])} + {sub(node[2])}",
           "sub": lambda: f"{sub(node[1])} - {sub(node[2])}",
           "neg": lambda: f"-{sub(node[1])}"}[op]()
    return out if top else f"({out})"


def _factor(e) -> str:
    s = str(e)
    return s if s.isalnum() else f"({s})"


# -- mutations (on the styled tree) ---------------------------------------------------------

def _paths(node, path=()):
    yield path, node
    if node[0] in ("coef", "rsub"):
        yield from _paths(node[2], path + (2,))
    elif node[0] == "sum":
        yield from _paths(node[1], path + (1,))
    elif node[0] not in ("sq", "sg"):
        for i, a in enumerate(node[1:], 1):
            yield from _paths(a, path + (i,))


def _replace(node, path, new):
    if not path:
        return new
    i = path[0]
    return node[:i] + (_replace(node[i], path[1:], new),) + node[i + 1:]


def _pick(rng, node, test):
    found = [(p, n) for p, n in _paths(node) if test(n)]
    return rng.choice(found) if found else (None, None)


def _top(node):
    """(factor, body) of a formula."""
    return (node[1], node[2]) if node[0] == "coef" else (sympy.S.One, node)


MUTATIONS = ["same", "transpose_rewrite", "distribute", "reorder_hadamard",
             "drop_transpose", "swap_order", "elementwise_vs_matrix", "missing_mean",
             "doubled_mean", "wrong_sum_axis", "softmax_elementwise", "drop_mask", "sign_flip",
             "hardcoded_size"]
TRUE_REWRITES = {"same", "transpose_rewrite", "distribute", "reorder_hadamard"}


def mutate(net: Net, key, node, kind: str, rng: random.Random):
    """The formula under mutation ``kind`` (a tree), or None when it does not apply."""
    factor, body = _top(node)
    if kind == "same":
        return node
    if kind == "transpose_rewrite":
        p, n = _pick(rng, node, lambda n: n[0] == "mm")
        if p is None:
            return None
        return _replace(node, p, ("T", ("mm", push(n[2], True), push(n[1], True))))
    if kind == "distribute":
        p, n = _pick(rng, node, lambda n: n[0] in ("had", "mm") and n[1][0] in ("sub", "add"))
        if p is not None:
            inner = n[1]
            return _replace(node, p, (inner[0], (n[0], inner[1], n[2]), (n[0], inner[2], n[2])))
        p, n = _pick(rng, node, lambda n: n[0] in ("had", "mm") and n[2][0] in ("sub", "add"))
        if p is not None:
            inner = n[2]
            return _replace(node, p, (inner[0], (n[0], n[1], inner[1]), (n[0], n[1], inner[2])))
        return None
    if kind == "reorder_hadamard":
        p, n = _pick(rng, node, lambda n: n[0] == "had")
        return None if p is None else _replace(node, p, ("had", n[2], n[1]))
    if kind == "drop_transpose":
        p, n = _pick(rng, node, lambda n: n[0] == "T")
        return None if p is None else _replace(node, p, n[1])
    if kind == "swap_order":
        p, n = _pick(rng, node, lambda n: n[0] == "mm")
        return None if p is None else _replace(node, p, ("mm", n[2], n[1]))
    if kind == "elementwise_vs_matrix":
        p, n = _pick(rng, node, lambda n: n[0] in ("mm", "had"))
        return None if p is None else _replace(node, p, ("had" if n[0] == "mm" else "mm",
                                                         n[1], n[2]))
    if kind == "missing_mean":
        if not factor.has(M) or not sympy.fraction(factor)[1].has(M):
            return None
        return _coef(sympy.simplify(factor * M), body)
    if kind == "doubled_mean":
        if not isinstance(net.batch, str):
            return None
        return _coef(sympy.simplify(factor / M), body)
    if kind == "wrong_sum_axis":
        p, n = _pick(rng, node, lambda n: n[0] == "sum")
        if p is None:
            return None
        return _replace(node, p, ("sum", n[1], 1 - n[2], n[3]) if rng.random() < 0.6
                        else ("sum", n[1], n[2], not n[3]))
    if kind == "softmax_elementwise":
        if net.acts[-1] != "softmax" or key != ("Z", net.L):
            return None
        wrong = ("had", ("g", ("A", net.L)), prime(net, net.L, rng, elementwise_softmax=True))
        body = styled(net, wrong)
        if net.view(key) == "T":
            body = ("T", body)
        c, inner = pull(push(body))
        return _coef(sympy.simplify(net.grad_name(key)[1] * c), inner)
    if kind == "drop_mask":
        p, n = _pick(rng, node, lambda n: n[0] == "had" and any(
            a[0] in ("gt", "where", "leakyd") or (a[0] == "rsub" and a[2][0] == "pow2")
            for a in n[1:]))
        if p is None:
            return None
        keep = n[2] if n[1][0] in ("gt", "where", "leakyd", "rsub") else n[1]
        return _replace(node, p, keep)
    if kind == "sign_flip":
        return _coef(-factor, body)
    if kind == "hardcoded_size":
        names = [s for s in factor.free_symbols]
        if not names:
            return None
        s = rng.choice(names)
        return _coef(factor.xreplace({s: sympy.Integer(rng.choice([2, 3, 4, 5]))}), body)
    raise ValueError(kind)


# -- evaluating a formula (independent of derivcheck) ------------------------------------

class ShapeError(ValueError):
    """The products of a formula do not fit."""


def evaluate(node, leaf, grad, sizes: dict, exact: bool = True):
    """The formula's value: ``leaf(key)`` and ``grad(key)`` give the style's matrices (the
    gradient already scaled as its name means), ``sizes`` the value of each size name in
    a factor; numpy broadcasting as numpy does it."""
    op = node[0]
    ev = lambda n: evaluate(n, leaf, grad, sizes, exact)  # noqa: E731
    try:
        if op == "sq":
            return leaf(node[1])
        if op == "sg":
            return grad(node[1])
        if op == "const":
            return node[1]
        if op == "T":
            return np.asarray(ev(node[1])).T
        if op == "mm":
            a, b = np.asarray(ev(node[1])), np.asarray(ev(node[2]))
            if a.ndim == 0 or b.ndim == 0:
                raise ShapeError("matrix product with a scalar")
            return a @ b
        if op == "jx":    # LaTeX juxtaposition: the matrix product, or the elementwise
            a, b = np.asarray(ev(node[1])), np.asarray(ev(node[2]))   # where only it fits
            if a.ndim and b.ndim and a.shape[-1] == b.shape[0]:
                return a @ b
            return a * b
        if op == "had":
            return np.asarray(ev(node[1])) * np.asarray(ev(node[2]))
        if op == "add":
            return np.asarray(ev(node[1])) + np.asarray(ev(node[2]))
        if op == "sub":
            return np.asarray(ev(node[1])) - np.asarray(ev(node[2]))
        if op == "neg":
            return -np.asarray(ev(node[1]))
        if op == "pow2":
            a = np.asarray(ev(node[1]))
            return a * a
        if op in ("gt", "where"):
            return _mask(np.asarray(ev(node[1])), exact)
        if op == "leakyd":
            one = sympy.Rational(1, 10) if exact else 0.1
            nine = sympy.Rational(9, 10) if exact else 0.9
            return one + nine * _mask(np.asarray(ev(node[1])), exact)
        if op == "rsub":
            c = sympy.Integer(node[1]) if exact else float(node[1])
            return c - np.asarray(ev(node[2]))
        if op == "coef":
            c = sympy.sympify(node[1]).xreplace(
                {sympy.Symbol(k): sympy.Integer(v) for k, v in sizes.items()})
            if not c.is_Rational:
                raise LookupError(f"factor {c} has a size with no value")
            return (c if exact else float(c)) * np.asarray(ev(node[2]))
        if op == "sum":
            a = np.asarray(ev(node[1]))
            if a.ndim != 2:
                raise ShapeError("sum over an axis of a vector")
            return a.sum(axis=node[2], keepdims=node[3])
    except ValueError as exc:
        if type(exc) is not ValueError:   # a ShapeError, or a value the caller cannot give
            raise
        raise ShapeError(str(exc)) from exc   # numpy: the shapes do not broadcast
    raise ValueError(op)


def _mask(a, exact):
    if not exact:
        return (a > 0).astype(float)
    out = np.empty(a.shape, dtype=object)
    for idx in np.ndindex(a.shape):
        out[idx] = sympy.S.One if bool(sympy.N(a[idx], 40) > 0) and not a[idx].is_zero \
            else sympy.S.Zero
    return out
