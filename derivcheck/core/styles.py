"""Notation styles: how each community names and lays out one network (CONTRACT section 5).

A style is a table row, not a branch in the code: the network is one object, and a style
says where examples go (columns or rows), how weight matrices are laid out, which index
the first layer gets, what each quantity is called, and what a gradient name such as
``dZ1``, ``dscores`` or ``delta2`` means (a gradient of the cost, or per-example
gradients stacked).

>>> ng = STYLES["ng"]
>>> ng.name_of("W", 1), ng.name_of("Z", 2), STYLES["seed"].name_of("W", 1)
('W1', 'Z2', 'W0')
>>> STYLES["nielsen"].name_of("Z", 1), STYLES["cs231n"].layout
('z2', 'rows')
"""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Style", "STYLES", "style_named"]


@dataclass(frozen=True)
class Style:
    """One community's notation.

    * ``layout``: ``columns`` (an example per column, X is n0 x m) or ``rows`` (X is N x D).
    * ``weights``: ``out_in`` (W_l is n_l x n_{l-1}) or ``in_out`` (n_{l-1} x n_l).
    * ``weight_offset`` / ``unit_offset``: the index in a name of the weights and units of
      layer l (l = 1 for the first layer computed).
    * ``templates``: name patterns of the quantities: W, b, Z, A, X, Y, Yhat, P.
    * ``bias``: the shape of a bias: ``column`` (n x 1), ``vector`` (length n).
    * ``aliases``: extra names: name -> (quantity, layer) with layer counted from the
      output when negative (-1 is the last layer).
    * ``stacked``: quantities whose ``d`` name means the per-example gradients stacked
      (deeplearning.ai's dZ, dA), not the gradient of the mean cost.
    * ``gradient_aliases``: names of gradients that are no ``d`` + name (``delta2``).
    * ``gradient_names``: gradient names of their own: name -> (quantity, layer)
      (cs231n's ``dhidden``, the gradient at the hidden layer after the ReLU mask).
    * ``before_mask``: what such a name means where no mask is applied: name ->
      (quantity, layer). cs231n's code writes ``dhidden = dscores.dot(W2.T)`` (dL/dH),
      then ``dhidden[hidden_layer <= 0] = 0`` (dL/dZ1): a formula for ``dhidden`` that
      applies no mask is read as the first (:mod:`derivcheck.decide.matrix_read`).
    * ``loss``: the letter the style calls the cost.
    * ``bare_layers``: a bare superscript on a name is its layer (Nielsen's ``w^3``,
      ``\\delta^L``), not a power.
    * ``names``: names of their own, (kind, layer) -> name, before the templates (the
      names of explicit matrix equations; layer None for X, Y, Yhat, P).
    """

    name: str
    layout: str
    weights: str
    weight_offset: int
    unit_offset: int
    templates: dict
    bias: str = "column"
    aliases: dict = field(default_factory=dict)
    stacked: frozenset = frozenset()
    gradient_aliases: dict = field(default_factory=dict)
    gradient_names: dict = field(default_factory=dict)
    before_mask: dict = field(default_factory=dict)
    loss: str = "J"
    description: str = ""
    #: The description in LaTeX, for sheets and reports (``description`` is for text).
    description_tex: str = ""
    bare_layers: bool = False
    names: dict = field(default_factory=dict)

    def name_of(self, kind: str, layer: int | None = None) -> str:
        """The name of quantity ``kind`` of layer ``layer`` (1 = first layer computed)."""
        if (kind, layer) in self.names:
            return self.names[(kind, layer)]
        template = self.templates[kind]
        if layer is None:
            return template
        offset = self.weight_offset if kind in ("W", "b") else self.unit_offset
        return template.format(l=layer + offset)


STYLES = {
    "ng": Style("ng", "columns", "out_in", 0, 0,
                {"W": "W{l}", "b": "b{l}", "Z": "Z{l}", "A": "A{l}", "X": "X", "Y": "Y",
                 "Yhat": "Yhat", "P": "P"},
                aliases={"A0": ("X", None), "AL": ("A", -1), "ZL": ("Z", -1)},
                stacked=frozenset({"Z", "A"}), loss="J",
                description="deeplearning.ai: examples as columns, W^{[l]} is n_l x n_{l-1}, "
                            "dW and db are gradients of the mean cost J, dZ and dA stack "
                            "the per-example gradients",
                description_tex=r"deeplearning.ai: examples as columns, $W^{[l]}$ is "
                                r"$n_l \times n_{l-1}$, $dW$ and $db$ are gradients of the "
                                r"mean cost $J$, $dZ$ and $dA$ stack the per-example gradients"),
    "cs231n": Style("cs231n", "rows", "in_out", 0, 0,
                    {"W": "W{l}", "b": "b{l}", "Z": "Z{l}", "A": "A{l}", "X": "X", "Y": "Y",
                     "Yhat": "Yhat", "P": "P"}, bias="vector",
                    aliases={"H": ("A", 1), "hidden": ("A", 1), "hidden_layer": ("A", 1),
                             "scores": ("Z", -1)},
                    gradient_names={"dhidden": ("Z", 1)}, before_mask={"dhidden": ("A", 1)},
                    loss="L",
                    description="cs231n: examples as rows (X is N x D), W1 is D x H, "
                                "gradients (dW1, dscores) of the mean loss",
                    description_tex=r"cs231n: examples as rows ($X$ is $N \times D$), $W_1$ is "
                                    r"$D \times H$, gradients ($dW_1$, $d\mathit{scores}$) of "
                                    r"the mean loss"),
    "nielsen": Style("nielsen", "columns", "out_in", 1, 1,
                     {"W": "w{l}", "b": "b{l}", "Z": "z{l}", "A": "a{l}", "X": "x", "Y": "y",
                      "Yhat": "aL", "P": "p"},
                     aliases={"a1": ("X", None), "zL": ("Z", -1), "wL": ("W", -1),
                              "bL": ("b", -1)},
                     gradient_aliases={"delta": "Z"}, loss="C", bare_layers=True,
                     description="Nielsen: one example as a column vector, layer 1 is the "
                                 "input, w^l is n_l x n_{l-1}, delta^l = dC/dz^l",
                     description_tex=r"Nielsen: one example as a column vector, layer 1 is "
                                     r"the input, $w^l$ is $n_l \times n_{l-1}$, "
                                     r"$\delta^l = \partial C / \partial z^l$"),
    "seed": Style("seed", "columns", "in_out", -1, 0,
                  {"W": "W{l}", "b": "b{l}", "Z": "z{l}", "A": "r{l}", "X": "x", "Y": "y",
                   "Yhat": "yhat", "P": "p"},
                  aliases={"r0": ("X", None)}, loss="C",
                  description="seed 003's answer: W^{(k)}_{ij} joins unit i of layer k to "
                              "unit j of layer k+1 (z^{(k+1)} = W^{(k)T} r^{(k)}), k from 0",
                  description_tex=r"seed 003's answer: $W^{(k)}_{ij}$ joins unit $i$ of layer "
                                  r"$k$ to unit $j$ of layer $k+1$ ($z^{(k+1)} = W^{(k)\top} "
                                  r"r^{(k)}$), $k$ from 0"),
}


def style_named(name: str) -> Style:
    """The style called ``name``; a SpecError listing the styles otherwise."""
    from ..errors import SpecError
    if name not in STYLES:
        raise SpecError(f"unknown style {name!r}", hint="styles: " + ", ".join(STYLES))
    return STYLES[name]
