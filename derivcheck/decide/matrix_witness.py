"""Counterexamples of matrix checks: sizes, exact matrices, the entry that differs, and
targets valid for the loss (one-hot columns or rows for cross-entropy).

A scalar witness (a point of entry symbols) becomes a :class:`MatrixWitness` that also
shows each matrix of the style; shapes that differ get a :class:`ShapeWitness` (they
differ at every point, so one point with both sides' values).
"""
from __future__ import annotations

import itertools
import random
from fractions import Fraction

import numpy as np
import sympy

from ..core.matrix import expr as mx
from ..core.printing import format_value
from .evaluate import PointEvaluator
from .search import _differ
from .verdict import Witness

__all__ = ["MatrixWitness", "ShapeWitness", "one_hot", "matrix_witness", "shape_witness"]


def one_hot(inst, witness, ref, cand, net, conv):
    """For cross-entropy, the counterexample with one-hot target columns (some choice of
    classes keeps a difference when both sides are affine in the targets), else None;
    other losses keep the witness."""
    if inst.net.loss != "cross_entropy":
        return witness
    Y = inst.array(("Y",))
    classes, m = Y.shape
    defs = net.definitions(conv)
    base = {sympy.Symbol(str(k)): v for k, v in witness.point.items()}
    for choice in itertools.product(range(classes), repeat=m):
        point = dict(base)
        for k, c in enumerate(choice):
            for j in range(classes - 1):
                point[Y[j, k]] = Fraction(int(j == c))
        try:
            ev = PointEvaluator(defs, point, step0=witness.step0 or Fraction(0))
            a, b = ev(cand), ev(ref)
            differ = _differ(a, b, ev.error(cand), ev.error(ref))
        except Exception:  # noqa: BLE001 - an undefined value: try the next choice
            continue
        if differ:    # beyond rounding: mpmath values equal in truth may differ in an ulp
            return Witness({str(k): v for k, v in point.items()}, a, b, witness.step0)
    return None


class MatrixWitness(Witness):
    """A counterexample with the sizes, the matrices and the entry that differs."""

    def __init__(self, base: Witness, sizes: dict, matrices: dict, entry: str):
        super().__init__(base.point, base.candidate, base.expected, base.step0)
        self.sizes, self.matrices, self.entry = sizes, matrices, entry

    def to_json(self) -> dict:
        out = super().to_json()
        out["sizes"] = dict(self.sizes)
        out["entry"] = self.entry
        out["matrices"] = {k: [[format_value(v) for v in row] for row in rows]
                           for k, rows in self.matrices.items()}
        return out


class ShapeWitness(MatrixWitness):
    """Shapes that differ differ at every point: one point, with both sides' values as
    matrices (the candidate's, when its products fit at all), and both sides' shapes as
    data: ``"shape": {"candidate": [rows, cols] or None, "expected": [rows, cols]}`` (a
    vector has one size, a number none; None: the candidate's products do not fit).

    >>> from fractions import Fraction as F
    >>> base = Witness({"x": F(1)}, np.array([[F(1), F(2)]]), np.array([[F(1)], [F(2)]]))
    >>> w = ShapeWitness(base, {"m": 1}, {}, "dW1 (shape)", shapes=((1, 2), (2, 1)))
    >>> w.to_json()["shape"], w.to_json()["expected"]
    ({'candidate': [1, 2], 'expected': [2, 1]}, '[1; 2]')
    """

    def __init__(self, base: Witness, sizes: dict, matrices: dict, entry: str, *,
                 shapes: tuple = (None, None)):
        super().__init__(base, sizes, matrices, entry)
        self.shapes = shapes

    def to_json(self) -> dict:

        def show_value(v):
            if isinstance(v, str):
                return v
            arr = np.asarray(v, dtype=object)
            if arr.ndim == 0:
                return format_value(arr.item())
            rows = np.atleast_2d(arr)
            return "[" + "; ".join(" ".join(format_value(x) for x in row) for row in rows) + "]"

        out = {"point": {k: format_value(v) for k, v in self.point.items()},
               "candidate": show_value(self.candidate), "expected": show_value(self.expected),
               "step0": None, "sizes": dict(self.sizes), "entry": self.entry,
               "matrices": {k: [[format_value(v) for v in row] for row in rows]
                            for k, rows in self.matrices.items()},
               "shape": {side: None if shape is None else [int(n) for n in shape]
                         for side, shape in zip(("candidate", "expected"), self.shapes)}}
        return out


def shape_witness(net, expr, reference, sizes, conv):
    """A point at the smallest sizes, with both sides evaluated there."""
    inst = net.instance(sizes)
    rng = random.Random(20261123)
    point = {s: Fraction(rng.choice([-3, -2, -1, 1, 2, 3]), rng.choice([1, 2, 3]))
             for s in inst.leaves()}
    point.update(_valid_targets(inst, rng))
    defs = inst.true_network.definitions(conv)

    def value(node):
        """(the value at the point, or why there is none; the shape at these sizes, or
        None when the products do not fit)."""
        if node.shape is None:
            return f"no value: {node.problem.message}", None
        arr = np.asarray(node.evaluate(inst.env("true", conv)), dtype=object)
        try:
            flat = [PointEvaluator(defs, point)(mx.as_sympy(x)) for x in arr.flat]
        except Exception:  # noqa: BLE001 - undefined there: say so, the shapes still differ
            return "undefined at this point", arr.shape
        return np.array(flat, dtype=object).reshape(arr.shape), arr.shape

    (cand, cand_shape), (ref, ref_shape) = value(expr), value(reference)
    base = Witness({str(k): v for k, v in point.items()}, cand, ref)
    witness = matrix_witness(inst, base, (), reference)
    return ShapeWitness(base, witness.sizes, witness.matrices, f"{reference.name} (shape)",
                        shapes=(cand_shape, ref_shape))


def _valid_targets(inst, rng) -> dict:
    """Free targets valid for the loss: one-hot columns for cross-entropy (the last class
    is 1 minus the others), values in [0, 1] for bce, anything otherwise."""
    Y = inst.array(("Y",))
    loss = inst.net.loss
    if loss == "cross_entropy":
        out = {}
        for k in range(Y.shape[1]):
            c = rng.randrange(Y.shape[0])
            out.update({Y[j, k]: Fraction(int(j == c)) for j in range(Y.shape[0] - 1)})
        return out
    if loss == "bce":
        return {y: Fraction(rng.randint(0, 4), 4) for y in Y.flat}
    return {}


def _labels(rows, examples_as_rows: bool) -> list:
    """The class label (0-based, as numpy indexes) of each example's one-hot target.

    >>> from fractions import Fraction as F
    >>> _labels([[F(0), F(1)], [F(1), F(0)], [F(0), F(0)]], False)
    [Fraction(1, 1), Fraction(0, 1)]
    """
    columns = rows if examples_as_rows else list(zip(*rows))
    return [Fraction(list(c).index(1)) if 1 in list(c) else Fraction(-1) for c in columns]


def matrix_witness(inst, witness, idx, reference):
    if witness is None:
        return None
    point = {sympy.Symbol(str(k)) if not isinstance(k, sympy.Symbol) else k: v
             for k, v in witness.point.items()}
    net = inst.net
    matrices = {}
    for key in net.keys:
        if key[0] in ("Z", "A", "P"):
            continue
        arr = np.atleast_2d(inst.styled(key, inst.array(key)))
        if key == ("Y",) and net.loss == "cross_entropy":
            defs = inst.true_network.definitions()
            rows = [[PointEvaluator(defs, point)(s) for s in row] for row in arr]
        else:
            rows = [[point.get(s, Fraction(0)) for s in row] for row in arr]
        matrices[net.name(key)] = rows
        if key == ("Y",) and net.labels:
            matrices["y"] = [_labels(rows, net.style.layout == "rows")]
    where = "[" + ",".join(str(i + 1) for i in idx) + "]" if idx else ""
    return MatrixWitness(Witness({str(k): v for k, v in point.items()}, witness.candidate,
                                  witness.expected, witness.step0),
                          dict(inst.sizes), matrices, f"{reference.name}{where}")
