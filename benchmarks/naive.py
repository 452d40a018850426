"""The naive SymPy route that derivcheck is measured against.

Build the loss of a bias-free ReLU chain as nested ``Max(0, w_k * ...)`` and call
``sympy.diff`` once per weight (what a user of plain SymPy would write), optionally
followed by ``simplify``/``equals`` for checking a candidate.
"""
from __future__ import annotations

import sympy


def naive_chain_loss(depth: int):
    """Loss (y - a_n)^2/2 of a depth-n ReLU chain written with nested Max."""
    x, y = sympy.symbols("x y")
    ws = sympy.symbols(f"w1:{depth + 1}")
    a = x
    for w in ws:
        a = sympy.Max(0, w * a)
    return (y - a) ** 2 / 2, ws


def naive_all_gradients(depth: int):
    """diff of the nested-Max loss with respect to every weight."""
    loss, ws = naive_chain_loss(depth)
    return [sympy.diff(loss, w) for w in ws]
