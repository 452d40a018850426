"""The checker's point evaluator: time per point and certified error bound.

The cases of issue 19 (ball arithmetic): a 3-layer sigmoid chain with the bce loss, an
8-layer sigmoid/tanh chain and a 2-3-1 sigmoid MLP, each gradient evaluated at a fixed
rational point at 60 digits (the default) and at 200 bits (61 digits) with
:class:`~derivcheck.decide.evaluate.PointEvaluator`; printed: milliseconds per point and
the largest relative error bound it certifies. Run with ``PYTHONPATH`` on the tree to
measure (``python benchmarks/bench_evaluate.py [--quick]``), once per tree to compare two
implementations.
"""
from __future__ import annotations

import sys
import time
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from derivcheck.core.network import chain, mlp  # noqa: E402
from derivcheck.decide.evaluate import PointEvaluator  # noqa: E402


def cases():
    """(name, network) for the three measured networks."""
    return [
        ("3-layer sigmoid, bce", chain(["w1", "w2", "w3"], "sigmoid", loss="bce")),
        ("8-layer sigmoid/tanh", chain([f"w{i}" for i in range(1, 9)],
                                       "sigmoid,tanh,sigmoid,tanh,sigmoid,tanh,sigmoid,tanh")),
        ("2-3-1 sigmoid MLP", mlp([2, 3, 1], "sigmoid", bias=True)),
    ]


def point(net) -> dict:
    """A fixed point: small rationals, a target in (0, 1)."""
    out = {}
    for i, s in enumerate(net.variables):
        out[s] = Fraction(1, 3) if s in net.targets else Fraction((-1) ** i * (i % 5 + 2), 7)
    return out


def measure(net, dps: int, repeat: int = 20, rounds: int = 7) -> tuple[float, float]:
    """(seconds per point for every gradient, the largest relative error bound)."""
    grads = [net.gradient(p) for p in net.params]
    at = point(net)
    best, worst = float("inf"), 0.0
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(repeat):
            ev = PointEvaluator(net.definitions(), at, dps=dps)
            for g in grads:
                ev(g)
        best = min(best, (time.perf_counter() - t) / repeat)
    ev = PointEvaluator(net.definitions(), at, dps=dps)
    for g in grads:
        worst = max(worst, ev.error(g))
    return best, worst


def main(argv=None) -> None:
    quick = "--quick" in (argv or [])
    print(f"{'network':<24} {'digits':>6} {'ms/point':>10} {'max rel. error bound':>22}")
    for name, net in cases():
        for dps in (60, 61):      # 61 digits: 200 bits
            seconds, bound = measure(net, dps, *((2, 1) if quick else ()))
            print(f"{name:<24} {dps:>6} {seconds * 1e3:>10.2f} {bound:>22.3e}")


if __name__ == "__main__":
    main(sys.argv[1:])
