"""The kink steps of the decision procedure: equal off the kinks, and on them?

:class:`KinkSteps` places points exactly on each breakpoint (the gate's argument, then
each piece of its zero set), pinning another leaf to 0 when no rational point reaches the
kink unpinned, and compares the sides there under every allowed Step(0); it proves
equality on a kink surface by the identity test on the surface (solved for a leaf the
argument is affine in), and asks the SMT solver about the pieces left.
"""
from __future__ import annotations

import hashlib
import time
from fractions import Fraction

from .formal import K, P, FormalEvaluator
from .outcome import Decision, Outcome
from .region_search import AIM_TRIES
from .verdict import Verdict
from .zero_sets import zero_set_factors

__all__ = ["KinkSteps", "MAX_PINS"]

#: Leaves pinned to 0, one at a time, for a kink no rational point reaches unpinned.
MAX_PINS = 6
#: The share of the time left that the search for a rational kink point may take: the
#: exact steps after it (the SMT solver, kinks at irrational points) need the rest.
KINK_SEARCH_SHARE = 0.4

#: Three values of a leaf for the surface proof (modulo P, K residues each), not
#: proportional to one another: proportional values would put exp(leaf * h) in one class
#: and hide a non-affine dependence.
_SURFACE_VALUES = [tuple(int.from_bytes(hashlib.blake2b(repr(("surface", j, i)).encode(),
                                                        digest_size=8).digest(), "big") % P
                         for i in range(K)) for j in range(3)]


class KinkSteps:
    """The kink steps of :class:`derivcheck.decide.equivalence.Procedure`."""

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
        stop = time.monotonic() + KINK_SEARCH_SHARE * (self.deadline - time.monotonic())

        def out_of_time() -> bool:
            return self.timed_out() or time.monotonic() > stop

        targets = []
        for info in sorted(root.gates.values(), key=lambda g: g.order):
            factors = self.zero_set(info.expr) or []
            targets += [info.expr] + [f for f in factors if f not in targets]
        unreached = []
        for target in targets:  # the gate argument, then each piece of its zero set
            for attempt in range(3):
                if out_of_time():
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
                if out_of_time():
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

