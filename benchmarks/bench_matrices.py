"""Matrix checks: deeplearning.ai's dW^{[1]} (right and wrong) and a 4-layer batch network.

Times the whole pipeline (parse, shapes, bounds, instances, proof for every size,
diagnosis) after start-up (the grammar loaded once, as in any session). Targets: <= 0.5 s
for each dW^{[1]} check, <= 2 s for the 4-layer network.

    python benchmarks/bench_matrices.py
"""
from __future__ import annotations

import sys
import time

import derivcheck
from derivcheck.core.matrix.network import MatrixNetwork


def _timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def cases():
    ng = MatrixNetwork(["n0", "n1", 1], "tanh,sigmoid", "bce", batch="m", bias=True)
    derivcheck.check(MatrixNetwork([1, 1], "relu"), "dW1 = dZ1 @ X.T")   # start-up
    rows = []
    for label, text, target in (
            ("ng dW1, right (prove for every size)", r"dW^{[1]} = \frac{1}{m} dZ^{[1]} X^T", 0.5),
            ("ng dW1, 1/m missing (refute, diagnose)", r"dW^{[1]} = dZ^{[1]} X^T", 0.5),
            ("ng dW1, factors swapped (shapes, fix)", r"dW^{[1]} = \frac{1}{m} X^T dZ^{[1]}",
             0.5),
            ("ng dW1, sign flipped (refute, diagnose)", r"dW^{[1]} = -\frac{1}{m} dZ^{[1]} X^T",
             0.5)):
        r, t = _timed(lambda: derivcheck.check(ng, text))
        rows.append((label, r.verdict, t, target))
    deep = MatrixNetwork(["n0", "n1", "n2", "n3", 2], "relu,tanh,sigmoid,identity",
                         "half_squared", batch="m", bias=True)
    r, t = _timed(lambda: derivcheck.check(deep, "dW1 = 1/m * dZ1 @ X.T"))
    rows.append(("4-layer batch network, dW1 right", r.verdict, t, 2.0))
    r, t = _timed(lambda: derivcheck.check(deep, "dZ2 = W3.T @ dZ3 * (Z2 > 0)"))
    rows.append(("4-layer batch network, dZ2 wrong mask", r.verdict, t, 2.0))
    return rows


def main(argv=None):
    del argv
    print("derivcheck check, matrix formulas (whole pipeline, after start-up)")
    for label, verdict, t, target in cases():
        ok = "ok" if t <= target else "SLOWER THAN TARGET"
        print(f"  {label:42s} {verdict:16s} {t:8.3f} s   (target <= {target} s: {ok})")


if __name__ == "__main__":
    main(sys.argv[1:])
