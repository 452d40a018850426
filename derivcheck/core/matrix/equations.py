"""Explicit matrix equations with shapes, read as the one matrix network model.

``--forward "Z1 = W1 @ X + b1" --forward "A1 = relu(Z1)" ... --shape X=n0,m`` describes an
MLP: each layer an affine equation (``W @ A + b`` with examples as columns, ``A @ W + b``
with examples as rows, ``W.T`` for weights stored input by output) and an activation
(``relu(Z1)``, ``np.maximum(0, Z1)``, ``softmax(Z2)``; none on the last layer: the logits).
:mod:`.layers` recognizes that structure in the parsed equations, :mod:`.declared` reads
the shapes given; this module infers every other shape (numpy broadcasting of a bias over
the examples) and builds a
:class:`~derivcheck.core.matrix.network.MatrixNetwork` whose style carries the equations'
own names and layout, so a candidate is checked exactly as for ``--widths``.

Shapes are unified dimension by dimension: a size is a name (``n1``, ``m``) or a number,
and two different ones never match. Contradictions, sizes no equation fixes and names
that are no quantity of the equations are errors with the position.

>>> from derivcheck.parsing.matrix_equations import parse_equations
>>> eqs = parse_equations(["Z1 = W1 @ X + b1", "A1 = tanh(Z1)", "Z2 = W2 @ A1 + b2",
...                        "Yhat = sigmoid(Z2)"])
>>> net = build_network(eqs, parse_shapes(["X=n0,m", "W1=n1,n0", "W2=1,n1"]), loss="bce")
>>> net.widths, net.batch, [net.name(("b", 1)), net.name(("A", 2))]
(['n0', 'n1', 1], 'm', ['b1', 'Yhat'])
>>> net.styled_shape(("b", 2)), net.style.layout
((1, 1), 'columns')
"""
from __future__ import annotations

import dataclasses

from ... import limits
from ...errors import NetworkLimitError, SpecError
from ..activations import parse_activation
from ..styles import STYLES, Style, style_named
from .declared import GivenShape, Sizes, parse_shape, parse_shapes, pattern, show_var, what
from .layers import Equation, Layer, fresh, is_affine, read_layers, softmax_of

__all__ = ["build_network", "Equation", "GivenShape", "parse_shape", "parse_shapes",
           "is_affine", "softmax_of"]


def build_network(equations: list[Equation], shapes: dict, *, loss="half_squared",
                  input_name=None, target=None, batch=None, style=None, reduce=None,
                  labels=False, convention="any", spec=None):
    """The :class:`MatrixNetwork` the equations describe (see the module docstring)."""
    from .network import MatrixNetwork, _dim
    layers, input_name = read_layers(equations, input_name)
    L = len(layers)
    side, wt = layers[0].side, layers[0].w_transposed
    for layer in layers[1:]:
        if (layer.side, layer.w_transposed) != (side, wt):
            raise layer.equation.error(
                "the layers disagree on the layout: " + _layout_text(layers[0]) + " above, "
                + _layout_text(layer) + " here", layer.W,
                hint="write every layer the same way")
    with_bias = [layer.b is not None for layer in layers]
    layout = "columns" if side == "right" else "rows"
    weights = ("in_out" if wt else "out_in") if layout == "columns" else (
        "out_in" if wt else "in_out")
    last = layers[-1]
    if last.A is None:
        last.act = "identity"
    for layer in layers:
        if layer.act and not layer.act.startswith("softmax"):
            try:
                parse_activation(layer.act)
            except SpecError as err:
                raise layer.act_equation.error(err.message, layer.Z, hint=err.hint) from None
    for layer in layers[:-1]:
        if layer.act and layer.act.startswith("softmax"):
            raise layer.act_equation.error("softmax is read as the last layer's activation only",
                                           layer.Z)
    class_axis = 0 if layout == "columns" else 1
    if last.act.startswith("softmax@"):
        axis = last.act.split("@")[1]
        if axis not in (str(class_axis), str(class_axis - 2)):
            raise last.act_equation.error(
                f"softmax over axis {axis} mixes the examples: with examples as {layout} the "
                f"classes are axis {class_axis}", last.Z,
                hint=f"softmax({last.Z}, axis={class_axis})")
        last.act = "softmax"
    target = target or ("y" if input_name.islower() else "Y")     # x with y, X with Y
    out_name = last.A or fresh("Yhat", equations, {input_name: 1, target: 1})
    roles = {input_name: ("X",), target: ("Y",)}
    for l, layer in enumerate(layers, 1):
        roles[layer.W] = ("W", l)
        if layer.b:
            roles[layer.b] = ("b", l)
        roles[layer.Z] = ("Z", l)
        roles[layer.A or out_name] = ("A", l)
    clash = [n for n in (input_name, target) if list(roles).count(n) > 1 or n in
             {e.name for e in equations}]
    if clash:
        raise SpecError(f"{clash[0]} is both the input or target and a quantity of the "
                        "equations", hint="name the targets with --target")
    given_roles = {name: _given_role(name, given, roles, target, labels)
                   for name, given in shapes.items()}
    bias_rank = 2
    for name, given in shapes.items():
        if given_roles[name][0] == "b" and layout == "rows" and len(given.dims) == 1:
            bias_rank = 1
    if layout == "rows" and not any(roles[n][0] == "b" for n in shapes):
        bias_rank = 1
    sizes = Sizes()
    out_key = ("n", L)
    for name, given in shapes.items():
        role = given_roles[name]
        expected = pattern(role if role[0] != "Y" else ("Y", out_key), layout, weights,
                           bias_rank)
        if len(expected) != len(given.dims):
            want = " x ".join(show_var(v) for v in expected)
            hint = {"b": "one bias per unit, broadcast over the examples as numpy does: a "
                         "column with examples as columns",
                    "labels": f"class labels are one integer per example: {name}=m"}.get(
                        role[0])
            raise given.error(f"{name} should have {len(expected)} size(s) ({want}), got "
                              f"{len(given.dims)}", 0, hint=hint)
        for i, (var, value) in enumerate(zip(expected, given.dims)):
            def fail(message, given=given, i=i):
                return given.error(message, i)
            sizes.bind(var, value, given.text, fail)
    if batch is not None:
        value = _dim(batch)
        sizes.bind("m", value, "--batch", lambda message: SpecError(f"--batch {batch}: "
                                                                    f"{message}"))
    missing = [v for v in [("n", l) for l in range(L + 1)] + ["m"] if v not in sizes.bound]
    if missing:
        var = missing[0]
        l = var[1] if var != "m" else 0
        who = layers[l - 1].W if l else input_name
        example = ",".join(show_var(v) for v in pattern(roles[who], layout, weights))
        raise layers[max(l, 1) - 1].equation.error(
            f"{what(var)} is not given and no shape fixes it", who,
            hint=f"give the shape of {who}, e.g. --shape {who}={example}")
    values = [sizes.bound[("n", l)][0] for l in range(L + 1)]
    m = sizes.bound["m"][0]
    taken = set(roles) | {e.name for e in equations}
    for value, where in sizes.bound.values():
        if isinstance(value, str) and value in taken:
            raise SpecError(f"{value} is both a size (in {where}) and a quantity",
                            hint="give sizes names of their own (n0, m)")
    if isinstance(m, int) and m > limits.MAX_WIDTH:
        raise NetworkLimitError(f"--batch {m}: the number of examples is past the limit "
                                f"{limits.MAX_WIDTH}: too large to instantiate", position=0,
                                hint="give it as a name (m): derivcheck picks small values "
                                     "and proves the formula for all")
    names = {("X", None): input_name, ("Y", None): target, ("Yhat", None): out_name}
    for l, layer in enumerate(layers, 1):
        names.update({("W", l): layer.W, ("Z", l): layer.Z, ("A", l): layer.A or out_name})
        if layer.b:
            names[("b", l)] = layer.b
    names[("P", None)] = fresh("P", equations, {**roles, **dict.fromkeys(
        v for v, _ in sizes.bound.values() if isinstance(v, str))})
    view = _equations_style(style, layout, weights, "vector" if bias_rank == 1 else "column",
                            names, reduce)
    net = MatrixNetwork(values, [layer.act or "identity" for layer in layers], loss,
                        batch=None if m == 1 else m, style=view, bias=with_bias,
                        reduce=reduce, convention=convention, labels=labels)
    net.style_given = True
    net.source_spec = spec
    return net


def _given_role(name: str, given, roles: dict, target: str, labels: bool) -> tuple:
    """The quantity a ``--shape`` names: one of the equations', or with ``--labels`` the
    class labels (the target's name in lower case: ``y`` for ``Y``; a target already in
    lower case is the labels when given one size)."""
    if labels and name == target.lower() and (name != target or len(given.dims) == 1):
        return ("labels",)
    if name not in roles:
        hint = "quantities: " + ", ".join(roles)
        if not labels and name == target.lower():
            hint += f" ({name} names class labels with --labels)"
        elif labels:
            hint += f", {target.lower()} (the class labels)"
        raise given.error(f"{name} is no quantity of the equations", hint=hint)
    return roles[name]


def _layout_text(layer: Layer) -> str:
    w = f"{layer.W}.T" if layer.w_transposed else layer.W
    return (f"{w} @ {layer.signal}" if layer.side == "right" else f"{layer.signal} @ {w}")


def _equations_style(style, layout, weights, bias, names, reduce) -> Style:
    """The equations' own names and layout, with a style's meaning of gradient names
    (with ``--style``, its own gradient names too: Nielsen's ``delta3``, cs231n's
    ``dhidden``).
    Without ``--style`` the layout picks it: examples as columns read as deeplearning.ai
    writes them (``dZ1`` the per-example gradients stacked, ``dW1`` the gradient of the
    mean cost), examples as rows as cs231n does (every ``dQ`` a gradient of the loss)."""
    if style is not None:
        base = style if isinstance(style, Style) else style_named(style)
        if base.layout != layout:
            raise SpecError(f"the equations put the examples in {layout}, but style "
                            f"{base.name} puts them in {base.layout}",
                            hint="drop --style, or write the equations in its layout")
    else:
        base = STYLES["ng" if layout == "columns" else "cs231n"]
    x, w1 = names[("X", None)], names[("W", 1)]
    cost = "the sum" if reduce == "sum" else "the mean"
    stacked = ", dQ of a pre-activation or activation stacks the per-example gradients" if (
        base.stacked) else ""
    description = (f"{base.name}'s gradient names on your equations: examples as {layout} "
                   f"({x} is {'features x examples' if layout == 'columns' else 'examples x features'}), "
                   f"{w1} is {'outputs x inputs' if weights == 'out_in' else 'inputs x outputs'}; "
                   f"dQ is the gradient of the cost {base.loss} ({cost} over the examples)"
                   f"{stacked}")
    own = {} if style is not None else {"gradient_aliases": {}, "gradient_names": {},
                                        "before_mask": {}}
    return dataclasses.replace(base, weights=weights, bias=bias, names=dict(names),
                               aliases={}, description=description, **own)
