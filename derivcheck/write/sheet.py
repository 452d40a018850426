r"""Derivation sheets: a network's backpropagation written out the seed answer's way.

The sheet gives the forward equations, the loss derivative, then layer by layer from the
output down the three chain-rule steps (into the pre-activation, back to the previous
layer, onto the weight), each parameter's gradient factored and fully substituted, the
value of every kink under each convention, and, where the network has them, the
vanishing-gradient bound of sigmoid layers and what a dead ReLU unit does. Networks
deeper than six layers show their first and last three layers.

>>> from derivcheck.core.network import chain
>>> tex = sheet_source(chain(["w1"], "relu"))
>>> r"\frac{\partial C}{\partial z^{(1)}}" in tex and r"\operatorname{Step}" in tex
True
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from sympy import Add, Mul, Rational, Symbol

from .. import limits
from ..core.conventions import get_convention
from ..core.graph import Role
from ..errors import LimitError
from ..decide.evaluate import PointEvaluator
from ..core.functions import Step
from ..core.gradients import adjoint_name, adjoint_symbol, tree_size
from .latex import (WIDTH, align_row, latex, latex_name, latex_pieces, latex_value,
                    tex_width)
from .pdf import write_tex_or_pdf
from .render import render, tex_escape

__all__ = ["sheet_source", "write_sheet", "network_facts", "layer_steps"]

#: Layers shown at each end of a deep network; the middle ones are summarised.
EDGE = 3
#: Lines a fully substituted gradient may take before it is left out.
MAX_LINES = 8
_KINDS = {"chain": "scalar chain (one unit per layer)", "mlp": "fully connected network (MLP)",
          "forward": "explicit forward equations"}
_STEP_COLUMNS = ("0", "1/2", "1")
_PROFILES = ("torch", "jax", "tensorflow")


def sheet_source(network, convention: str = "any", *, assume=()) -> str:
    r"""The LaTeX source of ``network``'s derivation sheet under ``convention``;
    ``assume`` (texts such as ``"x > 0"``) are listed with the network.

    >>> from derivcheck.core.network import chain
    >>> src = sheet_source(chain(["w1", "w2"], "sigmoid"))
    >>> "semilogyaxis" in src, r"\sigma(z^{(2)})" in src
    (True, True)
    """
    return _Sheet(network, get_convention(convention)).source(list(assume))


def write_sheet(network, path, convention: str = "any", *, assume=()) -> Path:
    """Write the sheet to ``path`` (``.tex``, or ``.pdf`` through pdflatex).

    >>> import tempfile, pathlib
    >>> from derivcheck.core.network import chain
    >>> with tempfile.TemporaryDirectory() as d:
    ...     write_sheet(chain(["w1"]), pathlib.Path(d) / "s.tex").stat().st_size > 1000
    True
    """
    return write_tex_or_pdf(sheet_source(network, convention, assume=assume), path)


def network_facts(network, convention: str = "any") -> list:
    """Rows ``(label, value, is_math)`` describing ``network``: kind, layers, widths,
    loss, activations, names and the kink convention (user-chosen text is not math).

    >>> from derivcheck.core.network import chain
    >>> for row in network_facts(chain(["w1", "w2"], "relu"))[:5]:
    ...     print(row)
    ('Network', 'scalar chain (one unit per layer)', False)
    ('Layers', '2', False)
    ('Loss', 'half_squared', False)
    ('Activations', 'relu', False)
    ('Parameters', 'w_{1}, w_{2}', True)
    """
    g = network.graph
    spec = g.spec
    acts = [n.activation.label() for n in g.nodes if n.role == Role.ACT and n.activation]
    if spec.kind == "mlp":
        acts = [a.strip() for a in spec.activations]
    elif len(set(acts)) == 1:
        acts = acts[:1]
    facts = [("Network", _KINDS[spec.kind]), ("Loss", spec.loss)]
    if spec.kind == "mlp":
        facts.insert(1, ("Widths", "-".join(str(w) for w in spec.widths)))
    if g.depth:
        facts.insert(1, ("Layers", str(g.depth)))
    facts.append(("Activations", ", ".join(acts) or "none"))
    names = [("Parameters", g.params), ("Inputs", g.inputs), ("Targets", g.targets)]
    return ([(k, v, False) for k, v in facts] + [(k, _name_list(v), True) for k, v in names]
            + [("Kink convention", get_convention(convention).name, False)])


def layer_steps(network, layer: int, convention: str = "any") -> list:
    r"""The chain-rule steps of one layer as tagged ``align`` rows.

    >>> from derivcheck.core.network import chain
    >>> for row in layer_steps(chain(["w1", "w2"]), 2):
    ...     print(row.split(" = ")[-1])
    \frac{\partial C}{\partial a^{(2)}} \, \operatorname{Step}(z^{(2)}) \tag{1}
    \frac{\partial C}{\partial z^{(2)}} \, w_{2} \tag{2}
    \frac{\partial C}{\partial z^{(2)}} \, a^{(1)} \tag{3}
    """
    return _Sheet(network, get_convention(convention)).layer(layer)["rows"]


class _Sheet:
    def __init__(self, network, convention):
        self.net, self.graph, self.convention = network, network.graph, convention
        self.bw = network.backward(convention)
        nodes = self.graph.nodes
        self.consumers: dict = {}
        for node in nodes:
            for s in node.expr.free_symbols:
                self.consumers.setdefault(s, []).append(node)
        top = len(nodes) + 1
        self.rank = {s: nodes.index(users[0]) for s, users in self.consumers.items()}
        self.rank.update({adj: top for adj in self.bw.definitions})
        self.depth = self.graph.depth
        deep = self.depth > 2 * EDGE
        self.shown = (set(range(1, EDGE + 1)) | set(range(self.depth - EDGE + 1, self.depth + 1))
                      if deep else set(range(1, self.depth + 1)))
        self.yhat = {v: k for k, v in self.graph.aliases.items() if k.startswith("yhat")}

    # ---- ordering and rows --------------------------------------------------------

    def ordered(self, expr, forward: bool = False):
        """Factors in the seed's order: weights first in a forward equation (``w x + b``),
        from the loss down in a backward one (``(a - y) Step(z) w x``)."""
        if expr.is_Add:
            terms = [self.ordered(t, forward) for t in expr.args]
            if forward:  # w x + b
                terms.sort(key=lambda t: not t.is_Mul)
            return Add(*terms, evaluate=False)
        if not expr.is_Mul:
            return expr
        top = len(self.graph.nodes) + 2
        params = set(self.graph.params)

        def key(f):
            if forward:
                return 0 if f.free_symbols & params else 1
            return (-max((self.rank.get(s, top) for s in f.free_symbols), default=top),
                    f.is_Add)
        return Mul(*sorted(expr.args, key=key), evaluate=False)

    def name(self, s) -> str:
        alias = self.yhat.get(s)
        return latex_name(alias) + " = " + latex(s) if alias else latex(s)

    def adjoint_row(self, u, tag=None) -> str:
        """dC/du = sum over consumers v of dC/dv dv/du = its definition."""
        if u in self.bw.adjoints:
            adj = self.bw.adjoints[u]
            expr = self.bw.definitions[adj]
        else:
            adj, expr = adjoint_symbol(u), self.bw.gradients[u]
        users = [v for v in self.consumers.get(u, []) if v.role != Role.LOSS]
        middle = " + ".join(
            rf"{latex(self.bw.adjoints[v.symbol])}\frac{{\partial {latex(v.symbol)}}}"
            rf"{{\partial {latex(u)}}}" for v in users)
        sides = [middle] if users and tex_width(middle) < WIDTH / 2 else []
        return align_row(latex(adj), *sides, self.ordered(expr), tag=tag)

    # ---- sections -----------------------------------------------------------------

    def forward_rows(self) -> list:
        rows, gap, units = [], False, self._shown_units()
        for node in self.graph.nodes:
            if node.layer is not None and node.layer not in self.shown:
                if not gap:
                    rows.append(r"&\;\;\vdots")
                    gap = True
                continue
            if node.symbol not in units:
                if rows[-1] != r"&\;\;\vdots":
                    rows.append(r"&\;\;\vdots")
                continue
            rows.append(align_row(self.name(node.symbol), self.ordered(node.expr, True)))
        return rows

    def _shown_units(self) -> set:
        """Symbols of the units written out: every unit of a narrow layer; of a layer wider
        than ``limits.SHEET_UNITS``, its first units and its last (the rest are summarised,
        so a wide network's sheet stays short and quick to make)."""
        layers: dict = {}
        for node in self.graph.nodes:
            layers.setdefault((node.layer, node.role), []).append(node.symbol)
        keep = limits.SHEET_UNITS
        return {s for nodes in layers.values()
                for s in (nodes if len(nodes) <= keep else nodes[:keep - 1] + nodes[-1:])}

    def loss_rows(self) -> list:
        rows = []
        for out in self.graph.outputs:
            adj = self.bw.adjoints[out]
            lhs = latex(adj)
            if out in self.yhat:
                lhs = latex_name(adjoint_name(self.yhat[out])) + " = " + lhs
            loss = latex(self.graph.definitions[self.graph.loss])
            middle = rf"\frac{{\partial}}{{\partial {latex(out)}}} {loss}"
            sides = [middle] if tex_width(middle) < WIDTH / 2 else []
            rows.append(align_row(lhs, *sides, self.ordered(self.bw.definitions[adj])))
        return rows

    def layers(self) -> list:
        """Per layer, output first: its steps (1), (2), (3) as align rows."""
        if not self.depth:
            rows = [self.adjoint_row(n.symbol) for n in reversed(self.graph.nodes)
                    if n.role != Role.LOSS and n.symbol not in self.graph.outputs]
            rows += [self.adjoint_row(p) for p in self.graph.params]
            return [{"title": "All quantities, from the loss down", "rows": rows}]
        out = []
        for k in range(self.depth, 0, -1):
            if k in self.shown:
                out.append(self.layer(k))
            elif out[-1].get("rows"):
                out.append({"gap": f"Layers {EDGE + 1} to {self.depth - EDGE} repeat the "
                                   "same three steps."})
        return out

    def layer(self, k: int) -> dict:
        """Layer ``k``'s steps (1) into its pre-activations, (2) back to the quantities
        they use, (3) onto its parameters, as tagged align rows."""
        every = [n for n in self.graph.nodes if n.layer == k and n.role == Role.PRE]
        units = self._shown_units()
        pre = [n for n in every if n.symbol in units]
        act = [n for n in self.graph.nodes if n.layer == k and n.role == Role.ACT
               and n.symbol in units]
        used = dict.fromkeys(s for n in pre + act for s in sorted(n.expr.free_symbols, key=str))
        back = [s for s in used if s in self.bw.adjoints and s not in {n.symbol for n in pre}]
        params = [p for p in self.graph.params if p in used]
        keep = limits.SHEET_UNITS
        all_back, all_params = len(back), len(params)
        if len(back) > keep:
            back = back[:keep - 1] + back[-1:]
        if len(params) > keep:
            params = params[:keep - 1] + params[-1:]
        rows = [self.adjoint_row(n.symbol, 1) for n in pre]
        rows += [self.adjoint_row(s, 2) for s in back]
        rows += [self.adjoint_row(p, 3) for p in params]
        title = f"Layer {k}" + (" (output)" if k == self.depth else "")
        if len(pre) < len(every) or len(back) < all_back or len(params) < all_params:
            title += (f": {len(every)} units; rows shown for {len(pre)} of them, "
                      f"{len(back)} of {all_back} inputs and {len(params)} of the parameters "
                      "they use, the others follow the same pattern")
        return {"title": title, "rows": rows, "params": params}

    def gradients(self, layers) -> tuple[str, str]:
        """The body of one ``align*`` with every shown parameter's gradient, factored
        then fully substituted, and what follows it (a note on the last one)."""
        params = [p for layer in layers for p in layer.get("params", [])] or self.graph.params
        body, after = "", ""
        for i, p in enumerate(params):
            inline = self.ordered(self.bw.inline(self.bw.gradients[p]))
            lhs = latex(adjoint_symbol(p))
            full, note = self.substituted(p, inline, WIDTH - tex_width(lhs) - 4)
            body += align_row(lhs, *([inline, full] if full is not None else [inline]))
            if i == len(params) - 1:
                after = note
            elif note:
                body += f" \\\\\n\\intertext{{\\small {tex_escape(note)}}}\n"
            else:
                body += " \\\\[1.5ex]\n"
        return body, after

    def substituted(self, p, inline, budget: float):
        """(the fully substituted gradient of ``p`` in the factored form's order, or None
        when it equals the factored form or will not fit; a note on why it is left out).

        Sizes are measured on the factored form first, so nothing too large for a page
        is ever built or printed; past :meth:`Backward.expand`'s limit, its refusal is
        the note."""
        defs = self.graph.definitions
        factors = inline.args if inline.is_Mul else (inline,)
        total = tree_size(inline, defs)
        note = (f"Fully substituted it has {total} terms, too many to print usefully; "
                "the factored form is exact.")
        if total > limits.MAX_EXPANDED_SIZE:
            try:
                self.bw.expand(self.bw.gradients[p])
            except LimitError as err:
                return None, f"Fully substituted it is not printed: {err.message}."
        if total > MAX_LINES * budget or max(tree_size(f, defs) for f in factors) > budget:
            return None, note
        full = Mul(*[self.bw.expand(f) for f in factors], evaluate=False)
        pieces = latex_pieces(full)
        if (max(tex_width(t) for _, t in pieces) > budget
                or sum(tex_width(t) for _, t in pieces) > MAX_LINES * budget):
            return None, note
        return (None if full == inline else full), ""

    def kink_rows(self) -> list:
        z = Symbol("z")
        acts = {n.activation.label(): n.activation for n in self.graph.nodes
                if n.role == Role.ACT and n.activation and n.activation.is_piecewise}
        rows = []
        for label, act in acts.items():
            fn = act.apply(z)
            for bp in act.kind.kinks:
                point = {z: Fraction(bp)}
                cells = [_kink_value(get_convention(c).derivative(fn, 1), point, Fraction(c))
                         for c in _STEP_COLUMNS]
                cells += [_kink_value(get_convention(c).derivative(fn, 1), point, Fraction(0))
                          for c in _PROFILES]
                rows.append({"activation": label, "at": bp, "cells": cells})
        return rows

    def vanishing(self):
        acts = self._layer_activations()
        if not acts or not {"sigmoid", "tanh"} & set(acts.values()):
            return None
        rows = []
        for k in sorted(acts, reverse=True):
            if k in self.shown:
                s = sum(acts[j] == "sigmoid" for j in acts if j >= k)
                t = sum(acts[j] == "tanh" for j in acts if j >= k)
                rows.append({"layer": k, "sigmoid": s, "tanh": t,
                             "bound": f"(1/4)^{{{s}}} = 1/{4 ** s}" if s else "1"})
        n = max(10, sum(a == "sigmoid" for a in acts.values()))
        curve = " ".join(f"({i},{0.25 ** i:.6e})" for i in range(n + 1))
        marks = " ".join(f"({r['sigmoid']},{0.25 ** r['sigmoid']:.6e})" for r in rows)
        return {"rows": rows, "curve": curve, "marks": marks, "xmax": n}

    def dead_units(self):
        acts = self._layer_activations()
        relu = [k for k in sorted(acts) if acts[k] == "relu"]
        if self.graph.spec.kind != "chain" or not relu:
            return None
        spec = self.graph.spec
        x, y = self.graph.inputs[0], self.graph.targets[0]
        weights = [Symbol(w) for w in spec.weights]
        defs = self.net.definitions(self.convention)
        rows = []
        for m in [None] + [k for k in relu if k in self.shown]:
            point = {p: Fraction(0) for p in self.graph.params}
            point.update({w: Fraction(-1 if k == m else 1) for k, w in enumerate(weights, 1)})
            point.update({x: Fraction(1), y: Fraction(2)})
            evaluators = [PointEvaluator(defs, point, step0=c)
                          for c in (Fraction(0), Fraction(1, 2), Fraction(1))]
            zero = [p for p in self.graph.params
                    if all(ev.symbol(adjoint_symbol(p)) == 0 for ev in evaluators)]
            z_value = None
            if m is not None:
                pre = next(n for n in self.graph.nodes if n.layer == m and n.role == Role.PRE)
                z_value = latex_value(evaluators[0].symbol(pre.symbol))
            live = [p for p in self.graph.params if p not in zero]
            rows.append({"layer": m, "weight": latex(weights[m - 1]) if m else None,
                         "z": z_value, "zero": _name_list(zero), "live": _name_list(live)})
        return {"rows": rows, "x": latex(x), "y": latex(y), "biases": bool(spec.biases)}

    def _layer_activations(self) -> dict:
        return {n.layer: n.activation.name for n in self.graph.nodes
                if n.role == Role.ACT and n.activation and n.layer}

    def source(self, assume: list) -> str:
        spec = self.graph.spec
        layers = self.layers()
        title = (f"Derivation sheet: a {self.depth}-layer {spec.activations[0]} chain"
                 if spec.kind == "chain" and len(set(spec.activations)) == 1 else
                 f"Derivation sheet: a {self.depth}-layer chain" if spec.kind == "chain" else
                 "Derivation sheet: an MLP with widths " + "-".join(map(str, spec.widths))
                 if spec.kind == "mlp" else "Derivation sheet")
        z = sorted({_base(n.symbol) for n in self.graph.nodes if n.role == Role.PRE})
        a = sorted({_base(n.symbol) for n in self.graph.nodes if n.role == Role.ACT})
        return render(
            "sheet.tex", title=title, kind=spec.kind,
            facts=network_facts(self.net, self.convention), assume=assume,
            forward=self.forward_rows(), loss=self.loss_rows(), layers=layers,
            gradients=self.gradients(layers), kinks=self.kink_rows(),
            step_columns=[latex(Rational(c)) for c in _STEP_COLUMNS], profiles=_PROFILES,
            vanishing=self.vanishing(),
            dead=self.dead_units(), z=z[0] if z else "z", a=a[0] if a else "a",
            summarised=len(self.shown) < self.depth, depth=self.depth, edge=EDGE)


def _base(symbol) -> str:
    return str(symbol).rstrip("0123456789").split("_")[0].rstrip("0123456789")


def _name_list(symbols) -> str:
    r"""Names in LaTeX, shortened to ``first, second, \ldots, last`` past six."""
    symbols = list(symbols)
    if len(symbols) > 6:
        names = [latex(s) for s in symbols[:2]] + [r"\ldots", latex(symbols[-1])]
    else:
        names = [latex(s) for s in symbols]
    return ", ".join(names) if names else r"\text{none}"


def _kink_value(derivative, point: dict, step0: Fraction) -> str:
    """The derivative's value at a breakpoint, exactly; symbolic for a learnable slope."""
    try:
        return latex_value(PointEvaluator({}, point, step0=step0)(derivative))
    except KeyError:
        value = derivative.subs({s: Rational(v.numerator, v.denominator)
                                 for s, v in point.items()})
        return latex(value.replace(Step, lambda _: Rational(step0.numerator, step0.denominator)))
