"""Soundness stress run, matrix family: random matrix networks x mutated formulas, every
verdict verified independently, entry by entry.

Each case draws a network (1-3 layers, sizes as names or numbers, a style among ng,
cs231n, nielsen and seed, activations, loss, batch or one example, biases, mean or sum;
benchmarks/matrix_cases.py), a quantity (a weight, bias, pre-activation or activation),
the formula a course writes for its gradient in that style, and a mutation of it: true
rewrites (the formula as is, (A B)^T = B^T A^T, distributing a product over a difference,
reordering a Hadamard product) or mistakes (a dropped transpose, the product order swapped,
elementwise for matrix product or back, 1/m missing or doubled, the wrong sum axis or
keepdims, softmax's derivative taken elementwise, a dropped mask or activation
derivative, a sign flip, a size hard-coded such as /5 for 1/m).

Each verdict is verified without derivcheck: the network is built again here from the
contract (forward pass, loss, reduction, the style's layout and gradient names), the
formula is evaluated with numpy arrays of exact SymPy numbers, and every entry is compared
with ``sympy.diff`` of the scalar loss at exact rational points (Heaviside(0) = c for each
kink convention c in {0, 1/2, 1}); at sizes past SymPy's reach, with torch autograd in
float64 (off the kinks, relative tolerance 1e-7):

* ``not_equivalent``: at the counterexample's sizes and matrices the formula's shape does
  not fit, or the entry it names differs, under every Step(0) it claims; targets one-hot
  for cross-entropy, in [0, 1] for bce; every diagnosis true (benchmarks/
  matrix_diagnoses.py: a fix of its kind makes the formula right, at the counterexample
  exactly and at other sizes by torch);
* ``equivalent``: every entry agrees at random points and at kink points (a row of
  weights and its bias zero, a first-layer pre-activation zero) under every c, at every
  size 1 and at random sizes up to 3, and, by torch, at sizes larger than its instances;
* ``equivalent_almost_everywhere``: agreement at the random points, a difference at the
  kink witness;
* ``unknown`` is counted, never wrong.

    python benchmarks/soundness_matrices.py --cases 5000 --jobs 1 --log msound.jsonl
    python benchmarks/soundness_matrices.py --summarize msound.jsonl
    python benchmarks/soundness_matrices.py --quick      # 28 cases
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections import Counter
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import sympy  # noqa: E402
from sympy import Rational  # noqa: E402

import matrix_cases as mc  # noqa: E402
import matrix_diagnoses as md  # noqa: E402
import matrix_spelling as ms  # noqa: E402
import matrix_truth as mt  # noqa: E402
from matrix_report import failed, matches, read_log, report  # noqa: E402,F401
from matrix_truth import (C_VALUES, PIECEWISE, Truth, Unverifiable, act,  # noqa: E402,F401
                          compare_at, named_entry, random_values, shapes, torch_compare)

CHECK_TIMEOUT = 10.0

# -- verifying a verdict ----------------------------------------------------------------------

def _tried(detail: str) -> dict:
    """Sizes the decision tried, from its method text ("n0 in [3]; m in [2, 3]")."""
    return {k: [int(x) for x in v.split(",")]
            for k, v in re.findall(r"(\w+) in \[([\d, ]+)\]", detail or "")}


def witness_values(net, w) -> tuple:
    """(sizes, canonical values) of a derivcheck counterexample or kink witness."""
    sizes = {k: int(v) for k, v in w.sizes.items()}
    sh = shapes(net, sizes)
    vals = {}
    for key in [("X",), ("Y",)] + [(k, l) for l in range(1, net.L + 1) for k in "Wb"]:
        name = net.name(key)
        if key[0] == "b" and not net.bias:
            vals[key] = np.full(sh[key], sympy.S.Zero, dtype=object)
            continue
        rows = np.array([[_exact(x) for x in row] for row in w.matrices[name]], dtype=object)
        v = net.view(key)
        arr = rows.T if v == "T" else rows.reshape(-1, 1) if v == "vec" else rows
        if arr.shape != sh[key]:
            raise AssertionError(f"{name} is {arr.shape}, expected {sh[key]}")
        vals[key] = arr
    return sizes, vals


def _exact(x):
    """A witness value as an exact SymPy number: a Fraction, or an exact irrational kept as
    it is (``-(4 - 3*tanh(6)/4)/tanh(7/3)``, a leaf solved for a kink; nsimplify would put
    a nearby power product in its place, off the kink)."""
    if isinstance(x, Fraction):
        return Rational(x.numerator, x.denominator)
    if isinstance(x, sympy.Basic) and not x.has(sympy.Float):
        return x
    return sympy.nsimplify(x)


def targets_valid(net, Y) -> bool:
    if net.loss == "cross_entropy":
        return all(sorted(Y[:, k]) == [0] * (Y.shape[0] - 1) + [1] for k in range(Y.shape[1]))
    if net.loss == "bce":
        return all(0 <= y <= 1 for y in Y.flat)
    return True


def kinks_at(net, vals) -> list:
    """Pre-activations exactly 0 at a point where they are not 0 on a whole region: kinks
    (an entry of Z_l is 0 on an open set only when, without biases, the activations it
    reads are all 0 there: a column of dead units, an ordinary point)."""
    out, prev = [], vals[("X",)]
    for l in range(1, net.L + 1):
        Z = vals[("W", l)] @ prev + vals[("b", l)]
        for j, k in np.ndindex(Z.shape):
            dead = l > 1 and not net.bias and all(a == 0 for a in prev[:, k])
            if Z[j, k] == 0 and not dead:
                out.append((l, j, k))
        if net.acts[l - 1] == "softmax":
            break
        prev = np.vectorize(lambda z, a=net.acts[l - 1]: act(a, z), otypes=[object])(Z)
    return out


def off_kinks(net, vals, rng, tries: int = 3) -> dict:
    """The point, or one nudged off the kinks it lies on: every input and weight (and
    bias, with biases) times 1 + e with |e| < 1e-8, exactly. A kink moves off 0; a dead
    region keeps its zeros (its units stay off under a small move), so a difference that
    holds on such a region is still seen. (An almost-everywhere verdict may differ from
    the reference *on* a kink; the scalar verifier nudges the same way.)"""
    for _ in range(tries):
        if not kinks_at(net, vals):
            return vals
        keys = [("X",)] + [(q, l) for l in range(1, net.L + 1)
                           for q in (("W", "b") if net.bias else ("W",))]
        vals = dict(vals)
        for key in keys:
            vals[key] = np.array([[v * (1 + Rational(rng.choice([-1, 1]) * rng.randint(1, 999),
                                                     10 ** 11)) for v in row]
                                  for row in vals[key]], dtype=object)
    return vals


def kink_values(net, sizes, rng) -> list:
    """Points on ReLU kinks: a row of weights (and its bias) zero, so that a whole row of
    pre-activations is 0; with biases, one first-layer pre-activation made 0."""
    layers = [l for l in range(1, net.L + 1) if net.acts[l - 1] in PIECEWISE]
    out = []
    for l in layers[:2]:
        vals = random_values(net, sizes, rng)
        j = rng.randrange(vals[("W", l)].shape[0])
        vals[("W", l)][j, :] = sympy.S.Zero
        vals[("b", l)][j, 0] = sympy.S.Zero
        out.append(vals)
    if layers and layers[0] == 1 and net.bias:
        vals = random_values(net, sizes, rng)
        j = rng.randrange(vals[("W", 1)].shape[0])
        vals[("b", 1)][j, 0] = -(vals[("W", 1)][j, :] @ vals[("X",)][:, 0])
        out.append(vals)
    return out


def verify(result, net, node, lhs_key, rng, tally: Counter) -> str | None:
    """None if the verdict holds up, else what is wrong with it (see the module text)."""
    v = result.verdict

    made = []

    def at(sizes, vals, cs, details=None):
        truth = Truth(net, vals)
        made.append(truth)
        found = []
        for c in cs:
            detail = {}
            if details is not None:
                details.append(detail)
            try:
                fits, bad, n = compare_at(net, node, lhs_key, truth, c, sizes, detail)
            except Unverifiable:
                tally["unverifiable"] += 1
                found.append(None)
                continue
            tally["compared"] += n
            found.append((fits, bad))
        return found

    if v == "not_equivalent":
        w = result.counterexample
        sizes, vals = witness_values(net, w)
        if not targets_valid(net, vals[("Y",)]):
            return f"counterexample targets are not valid for {net.loss}: {vals[('Y',)].tolist()}"
        cs = C_VALUES if w.step0 is None else [Rational(w.step0.numerator, w.step0.denominator)]
        details = []
        found = at(sizes, vals, cs, details)
        for c, f, detail in zip(cs, found, details):
            if f is not None and f[0] and f[1] == 0:
                return (f"counterexample at sizes {sizes} shows no difference "
                        f"(Step(0) = {c})")
            if f is not None and f[0]:
                pos = named_entry(w.entry, detail["shape"])
                if pos is None:
                    tally["entry_unplaced"] += 1
                elif not detail["differ"][pos]:
                    return (f"counterexample at sizes {sizes}: its entry {w.entry} does not "
                            f"differ (Step(0) = {c}); others do")
        tally["evidence"] += all(f is not None for f in found)
        return md.check_diagnosis(mt, result, net, node, lhs_key,
                                  (sizes, vals, cs), rng, tally, truth=made[0])
    if v not in ("equivalent", "equivalent_almost_everywhere"):
        return None
    tried = _tried(result.method_detail)
    names = net.size_names
    small = [{s: 1 for s in names}, {s: rng.randint(1, 3) for s in names}]
    if small[0] == small[1]:
        small = small[:1]
    before = tally["compared"]
    for sizes in small:
        for _ in range(3):      # a point past evaluation (a saturated softmax): another
            vals = off_kinks(net, random_values(net, sizes, rng), rng)
            found = at(sizes, vals, [C_VALUES[1]])
            if any(f is not None for f in found):
                break
        for f in found:
            if f is not None and (not f[0] or f[1]):
                return (f"{v}, but at sizes {sizes} the formula "
                        f"{'differs in ' + str(f[1]) + ' entries' if f[0] else 'does not fit'}"
                        f" at {_show(vals)}")
        if v == "equivalent":
            for vals in kink_values(net, sizes, rng)[:1 if len(small) > 1 else 2]:
                for c, f in zip(C_VALUES, at(sizes, vals, C_VALUES)):
                    if f is not None and (not f[0] or f[1]):
                        return (f"equivalent, but at sizes {sizes}, Step(0) = {c}, the formula "
                                f"differs at the kink {_show(vals)}")
    large = {s: max(tried.get(s, [3])) + rng.randint(1, 3) for s in names}
    if names:
        fits, bad, n = torch_compare(net, node, lhs_key, large, rng)
        tally["compared_torch"] += n
        if not fits or bad:
            return f"{v}, but torch autograd at sizes {large} disagrees in {bad} entries"
    enough = tally["compared"] - before > 0
    if v == "equivalent":
        tally["evidence"] += enough
        return None
    w = result.kink_point
    sizes, vals = witness_values(net, w)
    cs = C_VALUES if w.step0 is None else [Rational(w.step0.numerator, w.step0.denominator)]
    found = at(sizes, vals, cs)
    if all(f is not None and f[0] and f[1] == 0 for f in found):
        return f"kink witness at sizes {sizes} (Step(0) {w.step0}) shows no difference"
    tally["evidence"] += enough and any(f is not None for f in found)
    return None


def _show(vals) -> str:
    return "; ".join(f"{k}={v.tolist()}" for k, v in vals.items())


# -- running ----------------------------------------------------------------------------------

def make_case(seed: int, index: int):
    """(net, wrt key, mutation kind, formula tree, text) of case ``index``: the mutation is
    ``index``'s in turn, on the first of up to 12 drawn networks and quantities where it
    applies (else the formula as is)."""
    rng = random.Random(seed * 1_000_003 + index)
    kind = mc.MUTATIONS[index % len(mc.MUTATIONS)]
    for _ in range(12):
        net = mc.random_net(rng)
        if net.acts[-1] == "softmax" and rng.random() < 0.3:
            key = ("Z", net.L)
        else:
            key = rng.choice(mc.wrt_keys(net))
        name, node = mc.formula(net, key, rng)
        mutated = mc.mutate(net, key, node, kind, rng)
        if mutated is not None:
            text, read = ms.spell(net, key, mutated, rng)
            return net, key, kind, read, text
    text, read = ms.spell(net, key, node, rng)
    return net, key, "same", read, text


def run_case(args):
    seed, index = args
    from derivcheck.decide.check import check
    from derivcheck.errors import DerivcheckError
    net, key, kind, node, text = make_case(seed, index)
    rng = random.Random(seed * 7_000_003 + index)
    row = dict(index=index, kind=kind, desc=net.describe(), wrt=str(key), candidate=text)
    start = time.perf_counter()
    try:
        result = check(net.derivcheck_net(), text, timeout=CHECK_TIMEOUT)
    except DerivcheckError as exc:  # refused: not a verdict, but worth a look
        return dict(row, verdict="refused", seconds=time.perf_counter() - start, wrong=None,
                    reason=exc.message)
    except Exception as exc:  # noqa: BLE001 - a crash is a finding
        return dict(row, verdict="crash", seconds=time.perf_counter() - start,
                    wrong=f"{type(exc).__name__}: {exc}")
    seconds = time.perf_counter() - start
    tally = Counter()
    vstart = time.perf_counter()
    try:
        wrong = verify(result, net, node, key, rng, tally)
    except Exception as exc:  # noqa: BLE001 - counted as unverified, and reported
        wrong = None
        tally["skipped"] = f"{type(exc).__name__}: {exc}"
    return dict(row, verdict=result.verdict, seconds=seconds, wrong=wrong,
                reason=result.reason, verify_seconds=time.perf_counter() - vstart,
                diagnosis=[d.kind for d in result.diagnosis], **tally)


def run_one(seed: int, index: int, profile: bool) -> int:
    """Case ``index`` alone: its row (and, with ``profile``, the profile of the run)."""
    net, _, _, _, text = make_case(seed, index)
    print(f"case {index}: {net.describe()}\n  {text}")
    if profile:
        import cProfile
        import pstats
        prof = cProfile.Profile()
        row = prof.runcall(run_case, (seed, index))
        pstats.Stats(prof).sort_stats("cumulative").print_stats(40)
    else:
        row = run_case((seed, index))
    print(json.dumps(row, indent=1, default=str))
    return 1 if failed([row]) else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=5000)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=20261129)
    ap.add_argument("--quick", action="store_true", help="28 cases, two per mutation")
    ap.add_argument("--log", help="append each case's outcome to this JSONL file as it ends "
                                  "(a run interrupted still has its figures; rerun resumes)")
    ap.add_argument("--summarize", metavar="LOG", help="print the report of a --log file")
    ap.add_argument("--recheck", action="store_true",
                    help="with --log: run again, with this code, every case of the log that "
                         "failed (a wrong verdict, a crash, an unconfirmed or failed "
                         "verification); the new outcome is appended and replaces the old")
    ap.add_argument("--recheck-where", action="append", default=[], metavar="FIELD=V1,V2",
                    help="with --log: also run again every case of the log whose FIELD "
                         "(a key of its row: verdict, kind, desc, candidate, wrt) is one of "
                         "the values (FIELD=V1,V2) or matches the regular expression "
                         "(FIELD~REGEX); repeat it for more (a case matching any is run "
                         "again), e.g. --recheck-where verdict=unknown "
                         "--recheck-where 'candidate~>|<|np.where'")
    ap.add_argument("--case", type=int, metavar="N",
                    help="run case N alone (of --seed) and print its row")
    ap.add_argument("--profile", action="store_true",
                    help="with --case: print where the check's time goes (cProfile, "
                         "cumulative, the first 40 functions)")
    args = ap.parse_args(argv)
    if args.case is not None:
        return run_one(args.seed, args.case, args.profile)
    if args.summarize:
        rows = read_log(args.summarize)
        report(rows, source=args.summarize)
        return 1 if failed(rows) else 0
    cases = 28 if args.quick else args.cases
    rows = read_log(args.log) if args.log and Path(args.log).exists() else []
    done = {r["index"] for r in rows}
    work = [(args.seed, i) for i in range(cases) if i not in done]
    if args.recheck or args.recheck_where:
        wanted = [r for r in rows if (args.recheck and failed([r]))
                  or any(matches(r, w) for w in args.recheck_where)]
        again = {r["index"] for r in wanted}
        work = [(args.seed, i) for i in sorted(again)]
        rows = [r for r in rows if r["index"] not in again]
    start = time.perf_counter()
    pool = None
    if args.jobs == 1 or not work:
        it = map(run_case, work)
    else:
        import multiprocessing as mp
        pool = mp.get_context("fork").Pool(args.jobs, maxtasksperchild=200)
        it = pool.imap_unordered(run_case, work, chunksize=4)
    log = open(args.log, "a") if args.log else None
    for row in it:
        if args.recheck or args.recheck_where:
            row["rechecked"] = True
        rows.append(row)
        if log:
            log.write(json.dumps(row, default=str) + "\n")
            log.flush()
    if pool is not None:       # an unclosed pool can hang the interpreter's exit
        pool.close()
        pool.join()
    report(rows, time.perf_counter() - start, args.jobs, args.seed)
    return 1 if failed(rows) else 0


if __name__ == "__main__":
    sys.exit(main())
