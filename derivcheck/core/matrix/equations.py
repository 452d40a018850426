"""Explicit matrix equations with shapes, read as the one matrix network model.

``--forward "Z1 = W1 @ X + b1" --forward "A1 = relu(Z1)" ... --shape X=n0,m`` describes an
MLP: each layer an affine equation (``W @ A + b`` with examples as columns, ``A @ W + b``
with examples as rows, ``W.T`` for weights stored input by output) and an activation
(``relu(Z1)``, ``np.maximum(0, Z1)``, ``softmax(Z2)``; none on the last layer: the logits).
This module recognizes that structure in the parsed equations, infers every shape from
the ones given (numpy broadcasting of a bias over the examples), and builds a
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
import re
from dataclasses import dataclass

from ... import limits
from ...errors import NetworkLimitError, SpecError
from ...names import valid_name
from ..activations import parse_activation
from ..styles import STYLES, Style, style_named
from . import expr as mx

__all__ = ["Equation", "GivenShape", "parse_shapes", "parse_shape", "build_network",
           "is_affine", "softmax_of"]

_SIZE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,15}")
#: Names of the input when no --input says which operand of the first product it is.
_INPUT_NAMES = ("X", "x", "A0", "a0", "A^0", "input")


@dataclass
class Equation:
    """One forward equation: its left name, the parsed right side, its text, where it is."""

    name: str
    expr: mx.MExpr
    text: str
    where: str = "equation"

    def error(self, message: str, name: str | None = None, hint: str | None = None):
        """A SpecError pointing at ``name`` in this equation (its first use on the right
        side), or at the start."""
        return SpecError(f"{self.where}: {message}", text=self.text,
                         position=_position(self.text, name), hint=hint)


def _position(text: str, name: str | None) -> int:
    right = text.find("=") + 1
    if name:
        hit = re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", text[right:])
        if hit:
            return right + hit.start()
        hit = re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", text)
        if hit:
            return hit.start()
    return right + len(text[right:]) - len(text[right:].lstrip())


@dataclass
class GivenShape:
    """``W1=n1,n0``: a name, its dims (names or numbers), the text and each dim's column."""

    name: str
    dims: tuple
    text: str
    starts: tuple = ()
    where: str = "--shape"

    def error(self, message: str, dim: int | None = None, hint: str | None = None,
              kind=SpecError):
        position = self.starts[dim] if dim is not None and dim < len(self.starts) else 0
        return kind(f"{self.where} {self.text}: {message}", text=self.text, position=position,
                    hint=hint)


def parse_shape(text, where: str = "--shape", name: str | None = None) -> GivenShape:
    """``"W1=n1,n0"`` (or, with ``name``, the dims alone: ``"n1,n0"`` or a list).

    >>> parse_shape("b1 = n1, 1").dims
    ('n1', 1)
    >>> parse_shape("X=n0,m,k")
    Traceback (most recent call last):
    derivcheck.errors.SpecError: error: --shape X=n0,m,k: a shape has one or two sizes (a vector or a matrix) at column 8
      X=n0,m,k
             ^
    hint: e.g. --shape X=n0,m
    """
    if isinstance(text, (list, tuple)):
        items = [str(d) if isinstance(d, int) and not isinstance(d, bool) else d for d in text]
        if not all(isinstance(d, str) for d in items):
            raise SpecError(f"{where} {name}: sizes are names or whole numbers, got {text!r}",
                            hint='e.g. X = ["n0", "m"]')
        text = ",".join(items)
    if not isinstance(text, str):
        raise SpecError(f"{where}: a shape is text such as X=n0,m, got {text!r}")
    full = text if name is None else f"{name}={text}"
    if len(full) > limits.MAX_TEXT_LENGTH:
        raise NetworkLimitError(f"{where}: the shape is longer than {limits.MAX_TEXT_LENGTH} "
                                "characters", position=0)
    given = GivenShape(name or "", (), full, (), where)
    if "=" not in full:
        raise given.error("expected NAME=SIZES", hint="e.g. --shape X=n0,m")
    left, right = full.split("=", 1)
    given.name = left.strip()
    if not valid_name(given.name):
        raise given.error(f"{given.name!r} is not a name", hint="e.g. --shape W1=n1,n0")
    given.starts = (0,)
    dims, starts, offset = [], [], len(left) + 1
    for piece in right.split(","):
        start = offset + len(piece) - len(piece.lstrip())
        offset += len(piece) + 1
        dims.append(piece.strip())
        starts.append(start)
    given.starts = tuple(starts)
    if len(dims) > 2:
        raise given.error("a shape has one or two sizes (a vector or a matrix)", 2,
                          hint="e.g. --shape X=n0,m")
    out = []
    for i, d in enumerate(dims):
        if d.isdigit():
            if len(d) > 6 or int(d) > limits.MAX_WIDTH:
                raise given.error(f"the size {d} is past the limit {limits.MAX_WIDTH}: too "
                                  "large to instantiate", i, kind=NetworkLimitError,
                                  hint="give the size as a name (n1, m): derivcheck picks "
                                       "small values and proves the formula for all")
            if int(d) < 1:
                raise given.error("a size is at least 1", i)
            out.append(int(d))
        elif _SIZE.fullmatch(d) and valid_name(d):
            out.append(d)
        else:
            raise given.error(f"{d!r} is not a size: a name (n1, m) or a whole number", i,
                              hint="e.g. --shape W1=n1,n0")
    given.dims = tuple(out)
    return given


def parse_shapes(items, where: str = "--shape") -> dict:
    """Several shapes (``["X=n0,m", ...]`` or a table ``{X = "n0,m"}``): name -> GivenShape.

    >>> sorted(parse_shapes({"X": "n0,m", "W1": ["n1", "n0"]}))
    ['W1', 'X']
    """
    out: dict = {}
    if isinstance(items, dict):
        pairs = [parse_shape(v, where, str(k)) for k, v in items.items()]
    elif isinstance(items, (list, tuple)):
        pairs = [parse_shape(v, where) for v in items]
    elif isinstance(items, str):
        pairs = [parse_shape(items, where)]
    else:
        raise SpecError(f"{where}: shapes are NAME=SIZES texts or a table of them, got "
                        f"{items!r}", hint='e.g. shape = {X = "n0,m", W1 = "n1,n0"}')
    for given in pairs:
        if given.name in out:
            raise given.error(f"{given.name} is given two shapes")
        out[given.name] = given
    return out


# -- recognizing the layers ---------------------------------------------------------------

@dataclass
class _Layer:
    Z: str
    W: str
    b: str | None
    signal: str
    side: str                  # where the signal is in the product: "right" (W @ A), "left"
    w_transposed: bool
    equation: Equation
    A: str | None = None
    act: str | None = None
    act_equation: Equation | None = None


def _operand(node):
    """(leaf name, transposed) of ``W``, ``W.T``; None for anything else."""
    if isinstance(node, mx.Leaf):
        return node.name, False
    if isinstance(node, mx.Transpose) and isinstance(node.arg, mx.Leaf):
        return node.arg.name, True
    return None


def is_affine(node) -> tuple | None:
    """``(left, right, bias)`` of ``L @ R + b`` / ``b + L @ R`` / ``L @ R`` (each operand
    ``(name, transposed)``, bias a name or None), else None.

    >>> W, X, b = (mx.Leaf(n, ("p", "q")) for n in ("W1", "X", "b1"))
    >>> is_affine(mx.add(mx.matmul(mx.transpose(W), X), b))
    (('W1', True), ('X', False), 'b1')
    """
    bias = None
    if isinstance(node, mx.Elementwise) and node.op == "+":
        a, b = node.args
        if isinstance(a, mx.MatMul) and isinstance(b, mx.Leaf):
            node, bias = a, b.name
        elif isinstance(b, mx.MatMul) and isinstance(a, mx.Leaf):
            node, bias = b, a.name
        else:
            return None
    if not isinstance(node, mx.MatMul):
        return None
    left, right = _operand(node.left), _operand(node.right)
    if left is None or right is None:
        return None
    return left, right, bias


def _activation(node) -> tuple | None:
    """(activation text, its argument node) of ``relu(Z)``, ``np.maximum(0, Z)``,
    ``leaky_relu(Z, 0.01)``, ``softmax(Z)`` (exp(Z) / its sum over an axis) or a bare
    ``Z`` (identity); None for anything else."""
    if isinstance(node, mx.Leaf):
        return "identity", node
    found = softmax_of(node)
    if found is not None:
        return f"softmax@{found[1]}", found[0]
    if not (isinstance(node, mx.Elementwise) and node.op == "call"):
        return None
    args = list(node.args)
    if node.label in ("max", "min") and len(args) == 2:
        zero = [a for a in args if isinstance(a, mx.Scalar) and a.value == 0]
        rest = [a for a in args if not (isinstance(a, mx.Scalar) and a.value == 0)]
        if node.label == "max" and len(zero) == 1 and len(rest) == 1:
            return "relu", rest[0]
        return None
    matrices = [a for a in args if not isinstance(a, mx.Scalar)]
    numbers = [a.value for a in args if isinstance(a, mx.Scalar)]
    if len(matrices) != 1 or args[0] is not matrices[0]:
        return None
    text = node.label + (f"({', '.join(str(v) for v in numbers)})" if numbers else "")
    return text, matrices[0]


def softmax_of(node) -> tuple | None:
    """(the quantity, the axis) of ``softmax(Z)`` or ``np.exp(Z) / np.sum(np.exp(Z),
    axis=a, keepdims=True)``, else None."""
    if isinstance(node, mx.Elementwise) and node.op == "/" and _same_exp(*node.args):
        return node.args[0].args[0], node.args[1].axis
    return None


def _is_exp(node) -> bool:
    return isinstance(node, mx.Elementwise) and node.op == "call" and node.label == "exp"


def _same_exp(top, bottom) -> bool:
    """``softmax(Z)``, or ``np.exp(Z) / np.sum(np.exp(Z), axis=0, keepdims=True)`` written
    out: the exp of one quantity over its sum along an axis."""
    if not (_is_exp(top) and isinstance(bottom, mx.Sum) and bottom.keepdims
            and bottom.axis is not None and _is_exp(bottom.arg)):
        return False
    a, b = top.args[0], bottom.arg.args[0]
    return a is b or (isinstance(a, mx.Leaf) and isinstance(b, mx.Leaf) and a.name == b.name)


_LAYER_HINT = ("a layer is Z = W @ A + b (examples as columns) or Z = A @ W + b (examples as "
               "rows), then A = relu(Z), tanh(Z), sigmoid(Z) or softmax(Z)")


def _layers(equations: list[Equation], input_name: str | None) -> tuple[list, str]:
    """The layers, in order, and the input's name."""
    layers: list[_Layer] = []
    defined: dict = {}
    used: set = set()
    pending: _Layer | None = None
    first_open = False          # the first layer's input not yet known
    for eq in equations:
        if eq.name in defined or eq.name == input_name or eq.name in used:
            raise eq.error(f"{eq.name} is defined twice (or is also an input or a parameter)",
                           hint="give every quantity its own name")
        affine = is_affine(eq.expr)
        act = None if affine else _activation(eq.expr)
        combined = None
        if act is not None and not isinstance(act[1], mx.Leaf):
            combined = is_affine(act[1])
            if combined is None:
                raise eq.error(f"cannot read {act[1].text()} as a layer's pre-activation",
                               hint=_LAYER_HINT)
        if affine is None and act is None:
            raise eq.error(f"cannot read {eq.expr.text()} as a layer", hint=_LAYER_HINT)
        if affine is not None or combined is not None:
            if pending is not None:
                raise eq.error(f"{pending.Z} feeds no activation before the next layer",
                               hint=f"add e.g. A{len(layers)} = relu({pending.Z}) (or "
                                    f"identity({pending.Z}))")
            left, right, bias = affine or combined
            z_name = eq.name if affine else _fresh(f"Z{len(layers) + 1}", equations, defined)
            expected = layers[-1].A if layers else input_name
            if expected is not None:
                if right[0] == expected and not right[1]:
                    side, weight = "right", left
                elif left[0] == expected and not left[1]:
                    side, weight = "left", right
                else:
                    what = (f"the activations {expected} of the layer above" if layers
                            else f"the input {expected}")
                    raise eq.error(f"the product should take {what}, as it is (not "
                                   "transposed)", left[0], hint=_LAYER_HINT)
            else:
                named = [op for op in (left, right) if op[0] in _INPUT_NAMES and not op[1]]
                if len(named) == 1:
                    side = "right" if named[0] is right else "left"
                    weight = left if side == "right" else right
                else:
                    first_open, side, weight = True, "right", left
            signal = (right if side == "right" else left)[0]
            for name in (weight[0], bias):
                if name is not None and (name in defined or name in used or name == signal):
                    raise eq.error(f"{name} is used twice: every layer has its own weights "
                                   "and bias", name)
            used.update(n for n in (weight[0], bias) if n)
            if not layers:
                input_name = signal
            layer = _Layer(z_name, weight[0], bias, signal, side, weight[1], eq)
            layers.append(layer)
            defined[z_name] = ("Z", len(layers))
            pending = layer
            if combined is None:
                continue
        kind, arg = act
        if pending is None or not isinstance(arg, mx.Leaf) and combined is None or (
                combined is None and arg.name != pending.Z):
            target = arg.name if isinstance(arg, mx.Leaf) else None
            raise eq.error(f"{kind.split('@')[0]} should be applied to the pre-activation "
                           f"{pending.Z if pending else 'of a layer'} computed just above",
                           target, hint=_LAYER_HINT)
        pending.A, pending.act, pending.act_equation = eq.name, kind, eq
        defined[eq.name] = ("A", len(layers))
        pending = None
    if not layers:
        raise SpecError("no layer in the forward equations", hint=_LAYER_HINT)
    if first_open:
        if len(layers) == 1:
            eq = layers[0].equation
            raise eq.error("which operand is the input? (the other is the weights)",
                           hint="pass --input with its name, or call it X")
        side = layers[1].side
        layer = layers[0]
        left, right, _ = is_affine(layer.equation.expr) or is_affine(
            _activation(layer.equation.expr)[1])
        signal, weight = (right, left) if side == "right" else (left, right)
        if signal[1]:
            raise layer.equation.error("the input enters the first product transposed",
                                       signal[0], hint="give the input in the layout of the "
                                                       "equations, as it is")
        layer.side, layer.signal, layer.W, layer.w_transposed = side, signal[0], weight[0], \
            weight[1]
        input_name = signal[0]
    return layers, input_name


def _fresh(name: str, equations, defined) -> str:
    taken = {e.name for e in equations} | set(defined)
    while name in taken:
        name += "_"
    return name


# -- shapes -------------------------------------------------------------------------------

class _Sizes:
    """Unification of the sizes: variables (n0..nL, m) bound to names or numbers."""

    def __init__(self):
        self.bound: dict = {}      # variable -> (value, where it came from)

    def bind(self, var, value, source: str, fail):
        if var == 1:
            if value != 1:
                raise fail(f"this size must be 1 (one bias per unit, broadcast over the "
                           f"examples), not {value}")
            return
        if var in self.bound and self.bound[var][0] != value:
            old, where = self.bound[var]
            raise fail(f"{_what(var)} is {old} (from {where}) but here {value}: the shapes "
                       "contradict each other")
        self.bound.setdefault(var, (value, source))


def _what(var) -> str:
    if var == "m":
        return "the number of examples"
    return "the input size" if var[1] == 0 else f"the width of layer {var[1]}"


def _pattern(role, layout, weights, bias_rank=2) -> tuple:
    """The shape of a quantity in terms of the size variables."""
    kind = role[0]
    cols = layout == "columns"
    if kind == "X":
        n = ("n", 0)
    elif kind in ("Y", "P"):
        n = role[1]
    elif kind == "W":
        l = role[1]
        out = (("n", l), ("n", l - 1))
        return out if weights == "out_in" else out[::-1]
    elif kind == "b":
        n = ("n", role[1])
        if cols:
            return (n, 1)
        return (n,) if bias_rank == 1 else (1, n)
    else:
        n = ("n", role[1])
    return (n, "m") if cols else ("m", n)


def build_network(equations: list[Equation], shapes: dict, *, loss="half_squared",
                  input_name=None, target=None, batch=None, style=None, reduce=None,
                  labels=False, convention="any", spec=None):
    """The :class:`MatrixNetwork` the equations describe (see the module docstring)."""
    from .network import MatrixNetwork, _dim
    layers, input_name = _layers(equations, input_name)
    L = len(layers)
    side, wt = layers[0].side, layers[0].w_transposed
    for layer in layers[1:]:
        if (layer.side, layer.w_transposed) != (side, wt):
            raise layer.equation.error(
                "the layers disagree on the layout: " + _layout_text(layers[0]) + " above, "
                + _layout_text(layer) + " here", layer.W,
                hint="write every layer the same way")
    with_bias = [layer.b is not None for layer in layers]
    if any(with_bias) and not all(with_bias):
        layer = layers[with_bias.index(False)]
        raise layer.equation.error("some layers have a bias and this one has none",
                                   hint="give every layer a bias, or none")
    layout = "columns" if side == "right" else "rows"
    weights = ("in_out" if wt else "out_in") if layout == "columns" else (
        "out_in" if wt else "in_out")
    last = layers[-1]
    if last.A is None:
        last.act = "identity"
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
    target = target or "Y"
    out_name = last.A or _fresh("Yhat", equations, {input_name: 1, target: 1})
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
    bias_rank = 2
    for name, given in shapes.items():
        if name not in roles:
            hint = "quantities: " + ", ".join(roles)
            raise given.error(f"{name} is no quantity of the equations", hint=hint)
        if roles[name][0] == "b" and layout == "rows" and len(given.dims) == 1:
            bias_rank = 1
    if layout == "rows" and not any(roles[n][0] == "b" for n in shapes):
        bias_rank = 1
    sizes = _Sizes()
    out_key = ("n", L)
    for name, given in shapes.items():
        role = roles[name]
        pattern = _pattern(role if role[0] not in ("Y",) else ("Y", out_key), layout, weights,
                           bias_rank)
        if len(pattern) != len(given.dims):
            want = " x ".join(_show_var(v) for v in pattern)
            raise given.error(f"{name} should have {len(pattern)} size(s) ({want}), got "
                              f"{len(given.dims)}", 0)
        for i, (var, value) in enumerate(zip(pattern, given.dims)):
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
        example = ",".join(_show_var(v) for v in _pattern(roles[who], layout, weights))
        raise layers[max(l, 1) - 1].equation.error(
            f"{_what(var)} is not given and no shape fixes it", who,
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
    names[("P", None)] = _fresh("P", equations, {**roles, **dict.fromkeys(
        v for v, _ in sizes.bound.values() if isinstance(v, str))})
    view = _equations_style(style, layout, weights, "vector" if bias_rank == 1 else "column",
                            names, reduce)
    net = MatrixNetwork(values, [layer.act or "identity" for layer in layers], loss,
                        batch=None if m == 1 else m, style=view, bias=all(with_bias),
                        reduce=reduce, convention=convention, labels=labels)
    net.style_given = True
    net.source_spec = spec
    return net


def _show_var(v) -> str:
    if v == 1:
        return "1"
    return "m" if v == "m" else f"n{v[1]}"


def _layout_text(layer: _Layer) -> str:
    w = f"{layer.W}.T" if layer.w_transposed else layer.W
    return (f"{w} @ {layer.signal}" if layer.side == "right" else f"{layer.signal} @ {w}")


def _equations_style(style, layout, weights, bias, names, reduce) -> Style:
    """The equations' own names and layout, with a style's meaning of gradient names.
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
    return dataclasses.replace(base, weights=weights, bias=bias, names=dict(names),
                               aliases={}, gradient_aliases={}, gradient_names={},
                               description=description)
