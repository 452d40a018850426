"""Gradient benchmark: all weights' gradients of a bias-free ReLU chain.

derivcheck builds the graph and runs symbolic reverse mode (``backward(build_graph(spec))``,
what ``chain(...).backward()`` does); the naive route (:mod:`benchmarks.naive`) writes
the loss as nested ``Max`` and calls ``sympy.diff`` once per weight.

Every timed run starts from ``sympy.core.cache.clear_cache()`` with a fresh ``Network``,
so neither SymPy's cache nor derivcheck's own caches flatter the numbers; the best of a
few such cold runs is reported for derivcheck (the naive route runs once: it is slow).

Run: ``python benchmarks/bench_gradients.py``.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from sympy.core.cache import clear_cache

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from derivcheck.core.gradients import backward  # noqa: E402
from derivcheck.core.graph import build_graph  # noqa: E402
from derivcheck.core.spec import NetworkSpec  # noqa: E402
from naive import naive_all_gradients  # noqa: E402

DEPTHS = (25, 50, 100, 1000, 2000)
NAIVE_DEPTHS = (25, 50)


def derivcheck_all_gradients(depth: int):
    """Every weight's gradient of a depth-``depth`` bias-free ReLU chain.

    The spec is built directly (what ``chain(...)`` validates into), so depths past the
    command line's input limit can be measured too.
    """
    spec = NetworkSpec("chain", weights=[f"w{k}" for k in range(1, depth + 1)],
                       activations=["relu"] * depth, inputs=["x"], targets=["y"])
    bw = backward(build_graph(spec))
    assert len(bw.gradients) == depth + 1          # the weights and the input
    return bw


CLOCKS = (("wall", time.perf_counter), ("cpu", time.process_time))


def cold_time(fn, depth: int, repeat: int) -> dict:
    """Best wall-clock and best process CPU time of ``repeat`` runs, each after clearing
    SymPy's cache. CPU time is this process's own work, so it stays meaningful when
    other jobs load the machine; wall time is what a user waits."""
    best = {name: float("inf") for name, _ in CLOCKS}
    for _ in range(repeat):
        clear_cache()
        start = {name: clock() for name, clock in CLOCKS}
        fn(depth)
        for name, clock in CLOCKS:
            best[name] = min(best[name], clock() - start[name])
    return best


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main(argv=None) -> None:
    ours, naive = {}, {}
    print("derivcheck: all weights' gradients of a bias-free ReLU chain (cold, best of runs)")
    print(f"  {'':11s} {'wall':>12s} {'cpu':>12s}")
    for depth in DEPTHS:
        ours[depth] = cold_time(derivcheck_all_gradients, depth, 7 if depth <= 100 else 5)
        print(f"  depth {depth:5d}: {ours[depth]['wall'] * 1e3:9.2f} ms {ours[depth]['cpu'] * 1e3:9.2f} ms")
    print("naive SymPy: nested Max + sympy.diff per weight (cold, one run)")
    for depth in NAIVE_DEPTHS:
        naive[depth] = cold_time(naive_all_gradients, depth, 1)
        print(f"  depth {depth:5d}: {naive[depth]['wall'] * 1e3:9.0f} ms {naive[depth]['cpu'] * 1e3:9.0f} ms")
    print(f"ratios {'':26s} {'wall':>8s} {'cpu':>8s}")
    growth = {c: ours[2000][c] / ours[1000][c] for c, _ in CLOCKS}
    print(f"  t(2000)/t(1000)  (target <= 2.3)    {growth['wall']:8.2f} {growth['cpu']:8.2f}   "
          f"{verdict(growth['wall'] <= 2.3)} / {verdict(growth['cpu'] <= 2.3)}")
    for depth in NAIVE_DEPTHS:
        speed = {c: naive[depth][c] / ours[depth][c] for c, _ in CLOCKS}
        print(f"  naive/derivcheck at {depth:2d} (>= 500x)  {speed['wall']:7.0f}x {speed['cpu']:7.0f}x   "
              f"{verdict(speed['wall'] >= 500)} / {verdict(speed['cpu'] >= 500)}")
    t1000 = ours[1000]
    print(f"  depth 1000 (<= 1 s)                 {t1000['wall']:7.3f}s {t1000['cpu']:7.3f}s   "
          f"{verdict(t1000['wall'] <= 1.0)} / {verdict(t1000['cpu'] <= 1.0)}")


if __name__ == "__main__":
    main()
