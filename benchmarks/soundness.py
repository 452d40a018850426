"""Soundness stress run: random networks x mutated candidates, every verdict verified.

Each case draws a small network (a chain of 1-4 layers with random activations, biases
and loss, or a small MLP), a parameter, and a candidate: the true gradient in another
form (SymPy's own ``diff`` of the loss, decomposed, algebraically expanded), or a
mutant of it (a gate dropped, flipped or complemented, the sign flipped, a constant
factor, a weight set to 1, the gradient of the same network with one activation
swapped, the gradient of another parameter, another kink convention, a term that lives
only on a kink). The candidate is given as text half the time (through the printer and
the parser) and as an expression otherwise, and judged under the ``any`` convention.

Then each verdict is verified by :mod:`verifier` against an independent reference
(:mod:`reference`: activations and derivatives written afresh with mpmath, exact
fractions or certified intervals, cross-checked with torch and jax autograd where
installed): counterexamples must show a certified difference that persists off the
kinks, equivalences must hold at random points reaching every piece and at kink probes
on every unit of every layer, and equivalence almost everywhere needs a real kink
witness. A verdict the reference contradicts is WRONG; one whose evidence it cannot
confirm is UNCONFIRMED; a framework that disagrees with the reference is a
REFERENCE MISMATCH. Each is printed with everything needed to reproduce it, and any of
them makes the exit status 1.

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
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import sympy  # noqa: E402
from sympy import Rational  # noqa: E402

from derivcheck.decide.check import check  # noqa: E402
from derivcheck.errors import DerivcheckError  # noqa: E402
from derivcheck.core.functions import IsPos, ReLU, Sigmoid, Step, decompose  # noqa: E402
from derivcheck.decide.mutants import substitutions  # noqa: E402
from derivcheck.core.network import chain, mlp  # noqa: E402
from derivcheck.core.printing import plain  # noqa: E402
from run_report import NAMES, head  # noqa: E402
from verifier import leaves, verify, verify_diagnosis  # noqa: E402

ACTIVATIONS = ["relu", "relu", "relu", "leaky_relu(1/10)", "abs", "sigmoid", "tanh", "elu",
               "hardtanh", "relu6", "softplus", "identity", "swish", "prelu(a)"]
PIECEWISE = ["relu", "leaky_relu(1/10)", "abs", "hardtanh", "relu6", "identity"]
LOSSES = ["half_squared", "half_squared", "squared", "mse"]
CHECK_TIMEOUT = 10.0


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
        edits = list(itertools.islice(substitutions(g, leaves(net)), 400))
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
        failure = (verify(result, net, wrt, candidate, rng, tally)
                   or verify_diagnosis(result, net, wrt, candidate, rng, tally))
        status = failure.kind if failure else None
    except Exception as exc:  # noqa: BLE001 - a verifier that cannot verify fails the run
        failure, status = f"the verifier crashed: {type(exc).__name__}: {exc}", "unconfirmed"
    return dict(index=index, kind=kind, verdict=result.verdict, seconds=seconds,
                wrong=str(failure) if failure else None, status=status, desc=desc,
                wrt=str(wrt), candidate=plain(candidate), reason=result.reason,
                diagnosis=[d.kind.value for d in result.diagnosis], **tally)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=20_000)
    ap.add_argument("--jobs", type=int, default=mp.cpu_count())
    ap.add_argument("--seed", type=int, default=20261123)
    ap.add_argument("--quick", action="store_true", help="150 cases in this process")
    ap.add_argument("--no-progress", action="store_true")
    ap.add_argument("--case", type=int, metavar="N", help="run case N alone and print it")
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
    if args.case is not None:
        row = run_case((args.seed, args.case))
        print(json.dumps(row, indent=1, default=str))
        report([row], 0.0, 1, args.seed)
        return 1 if row["wrong"] else 0
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
    head(rows, "soundness stress run", KINDS, 20, wall=wall, jobs=jobs, seed=seed,
         source=source, unknown_rate=True)
    names = NAMES
    for r in rows:
        if r["verdict"] == "refused":
            print(f"refused case {r['index']} ({r['kind']}, {r['desc']}): {r['reason']}")
    decided = [r for r in rows if r["verdict"] in names[:3]]
    total = Counter()
    for r in rows:
        total.update({k: v for k, v in r.items() if isinstance(v, int) and k != "index"})
    frameworks = ", ".join(f"{total[k]} by {k[10:]}" for k in sorted(total)
                           if k.startswith("framework_")) or "none installed"
    print(f"verification by the independent reference: {total['compared']} point "
          f"comparisons ({total['unverifiable']} not evaluable); random points reached "
          f"{total['pieces_reached']} of {total['pieces']} pieces of the piecewise units; "
          f"kink probes reached {total['kink_hits']} of {total['kink_targets']} "
          f"breakpoints; the verdict's own "
          f"evidence confirmed in {total['evidence']} of {len(decided)} decided cases; "
          f"reference gradients checked against autograd: {frameworks}")
    explained = Counter(k for r in rows if r["verdict"] == "not_equivalent"
                        for k in r.get("diagnosis", [])[:1])
    print(f"diagnoses: {total['diagnoses_checked']} printed with evidence re-checked by the "
          "reference; first kinds: " + ", ".join(f"{k} {v}" for k, v in explained.most_common()))
    failed = [r for r in rows if r["wrong"]]
    for r in failed:
        label = {"unconfirmed": "UNCONFIRMED", "framework_mismatch": "REFERENCE MISMATCH"}.get(
            r.get("status"), "WRONG")
        print(f"{label} case {r['index']} ({r['kind']}, {r['desc']}, d/d{r['wrt']}): "
              f"{r['verdict']}: {r['wrong']}\n  candidate: {r['candidate']}\n"
              f"  reproduce: python benchmarks/soundness.py --case {r['index']}"
              + (f" --seed {seed}" if seed is not None else ""))
    status = Counter(r.get("status") or "wrong" for r in failed)
    print(f"UNCONFIRMED verdicts: {status['unconfirmed']}")
    print(f"REFERENCE MISMATCHES: {status['framework_mismatch']}")
    print(f"WRONG verdicts: {status['wrong']}")


if __name__ == "__main__":
    sys.exit(main())
