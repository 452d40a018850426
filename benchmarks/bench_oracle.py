"""Oracle benchmark: exact gradients of a 16-wide ReLU MLP per point, against torch.

The network is 4-16-16-16-1 with biases (641 parameters), ReLU hidden layers, identity
output, loss (y - yhat)^2 / 2. Printed, per point: derivcheck's exact gradients (all
of them, as Fractions; the one-off compilation of the network's definitions is shown
apart), one torch float64 forward+backward on the same values (``nn.Linear`` layers),
the same network built node by node from torch scalars (what ``compare_torch`` without
a module runs), and ``torch.autograd.gradcheck`` on the same network.

Run: ``python benchmarks/bench_oracle.py``.
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


if __name__ == "__main__":
    main(sys.argv[1:])
