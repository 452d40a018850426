"""Test vectors: exact gradients at random and kink points, as one JSON-ready object.

``derivcheck vectors`` writes what :func:`make_vectors` returns: the network, the kink
convention, and for every point its exact values (``"3/7"``; 20-digit decimals where the
value is transcendental), the loss, every parameter's gradient, the same gradients as
float64, and whether the point is a kink (the gradient there depends on the convention).

>>> from derivcheck.core.network import chain
>>> data = make_vectors(chain(["w1", "w2"], "relu"), points=1, seed=3)
>>> data["kink_convention"], len(data["vectors"])
('torch', 3)
>>> v = data["vectors"][0]
>>> v["point"], v["loss"], v["gradient"], v["at_kink"]
({'x': '1', 'w1': '7/4', 'w2': '3/2', 'y': '-2'}, '1369/128', {'w1': '111/16', 'w2': '259/32'}, False)
"""
from __future__ import annotations

from ..core.printing import format_value
from .exact import Oracle
from .points import sample_points

__all__ = ["make_vectors"]


def make_vectors(net, *, points: int = 8, kinks: bool = True, convention="torch", seed=0,
                 assume=None) -> dict:
    """``points`` random points plus (with ``kinks``) one point exactly on each kink
    where a parameter can put it there; gradients under ``convention``.

    >>> from derivcheck.core.network import chain
    >>> data = make_vectors(chain(["w1"], "relu"), points=0)
    >>> data["vectors"][0]["point"]["w1"], data["vectors"][0]["gradient_float"]
    ('0', {'w1': 0.0})
    """
    oracle = Oracle(net, convention)
    vectors = []
    for point, at_kink in sample_points(net, points=points, kinks=kinks,
                                        convention=convention, seed=seed, assume=assume,
                                        float_exact=True):
        loss, gradients = oracle.loss_and_gradients(point)
        vectors.append({
            "point": {s.name: format_value(v) for s, v in point.items()},
            "loss": format_value(loss),
            "gradient": {k: format_value(v) for k, v in gradients.items()},
            "gradient_float": {k: float(v) for k, v in gradients.items()},
            "at_kink": at_kink,
        })
    return {"network": net.spec.to_dict(), "kink_convention": oracle.convention.name,
            "vectors": vectors}
