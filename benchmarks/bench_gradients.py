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

from derivcheck.gradients import backward  # noqa: E402
from derivcheck.graph import build_graph  # noqa: E402
from derivcheck.spec import NetworkSpec  # noqa: E402
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


def cold_time(fn, depth: int, repeat: int) -> float:
    """Best wall time of ``repeat`` runs, each after clearing SymPy's cache."""
    best = float("inf")
    for _ in range(repeat):
        clear_cache()
        start = time.perf_counter()
        fn(depth)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    ours = {}
    print("derivcheck: all weights' gradients of a bias-free ReLU chain (cold, best of runs)")
    for depth in DEPTHS:
        ours[depth] = cold_time(derivcheck_all_gradients, depth, 7 if depth <= 100 else 5)
        print(f"  depth {depth:5d}: {ours[depth] * 1e3:10.2f} ms")
    naive = {}
    print("naive SymPy: nested Max + sympy.diff per weight (cold, one run)")
    for depth in NAIVE_DEPTHS:
        naive[depth] = cold_time(naive_all_gradients, depth, 1)
        print(f"  depth {depth:5d}: {naive[depth] * 1e3:10.2f} ms")
    print("ratios")
    growth = ours[2000] / ours[1000]
    print(f"  t(2000)/t(1000)            = {growth:8.2f}   (target <= 2.3): "
          f"{'ok' if growth <= 2.3 else 'MISSED'}")
    for depth in NAIVE_DEPTHS:
        speedup = naive[depth] / ours[depth]
        print(f"  naive/derivcheck depth {depth:3d} = {speedup:8.0f}x  (target >= 500x): "
              f"{'ok' if speedup >= 500 else 'MISSED'}")
    print(f"  depth 1000 within 1 s       = {ours[1000]:8.3f} s  : "
          f"{'ok' if ours[1000] <= 1.0 else 'MISSED'}")


if __name__ == "__main__":
    main()
