r"""Deciding a matrix formula against the true gradient, entry by entry, for every size.

**Shapes first.** A product whose shapes do not fit, or a result whose shape is not the
gradient's, is ``not_equivalent`` with diagnosis ``shape_mismatch`` (and the fix).

**Refute on instances.** At small sizes, all distinct, the network is a scalar network of
entries (:mod:`derivcheck.core.matrix.instance`, the *true* level) and each entry of the
candidate is decided against the exact dJ/dq by the scalar procedure
(:func:`derivcheck.decide.equivalence.decide`): gates, kinks, conventions, exact
counterexamples. Cross-entropy targets are moved to one-hot columns before a
counterexample is shown; bce targets lie in [0, 1].

**Prove for every size (the bound route).** Both sides are read at the *atom* level, where
the pre-activations Z (and softmax outputs) are free variables and only the elementwise
relations A = g(Z) are kept. An identity there holds at the true Z as well, so it suffices.
The argument that a few sizes stand for all:

1. With Z free, both sides are built from leaves (entries of X, Y, W, b, Z) by matrix
   products, transposes, axis sums, broadcasting, sums and products of entries, scalar
   factors that are rational functions of the sizes (``1/m``), and elementwise functions of
   expressions that sum over no index and hold no size (:mod:`.bounds` checks this; when it
   fails nothing is claimed). Each entry is then, in index form, a sum of terms
   ``c(sizes) * sum over dummy indices of a product of factors``, each factor a leaf entry
   or a function of the leaf entries at one index pattern.
2. Split every dummy sum by which indices coincide: the entry becomes a sum over *patterns*
   (which indices of each size are equal) of ``c_P(sizes) * sum over injective index
   assignments of one product``. Distinct patterns involve distinct sets of leaf variables
   once every size s is at least the number of distinct indices over s in any term
   (``indices[s]``); equality of the two sides as functions of independent leaves at such
   a size therefore gives ``c_P = c'_P`` at that size for every pattern.
3. Each ``c_P`` is a rational function of each size of bounded degree (``degree[s]``): the
   difference of two coefficients has a numerator of degree at most D_s, so equality at
   D_s + 1 values of s (all large enough, on a grid over all size names) makes them equal as
   rational functions, hence at every size; at smaller sizes the sides are the same sums
   over fewer patterns, each with equal coefficients.

So: identity at the atom level (tested as in the scalar case, modulo 2^61 - 1) on that grid
of sizes means equal for every size. A formula that hard-codes a size (``/5`` for ``1/m``)
differs at some value of the grid. Sizes given as numbers are the network's own and are
not varied. When the candidate is equal on the instances but the atom-level identity or
the fragment fails, the verdict is ``unknown``, with why.
"""
from __future__ import annotations

import itertools
import time
from fractions import Fraction

import numpy as np
import sympy

from .. import limits
from ..core.assumptions import Assumptions
from ..core.conventions import get_convention
from ..core.matrix import expr as mx
from ..core.matrix.bounds import bound, needed_values
from ..core.matrix.layout import pushed
from ..core.matrix.shapes import show
from ..core.styles import STYLES
from .equivalence import decide
from .formal import K, P, FormalEvaluator
from ..errors import LimitError
from .matrix_witness import matrix_witness, one_hot, shape_witness
from .verdict import Result

__all__ = ["check_matrix", "MAX_GRID"]

#: Instances tried for the proof, at most.
MAX_GRID = 24
#: Largest instance size.
MAX_SIZE = 9
_ORDER = {"not_equivalent": 0, "unknown": 1, "equivalent_almost_everywhere": 2,
          "equivalent": 3}


def check_matrix(net, candidate, wrt=None, *, assume=(), convention="any", latex=None,
                 timeout: float = 60.0) -> Result:
    """Judge a matrix (or entry) formula for a :class:`MatrixNetwork`."""
    start = time.monotonic()
    conv = get_convention(convention)
    net = net.with_convention(conv)
    source = candidate
    net, parsed, reference, wrt_name, assumed = _read(net, candidate, wrt, latex)
    ns = net.namespace
    readings, warnings = list(parsed.readings) + assumed, list(parsed.warnings)
    expr = net.with_probabilities(mx.as_mexpr(parsed.expr))
    for name in dict.fromkeys(_used_names(expr) + [reference.name]):
        leaf = ns.symbols.get(name)
        if isinstance(leaf, mx.Leaf) and leaf.description:
            readings.append(f"read {leaf.description}")
    style_note = f"style {net.style.name}: {net.style.description}"
    base = dict(wrt=wrt_name, candidate=expr.text(), gradient=_gradient_text(reference),
                definitions=_definitions(net, reference),
                kink_convention=conv.name, readings=readings + [style_note],
                warnings=warnings, source=source, candidate_expr=expr,
                gradient_expr=reference, network=net)
    problem = _shape_problem(expr, reference)
    if problem is not None:
        from .matrix_fixes import diagnose_matrix
        sizes = _grid(net, {s: (1, 1) for s in net.size_names})[0]
        fixes = diagnose_matrix(net, expr, reference, sizes, conv, shaped=True)
        diagnosis = [problem]
        if fixes:
            diagnosis = [type(problem)(fixes[0].kind, f"{problem.message} {fixes[0].message}")]
        return Result(verdict="not_equivalent", method="symbolic",
                      method_detail="shapes compared symbolically, before any value",
                      counterexample=shape_witness(net, expr, reference, sizes, conv),
                      diagnosis=diagnosis,
                      elapsed=time.monotonic() - start, **base)
    cand_b, ref_b = bound(expr), bound(reference)
    plan = needed_values(cand_b, ref_b, net.size_names)
    grid = _grid(net, plan)
    count = max(net.entries(g) for g in grid[:1] + grid[-1:])
    if count > limits.MAX_INSTANCE_ENTRIES:
        raise LimitError(f"at sizes {_sizes_text(grid[-1])} the network has {count} scalar "
                         f"entries, more than the limit {limits.MAX_INSTANCE_ENTRIES}",
                         position=0, hint="give the widths as size names (n0, n1, ...): "
                         "derivcheck then picks small sizes, and proves the formula for all")
    assumptions = Assumptions.parse(list(assume))
    deadline = start + timeout
    provable = (cand_b.fragment and ref_b.fragment and len(grid) <= MAX_GRID
                and max(max(g.values(), default=0) for g in grid) <= MAX_SIZE)
    if not _reference_agrees(net.instance(grid[0]), reference, conv):
        return _unknown(base, start, "internal check failed: the backward pass in matrix form "
                        "disagrees with the exact scalar gradients at "
                        f"{_sizes_text(grid[0])}; nothing is claimed")
    if provable and all(_atom_identity(net.instance(sizes), expr, reference, conv)
                        for sizes in grid):
        return Result(verdict="equivalent", method="identity_test",
                      method_detail=_proof_text(plan, grid, net),
                      elapsed=time.monotonic() - start, **base)
    first = net.instance(grid[0])
    verdict, witness, kink = _true_level(first, expr, reference, conv, assumptions, deadline)
    if verdict == "not_equivalent":
        return Result(verdict=verdict, method="identity_test",
                      method_detail=f"counterexample at sizes {_sizes_text(grid[0])}, re-checked "
                                    "by exact evaluation of both sides entry by entry",
                      counterexample=witness, diagnosis=_diagnose(net, expr, reference, grid[0],
                                                                  conv, assumptions),
                      elapsed=time.monotonic() - start, **base)
    if not cand_b.fragment or not ref_b.fragment:
        reason = cand_b.reason or ref_b.reason
        return _unknown(base, start, f"{_so_far(verdict, grid[0])}, but not proved for every "
                        f"size: {reason}")
    if len(grid) > MAX_GRID or max((max(g.values(), default=0) for g in grid)) > MAX_SIZE:
        return _unknown(base, start, f"{_so_far(verdict, grid[0])}, but proving it for every "
                        f"size needs more than {MAX_GRID} instances or sizes past {MAX_SIZE}")
    for sizes in grid:
        inst = net.instance(sizes)
        if not _atom_identity(inst, expr, reference, conv) and not _atom_off_kinks(
                inst, expr, reference, conv, assumptions, deadline, strict=verdict == "equivalent"):
            more = _true_level(inst, expr, reference, conv, assumptions, deadline)
            if more[0] == "not_equivalent":
                return Result(verdict="not_equivalent", method="identity_test",
                              method_detail=f"counterexample at sizes {_sizes_text(sizes)}, "
                                            "re-checked by exact evaluation",
                              counterexample=more[1], elapsed=time.monotonic() - start, **base)
            return _unknown(base, start, f"{_so_far(more[0], sizes)}, but not "
                            "identical with the pre-activations as free variables, so the "
                            "instances do not prove it for every size (the formula may rewrite "
                            "a forward quantity by its definition)")
    detail = _proof_text(plan, grid, net)
    if verdict == "equivalent_almost_everywhere":
        detail = detail.replace("equal for every size: identical entry by entry",
                                "equal off the kinks for every size: equal entry by entry on "
                                "every sign region")
        return Result(verdict=verdict, method="identity_test", method_detail=detail +
                      "; differs from the reference at a kink, checked by exact evaluation",
                      kink_point=kink, elapsed=time.monotonic() - start, **base)
    if verdict == "unknown":
        return _unknown(base, start, "the entries could not all be decided at the smallest "
                        "sizes")
    return Result(verdict="equivalent", method="identity_test", method_detail=detail,
                  elapsed=time.monotonic() - start, **base)


def _read(net, candidate, wrt, latex):
    """Parse the formula; without a ``--style``, in the first style whose names it uses
    (ng, cs231n, nielsen, seed), saying which was assumed."""
    from ..errors import DerivcheckError
    from ..parsing import parse_formula
    styles = [net] if net.style_given else [net] + [net.with_style(s) for s in STYLES
                                                     if s != net.style.name]
    first_error, found = None, None
    for view in styles:
        try:
            parsed = parse_formula(candidate, view.namespace, latex=latex, wrt=wrt)
            reference, name = _reference(view, view.namespace, wrt or parsed.wrt)
        except DerivcheckError as err:
            first_error = first_error or err
            continue
        found = (view, parsed, reference, name)
        break
    if found is None:
        raise first_error
    note = [] if net.style_given else [f"no --style given: read in the {found[0].style.name} "
                                       "style, whose names the formula uses"]
    return (*found, note)


def _so_far(verdict: str, sizes: dict) -> str:
    """What the instance showed, truthfully: equal, or not decided (an entry unknown, say
    past the time budget), never "equal" for the latter."""
    if verdict in ("equivalent", "equivalent_almost_everywhere"):
        return f"equal at sizes {_sizes_text(sizes)}"
    return (f"not decided at sizes {_sizes_text(sizes)} within the time and limits (some "
            "entries stayed unknown)")


def _unknown(base, start, reason) -> Result:
    return Result(verdict="unknown", method="identity_test", reason=reason,
                  method_detail=reason, elapsed=time.monotonic() - start, **base)


def _used_names(expr) -> list:
    """The names a formula uses, left to right (the order readings are given in)."""
    out: list = []

    def visit(node):
        if isinstance(node, mx.Leaf):
            out.append(node.name)
        for child in node.children:
            visit(child)

    visit(expr)
    return list(dict.fromkeys(out))


def _definitions(net, reference) -> dict:
    """The named gradients the correct formula uses, except its own top one."""
    leaf = reference.key[1] if reference.key[0] == "entry" else reference
    inner = leaf.expansion
    top = inner.expansion if isinstance(inner, mx.Leaf) and inner.expansion is not None else inner
    return net.definitions(top) if top is not None else {}


def _gradient_text(reference) -> str:
    leaf = reference
    if leaf.expansion is None and leaf.key and leaf.key[0] == "entry":
        leaf = leaf.key[1]
    if leaf.expansion is None:
        return reference.name
    scale = leaf.key[3] if len(leaf.key) > 3 else 1
    inner = leaf.expansion
    top = inner.expansion if isinstance(inner, mx.Leaf) and inner.expansion is not None else inner
    text = pushed(mx.transpose(top) if leaf.key[2] == "T" else top).text()
    return f"{reference.name} = " + (f"{scale} * ({text})" if scale != 1 else text)


def _reference(net, ns, wrt):
    """The gradient leaf a formula is compared with, and its name."""
    from ..errors import SpecError
    if wrt is None:
        grads = [k for k, r in ns.roles.items() if r == "gradient"]
        raise SpecError("which quantity is this the gradient of?",
                        hint="pass --wrt (e.g. --wrt W1) or start the formula with a "
                             "gradient of the network: " + ", ".join(grads[:16]))
    name = str(wrt)
    leaf = ns.symbols.get(name)
    if isinstance(leaf, mx.Leaf) and (leaf.key[0] == "grad" or (
            leaf.key[0] == "entry" and leaf.key[1].key[0] == "grad")):
        return leaf, name
    if name.startswith("dC/d") or name.startswith("dJ/d") or name.startswith("dL/d"):
        name = name[4:]
    if name in ns.adjoints:
        return ns.adjoints[name], name
    leaf = ns.symbols.get(name)
    if isinstance(leaf, mx.Leaf) and leaf.key[0] == "entry":
        matrix = leaf.key[1]
        adj = ns.adjoints.get(matrix.name)
        if adj is not None:
            return mx.Leaf(f"d{net.style.loss}/d{name}", (), key=("entry", adj, leaf.key[2]),
                           description=f"d{net.style.loss}/d{name} -> entry "
                                       f"{list(leaf.key[2])} of {adj.name}"), name
    raise SpecError(f"{wrt!r} is no quantity of the network",
                    hint="quantities: " + ", ".join(list(ns.adjoints)[:16]))


def _strip(shape) -> tuple:
    shape = tuple(shape)
    while shape and shape[0] == 1:
        shape = shape[1:]
    return shape


def _shape_problem(expr, reference):
    """A shape_mismatch diagnosis, or None when the shapes agree."""
    if expr.shape is None:
        from .matrix_fixes import mistake
        p = expr.problem
        fix = f" Did you mean {p.fix}?" if p.fix else ""
        return mistake("shape_mismatch", f"{p.message}.{fix}")
    if tuple(expr.shape) == tuple(reference.shape):
        return None
    if _strip(expr.shape) == _strip(reference.shape) and len(expr.shape) != len(reference.shape):
        return None
    kind = "shape_mismatch"
    fix = ""
    if tuple(expr.shape)[::-1] == tuple(reference.shape) and len(expr.shape) == 2:
        fix = f" Transposed, {expr.text()} has the right shape."
    if isinstance(expr, mx.Sum) or (len(expr.shape) == 1 and len(reference.shape) == 2):
        kind = "wrong_sum_axis"
        fix += " Sum over the other axis, or keep the summed axis (keepdims=True)."
    from .matrix_fixes import mistake
    return mistake(kind, f"the formula is {_a(show(expr.shape))}, but {reference.name} is "
                         f"{_a(show(reference.shape))}.{fix}")


def _a(text):
    return ("an " if text[0] in "aeiou" else "a ") + text


def _grid(net, plan) -> list:
    """Instance sizes: distinct small values in network order, then the grid of values each
    size name needs (see the module docstring)."""
    taken = {d for d in net.widths + [net.batch] if isinstance(d, int)}
    base, value = {}, 2
    order = sorted(net.size_names, key=lambda s: s != net.batch)   # the batch smallest
    for s in order:
        least, _ = plan[s]
        value = max(value, least)
        while value in taken:
            value += 1
        base[s] = value
        taken.add(value)
        value += 1
    axes = [[base[s] + t for t in range(plan[s][1])] for s in net.size_names]
    return [dict(zip(net.size_names, combo)) for combo in itertools.product(*axes)] or [{}]


def _sizes_text(sizes: dict) -> str:
    return ", ".join(f"{k} = {v}" for k, v in sizes.items()) or "the network's own"


def _proof_text(plan, grid, net) -> str:
    if not net.size_names:
        return ("equal entry by entry (identity test modulo 2^61-1 with the pre-activations as "
                "free variables, which implies equality at the true ones)")
    parts = [f"{s} in {sorted({g[s] for g in grid})}" for s in plan]
    return ("equal for every size: identical entry by entry with the pre-activations as free "
            f"variables (identity test modulo 2^61-1 at {K} random points) on {len(grid)} "
            f"instance(s) ({'; '.join(parts)}), enough by the index-form bound: sizes at "
            "least the number of distinct indices over them in any term, and one more value "
            "than the degree in each size of the coefficients' difference")


def _entries(arr: np.ndarray) -> list:
    arr = np.asarray(arr, dtype=object)
    if arr.ndim == 0:
        return [((), arr.item())]
    return [(idx, arr[idx]) for idx in np.ndindex(arr.shape)]


_UNDEFINED = (sympy.zoo, sympy.nan, sympy.oo, -sympy.oo)


def _values(expr, reference, env):
    cand = np.asarray(expr.evaluate(env), dtype=object)
    for value in cand.flat:
        if isinstance(value, sympy.Basic) and value.has(*_UNDEFINED):
            from ..errors import ParseError
            raise ParseError("this part of the formula is undefined (a division by zero)",
                             text=expr.text(), position=0,
                             hint="a gradient formula is defined everywhere: check the "
                                  "denominators and logarithms")
    masks = env.inst.masks
    if masks:
        cand = np.asarray(cand, dtype=object)
        flat = [v.xreplace(masks) if isinstance(v, sympy.Basic) else v for v in cand.flat]
        cand = np.array(flat, dtype=object).reshape(cand.shape)
    ref = np.asarray(reference.evaluate(env), dtype=object)
    if cand.shape != ref.shape:
        cand = cand.reshape(ref.shape)
    return cand, ref


def _atom_identity(inst, expr, reference, conv) -> bool:
    """Equal entry by entry at the atom level, for every Step(0) (formal, free gates)."""
    env = inst.env("atom", conv)
    try:
        cand, ref = _values(expr, reference, env)
    except ValueError:   # the shapes do not fit at these sizes: not identical
        return False
    defs = inst.atom_defs(conv)
    values = [Fraction(int(c.p), int(c.q)) for c in conv.step0_values]
    c_fixed = None if len(values) > 1 else values[0].numerator * pow(values[0].denominator, -1,
                                                                     P) % P
    fe = FormalEvaluator(defs, mode="free", c_value=c_fixed)
    try:
        return all(fe.value(mx.as_sympy(r)) == fe.value(mx.as_sympy(c))
                   for (_, r), (_, c) in zip(_entries(ref), _entries(cand)))
    except ZeroDivisionError:
        return False


def _reference_agrees(inst, reference, conv) -> bool:
    """The matrix backward pass (what the proof uses) equals the scalar reverse mode of
    the whole network (what refutations use) at one instance: a guard, never skipped."""
    atom = np.asarray(reference.evaluate(inst.env("atom", conv)), dtype=object)
    true = np.asarray(reference.evaluate(inst.env("true", conv)), dtype=object)
    inst.atom_defs(conv)
    fe = FormalEvaluator({**inst.true_network.definitions(conv), **inst.atom_definitions},
                         mode="free")
    try:
        return all(fe.value(mx.as_sympy(a)) == fe.value(mx.as_sympy(t))
                   for (_, a), (_, t) in zip(_entries(atom), _entries(true)))
    except ZeroDivisionError:
        return False


def _atom_off_kinks(inst, expr, reference, conv, assumptions, deadline, strict=False) -> bool:
    """Equal off the kinks entry by entry at the atom level (the scalar procedure's sign
    regions, with Z free): every entry equivalent or equivalent almost everywhere
    (``strict``: every entry equivalent, kinks included)."""
    env = inst.env("atom", conv)
    cand, ref = _values(expr, reference, env)
    atom_net = inst.atom_network_with_gradients(conv)
    for (_, r), (_, c) in zip(_entries(ref), _entries(cand)):
        d = decide(atom_net, mx.as_sympy(r), mx.as_sympy(c), convention=conv,
                   assumptions=assumptions, timeout=max(deadline - time.monotonic(), 0.05))
        if d.verdict not in (("equivalent",) if strict else
                             ("equivalent", "equivalent_almost_everywhere")):
            return False
    return True


def _true_level(inst, expr, reference, conv, assumptions, deadline):
    """(verdict, counterexample, kink point) over every entry at one instance."""
    env = inst.env("true", conv)
    cand, ref = _values(expr, reference, env)
    net = inst.true_network
    extra = _target_assumptions(inst)
    assume = Assumptions.parse(assumptions.texts() + extra) if extra else assumptions
    worst, kink = "equivalent", None
    for (idx, r), (_, c) in zip(_entries(ref), _entries(cand)):
        left = max(deadline - time.monotonic(), 0.05)
        d = decide(net, mx.as_sympy(r), mx.as_sympy(c), convention=conv, assumptions=assume,
                   timeout=left)
        if d.verdict == "not_equivalent":
            witness = one_hot(inst, d.counterexample, mx.as_sympy(r), mx.as_sympy(c), net,
                               conv)
            if witness is None:
                worst = "unknown"
                continue
            return "not_equivalent", matrix_witness(inst, witness, idx, reference), None
        if _ORDER[d.verdict] < _ORDER[worst]:
            worst = d.verdict
        if d.verdict == "equivalent_almost_everywhere" and kink is None:
            point = one_hot(inst, d.kink_point, mx.as_sympy(r), mx.as_sympy(c), net, conv)
            kink = matrix_witness(inst, point or d.kink_point, idx, reference)
    return worst, None, kink


def _target_assumptions(inst) -> list:
    if inst.net.loss != "bce":
        return []
    out = []
    for y in inst.array(("Y",)).flat:
        out += [f"{y} >= 0", f"{y} <= 1"]
    return out


def _diagnose(net, expr, reference, sizes, conv, assumptions) -> list:
    """Named mistakes, each verified: the fixed formula is identical to the reference."""
    from .matrix_fixes import diagnose_matrix
    del assumptions
    return diagnose_matrix(net, expr, reference, sizes, conv)
