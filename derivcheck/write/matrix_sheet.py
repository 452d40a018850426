r"""Derivation sheets and reports for matrix networks, in the style's notation.

A sheet gives the network and every quantity's shape, the forward pass, the loss, the
style's own general backward equations (deeplearning.ai's six equations, cs231n's case
study, Nielsen's BP1-BP4, the seed answer's three general equations), then this network's
backward pass layer by layer with each gradient's shape beside it. That backward pass is
derivcheck's matrix backward pass, which every check compares with the exact scalar
gradients. A report on a matrix check shows the formula as typed and as read, the correct
gradient, the counterexample's sizes and exact matrices, the diagnosis and the method.

>>> from derivcheck.core.matrix.network import MatrixNetwork
>>> net = MatrixNetwork(["n0", "n1", 1], "tanh,sigmoid", "bce", batch="m", bias=True)
>>> src = matrix_sheet_source(net)
>>> r"dW^{[l]} &= \frac{1}{m} dZ^{[l]} A^{[l-1]\top}" in src, r"n_{1} \times n_{0}" in src
(True, True)
"""
from __future__ import annotations

from pathlib import Path

from ..core.matrix import expr as mx
from ..core.matrix.layout import pushed
from .matrix_latex import _FUNCS, _transposed, mlatex, name_tex, shape_tex
from .matrix_page import column_read_tex, correct_tex, definitions_tex, left_side_tex
from .pdf import write_tex_or_pdf
from .render import render

__all__ = ["matrix_sheet_source", "write_matrix_sheet", "matrix_report_source"]

_WHAT = {"X": "input", "Y": "targets", "W": "weights", "b": "biases", "Z": "pre-activations",
         "A": "activations", "P": "probabilities"}
_LOSS = {"half_squared": r"\tfrac{1}{2}\lVert \hat{y} - y \rVert^{2}",
         "squared": r"\lVert \hat{y} - y \rVert^{2}",
         "mse": r"\tfrac{1}{n_{L}}\lVert \hat{y} - y \rVert^{2}",
         "bce": r"-\textstyle\sum_{j} \left(y_{j} \log \hat{y}_{j} + (1 - y_{j}) "
                r"\log(1 - \hat{y}_{j})\right)",
         "cross_entropy": r"-\textstyle\sum_{j} y_{j} \log p_{j}"}


def matrix_sheet_source(net) -> str:
    """The LaTeX source of a matrix network's derivation sheet."""
    return render("matrix_sheet.tex", title=f"derivcheck: backpropagation in the "
                  f"{net.style.name} style", style=net.style, facts=_facts(net),
                  shapes=_shapes(net), forward=_forward(net), loss=_loss(net),
                  general=_general(net), backward=_backward(net),
                  stacked=net.style.name == "ng" and net.has_batch and net.reduce == "mean")


def write_matrix_sheet(net, path) -> Path:
    """Write the sheet to ``path`` (``.tex``, or ``.pdf`` through pdflatex)."""
    return write_tex_or_pdf(matrix_sheet_source(net), path)


def _tex(net, key) -> str:
    if key == ("A", 0):
        key = ("X",)
    return name_tex(net.name(key), net.style)


def _facts(net) -> list:
    acts = [a if isinstance(a, str) else a.label() for a in net.acts]
    from .render import tex_escape
    plain = [("Widths", ", ".join(str(w) for w in net.widths)),
             ("Examples", f"a batch of {net.batch}" if net.has_batch else "one example"),
             ("Activations", ", ".join(acts)),
             ("Loss", f"{net.loss}, {net.reduce} over the batch" if net.has_batch
              else net.loss),
             ("Biases", _biases_text(net))]
    style = net.style.description_tex or tex_escape(net.style.description)
    return [("Style", style)] + [(label, tex_escape(value)) for label, value in plain]


def _biases_text(net) -> str:
    if net.bias or not any(net.biases):
        return "yes" if net.bias else "no"
    return "only " + ", ".join(net.name(("b", l)) for l in range(1, net.L + 1)
                               if net.has_bias(l))


def _shapes(net) -> list:
    """(name, what, shape) of every quantity, in the style's layout."""
    out = []
    for key in net.keys:
        what = _WHAT[key[0]] + (f" of layer {key[1]}" if len(key) > 1 else "")
        out.append((_tex(net, key), what, shape_tex(net.styled_shape(key))))
    return out


def _act_tex(net, l) -> str:
    a = net.activation(l)
    name = a if isinstance(a, str) else a.name
    return _FUNCS.get(name, rf"\operatorname{{{name}}}".replace("_", r"\_"))


def _forward(net) -> list:
    rows = []
    style = net.style
    for l in range(1, net.L + 1):
        W, Z, A = _tex(net, ("W", l)), _tex(net, ("Z", l)), _tex(net, ("A", l))
        prev = _tex(net, ("A", l - 1))
        if style.layout == "rows":
            rhs = f"{prev} {W}"
        elif style.weights == "in_out":
            rhs = f"{_transposed(W)} {prev}"
        else:
            rhs = f"{W} {prev}"
        if net.has_bias(l):
            rhs += " + " + _tex(net, ("b", l))
        rows.append((rf"{Z} &= {rhs}", shape_tex(net.styled_shape(("Z", l)))))
        rows.append((rf"{A} &= {_act_tex(net, l)}\left({Z}\right)",
                     shape_tex(net.styled_shape(("A", l)))))
    if net.loss == "cross_entropy" and not net.softmax_output:
        P = _tex(net, ("P",))
        rows.append((rf"{P} &= \operatorname{{softmax}}\left({_tex(net, ('A', net.L))}\right)",
                     shape_tex(net.styled_shape(("P",)))))
    return rows


def _loss(net) -> str:
    letter = net.style.loss
    per = _LOSS[net.loss]
    if not net.has_batch:
        return rf"{letter} = {per}"
    m = name_tex(str(net.batch), net.style)
    head = rf"\frac{{1}}{{{m}}}" if net.reduce == "mean" else ""
    return (rf"{letter} = {head}\sum_{{i=1}}^{{{m}}} \mathcal{{L}}^{{(i)}}, \qquad "
            rf"\mathcal{{L}} = {per}")


def _general(net) -> dict:
    """The style's own general backward equations (true for every such network)."""
    s = net.style.name
    m = name_tex(str(net.batch), net.style) if net.has_batch else "1"
    mean = net.has_batch and net.reduce == "mean"
    frac = rf"\frac{{1}}{{{m}}} " if mean else ""
    if s == "ng":
        rows = [(r"dZ^{[l]} &= dA^{[l]} \odot g^{[l]\prime}\left(Z^{[l]}\right)",
                 r"n^{[l]} \times m"),
                (rf"dW^{{[l]}} &= {frac}dZ^{{[l]}} A^{{[l-1]\top}}", r"n^{[l]} \times n^{[l-1]}"),
                (rf"db^{{[l]}} &= {frac}\textstyle\sum_{{i=1}}^{{{m}}} dz^{{[l](i)}}",
                 r"n^{[l]} \times 1"),
                (r"dA^{[l-1]} &= W^{[l]\top} dZ^{[l]}", r"n^{[l-1]} \times m")]
        if net.has_batch:   # the same, one example: column i
            rows.insert(1, (r"dz^{[l](i)} &= W^{[l+1]\top} dz^{[l+1](i)} \odot "
                            r"g^{[l]\prime}\left(z^{[l](i)}\right)", r"n^{[l]} \times 1"))
        if _ends_in_a_minus_y(net):
            rows.insert(0, (r"dZ^{[L]} &= A^{[L]} - Y", r"n^{[L]} \times m"))
        return {"title": "deeplearning.ai's equations", "rows": rows,
                "note": rf"$dZ^{{[l]}}$ and $dA^{{[l]}}$ stack the per-example gradients as "
                        rf"columns (${m}$ times the gradient of $J$): $dz^{{[l](i)}}$ is "
                        r"column $i$ of $dZ^{[l]}$, example $i$'s; $dW^{[l]}$ and "
                        r"$db^{[l]}$ are gradients of $J$; $A^{[0]} = X$."}
    if s == "cs231n":
        n = name_tex(str(net.batch), net.style) if net.has_batch else "1"
        rows = [(r"dW_{l} &= A_{l-1}^{\top} dZ_{l}", r"n_{l-1} \times n_{l}"),
                (r"db_{l} &= \textstyle\sum_{\text{rows}} dZ_{l}", r"n_{l}"),
                (r"dA_{l-1} &= dZ_{l} W_{l}^{\top}", rf"{n} \times n_{{l-1}}"),
                (r"dZ_{l} &= dA_{l} \odot g_{l}'\left(Z_{l}\right)", rf"{n} \times n_{{l}}")]
        if net.loss == "cross_entropy":
            scale = rf"\frac{{1}}{{{n}}}" if mean else ""
            rows.insert(0, (rf"\mathit{{dscores}} &= {scale}\left(P - Y\right)",
                            rf"{n} \times C"))
        return {"title": "cs231n's backward pass", "rows": rows,
                "note": r"Examples are rows; every $d$ name is a gradient of the loss $L$, "
                        r"with $A_{0} = X$; $\mathit{dscores}$ is $dZ$ of the last layer."}
    if s == "nielsen":
        rows = [(r"\delta^{L} &= \nabla_{a} C \odot \sigma'\left(z^{L}\right)",
                 r"n_{L} \times 1", "BP1"),
                (r"\delta^{l} &= \left(\left(w^{l+1}\right)^{\top} \delta^{l+1}\right) \odot "
                 r"\sigma'\left(z^{l}\right)", r"n_{l} \times 1", "BP2"),
                (r"\frac{\partial C}{\partial b^{l}_{j}} &= \delta^{l}_{j}", _each("j"), "BP3"),
                (r"\frac{\partial C}{\partial w^{l}_{jk}} &= a^{l-1}_{k} \delta^{l}_{j}",
                 _each("j, k"), "BP4")]
        return {"title": "Nielsen's four equations", "rows": rows,
                "note": r"$\delta^{l} = \partial C / \partial z^{l}$; $\sigma$ stands for "
                        r"layer $l$'s activation; layer 1 is the input ($a^{1} = x$)."}
    rows = [(r"\frac{\partial C}{\partial z^{(k+1)}_{j}} &= \frac{\partial C}{\partial "
             r"r^{(k+1)}_{j}} f'\left(z^{(k+1)}_{j}\right)", _each("j")),
            (r"\frac{\partial C}{\partial r^{(k)}_{i}} &= \sum_{j} \frac{\partial C}{\partial "
             r"z^{(k+1)}_{j}} W^{(k)}_{ij}", _each("i")),
            (r"\frac{\partial C}{\partial W^{(k)}_{ij}} &= \frac{\partial C}{\partial "
             r"z^{(k+1)}_{j}} r^{(k)}_{i}", _each("i, j"))]
    return {"title": "the seed answer's general equations", "rows": rows,
            "note": r"$W^{(k)}_{ij}$ joins unit $i$ of layer $k$ to unit $j$ of layer "
                    r"$k+1$; $f$ is the layer's activation ($f'(z) = \operatorname{Step}(z)$ "
                    r"for ReLU); $r^{(0)} = x$."}


def _each(indices: str) -> str:
    """The shape column of an equation between entries: which indices it holds for."""
    return rf"\text{{for each }} {indices}"


def _ends_in_a_minus_y(net) -> bool:
    last = net.activation(net.L)
    name = last if isinstance(last, str) else last.name
    return (name, net.loss) in (("sigmoid", "bce"), ("softmax", "cross_entropy"),
                                ("identity", "half_squared"))


def _backward(net) -> list:
    """This network's backward pass, output first: (layer title, rows of (lhs, rhs,
    shape))."""
    order = []
    for l in range(net.L, 0, -1):
        keys = [("A", l), ("Z", l), ("W", l)] + ([("b", l)] if net.has_bias(l) else [])
        order.append((f"Layer {l + net.style.unit_offset}",
                      [k for k in keys if k in net._gradients]))
    loss = net.style.loss
    out = []
    for title, keys in order:
        rows = []
        for key in keys:
            g = net.gradient(key)
            expr = getattr(g, "expansion", None) or g
            view = net.view(key)
            if view == "T":
                expr = pushed(mx.transpose(expr))
            elif view == "vec" and isinstance(expr, mx.Sum):
                expr = mx.Sum(pushed(mx.transpose(expr.arg)), 0, False)
            else:
                expr = pushed(expr)
            lhs = name_tex(f"d{loss}/d{net.name(key)}", net.style)
            rows.append((lhs, mlatex(expr, net.style), shape_tex(net.styled_shape(key))))
        out.append({"title": title, "rows": rows})
    return out


# -- reports -------------------------------------------------------------------------------

def matrix_report_source(result) -> str:
    """The LaTeX source of the report on a matrix check."""
    from .report import METHOD_WORDS, VERDICT_WORDS
    net = result.network
    style = net.style
    cand = result.candidate_expr
    read = mlatex(cand, style) if isinstance(cand, mx.MExpr) and cand.shape is not None \
        else None
    ref = result.gradient_expr
    correct = correct_tex(result)
    wrt = net.derivative_name(result.wrt)   # the left side dC/dr0: said in the title
    lhs = left_side_tex(net, result.wrt)
    read_lhs, read = column_read_tex(cand, ref, style, lhs, read)
    return render("matrix_report.tex", title=f"derivcheck report: {wrt}",
                  result=result, words=VERDICT_WORDS[result.verdict],
                  method_words=METHOD_WORDS.get(result.method, ""),
                  typed=result.source or result.candidate, lhs=lhs, read=read,
                  read_lhs=read_lhs,
                  correct=correct, facts=_facts(net),
                  shape=shape_tex(ref.shape) if ref is not None else "",
                  definitions=_definitions(result),
                  counterexample=_witness(result.counterexample, style),
                  kink_point=_witness(result.kink_point, style))


def _definitions(result) -> list:
    """The named gradients the correct formula uses, as (lhs LaTeX, rhs LaTeX or None,
    plain text): set as mathematics where the rhs has LaTeX, as code otherwise."""
    tex = definitions_tex(result)
    style = result.network.style
    return [(name_tex(k, style), tex.get(name_tex(k, style)), v)
            for k, v in result.definitions.items()]


def _witness(w, style):
    """Sizes, the matrices as exact bmatrix, the entry and both values; None if none."""
    if w is None:
        return None
    from .latex import latex_value
    out = {"sizes": [(shape_tex((k,)), v) for k, v in getattr(w, "sizes", {}).items()],
           "matrices": [], "entry": getattr(w, "entry", ""), "step0": None}
    for name, rows in getattr(w, "matrices", {}).items():
        body = r" \\ ".join(" & ".join(latex_value(v) for v in row) for row in rows)
        out["matrices"].append((name_tex(name, style), rf"\begin{{bmatrix}}{body}"
                                                       rf"\end{{bmatrix}}"))
    out["candidate"] = _value(w.candidate)
    out["expected"] = _value(w.expected)
    if w.step0 is not None:
        out["step0"] = latex_value(w.step0)
    return out


def _value(v) -> str:
    from .latex import latex_value
    if isinstance(v, str):   # "no value: ..." may quote the formula: escaped
        from .render import tex_escape
        if len(v) > 40:   # a sentence: wrapped beside the equals sign
            return rf"\text{{\parbox[t]{{0.7\linewidth}}{{\raggedright {tex_escape(v)}}}}}"
        return rf"\text{{{tex_escape(v)}}}"
    try:
        import numpy as np
        arr = np.asarray(v, dtype=object)
        if arr.ndim == 0:
            return latex_value(arr.item())
        rows = np.atleast_2d(arr)
        body = r" \\ ".join(" & ".join(latex_value(x) for x in row) for row in rows)
        return rf"\begin{{bmatrix}}{body}\end{{bmatrix}}"
    except (TypeError, ValueError):
        return latex_value(v)
