"""The :class:`Network` users hold: a spec, its graph, and its exact gradients.

>>> net = chain(weights=["w1"], activations="relu")
>>> net.gradient("w1")
x*(-y + ReLU(w1*x))*Step(w1*x)
>>> net.gradient("w1", form="inline")
x*(a1 - y)*Step(z1)
>>> chain(weights=["W0"], activations="relu").gradient("W0")
x*(-y + ReLU(W0*x))*Step(W0*x)
"""
from __future__ import annotations

from functools import cached_property

import sympy
from sympy import Symbol

from .conventions import Convention, get_convention
from ..errors import SpecError, UsageError
from .gradients import Backward, adjoint_symbol, backward
from .graph import Graph, build_graph
from .printing import plain
from ..names import Namespace, did_you_mean
from .spec import NetworkSpec

__all__ = ["Network", "chain", "mlp", "forward", "load", "from_dict", "build"]

#: Forward equations a network's repr shows.
SHOWN_EQUATIONS = 20
#: What :meth:`Network.gradient` can show.
_FORMS = ("expanded", "inline", "named")


class Network:
    """A network: forward equations, parameters, and gradients per convention."""

    def __init__(self, spec: NetworkSpec):
        self.spec = spec
        self.graph: Graph = build_graph(spec)
        self._backward: dict[str, Backward] = {}
        if spec.define:
            self.namespace  # noqa: B018 - the author's definitions are read (and refused) now

    @classmethod
    def from_graph(cls, graph: Graph) -> "Network":
        """A network over a graph built elsewhere (a matrix network's entries)."""
        net = cls.__new__(cls)
        net.spec, net.graph, net._backward = graph.spec, graph, {}
        return net

    def __repr__(self) -> str:
        """Its fields, then its forward equations (the first :data:`SHOWN_EQUATIONS`).

        >>> chain(weights=["w1"], activations="relu")
        Network({'weights': ['w1'], 'activations': ['relu'], 'input': 'x', 'target': 'y', 'loss': 'half_squared'})
          z1 = w1*x
          a1 = relu(z1)
          C = (y - a1)**2/2
        """
        nodes = self.graph.nodes
        lines = [f"  {n.symbol} = {plain(n.expr)}" for n in nodes[:SHOWN_EQUATIONS]]
        if len(nodes) > SHOWN_EQUATIONS:
            lines.append(f"  ... ({len(nodes) - SHOWN_EQUATIONS} more equations)")
        return "\n".join([f"Network({self.spec.to_dict()!r})", *lines])

    @property
    def params(self) -> list[Symbol]:
        return list(self.graph.params)

    @property
    def inputs(self) -> list[Symbol]:
        return list(self.graph.inputs)

    @property
    def targets(self) -> list[Symbol]:
        return list(self.graph.targets)

    @property
    def variables(self) -> list[Symbol]:
        """Everything a point assigns: inputs, parameters, targets."""
        return self.inputs + self.params + self.targets

    def backward(self, convention: str | Convention = "any") -> Backward:
        """Reverse mode under ``convention`` (cached)."""
        conv = get_convention(convention)
        if conv.name not in self._backward:
            self._backward[conv.name] = backward(self.graph, conv)
        return self._backward[conv.name]

    def parameter(self, name: str | Symbol) -> Symbol:
        """The parameter (or input) called ``name``, with a helpful error."""
        name = str(name)
        for s in self.params + self.inputs:
            if s.name == name:
                return s
        ns = self.namespace
        hit = ns.case_match(name)
        if hit and Symbol(hit) in self.params:
            return Symbol(hit)
        names = [s.name for s in self.params + self.inputs]
        raise SpecError(f"{name!r} is not a parameter of the network",
                        hint="parameters: " + _listing([p.name for p in self.params]),
                        suggestion=did_you_mean(name, names))

    def quantity(self, name: str | Symbol) -> Symbol:
        """A parameter, input or forward quantity (``z1``, ``a2``, ``yhat``) called
        ``name``: what a gradient may be taken with respect to (CONTRACT section 5)."""
        text = str(name)
        for node in self.graph.nodes:
            if node.role != "loss" and node.symbol.name == text:
                return node.symbol
        alias = self.graph.aliases.get(text)
        if isinstance(alias, Symbol) and (alias in self.graph.definitions or alias in
                                          self.params + self.inputs):
            return alias
        return self.parameter(name)

    def gradient(self, wrt, *, convention: str | Convention = "any", form: str = "expanded"):
        """dC/d``wrt`` as an exact SymPy expression with Step (kink value = convention).

        ``form``: ``expanded`` (parameters, inputs and targets only; refused past a
        size limit), ``inline`` (the network's forward intermediates such as z2, a2),
        or ``named`` (also backward quantities such as dC/dz2).
        """
        bw = self.backward(convention)
        g = bw.gradients[self.parameter(wrt)]
        if form == "named":
            return g
        if form == "inline":
            return bw.inline(g)
        if form == "expanded":
            return bw.expand(g)
        raise UsageError(f"unknown form {form!r}", hint="forms: " + ", ".join(_FORMS))

    def definitions(self, convention: str | Convention = "any") -> dict:
        """Every symbol's definition, forward then backward, in an order evaluators can
        follow: each definition uses only earlier symbols and leaves."""
        bw = self.backward(convention)
        defs = dict(self.graph.definitions)
        defs.update(bw.definitions)
        for p, g in bw.gradients.items():
            defs[adjoint_symbol(p)] = g
        return defs

    @cached_property
    def namespace(self) -> Namespace:
        """Names a candidate may use, with dC/d(quantity) for every quantity."""
        ns = self.graph.namespace()
        for name, target in ns.symbols.items():
            if isinstance(target, Symbol):
                ns.adjoints[name] = adjoint_symbol(target)
        if self.spec.define:
            from ..parsing.definitions import with_definitions  # the parser reads them
            ns = with_definitions(ns, self.spec.define)
        return ns

    def loss(self) -> sympy.Expr:
        """The loss, fully substituted (small networks only)."""
        bw = self.backward()
        return bw.expand(self.graph.loss)


def from_dict(data: dict, *, oracle: bool = False):
    """A network from the fields of a TOML file or a batch line (``oracle``: for the
    oracle only, within its own limits; see :meth:`NetworkSpec.from_dict`)."""
    return build(NetworkSpec.from_dict(data, oracle=oracle))


def build(spec: NetworkSpec):
    """A :class:`Network`, or a :class:`~derivcheck.core.matrix.network.MatrixNetwork` for
    an MLP with a batch, a style or size names."""
    if spec.kind == "matrix":
        from .matrix.network import MatrixNetwork
        return MatrixNetwork.from_spec(spec)
    return Network(spec)


def _listing(names: list, shown: int = 12) -> str:
    """``a, b, c`` or, for long lists, the first ``shown`` and how many in all.

    >>> _listing(["w1", "w2"]), _listing([f"w{k}" for k in range(100)], shown=2)
    ('w1, w2', 'w0, w1, ... (100 in all)')
    """
    if len(names) <= shown:
        return ", ".join(names)
    return ", ".join(names[:shown]) + f", ... ({len(names)} in all)"


def load(path):
    """A network from a TOML file."""
    return build(NetworkSpec.from_toml(path))


def chain(weights, activations="relu", *, biases=None, input="x", target="y",
          loss="half_squared", define=None) -> Network:
    """A scalar chain: layer k computes a_k = act_k(w_k a_{k-1} + b_k), a_0 = input.

    ``define``: the author's own names, such as ``["s(z) = sigmoid(z)"]``."""
    data = {"weights": weights, "activations": activations, "input": input, "target": target,
            "loss": loss, "define": define}
    if biases:
        data["biases"] = biases
    return from_dict(data)


def mlp(widths, activations="relu", *, bias=False, inputs=None, targets=None,
        loss="half_squared", batch=None, style=None, reduce=None, define=None, oracle=False,
        labels=False):
    """A fully connected network with the given layer widths (weights W{k}_{ij}); with a
    ``batch``, a ``style`` or size names among the widths, a matrix network (CONTRACT
    section 5; ``labels``: cross-entropy with class labels). ``define``: the author's own
    names. ``oracle=True``: for the oracle only,
    so sizes people train (``mlp([784, 128, 10], "relu,identity", bias=True,
    loss="cross_entropy", oracle=True)``) are a matrix network within the oracle's
    limits."""
    data = {"widths": list(widths), "activations": activations, "bias": bias, "loss": loss}
    for key, value in (("batch", batch), ("style", style), ("reduce", reduce),
                       ("define", define), ("labels", labels or None)):
        if value is not None:
            data[key] = value
    if inputs:
        data["input"] = inputs
    if targets:
        data["target"] = targets
    return from_dict(data, oracle=oracle)


def forward(equations, *, inputs=None, target=None, loss="half_squared", define=None,
            shapes=None, batch=None, style=None, reduce=None, labels=False):
    """A network from explicit forward equations; the last one defines yhat (inputs ``x``
    and target ``y`` by default).

    With ``shapes``, matrix equations (CONTRACT section 5), read as a matrix network:

    >>> net = forward(["Z1 = W1 @ X + b1", "A1 = relu(Z1)", "Z2 = W2 @ A1 + b2",
    ...                "Yhat = softmax(Z2)"], shapes={"X": "n0,m", "W1": "n1,n0",
    ...                "W2": "n2,n1"}, loss="cross_entropy", labels=True)
    >>> net.widths, net.batch, net.labels
    (['n0', 'n1', 'n2'], 'm', True)
    """
    data = {"forward": list(equations), "loss": loss, "define": define, "input": inputs,
            "target": target, "shape": shapes, "batch": batch, "style": style,
            "reduce": reduce, "labels": labels or None}
    return from_dict({k: v for k, v in data.items() if v is not None})
