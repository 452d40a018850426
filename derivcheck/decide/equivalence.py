"""Decide whether a candidate equals the true gradient: never a false ``equivalent``.

The procedure, cheapest first:

1. **Identity everywhere.** Both sides are evaluated formally (:mod:`derivcheck.decide.formal`)
   with every gate value, every Iverson bracket and Step(0) itself as independent
   atoms. Equal as rational functions of leaves and atoms means equal at every point,
   kinks included, for every allowed Step(0): ``equivalent``.
2. **Counterexample search** at random points: a difference off the kink set, found
   and re-checked by exact evaluation, is ``not_equivalent``.
3. **Regions.** Off the kinks each gate is 0 or 1. A depth-first search fixes gates
   one at a time, innermost first, and stops as soon as both sides agree as rational
   functions with the remaining gates free, so shared structure prunes whole
   subtrees; gates that become identically zero (after a dead unit) take Step(0).
   A region where the sides differ is searched for a point (each gate argument aimed
   at its sign by solving for a leaf): found, ``not_equivalent``; not found, ``unknown``.
4. **Kinks.** Equal off the kinks (proved by 3): points placed exactly on each
   breakpoint are compared under every allowed Step(0). A difference there is
   ``equivalent_almost_everywhere``; none found is ``unknown`` (not proved).

>>> from derivcheck.core.network import chain
>>> from derivcheck.core.assumptions import Assumptions
>>> from derivcheck.core.functions import ReLU, Step
>>> net = chain(["w1"], "relu")
>>> w1, x, y = sympy.symbols("w1 x y")
>>> ref = sympy.Symbol("dC/dw1")
>>> decide(net, ref, (ReLU(w1*x) - y)*Step(w1*x)*x, assumptions=Assumptions()).verdict
'equivalent'
>>> decide(net, ref, (y - ReLU(w1*x))*x, assumptions=Assumptions()).verdict
'not_equivalent'
"""
from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from fractions import Fraction

import sympy

from ..core.primitives import ZeroSet, primitive_of
from ..core.conventions import get_convention
from ..core.graph import Role
from .evaluate import PointEvaluator, Undetermined, UndefinedAt
from .formal import K, P, FormalEvaluator, _same_sign_as, degree_bound
from .regions import RegionSolver
from .search import Sampler
from ..core.sharing import name_arguments
from .verdict import Verdict, Witness

__all__ = ["Decision", "Outcome", "decide"]

RANDOM_POINTS = 24
MAX_REGIONS = 4096
AIM_TRIES = 4
#: Leaves pinned to 0, one at a time, for a kink no rational point reaches unpinned.
MAX_PINS = 6
#: Counterexamples over at most this many leaves are simplified coordinate by coordinate.
SIMPLIFY_LEAVES = 24
_SIMPLE = [Fraction(n, d) for n, d in ((0, 1), (1, 1), (-1, 1), (1, 2), (-1, 2), (2, 1), (-2, 1))]


def _height(v: Fraction) -> int:
    """How hard a number is to check by hand: 0 for 0, else max(|numerator|, denominator)
    plus one for a sign."""
    return 0 if v == 0 else max(abs(v.numerator), v.denominator) + (v < 0)


#: Seconds the SMT solver may take for one question (less when the check's time is short).
SMT_BUDGET = 10.0
#: Share of the check's time the SMT solver may take in all (so an undecidable formula
#: answers unknown well within its timeout).
SMT_SHARE = 0.4


@dataclass
class Decision:
    """A verdict with its witnesses and how it was reached."""

    verdict: Verdict
    method: str
    detail: str
    counterexample: Witness | None = None
    kink_point: Witness | None = None
    reason: str | None = None


@dataclass
class Outcome:
    """What one step of the procedure found: the final ``decision``, or what later steps
    build on (the number of sign ``regions`` searched, a ``kink`` witness)."""

    decision: Decision | None = None
    regions: int = 0
    kink: Witness | None = None


class _Procedure:
    def __init__(self, net, reference, candidate, convention, assumptions, timeout, seed):
        self.net = net
        self.reference = reference
        self.candidate, named = name_arguments(candidate)
        self.conv = get_convention(convention)
        self.defs = {**net.definitions(self.conv), **named}
        self.assumptions = assumptions.bind(self._sign_at)
        self.deadline = time.monotonic() + timeout
        self.seed = seed
        self.step0_values = [Fraction(int(c.p), int(c.q)) for c in self.conv.step0_values]
        self.c_fixed = (None if len(self.step0_values) > 1 else
                        self.step0_values[0].numerator * pow(self.step0_values[0].denominator,
                                                             -1, P) % P)
        self.signs = assumptions.strict_signs()
        self.sampler = Sampler(net, self.defs, self.assumptions, seed=seed)
        self.registry = {"free": {}, "offkink": {}}
        self._zero_sets: dict = {}
        self.tests = 0
        self.gate_count = 0
        self.degree = 1
        self.smt = RegionSolver(self.defs, assumptions, self.step0_values,
                                domain=self.sampler.domain)
        self.smt_empty = 0       # sign regions the SMT solver proved hold no difference
        self.smt_total, self.smt_spent = SMT_SHARE * timeout, 0.0

    def _sign_at(self, expr, point):
        """The certified sign of a quantity of the network at ``point``, None when it
        cannot be told (for assumptions on intermediate quantities)."""
        try:
            return PointEvaluator(self.defs, point).sign(expr)
        except (Undetermined, UndefinedAt, ArithmeticError):
            return None

    # -- formal side ---------------------------------------------------------------------
    def c_residues(self) -> list:
        """Step(0) as residues: the convention's one value, or the atom (None) followed by
        each allowed value (an identity for every real c is more than is asked)."""
        if self.c_fixed is not None:
            return [self.c_fixed]
        return [None] + [v.numerator * pow(v.denominator, -1, P) % P
                         for v in self.step0_values]

    def formal_each_c(self) -> bool:
        """Identical everywhere for each allowed Step(0) taken on its own."""
        return all(self.formal("free", c=c)[1] for c in self.c_residues()[1:])

    def formal_plain(self) -> bool:
        """Identical everywhere with gate arguments compared as written (only assumed
        signs taken out): a spelling whose positive factors one side's gates show and the
        other's hide is still met."""
        fe = FormalEvaluator(self.defs, mode="free", c_value=self.c_fixed, signs=self.signs,
                             seed=self.seed, registry={}, structural=False)
        self.tests += 1
        try:
            return fe.value(self.reference) == fe.value(self.candidate)
        except ZeroDivisionError:
            return False

    def formal(self, mode, pattern=None, c="fixed"):
        c = self.c_fixed if c == "fixed" else c
        fe = FormalEvaluator(self.defs, mode=mode, pattern=pattern or {}, c_value=c,
                             signs=self.signs, seed=self.seed, registry=self.registry[mode])
        self.tests += 1
        try:
            same = fe.value(self.reference) == fe.value(self.candidate)
        except ZeroDivisionError:
            fe = FormalEvaluator(self.defs, mode=mode, pattern=pattern or {},
                                 c_value=c, signs=self.signs, seed=self.seed + 7,
                                 registry={})
            same = fe.value(self.reference) == fe.value(self.candidate)
        self.gate_count = max(self.gate_count, len(fe.gates))
        self.degree = max(self.degree, fe.degree)
        return fe, same

    def error_bound(self) -> str:
        d = (degree_bound(self.reference, self.defs) + degree_bound(self.candidate, self.defs)) \
            * self.degree
        eps = (self.tests + self.gate_count ** 2 + 1) * (d / P) ** K
        exponent = math.floor(math.log10(eps)) + 1 if eps > 0 else -300
        return f"probability of a wrong answer < 1e{exponent}"

    def compare(self, point):
        """Both sides at ``point`` under every allowed Step(0): a Found, or None."""
        return self.sampler.compare(point, self.reference, self.candidate, self.step0_values)

    def timed_out(self) -> bool:
        return time.monotonic() > self.deadline

    # -- the steps -------------------------------------------------------------------------
    def run(self) -> Decision:
        root, same = self.formal("free")
        if same or (self.c_fixed is None and self.formal_each_c()) or self.formal_plain():
            return Decision(Verdict.EQUIVALENT, "identity_test",
                            "identical as rational functions of the inputs, parameters, "
                            "every gate value and Step(0), tested modulo 2^61-1 at "
                            f"{K} random points; {self.error_bound()}")
        kink_seen = None
        aimed = self.suspects()
        if aimed.decision:
            return aimed.decision
        for i in range(RANDOM_POINTS):
            found = self.compare(self.sampler.random_point(scale=1 + i % 3))
            if found and not found.on_kink:
                return self.refuted(found.witness, "found at a random point")
            if found:
                kink_seen = kink_seen or found.witness
        regions = self.regions()
        if regions.decision:
            return regions.decision
        detail = (f"equal off the kinks on all {regions.regions} sign regions searched "
                  f"(identity test modulo 2^61-1 at {K} random points per region; "
                  f"{self.error_bound()})")
        if self.smt_empty:
            detail += (f"; on {self.smt_empty} of them the formulas differ as functions but "
                       "the SMT solver z3 proved no point of the region makes them differ")
        kink = Outcome(kink=kink_seen) if kink_seen else self.kinks(root)
        if kink.decision:
            return kink.decision
        if kink.kink is not None:
            return Decision(Verdict.EQUIVALENT_ALMOST_EVERYWHERE, "identity_test",
                            detail + "; differs at a kink, checked by exact evaluation",
                            kink_point=kink.kink)
        surfaces, left = self.kink_surfaces(root)
        if not left:
            return Decision(Verdict.EQUIVALENT, "identity_test",
                            detail + f"; equal on each of the {surfaces} kink surfaces too "
                            "(identity test on the surface, gates and Step(0) free)")
        pieces = self.smt_kinks(left)
        if isinstance(pieces, Decision):
            return pieces
        if pieces is not None:
            return Decision(Verdict.EQUIVALENT, "identity_test",
                            detail + f"; equal on the kink set too: on {surfaces} of its "
                            "pieces by the identity test on the surface (gates and Step(0) "
                            f"free), on {pieces} by the SMT solver z3 (nonlinear real "
                            "arithmetic: no point of the piece and no allowed Step(0) where "
                            "they differ)")
        answer = self.ask([])
        if answer.status == "empty":
            return Decision(Verdict.EQUIVALENT, "symbolic",
                            detail + "; equal everywhere, kinks included, for every allowed "
                            "Step(0): proved by the SMT solver z3 (nonlinear real arithmetic, "
                            "no point where the formulas differ" +
                            ("; transcendental values abstracted" if answer.abstracted
                             else "") + ")")
        found = self.smt_witness(answer, off_kink=False) if answer.status == "point" else None
        if found is not None and found.on_kink:
            return Decision(Verdict.EQUIVALENT_ALMOST_EVERYWHERE, "identity_test",
                            detail + "; differs at a kink found by the SMT solver z3, checked "
                            "by exact evaluation", kink_point=found.witness)
        if found is not None:
            return self.refuted(found.witness, "by the SMT solver (z3)")
        return Decision(Verdict.UNKNOWN, "identity_test", detail,
                        reason="the formulas are equal off the kinks (proved), but their "
                               "equality on the kinks was neither proved nor refuted: "
                               "no kink point where they differ was found" +
                               ("; the time budget ran out while the SMT solver z3 was "
                                "deciding the kinks" if self.timed_out() else
                                "; the SMT solver z3 could not decide them"))

    def suspects(self) -> Outcome:
        """Aim where a wrong formula most often shows: every unit alive, and every unit
        alive but one whose gate the difference hinges on (a dropped or extra gate),
        found by bisection over the gates. Decided when that finds a counterexample."""
        keyer = FormalEvaluator(self.defs, mode="offkink", c_value=self.c_fixed,
                                signs=self.signs, seed=self.seed)
        keyer.value(self.reference)
        keyer.value(self.candidate)
        nodes = self.node_gates(keyer)
        alive = {z: orient for z, orient in nodes.values()}
        plans = [alive]
        hinge = self.hinge(keyer)
        if hinge in nodes:
            z, orient = nodes[hinge]
            plans.append({**alive, z: -orient})
        for wants in plans:
            if self.timed_out():
                break
            point = self.sampler.sweep(wants)
            if point is None:
                continue
            found = self.compare(point)
            if found and not found.on_kink:
                return Outcome(self.refuted(found.witness, "with the units aimed on or off"))
        return Outcome()

    def hinge(self, keyer):
        """The gate whose switching on makes the sides agree: the shortest prefix of the
        gates (in order) that, all on, makes them equal ends at it."""
        keys = [g.key for g in sorted(keyer.gates.values(), key=lambda g: g.order)]

        def equal_with(prefix) -> bool:
            fe = FormalEvaluator(self.defs, mode="offkink", pattern={k: 1 for k in prefix},
                                 c_value=self.c_fixed, signs=self.signs, seed=self.seed,
                                 keyer=keyer)
            self.tests += 1
            try:
                return fe.value(self.reference) == fe.value(self.candidate)
            except ZeroDivisionError:
                return False

        if not keys or not equal_with(keys):
            return None
        lo, hi = 0, len(keys)  # equal_with(keys[:hi]) holds, keys[:lo] not known
        if equal_with([]):
            return None
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if equal_with(keys[:mid]):
                hi = mid
            else:
                lo = mid
        return keys[hi - 1]

    def node_gates(self, fe) -> dict:
        """gate key -> (pre-activation symbol, orientation) for the network's own units."""
        out = {}
        for node in self.net.graph.nodes:
            if node.role != Role.PRE:
                continue
            found = fe.gate_of(node.symbol)
            if found is not None:
                key, orientation = found
                out[key] = (node.symbol, orientation)
        return out

    def refuted(self, witness, how) -> Decision:
        witness = self.simpler(witness)
        return Decision(Verdict.NOT_EQUIVALENT, "identity_test",
                        f"counterexample {how}, re-checked by exact evaluation of both sides",
                        counterexample=witness)

    def regions(self) -> Outcome:
        """Depth-first search over gate values: the number of regions, or decided."""
        stack, leaves, unreached = [{}], 0, 0
        while stack:
            if self.timed_out() or leaves > MAX_REGIONS:
                return Outcome(Decision(
                    Verdict.UNKNOWN, "identity_test", f"searched {leaves} sign regions",
                    reason="time or region budget exhausted before every sign region of the "
                           "gates was covered"))
            pattern = stack.pop()
            fe, same = self.formal("offkink", pattern)
            leaves += 1
            if same:
                continue
            if fe.free_gates:
                key = fe.free_gates[0]
                stack.append({**pattern, key: 0})
                stack.append({**pattern, key: 1})
                continue
            found = self.witness_in(fe, pattern)
            if found is not None:
                return Outcome(self.refuted(found, "inside a sign region where the formulas "
                                                   "differ"))
            answer = self.ask(self.region_targets(fe, pattern))
            if answer.status == "empty":
                self.smt_empty += 1
                continue
            found = self.smt_witness(answer, off_kink=True)
            if found is not None:
                return Outcome(self.refuted(found.witness, "by the SMT solver (z3) inside a "
                                                           "sign region where the formulas "
                                                           "differ"))
            unreached += 1
        if unreached:
            return Outcome(Decision(
                Verdict.UNKNOWN, "identity_test", f"searched {leaves} sign regions",
                reason=f"the formulas differ on {unreached} sign region(s) of the gates, but "
                       "no point inside them was found (they may be empty under the "
                       "network's structure and assumptions)"))
        return Outcome(regions=leaves)

    def simpler(self, witness):
        """The counterexample with each coordinate, in turn, replaced by the simplest
        small number that keeps it a counterexample of the same kind (off the kinks, and
        independent of Step(0) if it was): numbers people check by hand."""
        if not all(isinstance(v, Fraction) for v in witness.point.values()) or \
                len(witness.point) > SIMPLIFY_LEAVES:
            return witness
        point = {s: witness.point[str(s)] for s in self.sampler.leaves
                 if str(s) in witness.point}
        if len(point) != len(witness.point):
            return witness
        kind, targets = self.sampler.domain
        for leaf in [s for s in point if kind == "any" or s not in targets]:
            for v in _SIMPLE:
                if self.timed_out() or _height(v) >= _height(point[leaf]):
                    break
                trial = {**point, leaf: v}
                found = self.compare(trial)
                if found and not found.on_kink and (witness.step0 is not None or
                                                    found.witness.step0 is None):
                    point, witness = trial, found.witness
                    break
        return witness

    @staticmethod
    def region_targets(fe, pattern) -> list:
        """(gate argument, sign) for the gates ``pattern`` fixes, inner gates first."""
        order = sorted(pattern, key=lambda k: fe.gates[k].order)
        return [(fe.gates[k].expr, 1 if pattern[k] else -1) for k in order]

    def budget(self) -> float:
        """Seconds the SMT solver may take for one question: at most SMT_BUDGET, what is
        left of its share of the check's time, and what is left of that time."""
        return min(SMT_BUDGET, self.smt_total - self.smt_spent,
                   self.deadline - time.monotonic())

    def ask(self, targets, **options):
        """The SMT solver's answer for ``targets`` and a difference of the sides."""
        started = time.monotonic()
        try:
            return self.smt.search(targets, self.reference, self.candidate,
                                   timeout=self.budget(), **options)
        finally:
            self.smt_spent += time.monotonic() - started

    def smt_witness(self, answer, *, off_kink: bool):
        """The SMT solver's point (or a rational approximation of it) re-checked by exact
        evaluation: a Found (off the kinks when ``off_kink``), or None."""
        for point in answer.points:
            full = {**self.sampler.random_point(), **point}
            found = self.compare(full)
            if found and (not off_kink or not found.on_kink):
                return found
        return None

    def witness_in(self, fe, pattern):
        targets = self.region_targets(fe, pattern)
        for _ in range(AIM_TRIES):
            point = self.sampler.aim(targets)
            if point is None:
                return None
            found = self.compare(point)
            if found and not found.on_kink:
                return found.witness
        return None

    def zero_set(self, gate_argument):
        """:func:`zero_set_factors` of a gate's argument, computed once per gate (the
        kink search and the surface proof both ask)."""
        if gate_argument not in self._zero_sets:
            self._zero_sets[gate_argument] = zero_set_factors(gate_argument, self.defs,
                                                              self.signs)
        return self._zero_sets[gate_argument]

    def kink_surfaces(self, root):
        """Prove equality on every kink surface g = 0. The zero set of g is split into
        pieces, one per factor (through definitions, products and activations whose zero
        set is known); each piece is solved for a leaf the factor is affine in, so that
        the solution covers the whole piece, and identity is tested there with every
        other gate, and Step(0), free. (pieces proved, pieces left): a gate whose zero
        set is not known is left whole."""
        proved, left = 0, []
        for info in sorted(root.gates.values(), key=lambda g: g.order):
            factors = self.zero_set(info.expr)
            if factors is None:
                left.append(info.expr)
                continue
            for factor in factors:
                if not self.timed_out() and any(
                        self.surface_equal(factor, leaf)
                        for leaf in sorted(self.sampler.deps(factor), key=str)):
                    proved += 1
                else:
                    left.append(factor)
        return proved, left

    def surface_equal(self, arg, leaf) -> bool:
        """Is ``arg`` = s * leaf + r with s a nonzero constant, and are the sides equal
        (formally) at leaf = -r/s, for Step(0) an atom or else for each allowed value?"""
        def at(values, c=self.c_fixed):
            return FormalEvaluator(self.defs, mode="free", c_value=c,
                                   signs=self.signs, seed=self.seed,
                                   registry=self.registry["free"], overrides={leaf: values})

        t = _SURFACE_VALUES
        try:
            g = [at(v).value(arg) for v in t]
        except ZeroDivisionError:
            return False
        slope = [(g1 - g0) * pow((t1 - t0) % P, -1, P) % P
                 for g0, g1, t0, t1 in zip(g[0], g[1], t[0], t[1])]
        if 0 in slope or any((g0 + s * (t2 - t0) - g2) % P
                             for g0, g2, s, t0, t2 in zip(g[0], g[2], slope, t[0], t[2])):
            return False  # not affine in this leaf
        if len(set(slope)) != 1:
            # a slope that depends on other leaves may vanish on the piece, unless the
            # rest is a nonzero constant (w x - 6 = 0 forces w != 0): x = 6 / w covers it
            rest = {(g0 - s * t0) % P for g0, s, t0 in zip(g[0], slope, t[0])}
            if len(rest) != 1 or 0 in rest:
                return False
        root = tuple((t0 - g0 * pow(s, -1, P)) % P for g0, s, t0 in zip(g[0], slope, t[0]))
        def equal(c) -> bool:
            fe = at(root, c)
            self.tests += 1
            try:
                return fe.value(self.reference) == fe.value(self.candidate)
            except ZeroDivisionError:
                return False

        cs = self.c_residues()
        return equal(cs[0]) or (len(cs) > 1 and all(equal(c) for c in cs[1:]))

    def kinks(self, root) -> Outcome:
        """A kink point where the sides differ (or a counterexample met near one)."""
        targets = []
        for info in sorted(root.gates.values(), key=lambda g: g.order):
            factors = self.zero_set(info.expr) or []
            targets += [info.expr] + [f for f in factors if f not in targets]
        unreached = []
        for target in targets:  # the gate argument, then each piece of its zero set
            for attempt in range(3):
                if self.timed_out():
                    return Outcome()
                point = self.sampler.aim([(target, 0)])
                if point is None:
                    if attempt == 0:
                        unreached.append(target)
                    break
                found = self.check_kink(point)
                if found.decision or found.kink:
                    return found
        # a kink no rational point reaches lies at an irrational value of every leaf it is
        # affine in (-b2 - w2 softplus(u) = 0): pin one other leaf to 0 and aim again
        for target in unreached:
            for leaf in self.pin_order(target)[:MAX_PINS]:
                if self.timed_out():
                    return Outcome()
                point = self.sampler.aim([(target, 0)], pinned={leaf: Fraction(0)},
                                         tries=AIM_TRIES)
                found = self.check_kink(point) if point is not None else Outcome()
                if found.decision or found.kink:
                    return found
        return Outcome()

    def smt_kinks(self, pieces):
        """Each piece of the kink set asked of z3 (a leaf piece substituted by 0, which
        shrinks the question): the number of pieces when every one is proved to hold no
        difference, a Decision when one has a point re-checked exactly, else None."""
        count = 0
        for piece in pieces:
            if self.timed_out():
                return None
            leaf = piece.is_Symbol and piece not in self.defs
            answer = self.ask([] if leaf else [(piece, 0)],
                              pinned={piece: 0} if leaf else None)
            if answer.status == "point":
                found = self.smt_witness(answer, off_kink=False)
                if found is not None and found.on_kink:
                    return Decision(Verdict.EQUIVALENT_ALMOST_EVERYWHERE, "identity_test",
                                    "equal off the kinks; differs at a kink found by the "
                                    "SMT solver z3, checked by exact evaluation",
                                    kink_point=found.witness)
                if found is not None:
                    return self.refuted(found.witness, "by the SMT solver (z3)")
            if answer.status != "empty":
                return None
            count += 1
        return count

    def pin_order(self, target) -> list:
        """Leaves to pin to 0 for a kink of ``target``: those of its own equation first
        (w4 in a3 w4 + b4 = 0: pinned, it removes the irrational a3), then the rest."""
        own = target
        while own.is_Symbol and own in self.defs:
            own = self.defs[own]
        direct = {s for s in own.free_symbols if s not in self.defs}
        return sorted(self.sampler.deps(target), key=lambda s: (s not in direct, str(s)))

    def check_kink(self, point) -> Outcome:
        """At a point aimed at a kink: decided if the sides differ off every kink there,
        the kink witness if they differ on one, else nothing."""
        found = self.compare(point)
        if found and not found.on_kink:
            return Outcome(self.refuted(found.witness, "near a kink"))
        return Outcome(kink=found.witness if found else None)


#: Three values of a leaf for the surface proof (modulo P, K residues each), not
#: proportional to one another: proportional values would put exp(leaf * h) in one class
#: and hide a non-affine dependence.
_SURFACE_VALUES = [tuple(int.from_bytes(hashlib.blake2b(repr(("surface", j, i)).encode(),
                                                        digest_size=8).digest(), "big") % P
                         for i in range(K)) for j in range(3)]

def zero_set_factors(expr, definitions: dict, signs: dict) -> list | None:
    """Factors whose zero sets make up the zero set of ``expr`` up to regions (covered by
    the region search) and pieces of the other gates' kinks; None when some factor's zero
    set is not known.

    >>> from derivcheck.core.network import chain
    >>> net = chain(["w1", "w2"], ["tanh", "relu"])
    >>> sorted(map(str, zero_set_factors(sympy.Symbol("z2"), net.definitions(), {})))
    ['w1', 'w2', 'x']
    """
    out, stack, seen = [], [expr], set()
    while stack:
        f = stack.pop()
        if f in seen:
            continue
        seen.add(f)
        if f.is_Number:
            if f == 0:
                return None
        elif f.is_Symbol:
            if f in definitions:
                stack.append(definitions[f])
            elif f not in signs:
                out.append(f)
        elif f.is_Mul:
            stack.extend(f.args)
        elif f.is_Pow and f.exp.is_Integer:
            if f.exp > 0:
                stack.append(f.base)
        elif _zeros(f) in (ZeroSet.NEVER, ZeroSet.REGION):
            continue
        elif _zeros(f) is ZeroSet.AT_ZERO:
            if any(not (a.is_Number and a != 0) for a in f.args[1:]):
                return None  # a parameter that may be 0 (leaky_relu(z, a)) or unknown
            stack.append(f.args[0])
        elif _same_sign_as(f, definitions) is not None:
            stack.append(_same_sign_as(f, definitions)[1])  # exp(u) - 1 = 0 exactly where u = 0
        elif f.is_Add:
            out.append(f)
        else:
            return None
    return out


def _zeros(f) -> ZeroSet | None:
    """How ``f``'s value vanishes, as its primitive declares: never, exactly where its
    argument does, or on a whole region (whose inside the region search covers, and whose
    edge is the kink of the argument's own gate); None when not known."""
    primitive = primitive_of(f)
    return None if primitive is None else primitive.zeros


def decide(net, reference, candidate, *, convention="any", assumptions, timeout: float = 60.0,
           seed: int = 20261123) -> Decision:
    """Decide ``candidate`` against ``reference`` (an expression over the network's
    symbols, usually its ``dC/d<param>`` symbol)."""
    return _Procedure(net, reference, candidate, convention, assumptions, timeout, seed).run()


