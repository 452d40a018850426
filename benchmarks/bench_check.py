"""Checking speed: derivcheck's verdicts against SymPy's simplify/equals.

Prints, for a ReLU chain with biases at depth 12: time to refute a dropped gate and to
prove the correct formula (through the whole pipeline: parse, decide, diagnose); a correct
depth-1000 formula written with intermediate names; and SymPy's ``simplify(ref - cand)``
and ``ref.equals(cand)`` on the same depth-8 inputs (run in a subprocess with a time
limit, since they grow explosively: over 400 s at depth 12).

    python benchmarks/bench_check.py
"""
from __future__ import annotations

import multiprocessing as mp
import sys
import time

import sympy

import derivcheck
from derivcheck.core.printing import plain

SYMPY_LIMIT = 120.0


def _timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def _chain(depth, biases):
    ws = [f"w{i}" for i in range(1, depth + 1)]
    return derivcheck.chain(ws, "relu", biases=[f"b{i}" for i in range(1, depth + 1)]
                            if biases else None)


def derivcheck_cases():
    derivcheck.check(_chain(1, False), "x", "w1")  # load the grammar once, as any session does
    rows = []
    net = _chain(12, True)
    g = net.gradient("w1", form="inline")
    dropped = plain(g.subs(derivcheck.core.functions.Step(sympy.Symbol("z6")), 1))
    r, t = _timed(lambda: derivcheck.check(net, dropped, "w1"))
    rows.append(("depth 12 + biases, dropped gate (refute)", r.verdict, t, 0.2))
    r, t = _timed(lambda: derivcheck.check(_chain(12, True), plain(g), "w1"))
    rows.append(("depth 12 + biases, correct (prove)", r.verdict, t, 0.5))
    deep = _chain(1000, False)
    text = plain(deep.gradient("w1", form="inline"))
    r, t = _timed(lambda: derivcheck.check(deep, text, "w1"))
    rows.append(("depth 1000, correct, intermediate names", r.verdict, t, 2.0))
    return rows


def _sympy_job(depth, how, queue):
    x, y = sympy.symbols("x y")
    ws = sympy.symbols(f"w1:{depth + 1}")
    bs = sympy.symbols(f"b1:{depth + 1}")
    a, pre = x, []
    for w, b in zip(ws, bs):
        z = w * a + b
        pre.append(z)
        a = sympy.Max(0, z)
    ref = sympy.diff((y - a) ** 2 / 2, ws[0])
    a_alt = pre[-1] * sympy.Heaviside(pre[-1])  # relu(z) written z*H(z): a correct rewrite
    cand = (a_alt - y) * x
    for k, z in enumerate(pre):
        cand *= sympy.Heaviside(z)
        if k + 1 < depth:
            cand *= ws[k + 1]
    t = time.perf_counter()
    result = sympy.simplify(ref - cand) == 0 if how == "simplify" else ref.equals(cand)
    queue.put((str(result), time.perf_counter() - t))


def sympy_case(depth, how):
    queue = mp.Queue()
    proc = mp.Process(target=_sympy_job, args=(depth, how, queue))
    proc.start()
    proc.join(SYMPY_LIMIT)
    if proc.is_alive():
        proc.kill()
        return "gave up", SYMPY_LIMIT
    return queue.get()


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    print("derivcheck check (whole pipeline)")
    for label, verdict, t, target in derivcheck_cases():
        ok = "ok" if t <= target else "SLOWER THAN TARGET"
        print(f"  {label:45s} {verdict:16s} {t:8.3f} s   (target <= {target} s: {ok})")
    if "--quick" in argv:
        return
    print(f"SymPy on the same kind of input, depth 8 (limit {SYMPY_LIMIT:.0f} s)")
    for how in ("simplify", "equals"):
        result, t = sympy_case(8, how)
        print(f"  {how:45s} {result:16s} {t:8.3f} s")


if __name__ == "__main__":
    main()
