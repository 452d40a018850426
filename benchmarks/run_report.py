"""The head of a soundness run's report, the same for the scalar and the matrix family:
what was run, the verdicts, check times, and verdicts by mutation.

>>> rows = [dict(verdict="equivalent", kind="same", seconds=0.5),
...         dict(verdict="unknown", kind="sign_flip", seconds=2.0)]
>>> head(rows, "stress run", ["same", "sign_flip"], 12, source="log.jsonl",
...      unknown_rate=True)  # doctest: +NORMALIZE_WHITESPACE
stress run: 2 cases, from log.jsonl
verdicts: equivalent 1, unknown 1
unknown rate: 50.00%
check time: median 1250 ms, p99 0.50 s, max 2.00 s
mutation          equivalent  equivalent_alm  not_equivalent         unknown
same                       1               0               0               0
sign_flip                  0               0               0               1
"""
from __future__ import annotations

import statistics
from collections import Counter, defaultdict

NAMES = ["equivalent", "equivalent_almost_everywhere", "not_equivalent", "unknown"]


def head(rows, title: str, kinds, width: int, *, wall=None, jobs=None, seed=None,
         source=None, unknown_rate: bool = False) -> None:
    """Print the report's first lines; ``kinds`` orders the mutations, ``width`` is the
    width of their column."""
    verdicts = Counter(r["verdict"] for r in rows)
    by_kind = defaultdict(Counter)
    for r in rows:
        by_kind[r["kind"]][r["verdict"]] += 1
    times = sorted(r["seconds"] for r in rows) or [0.0]
    if source:
        print(f"{title}: {len(rows)} cases, from {source}")
    else:
        print(f"{title}: {len(rows)} cases, seed {seed}, {jobs} worker(s), {wall:.0f} s wall")
    print("verdicts: " + ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items())))
    if unknown_rate:
        print(f"unknown rate: {100 * verdicts['unknown'] / max(1, len(rows)):.2f}%")
    print(f"check time: median {statistics.median(times) * 1000:.0f} ms, "
          f"p99 {times[int(0.99 * (len(times) - 1))]:.2f} s, max {times[-1]:.2f} s")
    print(f"{'mutation':<{width}}" + "".join(f"{n[:14]:>16}" for n in NAMES))
    for kind in kinds:
        if kind in by_kind:
            print(f"{kind:<{width}}" + "".join(f"{by_kind[kind][n]:>16}" for n in NAMES))
