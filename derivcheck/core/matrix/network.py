"""An MLP with matrix names: one network, seen through a style (CONTRACT section 5).

:class:`MatrixNetwork` holds the layers in one *canonical* layout (examples as columns,
W_l of shape n_l x n_{l-1}, b_l of shape n_l x 1, layers counted from 1) and a
:class:`~derivcheck.core.styles.Style` that names and lays out every quantity. It gives:

* :meth:`MatrixNetwork.namespace`: the names a formula may use (``W1``, ``dZ1``,
  ``dscores``, ``W1_32``, size names), each a :class:`~.expr.Leaf` with its shape;
* :meth:`MatrixNetwork.gradient`: dJ/dQ of every quantity Q as a matrix expression (the
  backward pass in matrix form, :mod:`.backward`: the reference a candidate is compared
  with);
* :meth:`MatrixNetwork.instance`: the network at concrete sizes as a scalar network of
  entries (:mod:`.instance`), where the exact scalar machinery applies entry by entry.

>>> net = MatrixNetwork(["n0", "n1", 1], ["tanh", "sigmoid"], "bce", batch="m", bias=True)
>>> ns = net.namespace
>>> ns.symbols["W1"].shape, ns.symbols["dZ1"].description
(('n1', 'n0'), 'dZ1 -> m * dJ/dZ1, the per-example gradients stacked, a n1 x m matrix')
>>> net.gradient(("W", 2)).expansion.text()
'dJ/dZ2 @ A1.T'
>>> net.definitions(net.gradient(("W", 2)).expansion)["dJ/dZ2"]
'dJ/dA2 * sigmoid_prime(Z2)'
"""
from __future__ import annotations

import re
from functools import cached_property

from ..activations import Activation, parse_activation
from ..conventions import get_convention
from ... import limits
from ...errors import LimitError, SpecError
from ...names import Namespace
from ..losses import LOSSES
from ..styles import Style, style_named
from . import expr as mx
from . import backward, probabilities
from .expr import Leaf, MExpr
from .shapes import a_shape

__all__ = ["MatrixNetwork", "KINDS"]

#: What each quantity kind is, for messages.
KINDS = {"X": "the input", "Y": "the targets", "W": "weights", "b": "biases",
         "Z": "pre-activations", "A": "activations", "P": "probabilities"}

class MatrixNetwork:
    """A fully connected network with widths (numbers or size names) and a batch."""

    is_matrix = True
    #: The spec of the explicit equations this network was read from (None: widths).
    source_spec = None

    def __init__(self, widths, activations, loss="half_squared", *, batch=None, style=None,
                 bias=False, reduce=None, convention="any", labels=False):
        self.widths = [_dim(w) for w in widths]
        if len(self.widths) < 2:
            raise SpecError("widths need an input and an output layer", hint="e.g. 4,3,2")
        self.L = len(self.widths) - 1
        from ..spec import _split_activations
        acts = _split_activations(activations)
        if len(acts) == 1:
            acts = acts * self.L
        if len(acts) != self.L:
            raise SpecError(f"{self.L} layers but {len(acts)} activations")
        self.acts = [a if a == "softmax" else parse_activation(a) for a in acts]
        if any(a == "softmax" for a in self.acts[:-1]):
            raise SpecError("softmax is read as the last layer's activation only",
                            hint="use it for the output layer: --act relu,softmax")
        if loss not in LOSSES:
            raise SpecError(f"unknown loss {loss!r}", hint="use one of: " + ", ".join(LOSSES))
        self.loss = loss
        self.batch = _dim(batch) if batch is not None else 1
        self.has_batch = batch is not None
        self.style_given = style is not None
        style = "ng" if style is None else style
        self.style: Style = style_named(style) if isinstance(style, str) else style
        self._options = dict(widths=widths, activations=activations, loss=loss, batch=batch,
                             style=self.style, bias=bias, reduce=reduce,
                             convention=convention, labels=labels)
        self.biases = _biases(bias, self.L)
        #: Every layer has a bias (:meth:`has_bias` says it per layer).
        self.bias = all(self.biases)
        self.reduce = reduce or "mean"
        if self.reduce not in ("mean", "sum"):
            raise SpecError(f"unknown reduction {self.reduce!r}", hint="use mean or sum")
        if loss == "cross_entropy" and self.widths[-1] == 1:
            raise SpecError("cross_entropy needs at least two classes",
                            hint="use bce for one sigmoid output")
        self.convention = get_convention(convention)
        self.labels = bool(labels)
        if self.labels and loss != "cross_entropy":
            raise SpecError(f"class labels are targets of cross_entropy, not of {loss}",
                            hint="use --loss cross_entropy with --labels, or drop --labels")

    @classmethod
    def from_spec(cls, spec) -> "MatrixNetwork":
        """From a :class:`~derivcheck.core.spec.NetworkSpec` of kind ``matrix`` (an MLP
        given by widths, or explicit matrix equations with shapes)."""
        extra = spec.matrix
        if spec.forward:
            from ...parsing.matrix_equations import network_from_equations  # the one grammar
            from .declared import parse_shapes
            shapes = parse_shapes({k: list(v) for k, v in extra.get("shapes", {}).items()},
                                  "shape")
            return network_from_equations(
                spec.forward, shapes, loss=spec.loss, where="--forward",
                input_name=spec.inputs[0] if spec.inputs else None,
                target=spec.targets[0] if spec.targets else None, batch=extra.get("batch"),
                style=extra.get("style"), reduce=extra.get("reduce"),
                labels=bool(extra.get("labels")), spec=spec)
        net = cls(spec.widths, spec.activations, spec.loss, batch=extra.get("batch"),
                  style=extra.get("style"), bias=spec.bias, reduce=extra.get("reduce"),
                  labels=bool(extra.get("labels")))
        if extra.get("shapes"):
            from .declared import check_declared, parse_shapes
            check_declared(net, parse_shapes({k: list(v) for k, v in extra["shapes"].items()},
                                             "shape"))
        return net

    def with_style(self, style: str) -> "MatrixNetwork":
        """The same network seen in another style."""
        return self._copy(style=style)

    def with_gradient_name(self, name: str, key: tuple) -> "MatrixNetwork":
        """The same network where the style's gradient name ``name`` means dLoss/d(key)
        (cs231n's ``dhidden`` before its mask: dL/dH).

        >>> net = MatrixNetwork([2, 3, 2], "relu,identity", "cross_entropy", batch="N",
        ...                     style="cs231n")
        >>> net.with_gradient_name("dhidden", ("A", 1)).namespace.symbols["dhidden"].description
        'dhidden -> dL/dA1, a N x 3 matrix'
        """
        import dataclasses
        style = dataclasses.replace(self.style, gradient_names={**self.style.gradient_names,
                                                                name: key})
        out = self._copy(style=style)
        out.style_given = self.style_given
        return out

    def with_convention(self, convention) -> "MatrixNetwork":
        """The same network whose backward pass takes activation derivatives under
        ``convention`` (relu'(0) = 0 under torch): the reference a check compares with
        must be the derivative the true network has under the check's convention.

        >>> net = MatrixNetwork([2, 3, 1], "relu")
        >>> net.with_convention("torch").convention.name, net.with_convention("any") is net
        ('torch', True)
        """
        conv = get_convention(convention)
        return self if conv == self.convention else self._copy(convention=conv.name)

    def _copy(self, **changes) -> "MatrixNetwork":
        o = {**self._options, **changes}
        out = MatrixNetwork(o["widths"], o["activations"], o["loss"], batch=o["batch"],
                            style=o["style"], bias=o["bias"], reduce=o["reduce"],
                            convention=o["convention"], labels=o["labels"])
        if "style" not in changes:
            out.style_given = self.style_given
        out.source_spec = self.source_spec
        return out

    @property
    def spec(self):
        if self.source_spec is not None:
            return self.source_spec
        from ..spec import NetworkSpec
        extra = {"style": self.style.name, "reduce": self.reduce}
        if self.labels:
            extra["labels"] = True
        if self.has_batch:
            extra["batch"] = self.batch
        acts = [a if isinstance(a, str) else a.label() for a in self.acts]
        return NetworkSpec("matrix", widths=list(self.widths), activations=acts,
                           bias=self.bias if self.bias or not any(self.biases)
                           else list(self.biases), loss=self.loss, matrix=extra)

    # -- sizes and quantities -------------------------------------------------------------
    @property
    def size_names(self) -> list[str]:
        dims = self.widths + [self.batch]
        return list(dict.fromkeys(d for d in dims if isinstance(d, str)))

    def has_bias(self, l: int) -> bool:
        """Layer ``l`` (from 1) has a bias.

        >>> net = MatrixNetwork([2, 3, 1], "relu", bias=[True, False])
        >>> [k for k in net.keys if k[0] == "b"], net.has_bias(2), net.bias
        ([('b', 1)], False, False)
        """
        return self.biases[l - 1]

    @property
    def softmax_output(self) -> bool:
        return self.acts[-1] == "softmax"

    @property
    def keys(self) -> list[tuple]:
        """Every quantity: input, targets, weights, biases, pre-activations, activations."""
        out = [("X",), ("Y",)]
        for l in range(1, self.L + 1):
            out += [("W", l)] + ([("b", l)] if self.has_bias(l) else []) + [("Z", l), ("A", l)]
        if self.loss == "cross_entropy" and not self.softmax_output:
            out.append(("P",))
        return out

    def canonical_shape(self, key) -> tuple:
        n, m = self.widths, self.batch
        kind = key[0]
        if kind == "X":
            return (n[0], m)
        if kind in ("Y", "P"):
            return (n[-1], m)
        if kind == "W":
            return (n[key[1]], n[key[1] - 1])
        if kind == "b":
            return (n[key[1]], 1)
        return (n[key[1]], m)

    def view(self, key) -> str:
        """How the style shows a canonical quantity: as is, transposed, or as a vector."""
        kind = key[0]
        if kind == "W":
            return "T" if self.style.weights == "in_out" else ""
        if kind == "b":
            if self.style.bias == "vector":
                return "vec"
            return "T" if self.style.layout == "rows" else ""
        return "T" if self.style.layout == "rows" else ""

    def styled_shape(self, key) -> tuple:
        shape, view = self.canonical_shape(key), self.view(key)
        if view == "T":
            return shape[::-1]
        if view == "vec":
            return (shape[0],)
        return shape

    def name(self, key) -> str:
        kind = key[0]
        if kind in ("X", "Y", "P"):
            return self.style.name_of(kind)
        if kind == "A" and key[1] == self.L and self.softmax_output:
            return self.style.name_of("A", key[1])
        return self.style.name_of(kind, key[1])

    def leaf(self, key, name: str | None = None) -> Leaf:
        """The style's named matrix for a canonical quantity."""
        name = name or self.name(key)
        shape = self.styled_shape(key)
        what = KINDS[key[0]] + (f" of layer {key[1]}" if len(key) > 1 else "")
        if key == ("Y",) and self.labels:
            what = "the one-hot targets of the class labels y"
        return Leaf(name, shape, key=(key, self.view(key)),
                    description=f"{name} -> {what}, {a_shape(shape)}")

    def canon(self, key) -> MExpr:
        """The style's leaf brought to the canonical layout."""
        leaf, view = self.leaf(key), self.view(key)
        if key == ("A", 0):
            return self.canon(("X",))
        if view == "T":
            return mx.transpose(leaf)
        if view == "vec":
            return mx.Reshape(leaf, self.canonical_shape(key))
        return leaf

    def activation(self, l: int) -> Activation | str:
        return self.acts[l - 1]

    # -- the backward pass in matrix form ---------------------------------------------------
    @cached_property
    def _gradients(self) -> dict:
        """dJ/dQ (canonical layout) for every quantity, from the output back."""
        return backward.backward_pass(self)

    @cached_property
    def elementwise_softmax_gradients(self) -> dict:
        """The backward pass with softmax's derivative taken elementwise, P (1 - P): the
        mistake the ``softmax_jacobian`` diagnosis names (empty without a softmax)."""
        return (backward.backward_pass(self, elementwise_softmax=True) if self.softmax_output
                else {})

    def gradient(self, key) -> MExpr:
        """dJ/dQ in the canonical layout (J the reduced cost), as a named matrix whose
        expansion is its backward formula."""
        if key not in self._gradients:
            raise SpecError(f"{self.name(key)} has no gradient here",
                            hint="ask for a weight, bias, pre-activation, activation or X")
        return self._gradients[key]

    def gradient_leaf(self, key, name: str, stacked: bool = False) -> Leaf:
        """A gradient name (``dW1``, ``dZ1``, ``dscores``) as a leaf in the style's layout
        (see :func:`.backward.gradient_leaf`)."""
        return backward.gradient_leaf(self, key, name, stacked)

    # -- names ---------------------------------------------------------------------------
    def quantity_names(self) -> dict:
        """name -> canonical key, the style's own names and its aliases."""
        out = {self.name(k): k for k in self.keys}
        out.setdefault(self.style.name_of("Yhat"), ("A", self.L))
        if self.softmax_output or self.loss == "cross_entropy":
            out.setdefault(self.style.name_of("P"),
                           ("A", self.L) if self.softmax_output else ("P",))
        for alias, (kind, layer) in self.style.aliases.items():
            if kind == "X":
                out.setdefault(alias, ("X",))
            elif layer is not None and abs(layer) <= self.L:
                l = layer if layer > 0 else self.L + 1 + layer
                if kind == "A" and l == self.L and layer > 0:
                    continue   # H is the hidden layer, never the output
                out.setdefault(alias, (kind, l))
        return out

    def derivative_name(self, wrt: str) -> str:
        """What a check with respect to ``wrt`` is the value of: a gradient name as it
        stands (``dW1``, ``dhidden``), a quantity (not a parameter's gradient name: ``z2``,
        ``H``, a left side ``dC/dr0``) as the derivative of the loss by it.

        >>> net = MatrixNetwork([2, 3, 1], "relu,sigmoid", "bce", batch="m", style="ng")
        >>> net.derivative_name("dW1"), net.derivative_name("Z1")
        ('dW1', 'dJ/dZ1')
        """
        return f"d{self.style.loss}/d{wrt}" if wrt in self.quantity_names() else wrt

    @cached_property
    def namespace(self) -> Namespace:
        """Every name a formula may use, each a Leaf (see :mod:`.names`)."""
        from .names import namespace
        return namespace(self)

    def gradients(self) -> dict:
        """Every parameter's gradient dJ/dP as a matrix expression in the style's layout
        and names (what ``derivcheck gradient`` prints).

        >>> MatrixNetwork([2, 3, 1], "relu", batch="m").gradients()["W2"].text()
        'dJ/dZ2 @ A1.T'
        """
        return backward.parameter_gradients(self)

    def entries(self, sizes: dict) -> int:
        """How many scalar entries the network has at ``sizes`` (every quantity)."""
        from .shapes import instantiate
        total = 0
        for key in self.keys:
            n = 1
            for d in instantiate(self.canonical_shape(key), sizes):
                n *= d
            total += n
        return total

    def definitions(self, expr: MExpr) -> dict:
        """The named gradients ``expr`` uses, each with its backward formula (see
        :func:`.backward.definitions`)."""
        return backward.definitions(self, expr)

    def with_probabilities(self, expr: MExpr) -> MExpr:
        """``expr`` with the softmax of the last pre-activation over the classes read as
        the network's probabilities (see :mod:`.probabilities`)."""
        return probabilities.with_probabilities(self, expr)

    def instance(self, sizes: dict):
        """The network at concrete sizes (see :mod:`.instance`)."""
        from .instance import Instance
        return Instance(self, sizes)

    def describe(self) -> str:
        dims = ", ".join(str(w) for w in self.widths)
        acts = ", ".join(a if isinstance(a, str) else a.label() for a in self.acts)
        batch = f", batch {self.batch}" if self.has_batch else ""
        labels = ", class labels" if self.labels else ""
        return (f"widths {dims}{batch}; activations {acts}; loss {self.loss} "
                f"({self.reduce}{labels}); style {self.style.name}")


def _dim(value):
    """A width or batch size: a whole number or a size name."""
    if isinstance(value, bool):
        raise SpecError(f"a size must be a whole number or a name, got {value!r}")
    if isinstance(value, int):
        if value < 1:
            raise SpecError(f"a size must be at least 1, got {value}")
        return value
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[0-9]+", text):
            if len(text) > limits.MAX_DIGITS:
                raise LimitError(f"the size {text[:20]}... has more than {limits.MAX_DIGITS} "
                                 "digits", position=0)
            return _dim(int(text))
        if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,15}", text):
            return text
    raise SpecError(f"a size must be a whole number or a name, got {value!r}",
                    hint="e.g. --widths 4,3,2 or --widths n0,n1,n2 --batch m")


def _biases(bias, layers: int) -> tuple:
    """One flag per layer: ``bias`` True or False for every layer, or one per layer."""
    if isinstance(bias, (list, tuple)):
        if len(bias) != layers or not all(isinstance(b, bool) for b in bias):
            raise SpecError(f"biases per layer need {layers} true/false values, got {bias!r}")
        return tuple(bias)
    return (bool(bias),) * layers

