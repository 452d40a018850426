"""Edits that turn the correct derivation into a wrong one, and candidates back into right
ones: the raw material of :mod:`derivcheck.decide.diagnosis`.

Two directions, each checked by an identity test (off the kinks, every gate free, so the
match holds on every sign region at once):

* :func:`mutants`: the correct chain rule with one step changed (a gate dropped at layer
  k, f' applied to the activation, another activation's derivative, a weight, input or
  the loss derivative dropped, every gate dropped); :func:`pairs` combines two of them
  (two mistakes in one derivation). A candidate equal to a constant times a mutant *is*
  that edited derivation: undoing the edit and the constant gives the true gradient.
* :func:`substitutions`: the candidate with one occurrence of a quantity of the network
  replaced by another (``w1`` written where ``x`` belongs, ``a2`` for ``a1``).

>>> from derivcheck.core.network import chain
>>> net = chain(["w1", "w2"], "relu")
>>> [m.mistakes[0].kind for m in list(mutants(net, net.definitions()))[1:4]]
['missing_gate', 'wrong_gate_argument', 'wrong_activation_derivative']
>>> w1, x = sympy.symbols("w1 x")
>>> sorted(str(e) for e, used, right in substitutions(w1 * x, [w1, x]))
['w1**2', 'x**2']
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import sympy

from ..core.activations import parse_activation
from ..core.graph import Role
from ..core.gradients import adjoint_name, adjoint_symbol
from .mistakes import (MissingFactor, MissingGate, MissingGates, WrongActivationDerivative,
                       WrongGateArgument)

__all__ = ["Mutant", "mutants", "pairs", "substitutions"]

_SWAPS = ("relu", "sigmoid", "tanh", "identity")


@dataclass
class Mutant:
    """An edit of the derivation: the definitions it replaces and the mistakes it is."""

    mistakes: list
    changes: dict

    def definitions(self, base: dict) -> dict:
        return {**base, **self.changes}


def _act_nodes(net):
    return [n for n in net.graph.nodes if n.role == Role.ACT and n.activation is not None
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


def mutants(net, defs: dict):
    """Single edits of the correct derivation (the unedited one first)."""
    yield Mutant([], {})
    bw_adj = {n.symbol: adjoint_symbol(n.symbol) for n in net.graph.nodes}
    acts = _act_nodes(net)
    for node in acts:
        yield from _activation_mutants(node, bw_adj)
    for node in net.graph.nodes:
        if node.linear is None:
            continue
        adj_z = bw_adj[node.symbol]
        for u, coef in node.linear.items():
            target = adjoint_symbol(u)
            if target not in defs or not coef.is_Symbol:
                continue  # dC/da_{k-1} gets dC/dz_k * w_k, dC/dw_k gets dC/dz_k * a_{k-1}
            why = f"{adjoint_name(u)} = {adjoint_name(node.symbol)} * {coef}"
            yield Mutant([MissingFactor(factor=str(coef), why=why, layer=node.layer,
                                        expr=coef)],
                         {target: _without_factor(defs[target], adj_z, coef)})
    yield from _loss_mutants(net, defs, bw_adj)
    if acts:
        yield Mutant([MissingGates()], {bw_adj[n.expr.args[0]]: bw_adj[n.symbol] for n in acts})


def _activation_mutants(node, bw_adj):
    z, a, act, layer = node.expr.args[0], node.symbol, node.activation, node.layer
    adj_z, adj_a = bw_adj[z], bw_adj[a]
    variants = []
    if act.is_piecewise:
        variants.append((sympy.S.One, MissingGate(z=str(z), layer=layer)))
    variants.append((act.derivative(a),
                     WrongGateArgument(a=str(a), z=str(z), layer=layer)
                     if act.name == "relu" else
                     WrongActivationDerivative(used=f"f'({a})", act=act.name,
                                               right=f"f'({z})", layer=layer)))
    for other in _SWAPS:
        if other != act.name:
            used = parse_activation(other).derivative(z)
            variants.append((used, WrongActivationDerivative(
                used=f"{other}'({z})", act=act.name, right=f"{act.name}'({z})", layer=layer)))
    for deriv, mistake in variants:
        yield Mutant([mistake], {adj_z: adj_a * deriv})


def _loss_mutants(net, defs, bw_adj):
    """The loss derivative dC/dyhat dropped (the factor (yhat - y), or 2(a - y) under
    the squared loss)."""
    loss_nodes = [n for n in net.graph.nodes if n.role == Role.LOSS]
    outputs = {s for n in loss_nodes for s in n.expr.free_symbols if s in bw_adj}
    if len(outputs) != 1:
        return
    out = outputs.pop()
    adj = bw_adj[out]
    if adj in defs:
        layer = next((n.layer for n in net.graph.nodes if n.symbol == out), None)
        yield Mutant([MissingFactor(factor=str(defs[adj]),
                                    why=f"{adjoint_name(out)} = {defs[adj]}, the derivative of "
                                        "the loss, starts the chain rule", layer=layer,
                                    expr=defs[adj])],
                     {adj: sympy.S.One})


def pairs(singles: list):
    """Two single edits of different steps, applied together."""
    for m1, m2 in itertools.combinations(singles, 2):
        if not m1.mistakes or not m2.mistakes or set(m1.changes) & set(m2.changes):
            continue
        yield Mutant(m1.mistakes + m2.mistakes, {**m1.changes, **m2.changes})


def substitutions(expr, quantities):
    """``(edited, used, right)``: ``expr`` with one occurrence of a quantity ``used``
    (a symbol of ``quantities``) replaced by another, ``right``."""
    if expr.is_Symbol:
        if expr in quantities:
            for q in quantities:
                if q != expr:
                    yield q, expr, q
        return
    for i, arg in enumerate(expr.args):
        for edited, used, right in substitutions(arg, quantities):
            yield expr.func(*expr.args[:i], edited, *expr.args[i + 1:]), used, right
