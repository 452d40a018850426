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

Candidates in index notation (:mod:`derivcheck.core.matrix.indexed`) are already in that
form: entries of leaves at index letters, sums over an index (one more index over its
size; one more degree when a term of the summand ignores the index), elementwise
functions of entries; their bounds come from the same walk.

So: identity at the atom level (tested as in the scalar case, modulo 2^61 - 1) on that grid
of sizes means equal for every size. A formula that hard-codes a size (``/5`` for ``1/m``)
differs at some value of the grid. Sizes given as numbers are the network's own and are
not varied. When the candidate is equal on the instances but the atom-level identity or
the fragment fails, the verdict is ``unknown``, with why.

**Dead regions.** Off the kinks, gates are 0 or 1; but in a network without biases, where
every unit of a ReLU layer is off for an example, the next pre-activations are 0 on an
open set, where Step(0) = c holds on a region of positive measure. Before a formula is
called equivalent almost everywhere, each such region is checked (:mod:`.matrix_dead`);
a difference there is refuted at the true level or left ``unknown``.

**Gated formulas** (masks such as ``dA1 * (Z1 > 0)``, equal to the backward pass off the
kinks only) go the gated route first (:mod:`.matrix_gates`): identical off the kinks at the
atom level for all entries at once, the dead regions, and one entry's kink point; when
any of it fails they go the general route, entry by entry.

The formula is read in :mod:`.matrix_read`, each instance decided in :mod:`.matrix_levels`.
"""
from __future__ import annotations

import itertools
import time

from .. import limits
from ..core.assumptions import Assumptions
from ..core.conventions import get_convention
from ..core.matrix import expr as mx
from ..core.matrix.bounds import bound, needed_values
from ..errors import LimitError
from .formal import K
from .matrix_dead import DeadPattern, dead_assumptions, dead_differences, dead_patterns
from .matrix_gates import kink_witness, off_kinks_identical
from .matrix_levels import (_atom_identity, _atom_off_kinks, _reference_agrees, _true_level,
                            _values)
from .matrix_read import _definitions, _gradient_text, _read, _shape_problem, _used_names
from .matrix_witness import shape_witness
from .verdict import Result

__all__ = ["check_matrix", "MAX_GRID"]

_DEAD_CHECKED = ("; equal too where every unit of a ReLU layer is off for some examples "
                 "(the next pre-activations are then 0 on an open set), checked on the "
                 "same instances, for each example alone, for all at once and, with at "
                 "most three examples, for every set of them")
#: Instances tried for the proof, at most.
MAX_GRID = 24
#: Largest instance size.
MAX_SIZE = 9


def check_matrix(net, candidate, wrt=None, *, assume=(), convention="any", latex=None,
                 timeout: float = 60.0, layers=None) -> Result:
    """Judge a matrix (or entry) formula for a :class:`MatrixNetwork`; ``layers`` gives
    layer letters their values (see :mod:`.index_form`)."""
    start = time.monotonic()
    conv = get_convention(convention)
    net = net.with_convention(conv)
    source = candidate
    net, parsed, reference, wrt_name, assumed = _read(net, candidate, wrt, latex, layers)
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
        _within_limit(net, [sizes])
        fixes = diagnose_matrix(net, expr, reference, sizes, conv, shaped=True)
        diagnosis = [problem] + fixes[:1]   # the shapes and what fits, then the fix verified
        return Result(verdict="not_equivalent", method="symbolic",
                      method_detail="shapes compared symbolically, before any value",
                      counterexample=shape_witness(net, expr, reference, sizes, conv),
                      diagnosis=diagnosis,
                      elapsed=time.monotonic() - start, **base)
    cand_b, ref_b = bound(expr), bound(reference)
    plan = needed_values(cand_b, ref_b, net.size_names)
    grid = _grid(net, plan)
    _within_limit(net, grid[:1] + grid[-1:])
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
    if provable and all(off_kinks_identical(net.instance(sizes), expr, reference, conv)
                        for sizes in grid):     # the gated route (:mod:`.matrix_gates`)
        dead = _dead_regions(net, grid, expr, reference, conv, assumptions, deadline)
        if dead is not None and dead[0] == "not_equivalent":
            return _dead_refuted(dead, net, expr, reference, conv, assumptions, base, start)
        found = None if dead is not None else kink_witness(net, grid, expr, reference,
                                                            conv, assumptions, deadline)
        if found is not None:
            return Result(verdict="equivalent_almost_everywhere", method="identity_test",
                          method_detail=_gated_text(plan, grid, net, found[0]),
                          kink_point=found[1], elapsed=time.monotonic() - start, **base)
    quick = _dead_differences(net, _least(net), expr, reference, conv, early=True)
    if quick:       # equal off the kinks but not on a dead region: most often seen at size 1
        found = _dead_refutation(net, _least(net), quick, expr, reference, conv, assumptions,
                                 deadline)
        if found is not None:
            return _dead_refuted(found, net, expr, reference, conv, assumptions, base, start)
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
    dead = _dead_regions(net, grid, expr, reference, conv, assumptions, deadline)
    if dead is not None:
        found, witness, sizes, pattern = dead
        if found == "not_equivalent":
            return _dead_refuted(dead, net, expr, reference, conv, assumptions, base, start)
        return _unknown(base, start, f"{_so_far(verdict, grid[0])} off the kinks, but not "
                        f"shown equal {_dead_where(sizes, pattern)}: the formulas differ "
                        "there as written, and no point of that region was found where "
                        "they differ")
    detail = _proof_text(plan, grid, net)
    if dead is None and dead_patterns(net.instance(grid[0])):
        detail += _DEAD_CHECKED
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


def _gated_text(plan, grid, net, sizes) -> str:
    """The gated route's method: off the kinks for every size, the dead regions, and
    the kink found at ``sizes``."""
    detail = _proof_text(plan, grid, net).replace(
        "equal for every size: identical entry by entry",
        "equal off the kinks for every size: identical entry by entry, each gate a 0/1 "
        "variable (every gate on a free leaf: all entries at once),")
    if not net.size_names:
        detail = detail.replace("equal entry by entry", "equal off the kinks entry by entry, "
                                "each gate a 0/1 variable")
    if dead_patterns(net.instance(grid[0])):
        detail += _DEAD_CHECKED
    return (detail + f"; differs from the reference at a kink (at sizes "
            f"{_sizes_text(sizes)}), checked by exact evaluation")


def _dead_regions(net, grid, expr, reference, conv, assumptions, deadline):
    """None when the formula is identical to the reference on every dead region of every
    instance (:mod:`.matrix_dead`); else ("not_equivalent", witness, sizes, pattern), a
    point of a region where it is not (sought at the smallest sizes first, where a random
    point lies in such a region most often), or ("unknown", None, sizes, pattern) when
    none is found."""
    first = None
    for sizes in grid:
        differ = _dead_differences(net, sizes, expr, reference, conv)
        if differ is None:
            return None
        if differ:
            first = (sizes, differ)
            break
    if first is None:
        return None
    least = _least(net)
    tries = [] if first[0] == least else [(least, _dead_differences(net, least, expr,
                                                                    reference, conv))]
    for sizes, differ in tries + [first]:
        found = _dead_refutation(net, sizes, differ or [], expr, reference, conv,
                                 assumptions, deadline)
        if found is not None:
            return found
    return "unknown", None, first[0], first[1][0][0]


def _least(net) -> dict:
    return {s: 1 for s in net.size_names}


def _dead_refutation(net, sizes, differ, expr, reference, conv, assumptions, deadline):
    """("not_equivalent", witness, sizes, pattern): a point of one of the first two dead
    regions where the sides are not identical, found by the scalar procedure at the true
    level under the region's assumptions; None when none is found."""
    inst = net.instance(sizes)
    for pattern, entries in differ[:2]:
        region = Assumptions.parse(assumptions.texts() + dead_assumptions(pattern))
        found, witness, _ = _true_level(inst, expr, reference, conv, region, deadline,
                                        only=set(entries))
        if found == "not_equivalent":
            return found, witness, sizes, pattern
    return None


def _dead_differences(net, sizes, expr, reference, conv, early=False):
    """[(pattern, entries that differ)] over the dead patterns at these sizes, None when
    the network has none (``early``: [] too when the sides are not even identical off
    the kinks, where the usual refutation names an ordinary point)."""
    inst = net.instance(sizes)
    patterns = dead_patterns(inst)
    if not patterns:
        return None
    cand, ref = _values(expr, reference, inst.env("atom", conv))
    if early and dead_differences(inst, DeadPattern(0, (), {}, []), cand, ref, conv):
        return []
    out = []
    for pattern in patterns:
        entries = dead_differences(inst, pattern, cand, ref, conv)
        if entries:
            out.append((pattern, entries))
    return out


def _dead_where(sizes, pattern) -> str:
    return (f"at sizes {_sizes_text(sizes)}, where {pattern.text} (so the next "
            "pre-activations are 0 on an open set, and Step(0) holds on a region)")


def _dead_refuted(found, net, expr, reference, conv, assumptions, base, start) -> Result:
    verdict, witness, sizes, pattern = found
    return Result(verdict=verdict, method="identity_test",
                  method_detail=f"counterexample {_dead_where(sizes, pattern)}, re-checked by "
                                "exact evaluation of both sides entry by entry",
                  counterexample=witness,
                  diagnosis=_diagnose(net, expr, reference, sizes, conv, assumptions),
                  elapsed=time.monotonic() - start, **base)


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


def _within_limit(net, grid) -> None:
    """Raise :class:`LimitError` when the network at the largest of these sizes has more
    scalar entries than :data:`~derivcheck.limits.MAX_INSTANCE_ENTRIES` (sizes given as
    numbers, such as a batch of 10**9, are the network's own and are not shrunk)."""
    count, i = max((net.entries(g), i) for i, g in enumerate(grid))
    sizes = grid[i]
    if count > limits.MAX_INSTANCE_ENTRIES:
        where = f"at sizes {_sizes_text(sizes)}" if sizes else "at its own sizes"
        raise LimitError(f"{where} the network has {count} scalar entries, more than the "
                         f"limit {limits.MAX_INSTANCE_ENTRIES}", position=0,
                         hint="give the widths as size names (n0, n1, ...): derivcheck then "
                         "picks small sizes, and proves the formula for all")


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


def _diagnose(net, expr, reference, sizes, conv, assumptions) -> list:
    """Named mistakes, each verified: the fixed formula is identical to the reference."""
    from .matrix_fixes import diagnose_matrix
    del assumptions
    return diagnose_matrix(net, expr, reference, sizes, conv)
