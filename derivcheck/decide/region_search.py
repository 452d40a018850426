"""The region steps of the decision procedure: searching sign regions for a difference.

Off the kinks each gate is 0 or 1. :class:`RegionSteps` first aims where a wrong formula
most often shows (every unit alive; one unit off, the one the difference hinges on),
then searches the gates' sign regions depth first, innermost gate first, stopping as soon
as both sides agree as rational functions with the remaining gates free. A region where
they differ is searched for a point (each gate argument aimed at its sign), then asked of
the SMT solver, which proves it empty or returns a point re-checked exactly.
"""
from __future__ import annotations

from ..core.graph import Role
from .formal import FormalEvaluator
from .outcome import Decision, Outcome
from .verdict import Verdict

__all__ = ["RegionSteps", "MAX_REGIONS", "AIM_TRIES"]

MAX_REGIONS = 4096
AIM_TRIES = 4


class RegionSteps:
    """The sign-region steps of :class:`derivcheck.decide.equivalence.Procedure`."""

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

    @staticmethod
    def region_targets(fe, pattern) -> list:
        """(gate argument, sign) for the gates ``pattern`` fixes, inner gates first."""
        order = sorted(pattern, key=lambda k: fe.gates[k].order)
        return [(fe.gates[k].expr, 1 if pattern[k] else -1) for k in order]

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

