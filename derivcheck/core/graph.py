"""The computation graph: a network as forward equations in topological order.

Every network kind becomes the same thing: a list of :class:`Node` (``z1 = w1*x``,
``a1 = ReLU(z1)``, ..., ``C = (y - a2)**2/2``), each defined only in terms of earlier
nodes, parameters, inputs and targets. Expressions refer to earlier nodes by symbol,
so the graph's size is linear in depth.

>>> from derivcheck.core.spec import NetworkSpec
>>> g = build_graph(NetworkSpec.from_dict({"weights": ["w1", "w2"], "activations": "relu"}))
>>> [(str(n.symbol), str(n.expr)) for n in g.nodes]
[('z1', 'w1*x'), ('a1', 'ReLU(z1)'), ('z2', 'a1*w2'), ('a2', 'ReLU(z2)'), ('C', '(-a2 + y)**2/2')]
>>> g.params
[w1, w2]
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum

import sympy
from sympy import Add, Mul, Symbol
from sympy.core.mul import _args_sortkey

from .activations import Activation, parse_activation
from ..errors import SpecError
from .losses import UPSTREAM, loss_expr
from .primitives import primitive_of
from ..names import Namespace
from .spec import NetworkSpec

__all__ = ["Role", "Node", "Graph", "build_graph", "product", "paused_gc"]

LOSS_NAMES = ("C", "J", "L", "E", "Cost", "Loss")


class Role(StrEnum):
    """What a forward equation computes."""

    __repr__ = str.__repr__  # shown as the plain string, like the values it replaced

    PRE = "pre"      # a pre-activation
    ACT = "act"      # an activation output
    LOSS = "loss"    # the loss
    EQ = "eq"        # any other explicit equation


@dataclass
class Node:
    """One forward equation ``symbol = expr``.

    ``role`` is a :class:`Role`; ``layer`` and ``unit`` index chains and MLPs;
    ``activation`` is set on ``Role.ACT`` nodes built from the activation table.
    """

    symbol: Symbol
    expr: sympy.Expr
    role: Role = Role.EQ
    layer: int | None = None
    unit: int | None = None
    activation: Activation | None = None
    linear: dict | None = None  # for affine nodes: symbol -> coefficient (local partials)


@dataclass
class Graph:
    """Nodes plus the names around them."""

    spec: NetworkSpec
    nodes: list[Node]
    inputs: list[Symbol]
    targets: list[Symbol]
    params: list[Symbol]
    outputs: list[Symbol]
    loss: Symbol
    aliases: dict[str, sympy.Expr] = field(default_factory=dict)

    @property
    def definitions(self) -> dict[Symbol, sympy.Expr]:
        """symbol -> defining expression, in forward order."""
        return {n.symbol: n.expr for n in self.nodes}

    def node(self, symbol: Symbol) -> Node:
        return self._by_symbol[symbol]

    def __post_init__(self):
        self._by_symbol = {n.symbol: n for n in self.nodes}

    @property
    def depth(self) -> int:
        return max((n.layer or 0) for n in self.nodes)

    def namespace(self) -> Namespace:
        """Every name a candidate may use, for the parser (adjoints added by the caller)."""
        ns = Namespace()
        for p in self.params:
            ns.symbols[str(p)] = p
            ns.roles[str(p)] = "parameter"
        for s in self.inputs:
            ns.symbols[str(s)] = s
            ns.roles[str(s)] = "input"
        for s in self.targets:
            ns.symbols[str(s)] = s
            ns.roles[str(s)] = "target"
        for n in self.nodes:
            if n.role != Role.LOSS:
                ns.symbols[str(n.symbol)] = n.symbol
                ns.roles[str(n.symbol)] = "intermediate"
        for name, target in self.aliases.items():
            ns.symbols.setdefault(name, target)
            ns.roles.setdefault(name, "intermediate")
        acts = {}
        for n in self.nodes:
            if n.role == Role.ACT and n.activation is not None:
                pre = n.expr.args[0] if n.expr.args else None
                if isinstance(pre, Symbol):
                    acts[str(pre)] = n.activation
        ns.activations = acts
        kinds = {a.label() for a in acts.values()}
        if len(kinds) == 1:
            ns.default_activation = next(iter(acts.values()))
        return ns


def product(a, b):
    """``Mul(a, b)``, fast for two distinct symbols or applied functions.

    For such factors SymPy's flattening only sorts them into canonical order, yet it is
    most of the cost of building a deep chain and of its reverse mode; here they are
    sorted directly, giving the very same expression.

    >>> from derivcheck.core.functions import Step
    >>> w, x = sympy.symbols("w x")
    >>> product(x, w) == Mul(x, w) and product(x, w).args == Mul(x, w).args
    True
    >>> product(w, Step(x)).args == Mul(w, Step(x)).args
    True
    """
    if _plain(a) and _plain(b) and a != b:
        return Mul._from_args(sorted((a, b), key=_args_sortkey), True)
    return Mul(a, b)


def _plain(e) -> bool:
    """A commutative symbol, or a function of such symbols and numbers (whose own
    commutativity is not asked: SymPy's assumption system is slow on fresh objects)."""
    if e.is_Symbol:
        return e.is_commutative is True
    return e.is_Function and all(a.is_Number or (a.is_Symbol and a.is_commutative is True)
                                 for a in e.args)


@contextmanager
def paused_gc():
    """Pause Python's cyclic garbage collector while many SymPy objects are built.

    Expressions form no reference cycles, so a collection frees nothing here, yet its
    passes over every live object made building a deep network superlinear in depth.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build_graph(spec: NetworkSpec) -> Graph:
    """Build the graph of a chain, an MLP or explicit forward equations."""
    with paused_gc():
        if spec.kind == "chain":
            return _chain(spec)
        if spec.kind == "mlp":
            return _mlp(spec)
        return _forward(spec)


class _Names:
    """Generated intermediate names that avoid the user's own names."""

    def __init__(self, taken: set[str]):
        self.taken = set(taken)

    def base(self, preferred: str, fallbacks: tuple[str, ...], count_names) -> str:
        """The first base letter whose generated names clash with nothing taken."""
        for b in (preferred, *fallbacks):
            if not any(name in self.taken for name in count_names(b)):
                self.taken.update(count_names(b))
                return b
        raise SpecError("cannot name the intermediate quantities: every choice clashes "
                        "with a name of the network")


def _loss_symbol(taken: set[str]) -> Symbol:
    for name in LOSS_NAMES:
        if name not in taken:
            return Symbol(name)
    raise SpecError("the names C, J, L, E, Cost and Loss are all taken; rename a parameter")


def _chain(spec: NetworkSpec) -> Graph:
    n = len(spec.weights)
    user = set(spec.weights) | set(spec.biases) | set(spec.inputs) | set(spec.targets)
    if len(user) != n + len(spec.biases) + len(spec.inputs) + len(spec.targets):
        raise SpecError("a name is used twice among weights, biases, input and target")
    acts = [parse_activation(a) for a in spec.activations]
    learnable = [s for a in acts for s in a.learnable]
    _refuse_clashes(sorted(user), [], {str(s) for s in learnable})
    user |= {str(s) for s in learnable}
    names = _Names(user)
    zb = names.base("z", ("s", "u", "pre"), lambda b: [f"{b}{k}" for k in range(1, n + 1)])
    ab = names.base("a", ("h", "act"), lambda b: [f"{b}{k}" for k in range(0, n + 1)])
    aliases = {}
    if all(f"r{k}" not in names.taken for k in range(1, n + 1)):
        aliases.update({f"r{k}": Symbol(f"{ab}{k}") for k in range(1, n + 1)})
    if len(spec.inputs) != 1 or len(spec.targets) != 1:
        raise SpecError("a chain has one input and one target")
    x, y = Symbol(spec.inputs[0]), Symbol(spec.targets[0])
    W = [Symbol(w) for w in spec.weights]
    B = [Symbol(b) for b in spec.biases]
    nodes, prev = [], x
    aliases[f"{ab}0"] = x
    for k in range(1, n + 1):
        z, a = Symbol(f"{zb}{k}"), Symbol(f"{ab}{k}")
        pre = product(W[k - 1], prev)
        if B:
            pre = pre + B[k - 1]
        linear = {W[k - 1]: prev, prev: W[k - 1]}
        if B:
            linear[B[k - 1]] = sympy.S.One
        nodes.append(Node(z, pre, Role.PRE, k, linear=linear))
        nodes.append(Node(a, acts[k - 1].apply(z), Role.ACT, k, activation=acts[k - 1]))
        prev = a
    aliases.setdefault("yhat", prev)
    C = _loss_symbol(names.taken | set(aliases))
    nodes.append(Node(C, loss_expr(spec.loss, [prev], [y]), Role.LOSS))
    params = []
    for k in range(n):
        params.append(W[k])
        if B:
            params.append(B[k])
    params += [s for s in dict.fromkeys(learnable)]
    return Graph(spec, nodes, [x], [y], params, [prev], C, aliases)


def _refuse_clashes(user: list[str], generated, learnable: set[str]) -> None:
    """A SpecError when one name would stand for two quantities (they would silently
    become one symbol): inputs/targets twice, or equal to a generated weight, bias or
    intermediate name, or to an activation's learnable parameter."""
    seen: set[str] = set()
    for name in user:
        if name in seen:
            raise SpecError(f"the name {name!r} is used twice among the inputs and targets")
        seen.add(name)
    for name in sorted((seen | learnable) & set(generated) | seen & learnable):
        raise SpecError(f"the name {name!r} is already a weight, bias, activation parameter "
                        "or intermediate quantity of the network",
                        hint="rename that input, target or activation parameter")


def _unit_name(base: str, layer: int, unit: int) -> str:
    return f"{base}{layer}_{unit}"


def _weight_name(k: int, i: int, j: int, wide: bool) -> str:
    return f"W{k}_{i}_{j}" if wide else f"W{k}_{i}{j}"


def _mlp(spec: NetworkSpec) -> Graph:
    widths = spec.widths
    L = len(widths) - 1
    acts = [parse_activation(a) for a in spec.activations]
    wide = max(widths) >= 10
    inputs = ([Symbol(s) for s in spec.inputs] if spec.inputs else
              [Symbol("x")] if widths[0] == 1 else
              [Symbol(f"x{i}") for i in range(1, widths[0] + 1)])
    m = widths[-1]
    base = UPSTREAM if spec.loss == "upstream" else "y"
    targets = ([Symbol(s) for s in spec.targets] if spec.targets else
               [Symbol(base)] if m == 1 else [Symbol(f"{base}{j}") for j in range(1, m + 1)])
    if len(inputs) != widths[0] or len(targets) != m:
        raise SpecError(f"widths {widths} need {widths[0]} input and {m} target names")
    nodes, params, aliases, built = [], [], {}, []
    prev = list(inputs)
    for i, s in enumerate(inputs, 1):
        aliases[_unit_name("a", 0, i)] = s
    for k in range(L):
        layer_out = []
        for j in range(1, widths[k + 1] + 1):
            ws = [Symbol(_weight_name(k, i, j, wide)) for i in range(1, widths[k] + 1)]
            params += ws
            built += ws
            pre = Add(*[w * p for w, p in zip(ws, prev)])
            linear = {**dict(zip(ws, prev)), **dict(zip(prev, ws))}
            if spec.bias:
                b = Symbol(_unit_name("b", k + 1, j))
                params.append(b)
                built.append(b)
                pre = pre + b
                linear[b] = sympy.S.One
            z = Symbol(_unit_name("z", k + 1, j))
            a = Symbol(_unit_name("a", k + 1, j))
            nodes.append(Node(z, pre, Role.PRE, k + 1, j, linear=linear))
            nodes.append(Node(a, acts[k].apply(z), Role.ACT, k + 1, j, activation=acts[k]))
            aliases[_unit_name("r", k + 1, j)] = a
            layer_out.append(a)
        prev = layer_out
        params += [s for s in acts[k].learnable if s not in params]
    if m == 1:
        aliases["yhat"] = prev[0]
    else:
        aliases.update({f"yhat{j}": s for j, s in enumerate(prev, 1)})
    learnable = {str(s) for a in acts for s in a.learnable}
    generated = {str(s) for s in built} | {str(n.symbol) for n in nodes} | {
        k for k, v in aliases.items() if str(v) != k}
    user = [str(s) for s in inputs + targets]
    _refuse_clashes(user, generated, learnable)
    C = _loss_symbol(set(user) | generated | learnable)
    nodes.append(Node(C, loss_expr(spec.loss, prev, targets), Role.LOSS))
    return Graph(spec, nodes, inputs, targets, params, prev, C, aliases)


def _forward(spec: NetworkSpec) -> Graph:
    from ..parsing import parse_equation  # the one grammar; imported late (it is heavier)

    inputs = [Symbol(s) for s in spec.inputs]
    targets = [Symbol(s) for s in spec.targets]
    defined: dict[str, Symbol] = {}
    nodes = []
    reserved = {str(s) for s in inputs + targets}
    parsed = [(text, *parse_equation(text)) for text in spec.forward]
    left_sides = {name for _, name, _ in parsed}
    for text, name, expr in parsed:
        if name in reserved or name in defined:
            raise SpecError(f"{name!r} is defined twice (or is an input/target): {text}")
        early = sorted(str(s) for s in expr.free_symbols
                       if str(s) in left_sides and str(s) not in defined)
        if early:
            raise SpecError(f"{early[0]!r} is used before its own equation: {text}",
                            hint="write the forward equations in the order they are "
                                 "computed, each using only names defined above it")
        sym = Symbol(name)
        defined[name] = sym
        nodes.append(_forward_node(sym, expr))
    if not nodes:
        raise SpecError("no forward equations given")
    outputs = [n.symbol for n in nodes if str(n.symbol).startswith("yhat")
               and str(n.symbol)[4:].isdigit()] or [
        defined.get("yhat", nodes[-1].symbol)]
    aliases = {} if "yhat" in defined or len(outputs) > 1 else {"yhat": outputs[0]}
    known = set(defined.values()) | set(inputs) | set(targets)
    params = []
    for n in nodes:
        for s in sorted(n.expr.free_symbols, key=str):
            if s not in known and s not in params:
                params.append(s)
    if len(targets) != len(outputs):
        if len(targets) == 1 and len(outputs) > 1:
            targets = [Symbol(f"{targets[0]}{j}") for j in range(1, len(outputs) + 1)]
        else:
            raise SpecError(f"{len(outputs)} outputs but {len(targets)} targets")
    taken = {str(s) for s in params} | set(defined) | {str(s) for s in inputs + targets}
    C = _loss_symbol(taken)
    nodes.append(Node(C, loss_expr(spec.loss, outputs, targets), Role.LOSS))
    return Graph(spec, nodes, inputs, targets, params, outputs, C, aliases)


def _forward_node(sym: Symbol, expr: sympy.Expr) -> Node:
    """An explicit equation; ``h = relu(z1)`` is recognized as an activation node."""
    if isinstance(expr, sympy.Function) and expr.args:
        kind = primitive_of(expr)
        if kind is not None and kind.activation and kind.cls is type(expr):
            return Node(sym, expr, Role.ACT, activation=Activation(kind, tuple(expr.args[1:])))
    return Node(sym, expr, Role.EQ)
