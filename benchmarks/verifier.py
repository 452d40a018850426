"""The soundness run's verifier: is a verdict of ``check`` true, by the independent
reference (:mod:`reference`) alone?

* ``not_equivalent``: the counterexample must show a certified difference under every
  Step(0) it claims (all of 0, 1/2, 1 when it names none), and still at a point nudged
  off it by ~1e-9 (a difference only *on* a kink is not a counterexample: it may be
  where the truth is only equivalent almost everywhere). A unit that is dead on a
  whole region keeps its gate at 0 under the nudge, so such witnesses stand.
* ``equivalent``: no difference at RANDOM_POINTS points drawn to reach every piece
  (small, medium and large values, and points aimed just either side of each unit's
  breakpoints), nor at *kink probes*: points exactly on each breakpoint of every
  unit of every layer, and on each gate of the candidate, found by solving for one
  leaf and, where no rational point reaches the kink, pinning another leaf to 0 first
  (as the decision procedure does). Each point is compared under Step(0) = 1/2 and,
  wherever the value depended on it, also under 0 and 1.
* ``equivalent_almost_everywhere``: no difference at the random points (nudged off
  any kink they land on), a certified difference at the kink witness under the Step(0)
  it claims, and none at the witness nudged off its kink.
* ``unknown`` is counted, never wrong.

A verdict fails when the reference contradicts it (``wrong``) and also when its own
evidence cannot be confirmed (``unconfirmed``: a counterexample the reference cannot
evaluate, fewer than RANDOM_POINTS // 2 evaluable comparisons for an equivalence).

The reference gradient itself is checked against PyTorch and jax autograd (float64)
where installed, at small random points off the kinks (``framework_mismatch``).
"""
from __future__ import annotations

import random
from collections import Counter
from fractions import Fraction

import mpmath
import sympy

import reference as ref

__all__ = ["verify", "verify_diagnosis", "Failure", "C_VALUES", "RANDOM_POINTS", "kink_targets", "aim"]

C_VALUES = (Fraction(0), Fraction(1, 2), Fraction(1))
RANDOM_POINTS = 12
#: Cap on kink probes per case (the network's breakpoints come first).
MAX_KINK_TARGETS = 24
#: Kink hits tried per base point, and base points per breakpoint, while the
#: comparisons there are 0 against 0.
MAX_HITS, KINK_BASES = 3, 3
#: How far the nudge moves each leaf, relatively.
NUDGE = Fraction(1, 10**9)
#: Framework gradients (float64) must match the reference to this relative tolerance.
FRAMEWORK_TOLERANCE = 1e-8
#: Framework comparisons per case (each at a small random point off the kinks).
FRAMEWORK_POINTS = 2


class Failure(str):
    """What is wrong with a verdict; ``kind`` is ``wrong`` or ``unconfirmed``."""

    kind = "wrong"


def _fail(kind: str, message: str) -> Failure:
    f = Failure(message)
    f.kind = kind
    return f


class Case:
    """A network, the parameter, the candidate, and the reference's view of them."""

    def __init__(self, net, wrt, candidate, rng: random.Random, tally: Counter):
        self.net, self.wrt, self.candidate = net, wrt, candidate
        self.rng, self.tally = rng, tally
        self.leaves = leaves(net)
        self.defs = net.graph.definitions
        self.reached: set = set()  # (unit, piece) pairs the compared points reached
        self.vacuous = True  # the last comparison was 0 against 0 throughout

    # -- values ----------------------------------------------------------------------------
    def sides(self, point, c):
        """(truth, candidate) at ``point`` with Step(0) = c, and the evaluators."""
        truth, et = ref.gradient(self.net, self.wrt, point, step0=c)
        ec = ref.Evaluator(point, step0=c)
        return truth, ec(self.candidate), et, ec

    def compare(self, point, cs=None):
        """{c: True (differ) / False (agree) / None (not evaluable)} for c in ``cs``, or
        for 1/2 and, when a value depended on Step(0), 0 and 1; and the keys of the
        gates met exactly on their kinks."""
        out, kinks = {}, set()
        self.vacuous = True
        for c in cs or C_VALUES[1:2]:
            out[c], k, used = self._one(point, c, pieces=True)
            kinks |= k
            if cs is None and used:
                for c2 in (C_VALUES[0], C_VALUES[2]):
                    out[c2], k, _ = self._one(point, c2)
        self.tally["compared"] += sum(d is not None for d in out.values())
        self.tally["unverifiable"] += sum(d is None for d in out.values())
        return out, kinks

    def _one(self, point, c, pieces=False):
        try:
            truth, cand, et, ec = self.sides(point, c)
        except (ArithmeticError, ValueError, ZeroDivisionError):
            return None, set(), False
        zero = Fraction(0)
        self.vacuous = self.vacuous and isinstance(truth, Fraction) and truth == zero \
            and isinstance(cand, Fraction) and cand == zero
        if pieces:
            self.reached |= et.pieces
        return ref.differ(truth, cand), et.at_kinks | ec.at_kinks, bool(
            et.used_step0 or ec.used_step0)

    def kinks_at(self, point) -> set:
        """Gates (of either side) exactly on their kink at ``point``."""
        try:
            _, _, et, ec = self.sides(point, C_VALUES[1])
        except (ArithmeticError, ValueError, ZeroDivisionError):
            return set()
        return et.at_kinks | ec.at_kinks

    def nudge(self, point) -> dict:
        """``point`` moved by ~1e-9 relatively in every leaf (random directions)."""
        out = {}
        for k, v in point.items():
            step = NUDGE * self.rng.randint(1, 997) / 997 * self.rng.choice((-1, 1))
            out[k] = v + (abs(v) if v else Fraction(1)) * step
        return out

    def deps(self, expr) -> set:
        """The leaves ``expr`` depends on through the forward equations."""
        out, stack, seen = set(), list(expr.free_symbols), set()
        while stack:
            s = stack.pop()
            if s not in seen:
                seen.add(s)
                if s in self.defs:
                    stack.extend(self.defs[s].free_symbols)
                else:
                    out.add(s)
        return out

    # -- points ----------------------------------------------------------------------------
    def draw(self, scale: str) -> dict:
        top, den = {"small": (2, 6), "unit": (4, 4), "medium": (24, 4), "large": (40, 12)}[scale]
        return {s: Fraction(self.rng.choice((-1, 1)) * self.rng.randint(1, top),
                            self.rng.randint(1, den)) for s in self.leaves}

    def random_points(self) -> list:
        """RANDOM_POINTS points reaching every piece: 2 small, 2 unit, 1 medium, 1 large,
        and the rest aimed just either side of a random breakpoint of a random unit."""
        targets = kink_targets(self.net, None)
        pts = [self.draw(s) for s in ("small", "small", "unit", "unit", "medium", "large")]
        while len(pts) < RANDOM_POINTS:
            base = self.draw("unit")
            if targets:
                expr, kappa = self.rng.choice(targets)
                offset = self.rng.choice((Fraction(1, 7), Fraction(1, 2), Fraction(2)))
                hit = aim(self, expr, kappa + self.rng.choice((-1, 1)) * offset, base)
                base = hit or base
            pts.append(base)
        return pts

    def kink_probes(self):
        """Points exactly on each breakpoint of every unit and each gate of the
        candidate, as many as can be reached. A hit where both sides are 0 shows
        nothing (pinning a weight to 0, or a dead unit at the base point, may zero the
        whole gradient): then other hits are tried, MAX_HITS from each of KINK_BASES
        base points, until one is not 0 against 0."""
        targets = kink_targets(self.net, self.candidate)
        self.tally["kink_targets"] += len(targets)
        for expr, kappa in targets:
            reached = shown = False
            for _ in range(KINK_BASES):
                for n, p in enumerate(hits(self, expr, kappa, self.draw("unit"))):
                    reached = True
                    yield p
                    shown = not self.vacuous
                    if shown or n + 1 == MAX_HITS:
                        break
                if shown:
                    break
            self.tally["kink_hits"] += reached

    # -- frameworks ------------------------------------------------------------------------
    def check_frameworks(self, points) -> str | None:
        """The reference gradient against torch / jax autograd at small points off the
        kinks; a message on a mismatch."""
        done = 0
        for p in points:
            if done == FRAMEWORK_POINTS or any(abs(v) > 6 for v in p.values()):
                continue
            try:
                truth, et = ref.gradient(self.net, self.wrt, p)
            except (ArithmeticError, ValueError, ZeroDivisionError):
                continue
            if et.at_kinks or et.nearest_kink < 1e-6:
                continue
            done += 1
            r = ref.to_float(truth)
            for fw in ref.FRAMEWORKS:
                try:
                    t = ref.framework_gradient(fw, self.net, self.wrt, p)
                except NotImplementedError:
                    continue
                self.tally[f"framework_{fw}"] += 1
                if not abs(t - r) <= FRAMEWORK_TOLERANCE * max(1.0, abs(r)):
                    return f"reference {r!r} but {fw} autograd {t!r} at {_show(p)}"
        return None


def leaves(net) -> list:
    """Everything a point assigns: inputs, targets, parameters, free activation
    parameters."""
    known = list(net.inputs) + list(net.targets) + list(net.params)
    free = set().union(*(node.expr.free_symbols for node in net.graph.nodes))
    return known + sorted(free - set(known) - set(net.graph.definitions), key=str)


def kink_targets(net, candidate) -> list:
    """(expression, breakpoint) pairs: each breakpoint of each unit of every layer (its
    pre-activation, through the forward equations), then each gate and kinked function
    of ``candidate`` (at most MAX_KINK_TARGETS in all)."""
    out = []
    for node in net.graph.nodes:
        for kappa in ref.KINKS.get(type(node.expr).__name__, ()):
            out.append((node.expr.args[0], Fraction(kappa)))
    if candidate is not None:
        extra = []
        for f in sorted(candidate.atoms(sympy.Function), key=sympy.default_sort_key):
            name = type(f).__name__
            if name in ("Step", "IsPos", "IsNonNeg", "Heaviside", "sign"):
                extra.append((f.args[0], Fraction(0)))
            elif name in ("Max2", "Min2", "Max", "Min") and len(f.args) == 2:
                extra.append((f.args[0] - f.args[1], Fraction(0)))
            else:
                extra += [(f.args[0], Fraction(k)) for k in ref.KINKS.get(name, ())]
        out += [t for t in dict.fromkeys(extra) if t not in out]
    return out[:MAX_KINK_TARGETS]


#: Pairs of leaves pinned to 0 that ``hits`` tries per target, at most.
MAX_PIN_PAIRS = 12


def hits(case: Case, expr, kappa: Fraction, base: dict):
    """Points where ``expr`` is exactly ``kappa``: one leaf solved for where ``expr`` is
    affine in it with exact values, after pinning no leaf, one other leaf, or (for
    kinks behind a transcendental unit: tanh(b1 + w1 x) is rational only at 0) a pair
    of leaves to 0. A generator: the first hits pin least."""
    rng = case.rng
    leaf_list = [s for s in base if s in case.deps(expr)]

    def f(p):
        try:
            return ref.value(expr, p, definitions=case.defs)
        except (ArithmeticError, ValueError, ZeroDivisionError, KeyError):
            return None

    pairs = [(a, b) for i, a in enumerate(leaf_list) for b in leaf_list[i + 1:]]
    pins = [()] + [(s,) for s in rng.sample(leaf_list, len(leaf_list))] + rng.sample(
        pairs, min(MAX_PIN_PAIRS, len(pairs)))
    for pin in pins:
        p = {**base, **{s: Fraction(0) for s in pin}}
        v = f(p)
        if not isinstance(v, Fraction):
            continue  # transcendental here: moving one leaf keeps it so (or undefined)
        if v == kappa:
            yield p
            continue
        for leaf in rng.sample(leaf_list, len(leaf_list)):
            if leaf in pin:
                continue
            t0 = p[leaf]
            g = [v] + [f({**p, leaf: t0 + k}) for k in (1, 2)]
            if not all(isinstance(u, Fraction) for u in g) or g[1] == g[0] \
                    or g[2] - g[1] != g[1] - g[0]:
                continue
            q = {**p, leaf: t0 + (kappa - g[0]) / (g[1] - g[0])}
            v2 = f(q)
            if isinstance(v2, Fraction) and v2 == kappa:
                yield q
                break


def aim(case: Case, expr, kappa: Fraction, base: dict):
    """The first of :func:`hits`, or None."""
    return next(hits(case, expr, kappa, base), None)


def _show(point) -> dict:
    return {str(k): str(v) for k, v in point.items()}


def _exact(v) -> Fraction:
    """A witness coordinate as an exact fraction (an mpmath or SymPy float exactly)."""
    if isinstance(v, (Fraction, int)):
        return Fraction(v)
    if isinstance(v, sympy.Rational):
        return Fraction(int(v.p), int(v.q))
    if isinstance(v, sympy.Basic) and not v.free_symbols and not isinstance(v, sympy.Float):
        return v  # an exact irrational coordinate (a leaf solved for a kink): kept exact
    man, exp = mpmath.mpf(v._mpf_ if isinstance(v, sympy.Float) else v).man_exp
    return Fraction(man) * Fraction(2) ** exp


def verify(result, net, wrt, candidate, rng: random.Random, tally: Counter, *,
           frameworks: bool = True):
    """None if ``result``'s verdict holds up against the reference, else a
    :class:`Failure` saying what is wrong (``wrong``) or unconfirmed. ``tally`` counts
    comparisons (``compared``, ``unverifiable``), kink probes (``kink_targets``,
    ``kink_hits``) and framework comparisons (``frameworks``: check the reference
    against torch / jax first)."""
    case = Case(net, wrt, candidate, rng, tally)
    by_name = {str(s): s for s in case.leaves}

    def at(witness):
        missing = [s for s in by_name if s not in witness.point]
        if missing:
            raise KeyError(f"the witness gives no value to {missing}")
        return {by_name[k]: _exact(v) for k, v in witness.point.items() if k in by_name}

    def claimed(witness):
        s0 = witness.step0
        return C_VALUES if s0 is None else (Fraction(s0),)

    v = result.verdict
    randoms = case.random_points() if v != "unknown" else []
    mismatch = frameworks and case.check_frameworks(
        randoms + [case.draw("unit") for _ in range(2)])
    if mismatch:
        return _fail("framework_mismatch", mismatch)
    if v == "not_equivalent":
        w = result.counterexample
        try:
            p = at(w)
        except KeyError as exc:
            return _fail("unconfirmed", str(exc))
        for label, q in (("at", p), ("near", case.nudge(p))):
            found, _ = case.compare(q, claimed(w))
            if any(d is False for d in found.values()):
                return _fail("wrong", f"counterexample {_show(p)} (step0 {w.step0}): no "
                                      f"difference {label} it under Step(0) = "
                             f"{[str(c) for c, d in found.items() if d is False]}")
            if any(d is None for d in found.values()):
                return _fail("unconfirmed", f"counterexample {_show(p)} (step0 {w.step0}): "
                                            f"not evaluable {label} it")
        tally["evidence"] += 1
        return None
    if v not in ("equivalent", "equivalent_almost_everywhere"):
        return None
    compared = 0
    for p in randoms:
        if v == "equivalent_almost_everywhere" and case.kinks_at(p):
            p = case.nudge(p)
        found, _ = case.compare(p)
        compared += any(d is not None for d in found.values())
        bad = [str(c) for c, d in found.items() if d]
        if bad:
            return _fail("wrong", f"{v}, but the sides differ at {_show(p)} under Step(0) = "
                                  f"{bad}")
    if compared < RANDOM_POINTS // 2:
        return _fail("unconfirmed", f"{v}: only {compared} of {len(randoms)} random points "
                                    "could be evaluated")
    tally["pieces"] += sum(len(ref.KINKS.get(type(n.expr).__name__, ())) + 1
                           for n in net.graph.nodes if type(n.expr).__name__ in ref.KINKS)
    tally["pieces_reached"] += len(case.reached)
    if v == "equivalent":
        for p in case.kink_probes():
            found, _ = case.compare(p, C_VALUES)
            bad = [str(c) for c, d in found.items() if d]
            if bad:
                return _fail("wrong", f"equivalent, but the sides differ at the kink "
                                      f"{_show(p)} under Step(0) = {bad}")
        tally["evidence"] += 1
        return None
    w = result.kink_point
    try:
        p = at(w)
    except KeyError as exc:
        return _fail("unconfirmed", str(exc))
    found, _ = case.compare(p, claimed(w))
    if any(d is False for d in found.values()):
        return _fail("wrong", f"kink witness {_show(p)} (step0 {w.step0}) shows no difference")
    if any(d is None for d in found.values()):
        return _fail("unconfirmed", f"kink witness {_show(p)} (step0 {w.step0}) not evaluable")
    near, _ = case.compare(case.nudge(p))
    if any(near.values()):
        return _fail("wrong", f"the kink witness {_show(p)}'s difference persists off the "
                              "kink: not equivalent")
    tally["evidence"] += 1
    return None


def _expanded(expr, definitions: dict):
    """``expr`` with every defined name replaced, down to the leaves."""
    for _ in range(200):
        new = expr.xreplace(definitions)
        if new == expr:
            return expr
        expr = new
    raise ValueError("definitions do not bottom out")


def verify_diagnosis(result, net, wrt, candidate, rng: random.Random, tally: Counter):
    """None if the printed diagnosis holds up, else a :class:`Failure`. Its evidence is
    re-checked by the reference alone at random points off the kinks, under every
    Step(0): the candidate equals ``ratio`` times the derivation with the named steps
    edited (``changes``), or the candidate with the mistakes undone (``fixed``) equals
    ``ratio`` times the reference gradient. A diagnosis decided another way (a dead
    unit's convention) or said as a guess has no such evidence and is not checked."""
    from derivcheck.core.gradients import adjoint_symbol
    e = getattr(result, "explanation", None)
    if result.verdict != "not_equivalent" or e is None:
        return None
    kinds = [str(m.kind) for m in e.mistakes]
    ratio = Fraction(*e.ratio)
    defs = net.definitions()
    if e.changes is not None:
        lhs, rhs = candidate, _expanded(adjoint_symbol(wrt), {**defs, **e.changes})
    elif e.fixed is not None:
        lhs, rhs = _expanded(e.fixed, defs), None  # None: the reference gradient
    else:
        return None
    tally["diagnoses_checked"] += 1
    case = Case(net, wrt, candidate, rng, tally)
    compared = 0
    for p in case.random_points():
        for c in C_VALUES:
            try:
                ev = ref.Evaluator(p, step0=c)
                a = ev(lhs)
                if rhs is None:
                    b, et = ref.gradient(net, wrt, p, step0=c)
                    kinks = et.at_kinks
                else:
                    b, kinks = ev(rhs), set()
            except (ArithmeticError, ValueError, ZeroDivisionError):
                continue
            if kinks or ev.at_kinks:
                continue
            d = ref.differ(a, ref.mul(ratio, b))
            compared += d is not None
            if d:
                return _fail("wrong", f"diagnosis {kinds} not verified: its evidence fails "
                                      f"at {_show(p)}, Step(0) = {c}")
    if not compared:
        return _fail("unconfirmed", f"diagnosis {kinds}: its evidence could not be evaluated")
    return None
