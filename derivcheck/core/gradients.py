"""Symbolic reverse mode over the graph: exact gradients that stay linear in depth.

Reverse mode is a plain loop over the nodes in reverse order. Each node ``v = f(u, ...)``
gets an *adjoint symbol* ``dC/dv`` whose definition is the sum of its consumers'
adjoints times their local derivatives, exactly the seed answer's three equations:

    dC/dz_j = dC/dr_j f'(z_j);   dC/dr_i = sum_j dC/dz_j W_ij;   dC/dW_ij = dC/dz_j r_i

Nothing is substituted, so the definitions of all adjoints and all parameter
gradients together have size linear in the graph. :meth:`Backward.inline` and
:meth:`Backward.expand` substitute on request (products are flattened in one pass,
never by repeated substitution, so a chain's inline gradient costs O(n log n)).

>>> from derivcheck.core.spec import NetworkSpec
>>> from derivcheck.core.graph import build_graph
>>> g = build_graph(NetworkSpec.from_dict({"weights": ["w1", "w2"], "activations": "relu"}))
>>> bw = backward(g)
>>> bw.gradients[sympy.Symbol("w1")]
dC/dz1*x
>>> bw.inline(bw.gradients[sympy.Symbol("w1")])
w2*x*(a2 - y)*Step(z1)*Step(z2)
>>> bw.expand(bw.gradients[sympy.Symbol("w1")])
w2*x*(-y + ReLU(w2*ReLU(w1*x)))*Step(w1*x)*Step(w2*ReLU(w1*x))
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import sympy
from sympy import Add, Mul, S, Symbol

from .. import limits
from .conventions import Convention, get_convention
from ..errors import LimitError
from .graph import Graph, Role, paused_gc, product

__all__ = ["Backward", "backward", "local_derivative", "adjoint_name", "adjoint_of",
           "adjoint_symbol", "tree_size"]


#: What the name of an adjoint starts with; the quantity's own name follows.
_ADJOINT_PREFIX = "dC/d"


def adjoint_name(symbol) -> str:
    """The plain name of the adjoint of ``symbol`` (a Symbol or a name): ``dC/dz2``.
    :func:`adjoint_of` reads it back.

    >>> adjoint_name(Symbol("z2")), adjoint_of(adjoint_name("w1")), adjoint_of("dz2")
    ('dC/dz2', 'w1', None)
    """
    return _ADJOINT_PREFIX + (symbol.name if isinstance(symbol, Symbol) else str(symbol))


def adjoint_of(name: str) -> str | None:
    """The name of the quantity whose adjoint is named ``name``, or None when ``name``
    is not an adjoint's name."""
    quantity = name.removeprefix(_ADJOINT_PREFIX)
    return quantity if quantity != name and quantity else None


def adjoint_symbol(symbol) -> Symbol:
    """The symbol standing for dC/d``symbol``, named by :func:`adjoint_name`."""
    return Symbol(adjoint_name(symbol))


def local_derivative(expr, u: Symbol, convention: Convention) -> sympy.Expr:
    """d expr / d u for one equation's right-hand side (not through other nodes).

    Activations differentiate through ``convention.derivative`` so framework profiles
    put their own kink values in; everything else uses the usual rules.

    >>> from derivcheck.core.functions import ReLU
    >>> x, w = sympy.symbols("x w")
    >>> local_derivative(ReLU(w * x) ** 2, w, get_convention("any"))
    2*x*ReLU(w*x)*Step(w*x)
    """
    if expr == u:
        return S.One
    if not expr.has(u):
        return S.Zero
    if expr.is_Add:
        return Add(*[local_derivative(a, u, convention) for a in expr.args])
    if expr.is_Mul:
        terms = []
        args = expr.args
        for i, a in enumerate(args):
            if a.has(u):
                terms.append(Mul(*args[:i], local_derivative(a, u, convention), *args[i + 1:]))
        return Add(*terms)
    if expr.is_Pow:
        base, e = expr.args
        if not e.has(u):
            return e * base ** (e - 1) * local_derivative(base, u, convention)
        return sympy.diff(expr, u)
    if isinstance(expr, sympy.Function):
        terms = []
        for i, a in enumerate(expr.args, 1):
            if a.has(u):
                terms.append(convention.derivative(expr, i) * local_derivative(a, u, convention))
        return Add(*terms)
    return sympy.diff(expr, u)


@dataclass
class Backward:
    """Adjoint definitions and parameter gradients of one graph under one convention."""

    graph: Graph
    convention: Convention
    adjoints: dict = field(default_factory=dict)      # forward symbol -> adjoint symbol
    definitions: dict = field(default_factory=dict)   # adjoint symbol -> expression
    gradients: dict = field(default_factory=dict)     # parameter/input -> expression

    def inline(self, expr, keep=()):
        """Substitute adjoint symbols (except those in ``keep``) by their definitions.

        Products are flattened in a single pass, so a chain's gradient written with
        forward intermediates only has size linear in depth.
        """
        adjoint_set = self._adjoint_set

        def children(e):
            if e in self.definitions and e not in keep:
                return (self.definitions[e],)
            if e.is_Atom:
                return ()
            if e.is_Mul or e.free_symbols & adjoint_set:
                return e.args
            return ()

        def factors_of(e, memo):
            if e in self.definitions and e not in keep:
                return memo[self.definitions[e]]
            if e.is_Atom:
                return [e]
            if e.is_Mul:
                return [f for a in e.args for f in memo[a]]
            if e.free_symbols & adjoint_set:
                return [e.func(*[Mul(*memo[a]) for a in e.args])]
            return [e]

        return Mul(*_postorder(expr, children, factors_of))

    def expand(self, expr, limit: int = limits.MAX_EXPANDED_SIZE):
        """Substitute everything down to parameters, inputs and targets.

        Refuses (LimitError) when the fully substituted tree would exceed ``limit``
        nodes: a deep chain's expanded gradient is quadratic in depth.
        """
        inlined = self.inline(expr)
        defs = self.graph.definitions

        def children(e):
            if e in defs:
                return (defs[e],)
            return e.args

        def sub(e, memo):
            if e in defs:
                return memo[defs[e]]
            if e.args:
                return e.func(*[memo[a] for a in e.args])
            return e

        size = tree_size(inlined, defs)
        if size > limit:
            raise LimitError(f"the fully substituted gradient has about {size} terms, more "
                             f"than the limit {limit}",
                             hint="leave out --expand: the gradient is printed with the "
                                  "network's intermediate quantities and their definitions")
        return _postorder(inlined, children, sub)

    @property
    def _adjoint_set(self) -> set:
        if not hasattr(self, "_adj_cache"):
            self._adj_cache = set(self.definitions)
        return self._adj_cache

    def compact(self) -> dict:
        """Adjoint definitions to show: those of pre-activations and of nodes used more
        than once, the others inlined (the seed answer's combined steps 1 and 2)."""
        keep = self.kept()
        return {a: self.inline(self.definitions[a], keep=keep - {a}) for a in self.definitions
                if a in keep}

    def kept(self) -> set:
        """Adjoint symbols worth naming in output (see :meth:`compact`)."""
        uses = defaultdict(int)
        for n in self.graph.nodes:
            for s in n.expr.free_symbols:
                uses[s] += 1
        keep = set()
        for n in self.graph.nodes:
            if n.role == Role.LOSS:
                continue
            if n.role == Role.PRE or uses[n.symbol] > 1 or n.role == Role.EQ:
                keep.add(self.adjoints[n.symbol])
        return keep


def backward(graph: Graph, convention: str | Convention = "any") -> Backward:
    """Run symbolic reverse mode over ``graph``.

    The loss node's adjoint is 1; every other node's adjoint is the sum over its
    consumers of (consumer's adjoint) x (local derivative). Parameters and inputs get
    gradients the same way.
    """
    conv = get_convention(convention)
    with paused_gc():
        return _backward(graph, conv)


def _backward(graph: Graph, conv: Convention) -> Backward:
    bw = Backward(graph, conv)
    contributions: dict = defaultdict(list)
    node_symbols = {n.symbol for n in graph.nodes}
    leaves = set(graph.params) | set(graph.inputs)
    for node in reversed(graph.nodes):
        if node.role == Role.LOSS:
            adj_expr = S.One
        else:
            adj_expr = _sum(contributions.pop(node.symbol, []))
        adj = adjoint_symbol(node.symbol)
        bw.adjoints[node.symbol] = adj
        if node.role != Role.LOSS:
            bw.definitions[adj] = adj_expr
        for u, partial in _local_partials(node, conv):
            if u in node_symbols or u in leaves:
                contributions[u].append(partial if node.role == Role.LOSS else product(adj, partial))
    for p in list(graph.params) + list(graph.inputs):
        bw.gradients[p] = _sum(contributions.get(p, []))
    return bw


def _sum(terms: list):
    """``Add(*terms)``, without SymPy's constructor for the common single term."""
    return terms[0] if len(terms) == 1 else Add(*terms)


def _local_partials(node, conv: Convention):
    """(u, d node / d u) for every symbol u the node's expression uses.

    Affine nodes carry their coefficients (built with the graph); an activation node
    ``a = f(z)`` asks the convention for f'(z); anything else is differentiated.
    """
    if node.linear is not None:
        return list(node.linear.items())
    e = node.expr
    if node.activation is not None and isinstance(e, sympy.Function) and e.args[0].is_Symbol:
        z = e.args[0]
        out = [(z, conv.derivative(e, 1))]
        out += [(s, local_derivative(e, s, conv)) for s in e.args[1:] if s.is_Symbol]
        return out
    return [(u, local_derivative(e, u, conv)) for u in sorted(e.free_symbols, key=_name)]


def _name(symbol) -> str:
    return symbol.name


def tree_size(expr, definitions: dict | None = None) -> int:
    """Nodes in ``expr`` written out as a tree, with ``definitions`` substituted.

    Computed on the DAG (memoized), so it is cheap even when the answer is huge.
    """
    definitions = definitions or {}

    def children(e):
        return (definitions[e],) if e in definitions else e.args

    def size(e, memo):
        if e in definitions:
            return memo[definitions[e]]
        return 1 + sum(memo[a] for a in e.args)

    return _postorder(expr, children, size)


def _postorder(root, children, combine):
    """``combine(e, memo)`` for every node below ``root``, children first, without
    recursion (deep chains nest thousands of levels); ``memo`` holds the children's
    results. Returns the root's."""
    memo: dict = {}
    stack = [root]
    while stack:
        e = stack[-1]
        if e in memo:
            stack.pop()
            continue
        pending = [c for c in children(e) if c not in memo]
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        memo[e] = combine(e, memo)
    return memo[root]
