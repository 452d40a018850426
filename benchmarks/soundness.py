"""Soundness stress run: random networks x mutated candidates, every verdict verified.

Each case draws a small network (a chain of 1-4 layers with random activations, biases
and loss, or a small MLP), a parameter, and a candidate: the true gradient in another
form (SymPy's own ``diff`` of the loss, decomposed, algebraically expanded), or a
mutant of it (a gate dropped, flipped or complemented, the sign flipped, a constant
factor, a weight set to 1, the gradient of the same network with one activation
swapped, the gradient of another parameter, another kink convention, a term that lives
only on a kink). The candidate is given as text half the time (through the printer and
the parser) and as an expression otherwise, and judged under the ``any`` convention.

Then each verdict is verified independently of derivcheck's evaluators, by
substituting exact rationals into SymPy's ``diff`` of the fully substituted loss:

* ``not_equivalent``: the counterexample must show a difference (for every Step(0) in
  {0, 1/2, 1} unless the witness names one);
* ``equivalent``: no difference at 12 random points and at kink points (x = 0, each
  weight 0, each first-layer pre-activation 0), each under Step(0) in {0, 1/2, 1};
* ``equivalent_almost_everywhere``: no difference at the random points, and a
  difference at the kink witness;
* ``unknown`` is counted, never wrong.

A wrong verdict is printed with everything needed to reproduce it. Exit status 1 if
there is any.

    python benchmarks/soundness.py                # 20,000 cases on all cores
    python benchmarks/soundness.py --cases 2000 --jobs 2 --seed 7
    python benchmarks/soundness.py --quick        # 150 cases, for the slow test marker
"""
from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing as mp
import random
import statistics
import sys
import time
from collections import Counter, defaultdict
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sympy  # noqa: E402
from sympy import Rational, Symbol  # noqa: E402

from derivcheck.decide.check import check  # noqa: E402
from derivcheck.errors import DerivcheckError  # noqa: E402
from derivcheck.core.functions import (IsNonNeg, IsPos, ReLU, Sigmoid, Step,  # noqa: E402
                                       decompose)
from derivcheck.core.gradients import adjoint_symbol  # noqa: E402
from derivcheck.decide.mutants import substitutions  # noqa: E402
from derivcheck.core.network import chain, mlp  # noqa: E402
from derivcheck.core.printing import plain  # noqa: E402

ACTIVATIONS = ["relu", "relu", "relu", "leaky_relu(1/10)", "abs", "sigmoid", "tanh", "elu",
               "hardtanh", "relu6", "softplus", "identity", "swish", "prelu(a)"]
PIECEWISE = ["relu", "leaky_relu(1/10)", "abs", "hardtanh", "relu6", "identity"]
LOSSES = ["half_squared", "half_squared", "squared", "mse"]
C_VALUES = (Rational(0), Rational(1, 2), Rational(1))
RANDOM_POINTS = 12
CHECK_TIMEOUT = 10.0
#: Digits for transcendental values; differences below 10^-TOLERANCE count as equal.
DIGITS, TOLERANCE = 60, 40


# -- cases ---------------------------------------------------------------------------------

def make_network(rng: random.Random):
    """A random small network and a short description of it."""
    if rng.random() < 0.8:
        depth = rng.choice([1, 2, 2, 3, 3, 4])
        acts = [rng.choice(ACTIVATIONS) for _ in range(depth)]
        weights = [f"w{k}" for k in range(1, depth + 1)]
        biases = [f"b{k}" for k in range(1, depth + 1)] if rng.random() < 0.5 else None
        loss = rng.choice(LOSSES)
        return (chain(weights, acts, biases=biases, loss=loss),
                f"chain {','.join(acts)}{' +b' if biases else ''} {loss}")
    widths = rng.choice([[1, 2, 1], [2, 2, 1], [2, 1, 1], [1, 2, 2, 1]])
    acts = [rng.choice(PIECEWISE) for _ in range(len(widths) - 1)]
    bias = rng.random() < 0.5
    return (mlp(widths, acts, bias=bias),
            f"mlp {widths} {','.join(acts)}{' +b' if bias else ''}")


def _gates(expr) -> list:
    return sorted(expr.atoms(Step), key=str)


def mutate(rng: random.Random, net, wrt, truth, kind: str):
    """The candidate of mutation ``kind``, or None when it does not apply."""
    g = net.gradient(wrt, form="expanded")
    gates = _gates(g)
    if kind == "same":
        return g
    if kind == "sympy_diff":
        return truth
    if kind == "decomposed":
        return decompose(g)
    if kind == "expanded":
        return sympy.expand(g) if sympy.count_ops(g) < 400 else None
    if kind == "drop_gate" and gates:
        return g.xreplace({rng.choice(gates): sympy.S.One})
    if kind == "flip_gate" and gates:
        s = rng.choice(gates)
        return g.xreplace({s: Step(-s.args[0])})
    if kind == "complement_gate" and gates:
        s = rng.choice(gates)
        return g.xreplace({s: 1 - Step(-s.args[0])})
    if kind == "kink_term" and gates:
        a = rng.choice(gates).args[0]
        return g + rng.choice([1, -2, Rational(1, 3)]) * (Step(a) - IsPos(a))
    if kind == "sign_flip":
        return -g
    if kind == "factor":
        return rng.choice([2, Rational(1, 2), -3]) * g
    if kind == "weight_one":
        others = [p for p in net.params if p in g.free_symbols]
        return g.xreplace({rng.choice(others): sympy.S.One}) if others else None
    if kind == "other_param":
        others = [p for p in net.params if p != wrt]
        return net.gradient(rng.choice(others), form="expanded") if others else None
    if kind == "convention":
        return net.gradient(wrt, convention=rng.choice(["0", "1", "1/2"]), form="expanded")
    if kind == "swapped_activation":
        spec = net.spec
        if spec.kind != "chain":
            return None
        acts = list(spec.activations)
        k = rng.randrange(len(acts))
        acts[k] = rng.choice([a for a in ACTIVATIONS if a not in (acts[k], "prelu(a)")])
        other = chain(spec.weights, acts, biases=spec.biases or None, loss=spec.loss)
        return other.gradient(wrt, form="expanded")
    if kind == "added_term":
        leaf = rng.choice(net.inputs + net.params)
        return g + Rational(1, rng.choice([7, 1000])) * leaf
    return _mutate_more(rng, net, g, gates, kind)


def _mutate_more(rng: random.Random, net, g, gates, kind: str):
    """The families of issue 16: gates written with a sign-definite factor or a monotone
    function of their argument, ReLUs written as their linear piece, gates multiplied by
    themselves, a quantity written for another, an inner gate of a bias-free chain dropped
    (a dead unit zeroes the next pre-activation)."""
    if kind == "normalised_gate" and gates:
        s = rng.choice(gates)
        a, leaf = s.args[0], rng.choice(net.inputs + net.params)
        return g.xreplace({s: Step(rng.choice([a * (1 + leaf**2), a * sympy.exp(leaf),
                                                sympy.exp(a) - 1, sympy.tanh(a), 3 * a,
                                                a * Sigmoid(leaf)]))})
    if kind == "linear_piece":
        relus = sorted(g.atoms(ReLU), key=str)
        if relus:
            r = rng.choice(relus)
            return g.xreplace({r: r.args[0]})
    if kind == "idempotent_gate" and gates:
        s = rng.choice(gates)
        a = s.args[0]
        return g.xreplace({s: rng.choice([s**2, s * Step(2 * a), s * (1 - Step(-a)), s**3])})
    if kind == "wrong_factor":
        edits = list(itertools.islice(substitutions(g, _leaves(net)), 400))
        return rng.choice(edits)[0] if edits else None
    if kind == "dead_unit" and net.spec.kind == "chain" and not net.spec.biases \
            and len(gates) >= 2:
        inner = min(gates, key=lambda s: (sympy.count_ops(s), str(s)))
        return g.xreplace({inner: sympy.S.One})
    return None


KINDS = ["same", "sympy_diff", "decomposed", "expanded", "drop_gate", "flip_gate",
         "complement_gate", "kink_term", "sign_flip", "factor", "weight_one", "other_param",
         "convention", "swapped_activation", "added_term", "normalised_gate", "linear_piece",
         "idempotent_gate", "wrong_factor", "dead_unit"]


# -- independent evaluation ----------------------------------------------------------------

def _leaves(net):
    return list(net.inputs) + list(net.targets) + list(net.params) + _free_activation_params(net)


def _free_activation_params(net):
    loss_free = net.loss().free_symbols
    known = set(net.inputs) | set(net.targets) | set(net.params)
    return sorted(loss_free - known, key=str)


def value_at(expr, point: dict, c):
    """``expr`` at ``point`` with Step(0) = c, by SymPy alone: an exact Rational or a
    Float of DIGITS digits; None where undefined."""
    try:
        e = expr.xreplace(point)
        e = e.replace(lambda u: isinstance(u, (Step, IsPos, IsNonNeg)),
                      lambda u: _gate_value(u, c))
        if e.is_Rational:
            return e
        v = sympy.N(e, DIGITS, maxn=4000, strict=True)  # 60 correct digits, or no value
        if differ(v, sympy.N(e, 3 * DIGITS, maxn=4000, strict=True)):
            return None  # precision lost inside a function (log(1 + exp(-115)))
        if not v.is_number or v.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
            return None
        return v
    except (ZeroDivisionError, ValueError, TypeError, sympy.core.evalf.PrecisionExhausted):
        return None  # Undecidable is a ValueError: no value, so no claim either way


class Undecidable(ValueError):
    """A gate's argument is 0 or too close to 0 to tell its side at any precision tried."""


def _gate_sign(arg) -> int:
    """The sign of a gate's argument at a point: exact for rationals, else from SymPy's
    strict arbitrary-precision evaluation, which keeps relative precision
    (w4 * sigmoid(-700) is -1e-304, not zero) and refuses what it cannot certify."""
    if arg.is_Rational:
        return 1 if arg > 0 else -1 if arg < 0 else 0
    try:
        s = sympy.N(arg, 30, maxn=4000, strict=True)
    except sympy.core.evalf.PrecisionExhausted as exc:
        raise Undecidable(f"the sign of {arg} cannot be certified") from exc
    if not s.is_Number:
        raise Undecidable(f"gate argument {arg} is not a number")
    if s.is_zero:
        raise Undecidable(f"gate argument {arg} is an inexact zero")
    return 1 if s > 0 else -1


def _gate_value(gate, c):
    """A gate's value with Step(0) = c."""
    s = _gate_sign(gate.args[0])
    if s > 0:
        return sympy.S.One
    if s < 0:
        return sympy.S.Zero
    return {Step: c, IsPos: sympy.S.Zero, IsNonNeg: sympy.S.One}[type(gate)]


def off_kinks(point: dict, *exprs) -> bool:
    """True when no gate of ``exprs`` sits on its kink at ``point`` (and every gate's side
    can be certified): the point is generic, where equivalent almost everywhere means
    equal."""
    for e in exprs:
        for gate in e.xreplace(point).atoms(Step, IsPos, IsNonNeg):
            try:
                if _gate_sign(gate.args[0]) == 0:
                    return False
            except Undecidable:
                return False
    return True


def differ(a, b) -> bool | None:
    """Different beyond TOLERANCE significant digits (exactly, for exact values)."""
    if a is None or b is None:
        return None
    if a.is_Rational and b.is_Rational:
        return a != b
    scale = max(abs(a), abs(b))  # both carry DIGITS certified digits: relative is exact
    return bool(scale) and abs(a - b) > scale * sympy.Float(10) ** -TOLERANCE


def random_point(rng, leaves) -> dict:
    return {s: Rational(rng.choice([-1, 1]) * rng.randint(1, 40), rng.randint(1, 12))
            for s in leaves}


def generic_points(rng, leaves, *exprs) -> list:
    """RANDOM_POINTS random points off every kink of ``exprs`` (a draw that lands on a
    kink, like 1 + w1*x = 0 at w1 = 5/12, x = -12/5, is drawn again)."""
    out = []
    for _ in range(20 * RANDOM_POINTS):
        p = random_point(rng, leaves)
        if off_kinks(p, *exprs):
            out.append(p)
            if len(out) == RANDOM_POINTS:
                break
    return out


def kink_points(rng, net, leaves) -> list:
    """Points on kinks: the input 0, each weight 0, first-layer pre-activations 0."""
    out = []
    base = random_point(rng, leaves)
    for s in list(net.inputs) + list(net.params):
        p = dict(base)
        p[s] = Rational(0)
        out.append(p)
    first = [n for n in net.graph.nodes if n.role == "pre"][:2]
    for node in first:  # solve w*x + b = 0 for the input where it is linear in it
        for x in net.inputs:
            e = node.expr.xreplace({k: v for k, v in base.items() if k != x})
            if e.free_symbols == {x} and sympy.degree(e, x) == 1:
                p = dict(base)
                p[x] = sympy.solve(e, x)[0]
                out.append(p)
    return out


def verify(result, truth, candidate, net, rng, tally: Counter) -> str | None:
    """None if the verdict holds up, else what is wrong with it. ``tally`` counts the
    comparisons made (``compared``), those the verifier could not evaluate
    (``unverifiable``: a value undefined, or a gate it cannot place), and ``evidence``
    when the verdict's own evidence was confirmed (the counterexample's difference under
    every Step(0) it claims; for equivalence at least half the random points, and for
    almost everywhere a difference at the kink witness)."""
    leaves = _leaves(net)
    by_name = {str(s): s for s in leaves}

    def at(witness):
        return {by_name[k]: Rational(v.numerator, v.denominator) if isinstance(v, Fraction)
                else sympy.Float(str(v), DIGITS) for k, v in witness.point.items()
                if k in by_name}

    def differs_at(point, cs):
        out = [differ(value_at(truth, point, c), value_at(candidate, point, c)) for c in cs]
        tally["compared"] += sum(d is not None for d in out)
        tally["unverifiable"] += sum(d is None for d in out)
        return out

    def step0s(witness):
        """The Step(0) values a witness claims a difference for."""
        s0 = witness.step0
        return C_VALUES if s0 is None else [Rational(s0.numerator, s0.denominator)]

    v = result.verdict
    if v == "not_equivalent":
        w = result.counterexample
        found = differs_at(at(w), step0s(w))
        if any(d is False for d in found):
            return f"counterexample {w.point} (step0 {w.step0}) shows no difference"
        tally["evidence"] += all(found)
        return None
    if v in ("equivalent", "equivalent_almost_everywhere"):
        before = tally["compared"]
        for p in generic_points(rng, leaves, truth, candidate):
            if any(differs_at(p, [C_VALUES[1]])):
                return f"{v}, but the sides differ at {p}"
        enough = tally["compared"] - before >= RANDOM_POINTS // 2
        if v == "equivalent":
            for p in kink_points(rng, net, leaves):
                for c, d in zip(C_VALUES, differs_at(p, C_VALUES)):
                    if d:
                        return f"equivalent, but the sides differ at the kink {p}, Step(0)={c}"
            tally["evidence"] += enough
        else:
            w = result.kink_point
            found = differs_at(at(w), step0s(w))
            if all(d is False for d in found):
                return f"kink witness {w.point} (step0 {w.step0}) shows no difference"
            tally["evidence"] += enough and any(found)
    return None


def _expanded(expr, definitions: dict):
    """``expr`` with every defined name replaced, down to the leaves."""
    for _ in range(200):
        new = expr.xreplace(definitions)
        if new == expr:
            return expr
        expr = new
    raise ValueError("definitions do not bottom out")


def verify_diagnosis(result, truth, candidate, net, wrt, rng, tally: Counter) -> str | None:
    """None if the printed diagnosis holds up, else what is wrong with it. Its evidence is
    re-checked by SymPy alone at generic points: the candidate equals ``ratio`` times the
    derivation with the named steps edited (``changes``), or the candidate with the
    mistakes undone (``fixed``) equals ``ratio`` times the true gradient."""
    e = result.explanation
    if result.verdict != "not_equivalent" or e is None:
        return None
    kinds = [m.kind for m in e.mistakes]
    r = Rational(*e.ratio)
    defs = net.definitions()
    if e.changes is not None:
        lhs, rhs = candidate, r * _expanded(adjoint_symbol(wrt), {**defs, **e.changes})
    elif e.fixed is not None:
        lhs, rhs = _expanded(e.fixed, defs), r * truth
    else:
        return None  # decided (dead unit) or said as a guess / unexplained
    tally["diagnoses_checked"] += 1
    for p in generic_points(rng, _leaves(net), lhs, rhs):
        for c in C_VALUES:
            if differ(value_at(lhs, p, c), value_at(rhs, p, c)):
                return f"diagnosis {kinds} not verified: its evidence fails at {p}, Step(0)={c}"
    return None


# -- running ---------------------------------------------------------------------------------

def run_case(args):
    seed, index = args
    rng = random.Random(seed * 1_000_003 + index)
    net, desc = make_network(rng)
    wrt = rng.choice(net.params)
    truth = sympy.diff(net.loss(), wrt)
    kind = KINDS[index % len(KINDS)]
    try:
        candidate = mutate(rng, net, wrt, truth, kind)
    except DerivcheckError:  # e.g. the swapped network lacks prelu's parameter a
        candidate = None
    if candidate is None:
        kind, candidate = "same", net.gradient(wrt, form="expanded")
    as_text = rng.random() < 0.5
    start = time.perf_counter()
    try:
        result = check(net, plain(candidate) if as_text else candidate, str(wrt),
                       timeout=CHECK_TIMEOUT)
    except DerivcheckError as exc:  # refused: not a verdict, but worth a look
        return dict(index=index, kind=kind, verdict="refused", seconds=time.perf_counter() - start,
                    wrong=None, desc=desc, wrt=str(wrt), candidate=plain(candidate),
                    reason=exc.message)
    except Exception as exc:  # noqa: BLE001 - a crash is a finding, reported below
        return dict(index=index, kind=kind, verdict="crash", seconds=time.perf_counter() - start,
                    wrong=f"{type(exc).__name__}: {exc}", desc=desc, wrt=str(wrt),
                    candidate=plain(candidate))
    seconds = time.perf_counter() - start
    tally = Counter()
    try:
        wrong = verify(result, truth, candidate, net, rng, tally) or verify_diagnosis(
            result, truth, candidate, net, wrt, rng, tally)
    except Exception as exc:  # noqa: BLE001 - counted as unverified, and reported
        wrong = None
        tally["skipped"] = f"{type(exc).__name__}: {exc}"
    return dict(index=index, kind=kind, verdict=result.verdict, seconds=seconds, wrong=wrong,
                desc=desc, wrt=str(wrt), candidate=plain(candidate), reason=result.reason,
                diagnosis=[d.kind.value for d in result.diagnosis], **tally)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=20_000)
    ap.add_argument("--jobs", type=int, default=mp.cpu_count())
    ap.add_argument("--seed", type=int, default=20261123)
    ap.add_argument("--quick", action="store_true", help="150 cases in this process")
    ap.add_argument("--no-progress", action="store_true")
    ap.add_argument("--log", help="append each case's outcome to this JSONL file as it ends "
                                  "(a long run interrupted still has its figures)")
    ap.add_argument("--summarize", metavar="LOG", help="print the report of a --log file")
    ap.add_argument("--recheck", action="store_true",
                    help="with --log: run again the cases it marks wrong (after a fix)")
    args = ap.parse_args(argv)
    if args.recheck and args.log:
        rows = [json.loads(line) for line in open(args.log) if line.strip().endswith("}")]
        rows = [run_case((args.seed, r["index"])) if r["wrong"] else r for r in rows]
        with open(args.log, "w") as fh:
            fh.writelines(json.dumps(r, default=str) + "\n" for r in rows)
        report(rows, source=args.log)
        return 1 if any(r["wrong"] for r in rows) else 0
    if args.summarize:
        rows = [json.loads(line) for line in open(args.summarize) if line.strip()]
        report(rows, source=args.summarize)
        return 1 if any(r["wrong"] for r in rows) else 0
    cases = 150 if args.quick else args.cases
    jobs = 1 if args.quick else max(1, args.jobs)
    rows = []
    if args.log and Path(args.log).exists():  # resume: keep what a killed run finished
        rows = [json.loads(line) for line in open(args.log) if line.strip().endswith("}")]
    done = {r["index"] for r in rows}
    work = [(args.seed, i) for i in range(cases) if i not in done]
    start = time.perf_counter()
    if jobs == 1:
        it = map(run_case, work)
    else:
        pool = mp.get_context("fork").Pool(jobs, maxtasksperchild=500)
        it = pool.imap_unordered(run_case, work, chunksize=8)
    if not (args.no_progress or args.quick):
        try:
            from tqdm import tqdm
            it = tqdm(it, total=len(work), desc="soundness", unit="case", file=sys.stderr)
        except ImportError:
            pass
    log = open(args.log, "a") if args.log else None
    for row in it:
        rows.append(row)
        if log:
            log.write(json.dumps(row, default=str) + "\n")
            log.flush()
    wall = time.perf_counter() - start
    report(rows, wall, jobs, args.seed)
    return 1 if any(r["wrong"] for r in rows) else 0


def report(rows, wall=None, jobs=None, seed=None, source=None) -> None:
    verdicts = Counter(r["verdict"] for r in rows)
    by_kind = defaultdict(Counter)
    for r in rows:
        by_kind[r["kind"]][r["verdict"]] += 1
    times = sorted(r["seconds"] for r in rows)
    if source:
        print(f"soundness stress run: {len(rows)} cases, from {source}")
    else:
        print(f"soundness stress run: {len(rows)} cases, seed {seed}, {jobs} worker(s), "
              f"{wall:.0f} s wall")
    print("verdicts: " + ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items())))
    print(f"unknown rate: {100 * verdicts['unknown'] / max(1, len(rows)):.2f}%")
    print(f"check time: median {statistics.median(times) * 1000:.0f} ms, "
          f"p99 {times[int(0.99 * (len(times) - 1))]:.2f} s, max {times[-1]:.2f} s")
    names = ["equivalent", "equivalent_almost_everywhere", "not_equivalent", "unknown"]
    print(f"{'mutation':<20}" + "".join(f"{n[:14]:>16}" for n in names))
    for kind in KINDS:
        if kind in by_kind:
            print(f"{kind:<20}" + "".join(f"{by_kind[kind][n]:>16}" for n in names))
    for r in rows:
        if r["verdict"] == "refused":
            print(f"refused case {r['index']} ({r['kind']}, {r['desc']}): {r['reason']}")
    decided = [r for r in rows if r["verdict"] in names[:3]]
    if decided and "compared" in decided[0]:
        compared = sum(r.get("compared", 0) for r in rows)
        lost = sum(r.get("unverifiable", 0) for r in rows)
        print(f"verification: {compared} point comparisons by SymPy alone, {lost} not "
              f"evaluable by it; the verdict's own evidence confirmed in "
              f"{sum(r.get('evidence', 0) for r in decided)} of {len(decided)} decided cases")
        checked = sum(r.get("diagnoses_checked", 0) for r in rows)
        explained = Counter(k for r in rows if r["verdict"] == "not_equivalent"
                            for k in r.get("diagnosis", [])[:1])
        print(f"diagnoses: {checked} printed with evidence re-checked by SymPy alone; first "
              "kinds: " + ", ".join(f"{k} {v}" for k, v in explained.most_common()))
        for r in rows:
            if r.get("skipped"):
                print(f"verification skipped, case {r['index']}: {r['skipped']}")
    wrong = [r for r in rows if r["wrong"]]
    for r in wrong:
        print(f"WRONG case {r['index']} ({r['kind']}, {r['desc']}, d/d{r['wrt']}): "
              f"{r['verdict']}: {r['wrong']}\n  candidate: {r['candidate']}")
    print(f"WRONG verdicts: {len(wrong)}")


if __name__ == "__main__":
    sys.exit(main())
