"""Verifying a matrix diagnosis without derivcheck: a named mistake is true when some fix
of that kind, applied to the formula as written (a tree of matrix_cases), makes it agree
with the true gradient (``sympy.diff``, matrix_truth.Truth) entry by entry, at the
counterexample's own sizes and matrices (exactly) and at a fresh random point at other
sizes (torch autograd in float64, matrix_truth.torch_compare).

The fixes of each kind, on the verifier's own tree:

* ``wrong_product_order``: a matrix product's factors swapped;
* ``missing_transpose``: one factor of a matrix product transposed, an elementwise product
  made a matrix product with one factor transposed, or the whole formula transposed;
* ``extra_transpose``: a transpose dropped;
* ``elementwise_vs_matrix_product``: ``@`` for ``*`` or back;
* ``wrong_sum_axis``: a sum over the other axis, or with keepdims toggled;
* ``missing_batch_mean``: the formula times 1/m or m;
* ``sign_flip``: the formula negated;
* ``missing_gate``: the formula times a ReLU mask (Z_l > 0) of some layer;
* ``missing_factor``: the formula times the activation derivative of some layer (tanh:
  1 - A^2, sigmoid: A (1 - A), leaky ReLU: 1/10 + 9/10 (Z > 0));
* ``softmax_jacobian``: no fix, a claim about the formula itself: it equals the gradient
  with softmax's derivative taken elementwise, i.e. ``sympy.diff`` through softmax replaced
  by its diagonal linearization P + P (1 - P) (Z - Z0) at the point;
* ``shape_mismatch``: the formula's products or shape do not fit at the counterexample.

Kinds outside this list (``unexplained`` claims nothing) are counted as unchecked.
"""
from __future__ import annotations

import random

import sympy

import matrix_cases as mc

CHECKED = ("wrong_product_order", "missing_transpose", "extra_transpose",
           "elementwise_vs_matrix_product", "wrong_sum_axis", "missing_batch_mean",
           "sign_flip", "missing_gate", "missing_factor", "softmax_jacobian", "shape_mismatch")


def fixes(net: mc.Net, node, kind: str, key=None) -> list:
    """Every one-step fix of ``kind`` of the formula ``node`` for dJ/d``key`` (trees)."""
    out = []
    for path, n in mc._paths(node):
        op = n[0]
        if kind == "wrong_product_order" and op in ("mm", "jx"):
            out.append(mc._replace(node, path, ("mm", n[2], n[1])))
        if kind == "missing_transpose" and op in ("mm", "jx", "had"):
            out.append(mc._replace(node, path, ("mm", ("T", n[1]), n[2])))
            out.append(mc._replace(node, path, ("mm", n[1], ("T", n[2]))))
        if kind == "extra_transpose" and op == "T":
            out.append(mc._replace(node, path, n[1]))
        if kind == "elementwise_vs_matrix_product" and op in ("mm", "jx", "had"):
            out.append(mc._replace(node, path, ("mm" if op == "had" else "had", n[1], n[2])))
        if kind == "wrong_sum_axis" and op == "sum":
            for axis in (0, 1):
                for keep in (True, False):
                    if (axis, keep) != (n[2], n[3]):
                        out.append(mc._replace(node, path, ("sum", n[1], axis, keep)))
    if kind == "missing_transpose":
        out.append(("T", node))
    if kind == "missing_batch_mean" and net.batch is not None:
        size = mc.M if isinstance(net.batch, str) else sympy.Integer(net.batch)
        out += [("coef", 1 / size, node), ("coef", size, node)]
    if kind == "sign_flip":
        out.append(("coef", -1, node))
    if kind == "missing_gate":
        for l in range(1, net.L + 1):     # the mask in the layout of the formula's left side
            mask = mc.styled(net, ("gt", ("q", ("Z", l))))
            if key is not None and net.view(key) == "T":
                mask = ("T", mask)
            out.append(("had", node, mc.push(mask)))
    if kind == "missing_factor":
        for l in range(1, net.L + 1):
            if net.acts[l - 1] in ("relu", "identity", "softmax"):
                continue
            prime = mc.styled(net, mc.prime(net, l, random.Random(0)))
            if key is not None and net.view(key) == "T":
                prime = ("T", prime)
            out.append(("had", node, mc.push(prime)))
    return out


def check_diagnosis(verifier, result, net, node, key, witness, rng: random.Random,
                    tally, truth=None) -> str | None:
    """None when every diagnosis of ``result`` is true (or claims nothing), else why not.
    ``witness`` is (sizes, values, Step(0) values) of the counterexample, ``truth`` its
    Truth when already made; ``verifier`` is matrix_truth (its checks)."""
    sizes, vals, cs = witness
    fresh = None     # the sizes of the torch check
    truths = {(0, False): truth or verifier.Truth(net, vals)}

    def agrees(tree, i, point, flag=False):
        if (i, flag) not in truths:
            truths[i, flag] = verifier.Truth(net, point[1], elementwise_softmax=flag)
        return _agrees(verifier, net, tree, key, point, truths[i, flag])

    for d in result.diagnosis:
        kind = getattr(d.kind, "value", d.kind)
        if kind not in CHECKED:
            tally[f"diagnosis_unchecked_{kind}"] += 1
            continue
        if kind == "shape_mismatch":
            try:
                fits = verifier.compare_at(net, node, key, truths[0, False], cs[0], sizes)[0]
            except verifier.Unverifiable:
                tally["diagnosis_unverifiable"] += 1
                continue
            if fits:
                return f"diagnosis shape_mismatch, but the formula fits at sizes {sizes}"
            tally["diagnosis_checked"] += 1
            continue
        # at the counterexample under every Step(0): a fix such as a mask (Z > 0) is
        # right almost everywhere, and the counterexample may sit on a kink
        point = (sizes, vals, verifier.C_VALUES)
        if fresh is None:
            fresh = {s: rng.randint(2, 4) for s in net.size_names}
        if kind == "softmax_jacobian":
            found = _holds(agrees(node, 0, point, True),
                           lambda: _torch_agrees(verifier, net, node, key, fresh, rng, True))
        else:
            found = False
            for fixed in fixes(net, node, kind, key):
                out = _holds(agrees(fixed, 0, point),
                             lambda t=fixed: _torch_agrees(verifier, net, t, key, fresh, rng))
                if out:
                    found = True
                    break
                if out is None:
                    found = None
        if found is None:
            tally["diagnosis_unverifiable"] += 1
        elif not found:
            what = ("the formula is not the gradient with softmax's derivative taken "
                    "elementwise" if kind == "softmax_jacobian" else
                    "none of its fixes makes the formula right")
            return f"diagnosis {kind}, but {what}: {d.message}"
        else:
            tally["diagnosis_checked"] += 1
    return None


def _holds(exact, by_torch):
    """True when the exact test at the counterexample holds and so does the torch test at
    the fresh sizes, False when either fails, None when the exact one cannot be
    evaluated."""
    return by_torch() if exact is True else exact


def _torch_agrees(verifier, net, node, key, sizes, rng, elementwise_softmax=False) -> bool:
    fits, bad, _ = verifier.torch_compare(net, node, key, sizes, random.Random(rng.random()),
                                          elementwise_softmax)
    return fits and not bad


def _agrees(verifier, net, node, key, point, truth):
    """True when the formula fits and agrees in every entry under some Step(0) of the
    point's, None when no Step(0) could be evaluated, else False."""
    sizes, vals, cs = point
    out = None
    for c in cs:
        try:
            fits, bad, _ = verifier.compare_at(net, node, key, truth, c, sizes)
        except verifier.Unverifiable:
            continue
        if fits and not bad:
            return True
        out = False
    return out
