"""Oracle benchmark: exact gradients of a 16-wide ReLU MLP per point, against torch.

The network is 4-16-16-16-1 with biases (641 parameters), ReLU hidden layers, identity
output, loss (y - yhat)^2 / 2. Printed, per point: derivcheck's exact gradients (all
of them, as Fractions; the one-off compilation of the network's definitions is shown
apart), one torch float64 forward+backward on the same values (``nn.Linear`` layers),
the same network built node by node from torch scalars (what ``compare_torch`` without
a module runs), and ``torch.autograd.gradcheck`` on the same network.

Then the oracle at training sizes: a 784-128-10 ReLU MLP with biases and softmax
cross-entropy, one example: numpy float64 forward+backward against derivcheck's exact
point (:class:`~derivcheck.oracle.arrays.ArrayOracle`), and the exact rational part with
python-flint ``fmpq_mat`` and with numpy object arrays of Fractions (how the backend was
picked).

Run: ``python benchmarks/bench_oracle.py [--quick]``.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from derivcheck.oracle.adapters import torch_forward  # noqa: E402
from derivcheck.core.network import mlp  # noqa: E402
from derivcheck.oracle.exact import Oracle  # noqa: E402
from derivcheck.oracle.points import random_point  # noqa: E402

WIDTHS = (4, 16, 16, 16, 1)
POINTS = 20


def _per_call(fn, calls: int) -> float:
    """Best of three runs of ``calls`` calls, in seconds per call."""
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - t) / calls)
    return best


def _torch_model(net, point):
    """The network as nn.Linear layers holding the point's values, and its input/target."""
    values = {s.name: float(v) for s, v in point.items()}
    layers = []
    for k, (n_in, n_out) in enumerate(zip(WIDTHS, WIDTHS[1:])):
        layer = torch.nn.Linear(n_in, n_out).double()
        with torch.no_grad():
            layer.weight.copy_(torch.tensor([[values[f"W{k}_{i}_{j}"] for i in range(1, n_in + 1)]
                                             for j in range(1, n_out + 1)]))
            layer.bias.copy_(torch.tensor([values[f"b{k + 1}_{j}"]
                                           for j in range(1, n_out + 1)]))
        layers += [layer, torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    x = torch.tensor([[values[s.name] for s in net.inputs]], dtype=torch.float64)
    y = torch.tensor([[values[s.name] for s in net.targets]], dtype=torch.float64)
    return model, x, y


def main(argv=None) -> None:
    net = mlp(list(WIDTHS), "relu,relu,relu,identity", bias=True)
    points = [random_point(net, seed) for seed in range(POINTS)]
    oracle = Oracle(net, "torch")
    t = time.perf_counter()
    oracle.gradients(points[0])
    compile_time = time.perf_counter() - t
    cycle = iter(points * 1000)
    exact = _per_call(lambda: oracle.gradients(next(cycle)), POINTS)

    model, x, y = _torch_model(net, points[0])

    def torch_step():
        model.zero_grad()
        ((model(x) - y) ** 2 / 2).sum().backward()
    dense = _per_call(torch_step, 200)

    leaves = {s: torch.tensor(float(v), dtype=torch.float64, requires_grad=s in net.params)
              for s, v in points[0].items()}
    params = [leaves[p] for p in net.params]
    scalar = _per_call(lambda: torch.autograd.grad(torch_forward(net, leaves), params), 3)

    weights = [p for p in model.parameters()]

    def loss(*ws):
        out = x
        for k in range(0, len(ws), 2):
            out = torch.nn.functional.linear(out, ws[k], ws[k + 1])
            out = torch.relu(out) if k + 2 < len(ws) else out
        return ((out - y) ** 2 / 2).sum()
    t = time.perf_counter()
    torch.autograd.gradcheck(loss, tuple(weights), raise_exception=False)
    gradcheck = time.perf_counter() - t

    print(f"network {'-'.join(map(str, WIDTHS))}, ReLU, biases: {len(net.params)} parameters")
    print(f"  derivcheck compile (once per network)     {compile_time * 1e3:9.1f} ms")
    print(f"  derivcheck exact gradients, per point     {exact * 1e3:9.2f} ms")
    print(f"  torch forward+backward (nn.Linear)        {dense * 1e3:9.2f} ms")
    print(f"  torch node by node (torch_forward)        {scalar * 1e3:9.2f} ms")
    print(f"  torch.autograd.gradcheck, one point       {gradcheck * 1e3:9.1f} ms")
    print(f"  exact / torch forward+backward            {exact / dense:9.1f} x  (target: 10 x)")
    print_training_size(quick="--quick" in (argv or []))



# --- the oracle at training sizes (issue 19) ------------------------------------------------

TRAIN_WIDTHS = (784, 128, 10)


def _numpy_step(a: dict):
    """float64 forward+backward of the 784-128-10 ReLU MLP, softmax cross-entropy."""
    import numpy as np
    z1 = a["W1"] @ a["X"] + a["b1"]
    h = np.maximum(z1, 0)
    z2 = a["W2"] @ h + a["b2"]
    e = np.exp(z2 - z2.max(axis=0))
    p = e / e.sum(axis=0)
    dz2 = p - a["Y"]
    dw2, db2 = dz2 @ h.T, dz2.sum(axis=1, keepdims=True)
    dz1 = (a["W2"].T @ dz2) * (z1 > 0)
    return dz1 @ a["X"].T, dz1.sum(axis=1, keepdims=True), dw2, db2


def _rational_backends(a: dict) -> dict:
    """The exact rational part (forward, ReLU mask, backward with a squared loss) with
    python-flint ``fmpq_mat`` and with numpy object arrays of Fractions, conversion of the
    float arrays included: seconds per point."""
    from fractions import Fraction

    import flint
    import numpy as np

    def fmpq(x):
        n, d = float(x).as_integer_ratio()
        return flint.fmpq(n, d)

    def flint_step():
        m = {k: flint.fmpq_mat(v.shape[0], v.shape[1], [fmpq(x) for x in v.ravel()])
             for k, v in a.items()}
        z1 = m["W1"] * m["X"] + m["b1"]
        mask = [1 if z1[i, 0] > 0 else 0 for i in range(z1.nrows())]
        h = flint.fmpq_mat(z1.nrows(), 1, [z1[i, 0] * mask[i] for i in range(z1.nrows())])
        dz2 = m["W2"] * h + m["b2"] - m["Y"]
        dw2 = dz2 * h.transpose()
        da = m["W2"].transpose() * dz2
        dz1 = flint.fmpq_mat(da.nrows(), 1, [da[i, 0] * mask[i] for i in range(da.nrows())])
        return dz1 * m["X"].transpose(), dw2

    def fraction_step():
        m = {k: np.array([Fraction(float(x)) for x in v.ravel()], dtype=object)
             .reshape(v.shape) for k, v in a.items()}
        z1 = m["W1"] @ m["X"] + m["b1"]
        mask = z1 > 0
        h = np.where(mask, z1, 0)
        dz2 = m["W2"] @ h + m["b2"] - m["Y"]
        dz1 = (m["W2"].T @ dz2) * mask
        return dz1 @ m["X"].T, dz2 @ h.T

    return {"python-flint fmpq_mat": _per_call(flint_step, 1),
            "numpy object Fractions": _per_call(fraction_step, 1)}


def training_size(quick: bool = False) -> dict:
    """Seconds per point: numpy float64, derivcheck exact (cross-entropy, arb balls),
    derivcheck exact rational part, flint and Fraction backends; and the ratio."""
    from derivcheck.core.network import mlp as build
    from derivcheck.oracle.array_points import random_arrays
    from derivcheck.oracle.arrays import ArrayOracle

    net = build(list(TRAIN_WIDTHS), "relu,identity", bias=True, loss="cross_entropy",
                oracle=True)
    arrays = random_arrays(net, 0)
    oracle = ArrayOracle(net, "torch")
    oracle.gradients(arrays)                         # flint and the kink table, loaded once
    out = {"numpy float64": _per_call(lambda: _numpy_step(arrays), 50 if quick else 500),
           "derivcheck exact (cross-entropy)": _per_call(lambda: oracle.gradients(arrays),
                                                         2 if quick else 10)}
    squared = ArrayOracle(build(list(TRAIN_WIDTHS), "relu,identity", bias=True,
                                loss="half_squared", oracle=True), "torch")
    out["derivcheck exact (squared loss)"] = _per_call(lambda: squared.gradients(arrays),
                                                       2 if quick else 10)
    if not quick:
        out.update(_rational_backends(arrays))
    return out


def print_training_size(quick: bool = False) -> None:
    times = training_size(quick)
    base = times["numpy float64"]
    print(f"\nnetwork {'-'.join(map(str, TRAIN_WIDTHS))}, ReLU, biases, softmax cross-entropy "
          "(101,770 parameters), one example, per point:")
    for name, t in times.items():
        print(f"  {name:<36} {t * 1e3:9.2f} ms  {t / base:8.1f} x numpy")
    exact = times["derivcheck exact (cross-entropy)"]
    print(f"  exact / numpy float64 forward+backward {exact / base:9.1f} x  (target: 50 x)")
    seconds, megabytes = vectors_command()
    print(f"\nderivcheck vectors {' '.join(VECTORS_ARGS)}:")
    print(f"  {seconds:.1f} s with start-up (target: 10 s), {megabytes:.0f} MB peak memory "
          "(target: 1024 MB)")


#: The command of issue 19's target: 2 points (and the kink points), torch's convention.
VECTORS_ARGS = ("--widths", "784,128,10", "--act", "relu,identity", "--loss", "cross_entropy",
                "--bias", "--points", "2", "--kinks", "--kink-convention", "torch",
                "--format", "npz")


def vectors_command() -> tuple[float, float]:
    """(wall seconds, peak resident megabytes) of ``derivcheck vectors`` on the
    784-128-10 network, in a fresh process (start-up included)."""
    import os
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "vectors.npz")
        code = ("import resource, sys; from derivcheck.app.cli import main; "
                "main(sys.argv[1:]); print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
        t = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", code, "vectors", *VECTORS_ARGS, "-o", out],
                              capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve()
                                                                   .parent.parent)})
        seconds = time.perf_counter() - t
    return seconds, int(done.stdout.split()[-1]) / 1024


if __name__ == "__main__":
    main(sys.argv[1:])
