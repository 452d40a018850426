"""The layers of explicit matrix equations: each an affine equation (``W @ A + b`` with
examples as columns, ``A @ W + b`` with examples as rows, ``W.T`` for weights stored input
by output) and an activation (``relu(Z1)``, ``np.maximum(0, Z1)``, ``softmax(Z2)``, a bare
``Z`` for none), recognized in the parsed right sides.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ...errors import SpecError
from . import expr as mx

__all__ = ["Equation", "Layer", "read_layers", "is_affine", "softmax_of", "fresh"]

#: Names of the input when no --input says which operand of the first product it is.
_INPUT_NAMES = ("X", "x", "A0", "a0", "input")


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
class Layer:
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
    axis=a, keepdims=True)``, else None.

    >>> import sympy
    >>> z = mx.Leaf("Z2", ("c", "m"))
    >>> e = mx.apply("exp", sympy.exp, [z])
    >>> softmax_of(mx.div(e, mx.total(e, 0, True))) == (z, 0), softmax_of(mx.div(e, z))
    (True, None)
    """
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


def read_layers(equations: list[Equation], input_name: str | None) -> tuple[list, str]:
    """The layers, in order, and the input's name (the operand of the first product named
    ``input_name``, or ``X``, or the one on the side the second layer's activations take).
    """
    layers: list[Layer] = []
    defined: dict = {}
    used: set = set()
    pending: Layer | None = None
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
            z_name = eq.name if affine else fresh(f"Z{len(layers) + 1}", equations, defined)
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
            layer = Layer(z_name, weight[0], bias, signal, side, weight[1], eq)
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


def fresh(name: str, equations, defined) -> str:
    """``name``, or ``name_``, ``name__``... if the equations or ``defined`` take it.

    >>> fresh("Z1", [], {"Z1": 1})
    'Z1_'
    """
    taken = {e.name for e in equations} | set(defined)
    while name in taken:
        name += "_"
    return name
