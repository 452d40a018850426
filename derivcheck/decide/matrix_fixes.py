"""Named mistakes in matrix formulas, each verified by applying its fix and re-deciding.

A fix is one local rewrite of the candidate's tree (swap a product's factors, transpose a
factor, trade ``*`` for ``@``, scale by ``1/m`` or ``m``, sum over the other axis, flip the
sign, add a ReLU mask); a diagnosis is reported only when the fixed formula is identical
to the true gradient entry by entry at an instance.

>>> from derivcheck.core.matrix.expr import Leaf, matmul
>>> a, b = Leaf("A", ("n", "k")), Leaf("B", ("k", "p"))
>>> [kind for kind, _, _ in rewrites(matmul(a, b))][:2]
['wrong_product_order', 'missing_transpose']
"""
from __future__ import annotations

import sympy

from ..core.matrix import expr as mx
from ..core.matrix.layout import mapped
from .diagnosis import MISTAKES
from .index_fixes import index_rewrites

__all__ = ["rewrites", "replace", "diagnose_matrix", "shape_fixes", "mistake"]


def replace(root: mx.MExpr, target: mx.MExpr, new: mx.MExpr) -> mx.MExpr:
    """``root`` with the node ``target`` (by identity) replaced by ``new``."""
    return mapped(root, lambda node: new if node is target else node)


def rewrites(root: mx.MExpr, net=None, conv=None):
    """(kind, message, fixed formula) for every one-step fix of ``root`` (with ``conv``,
    also the activation derivative of a layer put back); a formula in index form gets
    the fixes of its indices (:mod:`.index_fixes`) first."""
    yield from index_rewrites(root)
    for node in list(root.walk()):
        if isinstance(node, mx.MatMul):
            a, b = node.left, node.right
            yield ("wrong_product_order", f"write {b.text()} @ {a.text()} for {node.text()}",
                   replace(root, node, mx.MatMul(b, a)))
            for fixed in (mx.MatMul(mx.transpose(a), b), mx.MatMul(a, mx.transpose(b))):
                yield ("missing_transpose", f"write {fixed.text()} instead of {node.text()}",
                       replace(root, node, fixed))
            yield ("elementwise_vs_matrix_product", f"{node.text()} should be an elementwise "
                   "product", replace(root, node, mx.mul(a, b)))
        if isinstance(node, mx.Elementwise) and node.op == "*":
            a, b = node.args
            if a.shape != () and b.shape != ():
                fixed = mx.MatMul(a, b)
                yield ("elementwise_vs_matrix_product", f"{node.text()} should be a matrix "
                       f"product: {fixed.text()}", replace(root, node, fixed))
                for fixed in (mx.MatMul(mx.transpose(a), b), mx.MatMul(a, mx.transpose(b))):
                    yield ("missing_transpose", f"{fixed.text()} is the matrix product meant "
                           f"by {node.text()}",
                           replace(root, node, fixed))
        if isinstance(node, mx.Sum) and node.axis is not None and node.arg.shape:
            for axis in range(len(node.arg.shape)):
                for keep in (True, False):
                    if (axis, keep) == (node.axis % len(node.arg.shape), node.keepdims):
                        continue
                    fixed = mx.Sum(node.arg, axis, keep)
                    yield ("wrong_sum_axis", f"write {fixed.text()} for {node.text()}",
                           replace(root, node, fixed))
        if isinstance(node, mx.Transpose):
            yield ("extra_transpose", f"{node.text()} should not be transposed",
                   replace(root, node, node.arg))
    if net is not None and net.has_batch and net.reduce == "mean":
        m = net.batch
        size = sympy.Symbol(m) if isinstance(m, str) else sympy.Integer(m)
        yield ("missing_batch_mean", f"the 1/{m} of the batch mean is missing",
               mx.mul(mx.Scalar(1 / size), root))
        yield ("missing_batch_mean", f"the 1/{m} of the batch mean is taken twice",
               mx.mul(mx.Scalar(size), root))
    if net is not None and net.has_batch and net.reduce == "sum":
        m = net.batch
        size = sympy.Symbol(m) if isinstance(m, str) else sympy.Integer(m)
        yield ("missing_batch_mean", f"the losses are summed over the batch (reduce sum), so "
               f"there is no 1/{m} of a mean", mx.mul(mx.Scalar(size), root))
    if root.shape is not None and len(root.shape) == 2:
        yield ("missing_transpose", "the formula is the transpose of the gradient: "
               "(A B)^T = B^T A^T, so swap the factors and transpose each", mx.transpose(root))
    yield ("sign_flip", "the sign is flipped (y - yhat where yhat - y belongs)", mx.neg(root))
    if net is not None:
        for l in range(1, net.L + 1):
            z = net.leaf(("Z", l))
            mask = mx.compare(">", z, 0, lambda xs: _step(xs[0] - xs[1]))
            fixed = mx.mul(root, mask)
            if fixed.shape == root.shape:
                yield ("missing_gate", f"the ReLU mask ({z.name} > 0) is missing",
                       fixed)
        for l in range(1, net.L + 1) if conv is not None else ():
            act, z = net.activation(l), net.leaf(("Z", l))
            if isinstance(act, str) or act.name in ("relu", "identity"):
                continue    # softmax is the Jacobian's; ReLU's is the mask above
            prime = mx.apply(f"{act.name}_prime", lambda xs, act=act: conv.derivative(
                act.apply(xs[0]), 1), [z])
            fixed = mx.mul(root, prime)
            if fixed.shape == root.shape:
                yield ("missing_factor", f"the activation derivative {act.name}'({z.name}) "
                       "is missing", fixed)


def _softmax_jacobian(net, expr, reference, inst, conv) -> list:
    """``softmax_jacobian`` when the formula is exactly what the backward pass gives with
    softmax's derivative taken elementwise as P (1 - P) (softmax's Jacobian is
    diag(P) - P P^T)."""
    from .matrix_levels import _atom_identity
    wrong = net.elementwise_softmax_gradients
    leaf = reference if reference.key[0] == "grad" else None
    if not wrong or leaf is None or leaf.key[1] not in wrong:
        return []
    mutant = mx.Leaf(leaf.name, leaf.shape, key=leaf.key, expansion=wrong[leaf.key[1]])
    if _atom_identity(inst, expr, _Swapped(mutant), conv):
        return [mistake("softmax_jacobian", f"(With it, {leaf.name} is the formula given.)")]
    return []


class _Swapped(mx.Leaf):
    """A gradient leaf evaluated from its own expansion at the atom level."""

    def __init__(self, leaf):
        super().__init__(leaf.name, leaf.shape, key=leaf.key, expansion=leaf.expansion)

    def evaluate(self, env):
        value = self.expansion.evaluate(env)
        view, scale = self.key[2], self.key[3]
        if view == "T":
            value = value.T
        elif view == "vec":
            value = value.reshape(-1)
        if scale != 1:
            s = scale.xreplace({x: sympy.Integer(env.sizes[x.name]) for x in scale.free_symbols})
            value = value * s
        return value


def mistake(kind: str, why: str):
    """The Diagnosis of a matrix mistake ``kind``, with ``why`` filled in."""
    if kind in ("missing_gate", "sign_flip", "missing_factor"):
        from .verdict import Diagnosis
        return Diagnosis(kind, why[0].upper() + why[1:])
    return MISTAKES[kind](why=why).diagnosis()


def _step(x):
    from ..core.functions import Step
    return Step(x)


def shape_fixes(net, expr, reference):
    """Rewrites that make a mis-shaped formula fit the gradient's shape."""
    for kind, message, fixed in rewrites(expr, net):
        if fixed.shape is not None and tuple(fixed.shape) == tuple(reference.shape):
            yield kind, message, fixed


def diagnose_matrix(net, expr, reference, sizes, conv, *, shaped=False) -> list:
    """The first fix verified for every size, as a Diagnosis list: ``unexplained`` when
    none is (empty for a formula whose shapes do not fit, ``shaped``: its shape_mismatch
    says what is wrong).

    A fix is tried at the instance ``sizes`` first, then on the grid of sizes that proves
    an identity for every size (:mod:`derivcheck.decide.matrix`): right at one instance
    only is not right (``m/4`` equals ``1/m`` at m = 2)."""
    from .matrix_levels import _atom_identity
    inst = net.instance(sizes)
    jacobian = _softmax_jacobian(net, expr, reference, inst, conv)
    if jacobian:
        return jacobian
    source = shape_fixes(net, expr, reference) if shaped else rewrites(expr, net, conv)
    for kind, message, fixed in source:
        if fixed.shape is None or tuple(fixed.shape) != tuple(reference.shape):
            continue
        try:
            if (_atom_identity(inst, fixed, reference, conv)
                    and _every_size(net, fixed, reference, conv)):
                return [mistake(kind, message + " (with this fix the formula is right)")]
        except (ValueError, TypeError, ZeroDivisionError):
            continue
    return [] if shaped else [MISTAKES["unexplained"]().diagnosis()]


def _every_size(net, fixed, reference, conv) -> bool:
    """The fixed formula is identical to the gradient on the proof's grid of sizes (or,
    outside the proof's fragment, at its first and last instance, every size changed)."""
    from ..core.matrix.bounds import bound, needed_values
    from .matrix import MAX_GRID, MAX_SIZE, _grid
    from .matrix_levels import _atom_identity
    fb, rb = bound(fixed), bound(reference)
    grid = _grid(net, needed_values(fb, rb, net.size_names))
    if not (fb.fragment and rb.fragment) or len(grid) > MAX_GRID or max(
            (max(g.values(), default=0) for g in grid), default=0) > MAX_SIZE:
        grid = _grid(net, {s: (1, 2) for s in net.size_names})
        grid = grid[:1] + grid[-1:]
    return all(_atom_identity(net.instance(g), fixed, reference, conv) for g in grid)
