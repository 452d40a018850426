"""A matrix network at concrete sizes: a scalar network of entries, at two levels.

* The **true** level is the network itself: every entry of Z, A and the loss is a node of
  a scalar :class:`~derivcheck.core.network.Network`, so the exact scalar machinery gives
  dJ/dq for every entry q, and counterexamples are points of real inputs and weights.
* The **atom** level keeps the pre-activations Z (and softmax probabilities) as free
  leaves, with only the elementwise relations A = g(Z). An identity there holds for every
  value of Z, hence at the true Z as well; and both sides are then polynomials in the
  entries of their leaves, which is what lets a few sizes stand for all
  (:mod:`derivcheck.decide.matrix`).

Targets of ``cross_entropy`` sum to one per example (the last class is 1 minus the
others), the affine hull of one-hot targets.

>>> from .network import MatrixNetwork
>>> net = MatrixNetwork([2, 3, 1], "relu", batch="m")
>>> inst = net.instance({"m": 2})
>>> inst.array(("W", 1)).shape, str(inst.array(("W", 1))[2, 1])
((3, 2), 'W1_32')
>>> str(inst.array(("X",))[1, 0])
'X_21'
>>> len(inst.true_network.graph.nodes)
17
"""
from __future__ import annotations

from functools import cached_property

import numpy as np
import sympy
from sympy import Symbol

from ..gradients import adjoint_symbol
from ..graph import Graph, Node
from ..spec import NetworkSpec
from .shapes import instantiate

__all__ = ["Instance", "Env"]


class Instance:
    """Symbols for every entry, and the two scalar networks."""

    def __init__(self, net, sizes: dict):
        self.net = net
        self.sizes = {k: int(v) for k, v in sizes.items()}
        missing = [s for s in net.size_names if s not in self.sizes]
        if missing:
            raise ValueError(f"no value for the sizes {missing}")
        self._arrays: dict = {}

    def shape(self, key) -> tuple:
        return instantiate(self.net.canonical_shape(key), self.sizes)

    def array(self, key) -> np.ndarray:
        """The canonical matrix of entry symbols of a quantity, named as the style names
        its entries (``W1_32`` is row 3, column 2 of the style's W1)."""
        if key not in self._arrays:
            if key == ("A", 0):
                return self.array(("X",))
            name, view = self.net.name(key), self.net.view(key)
            shape = self.shape(key)
            wide = max(shape) >= 10
            out = np.empty(shape, dtype=object)
            for i in range(shape[0]):
                for j in range(shape[1]):
                    if view == "vec":
                        label = f"{name}_{i + 1}"
                    else:
                        r, c = (j, i) if view == "T" else (i, j)
                        label = (f"{name}_{r + 1}_{c + 1}" if wide else f"{name}_{r + 1}{c + 1}")
                    out[i, j] = Symbol(label)
            self._arrays[key] = out
        return self._arrays[key]

    def styled(self, key, canonical: np.ndarray) -> np.ndarray:
        """A canonical array shown in the style's layout."""
        view = self.net.view(key)
        if view == "T":
            return canonical.T
        if view == "vec":
            return canonical.reshape(-1)
        return canonical

    @cached_property
    def _targets(self):
        """(free target symbols, definitions of the dependent ones)."""
        Y = self.array(("Y",))
        if self.net.loss != "cross_entropy":
            return list(Y.flat), {}
        free, defs = [], {}
        for k in range(Y.shape[1]):
            free += list(Y[:-1, k])
            defs[Y[-1, k]] = 1 - sympy.Add(*Y[:-1, k])
        return free, defs

    @property
    def _atom_targets(self):
        """The targets at the atom level: as at the true level, except that with a number
        of classes that is a size name every target is free. The bound route needs leaves
        that no index singles out, and an identity with free targets holds on the one-hot
        ones too; the backward pass's P - Y, right only for targets summing to one, is
        checked against the true level separately."""
        if self.net.loss == "cross_entropy" and isinstance(self.net.widths[-1], str):
            return list(self.array(("Y",)).flat), {}
        return self._targets

    def leaves(self) -> list:
        """Inputs, parameters and free targets, in order (what a point assigns)."""
        out = list(self.array(("X",)).flat)
        for l in range(1, self.net.L + 1):
            out += list(self.array(("W", l)).flat)
            if self.net.has_bias(l):
                out += list(self.array(("b", l)).flat)
        return out + self._targets[0]

    # -- the true network -------------------------------------------------------------------
    @cached_property
    def true_network(self):
        """The whole network as a scalar network of entries (loss reduced over the batch)."""
        net = self.net
        nodes = [Node(s, e, "eq") for s, e in self._targets[1].items()]
        prev = self.array(("X",))
        for l in range(1, net.L + 1):
            W = self.array(("W", l))
            b = self.array(("b", l)) if net.has_bias(l) else None
            Z, A = self.array(("Z", l)), self.array(("A", l))
            act = net.activation(l)
            for k in range(Z.shape[1]):
                for j in range(Z.shape[0]):
                    terms = [W[j, i] * prev[i, k] for i in range(W.shape[1])]
                    linear = {}
                    for i in range(W.shape[1]):
                        linear[W[j, i]] = prev[i, k]
                        linear[prev[i, k]] = W[j, i]
                    if b is not None:
                        terms.append(b[j, 0])
                        linear[b[j, 0]] = sympy.S.One
                    nodes.append(Node(Z[j, k], sympy.Add(*terms), "pre", l, j + 1, linear=linear))
                if act == "softmax":
                    nodes += _softmax_nodes(Z[:, k], A[:, k], l, k)
                else:
                    for j in range(Z.shape[0]):
                        nodes.append(Node(A[j, k], act.apply(Z[j, k]), "act", l, j + 1,
                                          activation=act))
            prev = A
        loss_terms = []
        Y = self.array(("Y",))
        out = self.array(("A", net.L))
        if net.loss == "cross_entropy" and not net.softmax_output:
            P = self.array(("P",))
            for k in range(out.shape[1]):
                nodes += _softmax_nodes(out[:, k], P[:, k], net.L + 1, k)
            out = P
        for k in range(out.shape[1]):
            loss_terms.append(_example_loss(net.loss, list(out[:, k]), list(Y[:, k])))
        total = sympy.Add(*loss_terms)
        m = out.shape[1]
        if net.reduce == "mean" and m > 1:
            total = total / m
        loss = Symbol(net.style.loss)
        nodes.append(Node(loss, total, "loss"))
        return _network(net, nodes, list(self.array(("X",)).flat),
                        [p for p in self.leaves() if p not in set(self.array(("X",)).flat)
                         and p not in set(self._targets[0])],
                        self._targets[0], list(out.flat), loss)

    # -- the atom network -------------------------------------------------------------------
    @cached_property
    def atom_network(self):
        """Z (and softmax outputs) free; A = g(Z) elementwise; no loss (never asked)."""
        net = self.net
        nodes = [Node(s, e, "eq") for s, e in self._atom_targets[1].items()]
        atoms = []
        for l in range(1, net.L + 1):
            Z, A = self.array(("Z", l)), self.array(("A", l))
            atoms += list(Z.flat)
            act = net.activation(l)
            if act == "softmax":
                atoms += list(A.flat)
                continue
            for k in range(Z.shape[1]):
                for j in range(Z.shape[0]):
                    nodes.append(Node(A[j, k], act.apply(Z[j, k]), "act", l,
                                      j + 1, activation=act))
        if net.loss == "cross_entropy" and not net.softmax_output:
            atoms += list(self.array(("P",)).flat)
        nodes.append(Node(Symbol(net.style.loss), sympy.S.Zero, "loss"))
        params = [p for p in self.leaves() if p not in set(self.array(("X",)).flat)
                  and p not in set(self._atom_targets[0])] + atoms
        return _network(net, nodes, list(self.array(("X",)).flat), params,
                        self._atom_targets[0], [], Symbol(net.style.loss))

    def atom_gradient(self, qkey, env) -> np.ndarray:
        """dJ/dQ at the atom level as symbols, each defined (in ``atom_definitions``) by its
        entry of the matrix backward pass in terms of earlier ones."""
        if qkey not in self._atom_grads:
            leaf = self.net.gradient(qkey)
            expansion = getattr(leaf, "expansion", None) or leaf
            value = np.asarray(expansion.evaluate(env), dtype=object)
            names = self.array(qkey)
            out = np.empty(value.shape, dtype=object)
            for idx in np.ndindex(value.shape):
                sym = Symbol(f"d{self.net.style.loss}/d{names[idx]}@atom")
                self.atom_definitions[sym] = value[idx]
                out[idx] = sym
            self._atom_grads[qkey] = out
        return self._atom_grads[qkey]

    @property
    def _atom_grads(self) -> dict:
        if not hasattr(self, "_atom_grad_cache"):
            self._atom_grad_cache, self.atom_definitions = {}, {}
        return self._atom_grad_cache

    def atom_defs(self, convention) -> dict:
        """Definitions at the atom level: A = g(Z) and the named gradient entries."""
        self._atom_grads  # noqa: B018 - make sure the table exists
        return {**self.atom_network.definitions(convention), **self.atom_definitions}

    def atom_network_with_gradients(self, convention):
        """The atom network with the named gradient entries as equations (for the scalar
        procedure, which reads definitions from its network)."""
        from ..graph import Graph
        from ..network import Network
        base = self.atom_network.graph
        self._atom_grads  # noqa: B018
        extra = [Node(s, e, "eq") for s, e in self.atom_definitions.items()]
        nodes = base.nodes[:-1] + extra + base.nodes[-1:]
        graph = Graph(base.spec, nodes, base.inputs, base.targets, base.params, base.outputs,
                      base.loss)
        del convention
        return Network.from_graph(graph)

    @cached_property
    def masks(self) -> dict:
        """Masks on activations as masks on pre-activations: ``(A > 0)`` is ``(Z > 0)`` and
        ``(A <= 0)`` is ``1 - (Z > 0)`` where A = f(Z) and f is positive exactly where its
        argument is (relu, tanh: the registry's ``positive_with_argument``). Equal at
        every point, kinks included: cs231n's ``dhidden[H <= 0] = 0`` masks by H, the
        backward pass by Z1.

        >>> from .network import MatrixNetwork
        >>> inst = MatrixNetwork([2, 1, 1], "relu,sigmoid").instance({})
        >>> inst.masks
        {IsPos(A1_11): IsPos(Z1_11), IsNonNeg(-A1_11): 1 - IsPos(Z1_11)}
        """
        from ..functions import IsNonNeg, IsPos
        out = {}
        for l in range(1, self.net.L + 1):
            act = self.net.activation(l)
            if isinstance(act, str) or not act.kind.positive_with_argument:
                continue
            for a, z in zip(self.array(("A", l)).flat, self.array(("Z", l)).flat):
                out[IsPos(a)] = IsPos(z)
                out[IsNonNeg(-a)] = 1 - IsPos(z)
        return out

    def env(self, level: str, convention="any") -> "Env":
        return Env(self, level, convention)


class Env:
    """What :meth:`MExpr.evaluate` reads: sizes, and the value of every leaf at one level."""

    def __init__(self, inst: Instance, level: str, convention="any"):
        self.inst, self.level, self.convention = inst, level, convention
        self.sizes = inst.sizes
        self._grads: dict = {}

    def leaf(self, leaf):
        key = leaf.key
        if key[0] == "entry":
            matrix, idx = key[1], key[2]
            value = self.leaf(matrix)
            return np.array(value[tuple(i - 1 for i in idx)], dtype=object)
        if key[0] == "grad":
            _, qkey, view, scale = key
            canonical = self.gradient(qkey)
            value = canonical.T if view == "T" else (
                canonical.reshape(-1) if view == "vec" else canonical)
            if scale != 1:
                s = scale.xreplace({x: sympy.Integer(self.sizes[x.name])
                                    for x in scale.free_symbols})
                value = np.asarray(value * s, dtype=object)
            return value
        qkey, view = key
        return self.inst.styled(qkey, self.inst.array(qkey))

    def gradient(self, qkey) -> np.ndarray:
        """dJ/dQ at this level: adjoint symbols (true) or the matrix backward pass (atom)."""
        if qkey not in self._grads:
            if self.level == "true":
                arr = self.inst.array(qkey)
                self._grads[qkey] = np.vectorize(adjoint_symbol,
                                                 otypes=[object])(arr)
            else:
                self._grads[qkey] = self.inst.atom_gradient(qkey, self)
        return self._grads[qkey]


def _softmax_nodes(z, p, layer, k) -> list:
    """p_j = exp(z_j) / S with S = sum of exp(z_c), as nodes (S named per example)."""
    S = Symbol(f"S{layer}_{k + 1}")
    nodes = [Node(S, sympy.Add(*[sympy.exp(zc) for zc in z]), "eq", layer)]
    nodes += [Node(pj, sympy.exp(zj) / S, "eq", layer, j + 1) for j, (zj, pj) in
              enumerate(zip(z, p))]
    return nodes


def _example_loss(name: str, out: list, y: list):
    pairs = list(zip(out, y))
    if name == "half_squared":
        return sympy.Add(*[(t - o) ** 2 for o, t in pairs]) / 2
    if name == "squared":
        return sympy.Add(*[(t - o) ** 2 for o, t in pairs])
    if name == "mse":
        return sympy.Add(*[(t - o) ** 2 for o, t in pairs]) / len(pairs)
    if name == "bce":
        return sympy.Add(*[-(t * sympy.log(o) + (1 - t) * sympy.log(1 - o)) for o, t in pairs])
    return sympy.Add(*[-t * sympy.log(o) for o, t in pairs])


def _network(net, nodes, inputs, params, targets, outputs, loss):
    """A scalar :class:`~derivcheck.core.network.Network` over prepared nodes."""
    from ..network import Network
    spec = NetworkSpec("mlp", widths=[1, 1], activations=["identity"], loss=net.loss)
    graph = Graph(spec, nodes, inputs, targets, params, outputs, loss)
    return Network.from_graph(graph)
