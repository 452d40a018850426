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
>>> import sympy
>>> net = chain(["w1"], "relu")
>>> w1, x, y = sympy.symbols("w1 x y")
>>> ref = sympy.Symbol("dC/dw1")
>>> decide(net, ref, (ReLU(w1*x) - y)*Step(w1*x)*x, assumptions=Assumptions()).verdict
'equivalent'
>>> decide(net, ref, (y - ReLU(w1*x))*x, assumptions=Assumptions()).verdict
'not_equivalent'
"""
from __future__ import annotations

import math
import time
from fractions import Fraction

from ..core.conventions import get_convention
from ..core.sharing import name_arguments
from .degree import degree_bound
from .evaluate import PointEvaluator, Undetermined, UndefinedAt
from .formal import K, P, FormalEvaluator
from .gate_facts import GateFacts
from .irrational_kinks import IrrationalKinks
from .kink_strata import KinkStrata
from .kinks import KinkSteps
from .outcome import Decision, Outcome
from .region_search import RegionSteps
from .regions import RegionSolver
from .search import Sampler
from .simplify import Simplifier
from .solver_steps import SMT_SHARE, SolverSteps
from .verdict import Verdict

__all__ = ["Decision", "Outcome", "Procedure", "decide"]

RANDOM_POINTS = 24


class Procedure(RegionSteps, GateFacts, KinkSteps, KinkStrata, IrrationalKinks, SolverSteps,
                Simplifier):
    """One decision: the candidate against the reference, through the steps above."""

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
        if not kink_seen and self.gate_facts_equal():
            return Decision(Verdict.EQUIVALENT, "identity_test",
                            detail + "; equal everywhere, kinks included: with each piecewise "
                            "function written as its piece on the side its product's gates "
                            "put its argument (relu(z) as z under Step(z)), the formulas are "
                            "identical as rational functions of the inputs, parameters, every "
                            "gate value and Step(0)")
        surfaces, left = (0, None) if kink_seen else self.kink_surfaces(root)
        if left == []:
            return Decision(Verdict.EQUIVALENT, "identity_test",
                            detail + f"; equal on each of the {surfaces} kink surfaces too "
                            "(identity test on the surface, gates and Step(0) free)")
        strata = None if kink_seen else self.strata_proof(root)
        if strata is not None:
            return Decision(Verdict.EQUIVALENT, "identity_test",
                            detail + f"; equal on the kink set too, on each of its {strata} "
                            "strata (pieces solved exactly for a leaf each; identity test "
                            "there with the other gates free, or 0/1 on every sign region "
                            "of them and the strata inside checked in turn)")
        kink = Outcome(kink=kink_seen) if kink_seen else self.kinks(root)
        if kink.decision:
            return kink.decision
        if kink.kink is not None:
            return Decision(Verdict.EQUIVALENT_ALMOST_EVERYWHERE, "identity_test",
                            detail + "; differs at a kink, checked by exact evaluation",
                            kink_point=kink.kink)
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
        for piece in dict.fromkeys(left):  # kinks no rational point shows: solved exactly
            kink = self.irrational_kink(piece)
            if kink.kink is not None:
                return Decision(Verdict.EQUIVALENT_ALMOST_EVERYWHERE, "identity_test",
                                detail + f"; differs at a kink, checked by exact evaluation "
                                f"({kink.note})", kink_point=kink.kink)
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


def decide(net, reference, candidate, *, convention="any", assumptions, timeout: float = 60.0,
           seed: int = 20261123) -> Decision:
    """Decide ``candidate`` against ``reference`` (an expression over the network's
    symbols, usually its ``dC/d<param>`` symbol)."""
    return Procedure(net, reference, candidate, convention, assumptions, timeout, seed).run()


