"""Points to test gradients at: random "nice" rationals, and points exactly on kinks.

A point assigns an exact :class:`~fractions.Fraction` to every input, parameter and
target of a network. :func:`random_point` draws small rationals (quarters up to 3) that
honour ``assume`` bounds; :func:`place_on_kink` moves one parameter that
enters a pre-activation linearly so that the pre-activation sits exactly on a breakpoint
of its activation; :func:`is_kink` asks whether the gradient there depends on the kink
convention (a breakpoint reached only behind a dead unit is not a kink).

>>> import random
>>> from derivcheck.core.network import chain
>>> net = chain(weights=["w1", "w2"], activations="relu", biases=["b1", "b2"])
>>> p = random_point(net, random.Random(0))
>>> sorted(str(s) for s in p), is_kink(net, p)
(['b1', 'b2', 'w1', 'w2', 'x', 'y'], False)
>>> on = place_on_kink(net, p, "z1")
>>> on[net.parameter("w1")] * on[net.parameter("x")] + on[net.parameter("b1")]
Fraction(0, 1)
"""
from __future__ import annotations

import random
from fractions import Fraction
from functools import lru_cache

import sympy
from sympy import Symbol

from .. import limits
from ..core.assumptions import Assumptions
from ..core.conventions import FRAMEWORKS
from ..core.graph import Role
from ..core.primitives import primitive_of
from ..errors import AssumptionError, SpecError
from ..decide.evaluate import PointEvaluator
from .exact import Oracle, exact_number, exact_point

__all__ = ["random_point", "place_on_kink", "kink_sites", "kink_points", "is_kink",
           "sample_points"]

_PROBABILITY_LOSSES = ("bce", "cross_entropy")
#: Quarters up to 3: small enough that sigmoid and tanh layers rarely saturate.
_NICE = {
    "probability": [Fraction(k, 4) for k in range(5)],
    "target": [Fraction(k, 4) for k in range(-12, 13)],
    "input": [Fraction(k, 4) for k in range(1, 13)],
    "parameter": [Fraction(k, 4) for k in range(-12, 13) if k],
}
#: |pre-activation| beyond which float64 code, which computes sigmoid' = y (1 - y) and
#: tanh' = 1 - y^2 from the output y, keeps fewer than about 13 digits of them.
_SATURATION = {"sigmoid": 6, "tanh": 3}


def _assumptions(net, assume) -> Assumptions:
    """``assume`` (texts, triples or :class:`Assumptions`) checked against ``net``."""
    out = assume if isinstance(assume, Assumptions) else Assumptions.parse(assume)
    out.check_names(set(net.variables))
    for b in out.bounds:
        if b.derived:
            raise AssumptionError(f"test points take bounds on one input, parameter or target "
                                  f"at a time, not {b}",
                                  hint="bound each name by a number, e.g. 'x > 0'")
    return out


def random_point(net, rng=None, *, assume=None, avoid_kinks: str | None = "any") -> dict:
    """A point of quarters up to 3: parameters nonzero, inputs positive, targets in
    [0, 1] for bce and one-hot for cross_entropy. ``rng`` is a :class:`random.Random` or a seed.

    Draws again (up to 24 times, with ever smaller weights and inputs) while a sigmoid
    or tanh unit saturates, or while the point is a kink under the convention
    ``avoid_kinks`` (None: kinks are fine).

    >>> from derivcheck.core.network import chain
    >>> p = random_point(chain(["w1"]), 3, assume=["x >= 5", "w1 < -8"])
    >>> p[Symbol("x")] >= 5, p[Symbol("w1")] < -8
    (True, True)
    """
    rng = rng if isinstance(rng, random.Random) else random.Random(rng)
    bounds = _assumptions(net, assume).bounds
    point = {}
    for attempt in range(24):
        shrink = 2 ** (attempt // 4)
        point = {s: _draw(net, s, rng, [b for b in bounds if b.symbol == s], shrink)
                 for s in net.variables}
        _one_hot(net, point, rng, bounds)
        if not _saturated(net, point) and (avoid_kinks is None
                                           or not is_kink(net, point, avoid_kinks)):
            break
    return point


def _one_hot(net, point: dict, rng: random.Random, bounds: list) -> None:
    """Cross-entropy targets as a one-hot distribution (a class), unless assumptions bound
    them: targets such as (1, 1/2) are no distribution and no label."""
    targets = list(net.targets)
    if net.spec.loss != "cross_entropy" or len(targets) < 2 or any(
            b.symbol in targets for b in bounds):
        return
    k = rng.randrange(len(targets))
    for i, t in enumerate(targets):
        point[t] = Fraction(int(i == k))


def _saturated(net, point: dict) -> bool:
    """Does a sigmoid or tanh unit sit beyond its :data:`_SATURATION` bound?"""
    units = [(n.expr.args[0], _SATURATION[n.activation.name]) for n in net.graph.nodes
             if n.role == Role.ACT and n.activation and n.activation.name in _SATURATION]
    if not units:
        return False
    ev = _forward_evaluator(net, point)
    return any(abs(ev(z)) > bound for z, bound in units)


def _draw(net, symbol: Symbol, rng: random.Random, bounds: list, shrink: int) -> Fraction:
    """One value for ``symbol`` (parameters and inputs divided by ``shrink``), inside
    its bounds (a list of :class:`~derivcheck.core.assumptions.Bound`)."""
    if symbol in net.targets:
        nice = _NICE["probability" if net.spec.loss in _PROBABILITY_LOSSES else "target"]
    else:
        nice = [v / shrink for v in _NICE["input" if symbol in net.inputs else "parameter"]]
    inside = [v for v in nice if all(b.holds(v) for b in bounds)]
    if inside:
        return rng.choice(inside)
    lows = [b.value for b in bounds if b.op in (">", ">=")]
    highs = [b.value for b in bounds if b.op in ("<", "<=")]
    step = rng.choice(_NICE["input"])
    lo, hi = max(lows, default=None), min(highs, default=None)
    if lo is not None and hi is not None:
        value = lo + (hi - lo) * Fraction(rng.randint(1, 3), 4) if lo < hi else lo
    else:
        value = lo + step if lo is not None else hi - step
    if not all(b.holds(value) for b in bounds):
        raise SpecError(f"no value of {symbol} satisfies " + " and ".join(map(str, bounds)))
    return value


def kink_sites(net) -> dict:
    """{quantity: (the expression that sits on a breakpoint, the breakpoints)} for every
    activation with breakpoints (ReLU, leaky ReLU, |z|, hardtanh, relu6, ...), keyed by
    its pre-activation, and every other application of a piecewise primitive in an
    equation, keyed by the equation's name: ``max(z1, 0)`` ties where z1 - 0 = 0,
    ``clamp(z, 0, 1)`` has breakpoints 0 and 1 in z.

    >>> from derivcheck.core.network import chain
    >>> list(kink_sites(chain(["w1", "w2"], "relu,sigmoid")))
    [z1]
    >>> from derivcheck.core.network import forward
    >>> kink_sites(forward(["z1 = w1*x", "yhat = max(z1, 0)"]))
    {yhat: (w1*x, (Fraction(0, 1),))}
    """
    defs = net.graph.definitions
    sites = {}
    for node in net.graph.nodes:
        act = node.activation
        if node.role == Role.ACT and act is not None and act.kind.kinks:
            z = node.expr.args[0]
            key = z if isinstance(z, Symbol) else node.symbol
            sites[key] = (defs.get(z, z), tuple(Fraction(b) for b in act.kind.kinks))
        elif node.role != Role.ACT and node.role != Role.LOSS:
            site = _tie(node.expr)
            if site is not None:
                u, points = site
                u = u.xreplace({s: defs[s] for s in u.free_symbols if s in defs})
                sites[node.symbol] = (u, points)
    return sites


def _tie(expr):
    """(u, breakpoints in u) of a piecewise primitive applied in ``expr`` (the expression
    itself, or its one non-constant term), with numeric kinks; None when it is none."""
    for term in (expr, *expr.args):
        prim = primitive_of(term)
        if prim is None or not prim.kinks or not isinstance(term, sympy.Function):
            continue
        if prim.operands == 2:
            return term.args[0] - term.args[1], (Fraction(0),)
        named = {p.name: a for p, a in zip(prim.params, term.args[prim.operands:])}
        points = [named[k] if k in named else sympy.Rational(k) for k in prim.kinks]
        if all(b.is_Rational for b in points):   # not where a parameter places the kink
            return term.args[0], tuple(Fraction(int(b.p), int(b.q)) for b in points)
    return None


def place_on_kink(net, point: dict, node_symbol, *, breakpoint=None) -> dict | None:
    """``point`` with one parameter moved so that the pre-activation ``node_symbol`` is
    exactly at a breakpoint of its activation (the nearest one unless ``breakpoint`` is
    given); None when no parameter enters it linearly with a nonzero exact coefficient.

    Among the parameters that could move, the one whose new value has the smallest
    denominator wins (so placed points stay exact in floating point where possible),
    then a bias.

    >>> from derivcheck.core.network import chain
    >>> net = chain(["w1", "w2"], "hardtanh")
    >>> p = place_on_kink(net, {"x": 2, "w1": 3, "w2": 1, "y": 0}, "z1")
    >>> p[Symbol("w1")]
    Fraction(1, 2)
    """
    sites = kink_sites(net)
    key = Symbol(str(node_symbol)) if not isinstance(node_symbol, Symbol) else node_symbol
    if key not in sites:
        raise SpecError(f"{node_symbol} is not the input of an activation with a kink",
                        hint="kinks: " + ", ".join(str(s) for s in sites))
    expr, breakpoints = sites[key]
    point = exact_point(net, point)
    ev = _forward_evaluator(net, point)
    z = ev(expr)
    if not isinstance(z, Fraction):
        return None
    if breakpoint is None:
        target = min(breakpoints, key=lambda b: abs(z - b))
    else:
        target = exact_number(breakpoint, "breakpoint")
    moves = []
    for i, (p, coef) in enumerate(_linear_parameters(net, key, expr).items()):
        c = ev(coef)
        if isinstance(c, Fraction) and c != 0:
            value = point[p] - (z - target) / c
            moves.append((value.denominator, coef != 1, i, p, value))
    for *_, p, value in sorted(moves):
        moved = {**point, p: value}
        if _forward_evaluator(net, moved)(expr) == target:
            return moved
    return None


def _forward_evaluator(net, point: dict) -> PointEvaluator:
    """An evaluator of forward expressions at ``point``, seeded with the values of every
    forward quantity from the (compiled) oracle."""
    values = Oracle(net).values(point)
    known = {s: values[s] for s in net.graph.definitions if s != net.graph.loss}
    return PointEvaluator(net.graph.definitions, {**point, **known})


def _linear_parameters(net, key: Symbol, expr) -> dict:
    """{parameter: coefficient} for parameters entering ``expr`` linearly."""
    node = net.graph.node(key) if key in net.graph.definitions else None
    params = set(net.params)
    if node is not None and node.linear is not None:
        return {p: c for p, c in node.linear.items() if p in params}
    out = {}
    for p in net.params:
        dep = expr.as_independent(p, as_Add=True)[1]
        coef = sympy.cancel(dep / p) if dep != 0 else 0
        if dep != 0 and not coef.has(p):
            out[p] = coef
    return out


def is_kink(net, point: dict, convention="any") -> bool:
    """Does the gradient at ``point`` depend on the kink convention (any of several, when
    ``convention`` is a tuple)?

    >>> from derivcheck.core.network import chain
    >>> net = chain(["w1", "w2"], "relu")
    >>> is_kink(net, {"x": 1, "w1": 0, "w2": 2, "y": 1})
    True
    >>> is_kink(net, {"x": 1, "w1": -1, "w2": 2, "y": 1})   # z2 = 0 behind a dead unit
    False
    >>> is_kink(chain(["w1"], "abs"), {"x": 1, "w1": 0, "y": 1}, ("torch", "jax"))
    True
    """
    conventions = convention if isinstance(convention, tuple) else (convention,)
    return any(_oracle(net, c).at_kink(point) for c in conventions)


@lru_cache(maxsize=8)
def _oracle(net, convention) -> Oracle:
    """One oracle per network and convention: building one for a wide network takes
    seconds, and kink placement asks many times."""
    return Oracle(net, convention)


def kink_points(net, point: dict, convention="any", *, sites=None) -> dict:
    """{pre-activation: ``point`` placed on its kink} for every kink site (or those in
    ``sites``) where the placement is solvable and the result is a kink under
    ``convention`` (or any of them, for a tuple).

    >>> from derivcheck.core.network import chain
    >>> net = chain(["w1", "w2"], "relu")
    >>> found = kink_points(net, {"x": 1, "w1": 1, "w2": 2, "y": 1})
    >>> {str(k): (str(p[Symbol("w1")]), str(p[Symbol("w2")])) for k, p in found.items()}
    {'z1': ('0', '2'), 'z2': ('1', '0')}
    """
    found = {}
    for site in kink_sites(net) if sites is None else sites:
        placed = place_on_kink(net, point, site)
        if placed is not None and is_kink(net, placed, convention):
            found[site] = placed
    return found


def sample_points(net, *, points: int = 8, kinks: bool = True, convention="any",
                  seed=0, assume=None, float_exact: bool = False) -> list[tuple[dict, bool]]:
    """``points`` random points, then (with ``kinks``) one point on each kink site where
    that is solvable (at most :data:`~derivcheck.limits.MAX_KINK_POINTS` sites, fewer on a
    network with many parameters, spread evenly over it), each as ``(point, at_kink)``: ``at_kink`` under ``convention``; a
    site is placed whenever the gradient there depends on the Step(0) value or on the
    framework profile (|z| at 0 is a kink for jax only). With ``float_exact``, kink
    points are kept only when every exact value, inputs to activations included, is a
    float64, so float code meets the kink exactly too.

    >>> from derivcheck.core.network import chain
    >>> sample = sample_points(chain(["w1", "w2"], "relu"), points=2, seed=1)
    >>> [at_kink for _, at_kink in sample]
    [False, False, True, True]
    >>> [at_kink for _, at_kink in sample_points(chain(["w1"], "abs"), points=0)]
    [False]
    """
    rng = random.Random(seed)
    assumptions = _assumptions(net, assume)
    oracle = Oracle(net, convention)
    drawn = [random_point(net, rng, assume=assumptions) for _ in range(points)]
    out = [(p, oracle.at_kink(p)) for p in drawn]
    if not kinks:
        return out
    remaining = list(kink_sites(net))
    most = max(limits.MIN_KINK_POINTS, min(limits.MAX_KINK_POINTS,
                                            limits.KINK_WORK // max(1, len(net.params))))
    if len(remaining) > most:  # a wide network: sites spread evenly
        remaining = remaining[::-(-len(remaining) // most)]
    for attempt in range(points + 4):
        if not remaining:
            break
        base = drawn[attempt] if attempt < len(drawn) else random_point(net, rng,
                                                                    assume=assumptions)
        found = kink_points(net, base, (convention, *FRAMEWORKS), sites=remaining)
        for site, placed in found.items():
            if assumptions.holds(placed) and not _saturated(net, placed) and (
                    not float_exact or _float_exact(net, placed)):
                out.append((placed, oracle.at_kink(placed)))
                remaining.remove(site)
    return out


def _float_exact(net, point: dict) -> bool:
    """Are the point and every exact forward quantity at it float64 numbers?"""
    values = Oracle(net).values(point)
    forward = [values[s] for s in net.graph.definitions if s != net.graph.loss]
    return all(Fraction(float(v)) == v for v in [*point.values(), *forward]
               if isinstance(v, Fraction))
