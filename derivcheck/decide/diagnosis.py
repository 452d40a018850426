"""Name the mistake: which edit of the correct derivation gives the candidate.

Each mistake is a small class with its ``kind`` and a message template (pyflakes
style). To find them, the correct chain rule is mutated one step at a time (a gate
dropped at layer k, f' applied to the activation, another activation's derivative, a
weight or input factor dropped, every gate dropped) and each mutant is compared with
the candidate formally (off the kinks, gates free); the ratio of the two, when it is a
constant, adds ``sign_flip`` (-1) or ``constant_factor`` (2 for squared vs
half_squared). Parameters the true gradient depends on but the candidate never
mentions point at a formula reused from a shallower network.

>>> from derivcheck.core.network import chain
>>> from derivcheck.core.functions import ReLU
>>> w1, x, y = sympy.symbols("w1 x y")
>>> [d.kind for d in diagnose(chain(["w1"]), sympy.Symbol("w1"), (y - ReLU(w1*x))*x)]
['sign_flip', 'missing_gate']
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import sympy
from sympy import Symbol

from .. import limits
from ..core.activations import parse_activation
from .formal import FormalEvaluator, rational_reconstruct
from ..core.gradients import adjoint_name
from ..core.sharing import name_arguments
from .verdict import Diagnosis

__all__ = ["diagnose", "MESSAGES"]

#: kind -> message template (filled with str.format).
MESSAGES = {
    "sign_flip": "The sign is flipped: the loss derivative is (yhat - y), not (y - yhat). "
                 "dC/dyhat of (y - yhat)^2/2 is -(y - yhat).",
    "constant_factor": "Off by a constant factor {factor}: {why}",
    "missing_gate": "The ReLU gate Step({z}) of layer {layer} is missing: backpropagating "
                    "through a_{layer} = relu({z}) multiplies by relu'({z}) = Step({z}).",
    "missing_gates": "Every activation derivative is missing: each layer's chain-rule step "
                     "dC/dz = dC/da * f'(z) was dropped (for ReLU the factors Step(z_k)).",
    "extra_gate": "There is a gate Step({arg}) that the correct gradient does not have.",
    "wrong_gate_argument": "Layer {layer}'s gate is applied to the activation {a} instead of "
                           "the pre-activation {z}: the derivative is f'({z}).",
    "wrong_activation_derivative": "Layer {layer} uses {used} where the derivative of its "
                                   "activation {act} belongs ({right}).",
    "missing_factor": "A factor {factor} is missing at layer {layer}: {why}",
    "reused_last_layer_formula": "The formula does not involve {missing}, although the "
                                 "gradient of {wrt} depends on them: it looks like the formula "
                                 "of a shallower network (the last layer's formula) reused for "
                                 "a deeper weight. Backpropagate through every layer between "
                                 "{wrt} and the loss.",
    "convention_only": "Equal everywhere except on the kinks: the formulas differ only in "
                       "the value taken at a breakpoint (e.g. Step(0) versus [z > 0]).",
    "unexplained": "The candidate differs from the correct gradient in a way that is not one "
                   "of the common single mistakes; compare it with the derivation step by step.",
}

_SWAPS = ("relu", "sigmoid", "tanh", "identity")


@dataclass
class _Mutant:
    kinds: list            # list of (kind, fields, layer)
    definitions: dict


def _message(kind, **fields) -> str:
    return MESSAGES[kind].format(**fields)


def diagnose(net, wrt: Symbol, candidate, *, convention="any", verdict="not_equivalent",
             signs=None) -> list[Diagnosis]:
    """Diagnoses for ``candidate`` as a gradient of ``wrt`` (most specific first)."""
    if verdict == "equivalent_almost_everywhere":
        return [Diagnosis("convention_only", MESSAGES["convention_only"])]
    defs = net.definitions(convention)
    reference = Symbol(adjoint_name(wrt))
    signs = signs or {}
    registry: dict = {}
    flat, named = name_arguments(candidate)
    base = FormalEvaluator({**defs, **named}, mode="offkink", signs=signs, registry=registry)
    for node in net.graph.nodes:  # mutants change only the backward pass: share the forward
        base.symbol(node.symbol)
    forward = {n.symbol: base.symbol(n.symbol) for n in net.graph.nodes}
    for mutant in itertools.islice(_mutants(net, defs), limits.MAX_MUTANTS):
        ratio = _ratio(FormalEvaluator({**mutant.definitions, **named}, mode="offkink",
                                       signs=signs, registry=registry, known=forward),
                       reference, flat)
        if ratio is None:
            continue
        out = _ratio_diagnoses(net, ratio)
        out += [Diagnosis(k, _message(k, **f), layer) for k, f, layer in mutant.kinds]
        if out:
            return out
    return _structural(net, defs, wrt, candidate)


def _ratio(fe, reference, candidate):
    """The constant candidate/reference as (n, d), or None when not constant."""
    try:
        r, k = fe.value(reference), fe.value(candidate)
    except ZeroDivisionError:
        return None
    if any(v == 0 for v in r):
        return (1, 1) if r == k else None
    from .formal import P
    ratios = {kk * pow(rr, -1, P) % P for rr, kk in zip(r, k)}
    if len(ratios) != 1:
        return None
    return rational_reconstruct(ratios.pop())


def _ratio_diagnoses(net, ratio) -> list[Diagnosis]:
    n, d = ratio
    if (n, d) == (1, 1):
        return []
    out = []
    if n < 0:
        out.append(Diagnosis("sign_flip", MESSAGES["sign_flip"]))
    if (abs(n), d) != (1, 1):
        loss = net.spec.loss
        why = ("the loss is (y - yhat)^2 / 2 (half_squared), whose derivative has no 2"
               if loss == "half_squared" and (abs(n), d) == (2, 1) else
               "the loss is (y - yhat)^2 (squared), whose derivative carries a factor 2"
               if loss == "squared" and (abs(n), d) == (1, 2) else
               "check the constant in the loss derivative")
        f = str(sympy.Rational(abs(n), d))
        out.append(Diagnosis("constant_factor", _message("constant_factor", factor=f, why=why)))
    return out


def _act_nodes(net):
    return [n for n in net.graph.nodes if n.role == "act" and n.activation is not None
            and n.expr.args and n.expr.args[0].is_Symbol]


def _without_factor(expr, adjoint, coef):
    """``expr`` (a sum of adjoint * coefficient terms) with ``coef`` dropped from the
    term ``adjoint * coef``; term by term, since ``subs`` takes a second at MLP width 30.

    >>> a, b, w, v = sympy.symbols("a b w v")
    >>> _without_factor(a * w + b * v, a, w)
    a + b*v
    """
    term = adjoint * coef
    args = sympy.Add.make_args(expr)
    if term in args:
        return sympy.Add(*[adjoint if t == term else t for t in args])
    return expr.subs(term, adjoint)


def _mutants(net, defs):
    """The correct derivation, then single mutations of it, then all gates dropped."""
    yield _Mutant([], defs)
    bw_adj = {n.symbol: Symbol(adjoint_name(n.symbol)) for n in net.graph.nodes}
    acts = _act_nodes(net)
    for node in acts:
        z = node.expr.args[0]
        adj_z, adj_a = bw_adj[z], bw_adj[node.symbol]
        layer = node.layer
        act = node.activation
        fields = {"z": str(z), "layer": layer, "a": str(node.symbol), "act": act.name}
        variants = []
        if act.is_piecewise:
            variants.append((sympy.S.One, [("missing_gate", fields, layer)]))
        variants.append((act.derivative(node.symbol),
                         [("wrong_gate_argument" if act.name == "relu"
                           else "wrong_activation_derivative",
                           {**fields, "used": f"f'({node.symbol})", "right": f"f'({z})"},
                           layer)]))
        for other in _SWAPS:
            if other != act.name:
                used = parse_activation(other).derivative(z)
                variants.append((used, [("wrong_activation_derivative",
                                         {**fields, "used": f"{other}'({z})",
                                          "right": f"{act.name}'({z})"}, layer)]))
        for deriv, kinds in variants:
            mutated = dict(defs)
            mutated[adj_z] = adj_a * deriv
            yield _Mutant(kinds, mutated)
    for node in net.graph.nodes:
        if node.linear is None:
            continue
        adj_z = bw_adj[node.symbol]
        for u, coef in node.linear.items():
            if u in bw_adj and coef.is_Symbol:  # dC/da_{k-1} gets dC/dz_k * w_k
                mutated = dict(defs)
                target = Symbol(adjoint_name(u))
                mutated[target] = _without_factor(defs[target], adj_z, coef)
                yield _Mutant([("missing_factor", {"factor": str(coef), "layer": node.layer,
                                                   "why": f"dC/d{u} = dC/d{node.symbol} * "
                                                          f"{coef}"}, node.layer)], mutated)
    if acts:
        mutated = dict(defs)
        for node in acts:
            mutated[bw_adj[node.expr.args[0]]] = bw_adj[node.symbol]
        yield _Mutant([("missing_gates", {}, None)], mutated)


def _structural(net, defs, wrt, candidate) -> list[Diagnosis]:
    """When no single mutation explains it: parameters never mentioned, extra gates."""
    from .search import Sampler
    from ..core.assumptions import Assumptions
    sampler = Sampler(net, defs, Assumptions())
    needed = sampler.deps(Symbol(adjoint_name(wrt))) & set(net.params)
    used = sampler.deps(candidate) & set(net.params)
    missing = sorted(needed - used - {wrt}, key=str)
    out = []
    if missing:
        out.append(Diagnosis("reused_last_layer_formula",
                             _message("reused_last_layer_formula",
                                      missing=", ".join(map(str, missing)), wrt=wrt)))
    ref_gates = {a for a in _gate_args(defs, Symbol(adjoint_name(wrt)))}
    for arg in _gate_args({}, candidate):
        if arg not in ref_gates and not any(arg == g for g in ref_gates):
            if not out:
                out.append(Diagnosis("extra_gate", _message("extra_gate", arg=arg)))
            break
    return out or [Diagnosis("unexplained", MESSAGES["unexplained"])]


def _gate_args(defs, expr) -> set:
    from ..core.functions import IsNonNeg, IsPos, Step
    out = set()
    for f in expr.atoms(Step, IsPos, IsNonNeg):
        out.add(f.args[0])
    for s in expr.free_symbols:
        if s in defs:
            for f in defs[s].atoms(Step):
                out.add(f.args[0])
    return out
