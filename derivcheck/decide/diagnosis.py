"""Name the mistake, and say only what is verified.

A mistake is printed only with its proof:

* an edit of the correct derivation (:func:`~derivcheck.decide.mutants.mutants`, one or two
  of them, times a constant for ``sign_flip`` and ``constant_factor``) that the candidate
  equals by an identity test off the kinks with every gate free, so on every sign region:
  undoing the edits gives the true gradient;
* an edit of the candidate (``wrong_factor``: one quantity written in place of another;
  ``extra_gate``: a gate the gradient lacks) after which the decision procedure finds it
  equal to the true gradient (its ``fix`` hook, re-decided within the budget);
* ``dead_unit_convention``: the candidate is right for some values of Step(0) and wrong
  for others, each decided, and the counterexample lies where a dead unit makes a later
  pre-activation exactly 0;
* ``reused_last_layer_formula`` is said as a guess with its evidence (parameters the
  gradient depends on that the formula never mentions).

Anything else is ``unexplained``.

>>> from derivcheck.core.network import chain
>>> from derivcheck.core.functions import ReLU
>>> w1, x, y = sympy.symbols("w1 x y")
>>> [d.kind for d in diagnose(chain(["w1"]), sympy.Symbol("w1"), (y - ReLU(w1*x))*x)]
['sign_flip', 'missing_gate']
>>> [d.kind for d in diagnose(chain(["w1"]), w1, (ReLU(w1*x) - y)*Step(w1*x)*w1)]
['wrong_factor']
"""
from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from fractions import Fraction

import sympy
from sympy import Symbol

from .. import limits
from ..core.conventions import get_convention
from ..core.functions import IsNonNeg, IsPos, Step
from ..core.graph import Role
from ..core.gradients import adjoint_symbol
from ..core.sharing import name_arguments
from .evaluate import PointEvaluator, Undetermined, UndefinedAt
from .formal import P, FormalEvaluator, rational_reconstruct
from .mistakes import (MISTAKES, ConstantFactor, ConventionOnly, DeadUnitConvention,
                       ExtraGate, Mistake, MissingFactor, ReusedLastLayerFormula, SignFlip,
                       Unexplained, WrongFactor)
from .mutants import mutants, pairs, substitutions
from .verdict import Diagnosis, Verdict

__all__ = ["diagnose", "explain", "Explanation", "Mistake", "MISTAKES", "MissingFactor"]

_FRAMEWORKS = ("torch", "jax", "tensorflow")


@dataclass
class Explanation:
    """The verified mistakes and their evidence, for anyone who wants to check them
    independently: the derivation's edited definitions (``changes``) the candidate equals
    ``ratio`` times, or the candidate with the mistakes undone (``fixed``) that equals
    ``ratio`` times the true gradient; both None when the evidence is a decision
    (``dead_unit_convention``, ``convention_only``) or there is none (a guess,
    ``unexplained``)."""

    mistakes: list
    changes: dict | None = None
    fixed: object = None
    ratio: tuple = (1, 1)

    def diagnoses(self) -> list[Diagnosis]:
        return [m.diagnosis() for m in self.mistakes]


def diagnose(net, wrt: Symbol, candidate, **options) -> list[Diagnosis]:
    """Verified diagnoses for ``candidate`` as a gradient of ``wrt`` (most specific
    first); the options are :func:`explain`'s."""
    return explain(net, wrt, candidate, **options).diagnoses()


def explain(net, wrt: Symbol, candidate, *, convention="any",
            verdict=Verdict.NOT_EQUIVALENT, signs=None, assumptions=None,
            counterexample=None, timeout: float = limits.DIAGNOSIS_BUDGET) -> Explanation:
    """The :class:`Explanation` of ``candidate``; ``counterexample`` is the decision's
    witness, when it has one."""
    conv = get_convention(convention)
    if verdict == Verdict.EQUIVALENT_ALMOST_EVERYWHERE:
        return Explanation([ConventionOnly()])
    deadline = time.monotonic() + timeout
    if assumptions is None:
        from ..core.assumptions import Assumptions
        assumptions = Assumptions()
    signs = signs if signs is not None else assumptions.strict_signs()
    dead = _dead_unit(net, wrt, candidate, conv, assumptions, counterexample, deadline)
    if dead is not None:
        return Explanation([dead])
    found = _Matcher(net, wrt, candidate, conv, signs, deadline).explain()
    if found is None:
        found = _structural(net, conv, wrt, candidate, assumptions, deadline)
    return found


class _Matcher:
    """Identity tests of the candidate against edits of the derivation, and of edits of
    the candidate against the derivation (off the kinks, gates free)."""

    def __init__(self, net, wrt, candidate, conv, signs, deadline):
        self.net, self.wrt, self.candidate = net, wrt, candidate
        self.deadline = deadline
        self.defs = net.definitions(conv)
        self.reference = adjoint_symbol(wrt)
        self.signs = signs
        self.registry: dict = {}
        self.flat, self.named = name_arguments(candidate)
        base = self._evaluator(self.defs)
        for node in net.graph.nodes:  # edits change only the backward pass: share the forward
            base.symbol(node.symbol)
        self.forward = {n.symbol: base.symbol(n.symbol) for n in net.graph.nodes}

    def _evaluator(self, defs, named=None):
        return FormalEvaluator({**defs, **(self.named if named is None else named)},
                               mode="offkink", signs=self.signs, registry=self.registry,
                               known=getattr(self, "forward", None))

    def late(self) -> bool:
        return time.monotonic() > self.deadline

    def explain(self):
        singles = list(itertools.islice(mutants(self.net, self.defs), limits.MAX_MUTANTS))
        for mutant in singles:
            out = self._match(mutant)
            if out:
                return out
            if self.late():
                return None
        out = self._substituted()
        if out:
            return out
        for mutant in itertools.islice(pairs(singles), limits.MAX_MUTANTS):
            if self.late():
                return None
            out = self._match(mutant)
            if out:
                return out
        return None

    def _match(self, mutant):
        ratio = _ratio(self._evaluator(mutant.definitions(self.defs)), self.reference,
                       self.flat)
        if ratio is None:
            return None
        mistakes = _ratio_mistakes(self.net, ratio) + mutant.mistakes
        return Explanation(mistakes, changes=mutant.changes, ratio=ratio) if mistakes else None

    def _substituted(self):
        """One quantity of the network written in place of another."""
        quantities = [*self.net.variables,
                      *(n.symbol for n in self.net.graph.nodes if n.role != Role.LOSS)]
        try:
            ref = self._evaluator(self.defs).value(self.reference)
        except ZeroDivisionError:
            return None
        squared = _squared_gates(self.candidate)
        for edited, used, right in substitutions(self.candidate, quantities):
            if self.late():
                return None
            if _squared_gates(edited) - squared:
                continue  # step(z2) made step(z1) beside step(z1): the gate is extra
            flat, named = name_arguments(edited)
            try:
                k = self._evaluator(self.defs, named).value(flat)
            except ZeroDivisionError:
                continue
            ratio = _ratio_of(ref, k)
            if ratio is not None:
                return Explanation(_ratio_mistakes(self.net, ratio) + [
                    WrongFactor(used=str(used), right=str(right), fixed=edited,
                                original=self.candidate)],
                    fixed=edited, ratio=ratio)
        return None


def _squared_gates(expr) -> set:
    """The gates of ``expr`` raised to a power above 1.

    >>> from derivcheck.core.functions import Step
    >>> z = Symbol("z")
    >>> _squared_gates(Step(z) * Step(z) * z), _squared_gates(Step(z) * z)
    ({Step(z)**2}, set())
    """
    return {p for p in expr.atoms(sympy.Pow) if p.base.func is Step and p.exp > 1}


def _ratio(fe, reference, candidate):
    """The constant candidate/reference as (n, d), or None when not constant."""
    try:
        return _ratio_of(fe.value(reference), fe.value(candidate))
    except ZeroDivisionError:
        return None


def _ratio_of(r, k):
    if any(v == 0 for v in r):
        return (1, 1) if r == k else None
    ratios = {kk * pow(rr, -1, P) % P for rr, kk in zip(r, k)}
    if len(ratios) != 1 or 0 in ratios:
        return None
    return rational_reconstruct(ratios.pop())


def _ratio_mistakes(net, ratio) -> list[Mistake]:
    n, d = ratio
    if (n, d) == (1, 1):
        return []
    out = []
    if n < 0:
        squared = net.spec.loss in ("half_squared", "squared", "mse")
        out.append(SignFlip() if squared else SignFlip(
            why="the formula is the negative of the gradient (check the sign of the loss "
                "derivative and of each factor)."))
    if (abs(n), d) != (1, 1):
        loss = net.spec.loss
        why = ("the loss is (y - yhat)^2 / 2 (half_squared), whose derivative has no 2"
               if loss == "half_squared" and (abs(n), d) == (2, 1) else
               "the loss is (y - yhat)^2 (squared), whose derivative carries a factor 2"
               if loss == "squared" and (abs(n), d) == (1, 2) else
               "check the constant in the loss derivative")
        out.append(ConstantFactor(factor=str(sympy.Rational(abs(n), d)), why=why))
    return out


# -- a value that depends on Step(0) where a unit is dead -------------------------------------

def _dead_unit(net, wrt, candidate, conv, assumptions, counterexample, deadline):
    """DeadUnitConvention when the counterexample's difference depends on Step(0) and the
    candidate is decided right for some values of Step(0), wrong for the others."""
    if counterexample is None or counterexample.step0 is None:
        return None
    from .equivalence import decide
    right, wrong = [], []
    for c in (Fraction(0), Fraction(1, 2), Fraction(1)):
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        name = "1/2" if c == Fraction(1, 2) else str(c)
        verdict = decide(net, adjoint_symbol(wrt), candidate, convention=name,
                         assumptions=assumptions, timeout=left / 2).verdict
        if verdict in (Verdict.EQUIVALENT, Verdict.EQUIVALENT_ALMOST_EVERYWHERE):
            right.append(c)
        elif verdict == Verdict.NOT_EQUIVALENT:
            wrong.append(c)
        else:
            return None  # undecided: say nothing about it
    if not right or not wrong:
        return None
    values = " or ".join(map(str, right))
    frameworks = [f for f in _FRAMEWORKS if tuple(Fraction(int(v.p), int(v.q)) for v in
                                                  get_convention(f).step0_values) in
                  [(c,) for c in right]]
    return DeadUnitConvention(
        where=_dead_where(net, conv, counterexample), values=values,
        others=" or ".join(map(str, wrong)),
        frameworks=f" (as {_listed(frameworks)} take it)" if frameworks else "")


def _listed(names) -> str:
    """>>> _listed(["torch", "jax", "tensorflow"])
    'torch, jax and tensorflow'
    """
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _dead_where(net, conv, witness) -> str:
    """Which unit is dead at the witness, and what it makes 0 on the whole region."""
    point = {Symbol(k): v for k, v in witness.point.items()}
    ev = PointEvaluator(net.definitions(conv), point)
    pres = [n for n in net.graph.nodes if n.role == Role.PRE]
    try:
        signs = {n.symbol: ev.sign(n.symbol) for n in pres}
    except (Undetermined, UndefinedAt, ArithmeticError, KeyError):
        signs = {}
    zero = ", ".join(witness.dead) or "a gate's argument"
    needs = set().union(*(_upstream(net, Symbol(d)) | {Symbol(d)} for d in witness.dead
                          if Symbol(d) in net.definitions(conv))) if witness.dead else set()
    for node in pres:
        if signs.get(node.symbol) == -1 and (not needs or node.symbol in needs):
            unit = node.layer if node.unit is None else f"{node.layer}.{node.unit}"
            return (f"Unit {unit} is dead on this region ({node.symbol} < 0), so {zero} = 0 "
                    "on the whole region and ")
    return f"On this region {zero} = 0 everywhere (after a dead unit), so "


def _upstream(net, symbol) -> set:
    by_symbol = {n.symbol: n for n in net.graph.nodes}
    out, stack = set(), [symbol]
    while stack:
        s = stack.pop()
        for t in by_symbol[s].expr.free_symbols if s in by_symbol else ():
            if t not in out:
                out.add(t)
                stack.append(t)
    return out


# -- structural evidence ---------------------------------------------------------------------

def _structural(net, conv, wrt, candidate, assumptions, deadline) -> Explanation:
    """When no edit explains it: parameters never mentioned (a guess, with that
    evidence), or a gate whose removal makes the formula right (decided)."""
    from .search import Sampler
    defs = net.definitions(conv)
    sampler = Sampler(net, defs, assumptions)
    needed = sampler.deps(adjoint_symbol(wrt)) & set(net.params)
    used = sampler.deps(candidate) & set(net.params)
    missing = sorted(needed - used - {wrt}, key=str)
    if missing and used:  # a formula with no parameter at all (0) is no layer's formula
        return Explanation([ReusedLastLayerFormula(missing=", ".join(map(str, missing)),
                                                   wrt=str(wrt))])
    extra = _extra_gate(net, conv, wrt, candidate, assumptions, deadline)
    if extra is not None:
        return Explanation([extra], fixed=extra.fix(candidate))
    return Explanation([Unexplained()])


def _extra_gate(net, conv, wrt, candidate, assumptions, deadline):
    """ExtraGate for a gate of ``candidate`` without which it is decided equal to the
    true gradient, or None.

    >>> from derivcheck.core.network import chain
    >>> from derivcheck.core.assumptions import Assumptions
    >>> net = chain(["w1"], "relu")
    >>> w1, x, y = sympy.symbols("w1 x y")
    >>> right = (w1*x - y)*Step(w1*x)*x
    >>> later = time.monotonic() + 10
    >>> _extra_gate(net, get_convention("any"), w1, right * Step(w1 - 1), Assumptions(),
    ...             later).arg
    'w1 - 1'
    >>> _extra_gate(net, get_convention("any"), w1, right * w1, Assumptions(), later) is None
    True
    """
    from .equivalence import decide
    for gate in sorted(candidate.atoms(Step, IsPos, IsNonNeg), key=str):
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        mistake = ExtraGate(arg=str(gate.args[0]), gate=gate)
        verdict = decide(net, adjoint_symbol(wrt), mistake.fix(candidate), convention=conv,
                         assumptions=assumptions, timeout=left).verdict
        if verdict in (Verdict.EQUIVALENT, Verdict.EQUIVALENT_ALMOST_EVERYWHERE):
            return mistake
    return None
