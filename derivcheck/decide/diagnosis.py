"""Name the mistake: which edit of the correct derivation gives the candidate.

Each mistake is a small class with its ``kind`` and a message template (pyflakes
style). To find them, the correct chain rule is mutated one step at a time (a gate
dropped at layer k, f' applied to the activation, another activation's derivative, a
weight or input factor dropped, every gate dropped) and each mutant is compared with
the candidate formally (off the kinks, gates free); the ratio of the two, when it is a
constant, adds ``sign_flip`` (-1) or ``constant_factor`` (2 for squared vs
half_squared). Parameters the true gradient depends on but the candidate never
mentions point at a formula reused from a shallower network.

>>> from derivcheck.core.network import chain
>>> from derivcheck.core.functions import ReLU
>>> w1, x, y = sympy.symbols("w1 x y")
>>> [d.kind for d in diagnose(chain(["w1"]), sympy.Symbol("w1"), (y - ReLU(w1*x))*x)]
['sign_flip', 'missing_gate']
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import sympy
from sympy import Symbol

from .. import limits
from ..core.activations import parse_activation
from ..core.functions import IsNonNeg, IsPos, Step
from ..core.graph import Role
from .formal import FormalEvaluator, rational_reconstruct
from ..core.gradients import adjoint_name, adjoint_symbol
from ..core.sharing import name_arguments
from .verdict import Diagnosis, DiagnosisKind, Verdict

__all__ = ["diagnose", "Mistake", "MISTAKES"]


class Mistake:
    """One kind of mistake (pyflakes' messages are the model): a subclass per ``kind``
    with a message ``template`` filled from its fields; ``layer`` is where in the
    derivation it is, when known. :meth:`diagnosis` is the public record.

    >>> MissingGate(z="z2", layer=2).diagnosis().to_json()["layer"]
    2
    """

    kind: DiagnosisKind
    template: str
    layer: int | None = None

    @property
    def message(self) -> str:
        return self.template.format(**vars(self))

    def diagnosis(self) -> Diagnosis:
        return Diagnosis(self.kind, self.message, self.layer)


@dataclass
class SignFlip(Mistake):
    kind = DiagnosisKind.SIGN_FLIP
    template = "The sign is flipped: {why}"
    why: str = ("the loss derivative is (yhat - y), not (y - yhat). dC/dyhat of "
                "(y - yhat)^2/2 is -(y - yhat).")


@dataclass
class ConstantFactor(Mistake):
    kind = DiagnosisKind.CONSTANT_FACTOR
    template = "Off by a constant factor {factor}: {why}"
    factor: str
    why: str


@dataclass
class MissingGate(Mistake):
    kind = DiagnosisKind.MISSING_GATE
    template = ("The ReLU gate Step({z}) of layer {layer} is missing: backpropagating "
                "through a_{layer} = relu({z}) multiplies by relu'({z}) = Step({z}).")
    z: str
    layer: int


@dataclass
class MissingGates(Mistake):
    kind = DiagnosisKind.MISSING_GATES
    template = ("Every activation derivative is missing: each layer's chain-rule step "
                "dC/dz = dC/da * f'(z) was dropped (for ReLU the factors Step(z_k)).")


@dataclass
class ExtraGate(Mistake):
    kind = DiagnosisKind.EXTRA_GATE
    template = "There is a gate Step({arg}) that the correct gradient does not have."
    arg: str


@dataclass
class WrongGateArgument(Mistake):
    kind = DiagnosisKind.WRONG_GATE_ARGUMENT
    template = ("Layer {layer}'s gate is applied to the activation {a} instead of the "
                "pre-activation {z}: the derivative is f'({z}).")
    a: str
    z: str
    layer: int


@dataclass
class WrongActivationDerivative(Mistake):
    kind = DiagnosisKind.WRONG_ACTIVATION_DERIVATIVE
    template = "Layer {layer} uses {used} where the derivative of its activation {act} " \
               "belongs ({right})."
    used: str
    act: str
    right: str
    layer: int


@dataclass
class MissingFactor(Mistake):
    kind = DiagnosisKind.MISSING_FACTOR
    template = "A factor {factor} is missing at layer {layer}: {why}"
    factor: str
    why: str
    layer: int


@dataclass
class ReusedLastLayerFormula(Mistake):
    kind = DiagnosisKind.REUSED_LAST_LAYER_FORMULA
    template = ("The formula does not involve {missing}, although the gradient of {wrt} "
                "depends on them: it looks like the formula of a shallower network (the last "
                "layer's formula) reused for a deeper weight. Backpropagate through every "
                "layer between {wrt} and the loss.")
    missing: str
    wrt: str


@dataclass
class ConventionOnly(Mistake):
    kind = DiagnosisKind.CONVENTION_ONLY
    template = ("Equal everywhere except on the kinks: the formulas differ only in the value "
                "taken at a breakpoint (e.g. Step(0) versus [z > 0]).")


@dataclass
class Unexplained(Mistake):
    kind = DiagnosisKind.UNEXPLAINED
    template = ("The candidate differs from the correct gradient in a way that is not one of "
                "the common single mistakes; compare it with the derivation step by step.")


# -- matrices (CONTRACT section 5): found by derivcheck.decide.matrix_fixes, which says in
# ``why`` which product, sum or factor it is and what the fix is

@dataclass
class ShapeMismatch(Mistake):
    kind = DiagnosisKind.SHAPE_MISMATCH
    template = "The shapes do not fit: {why}"
    why: str = "a product or a sum of matrices whose shapes disagree"


@dataclass
class MissingTranspose(Mistake):
    kind = DiagnosisKind.MISSING_TRANSPOSE
    template = "A transpose is missing: {why}"
    why: str = "a factor should be transposed"


@dataclass
class ExtraTranspose(Mistake):
    kind = DiagnosisKind.EXTRA_TRANSPOSE
    template = "A transpose is too many: {why}"
    why: str = "a factor should not be transposed"


@dataclass
class WrongProductOrder(Mistake):
    kind = DiagnosisKind.WRONG_PRODUCT_ORDER
    template = "The factors of a matrix product are in the wrong order: {why}"
    why: str = "swap them"


@dataclass
class ElementwiseVsMatrixProduct(Mistake):
    kind = DiagnosisKind.ELEMENTWISE_VS_MATRIX_PRODUCT
    template = "An elementwise product and a matrix product are confused: {why}"
    why: str = "use the other product"


@dataclass
class MissingBatchMean(Mistake):
    kind = DiagnosisKind.MISSING_BATCH_MEAN
    template = "The batch mean is wrong: {why}"
    why: str = "the 1/m of the mean over the batch is missing or taken twice"


@dataclass
class WrongSumAxis(Mistake):
    kind = DiagnosisKind.WRONG_SUM_AXIS
    template = "A sum runs over the wrong axis or drops it: {why}"
    why: str = "sum over the other axis, with keepdims=True"


@dataclass
class SoftmaxJacobian(Mistake):
    kind = DiagnosisKind.SOFTMAX_JACOBIAN
    template = ("Softmax's derivative is taken elementwise as P(1 - P); its Jacobian is "
                "diag(P) - P P^T, so dZ = P * (dA - sum over classes of P * dA) (for "
                "cross-entropy: P - Y). {why}")
    why: str = ""


#: kind -> its class, one for every kind of the contract.
MISTAKES = {cls.kind: cls for cls in Mistake.__subclasses__()}

_SWAPS = ("relu", "sigmoid", "tanh", "identity")


@dataclass
class _Mutant:
    mistakes: list         # the Mistakes this edit of the derivation stands for
    definitions: dict


def diagnose(net, wrt: Symbol, candidate, *, convention="any",
             verdict=Verdict.NOT_EQUIVALENT, signs=None) -> list[Diagnosis]:
    """Diagnoses for ``candidate`` as a gradient of ``wrt`` (most specific first)."""
    return [m.diagnosis() for m in _mistakes(net, wrt, candidate, convention, verdict, signs)]


def _mistakes(net, wrt, candidate, convention, verdict, signs) -> list[Mistake]:
    if verdict == Verdict.EQUIVALENT_ALMOST_EVERYWHERE:
        return [ConventionOnly()]
    defs = net.definitions(convention)
    reference = adjoint_symbol(wrt)
    signs = signs or {}
    registry: dict = {}
    flat, named = name_arguments(candidate)
    base = FormalEvaluator({**defs, **named}, mode="offkink", signs=signs, registry=registry)
    for node in net.graph.nodes:  # mutants change only the backward pass: share the forward
        base.symbol(node.symbol)
    forward = {n.symbol: base.symbol(n.symbol) for n in net.graph.nodes}
    for mutant in itertools.islice(_mutants(net, defs), limits.MAX_MUTANTS):
        ratio = _ratio(FormalEvaluator({**mutant.definitions, **named}, mode="offkink",
                                       signs=signs, registry=registry, known=forward),
                       reference, flat)
        if ratio is None:
            continue
        out = _ratio_mistakes(net, ratio) + mutant.mistakes
        if out:
            return out
    return _structural(net, defs, wrt, candidate, signs)


def _ratio(fe, reference, candidate):
    """The constant candidate/reference as (n, d), or None when not constant."""
    try:
        r, k = fe.value(reference), fe.value(candidate)
    except ZeroDivisionError:
        return None
    if any(v == 0 for v in r):
        return (1, 1) if r == k else None
    from .formal import P
    ratios = {kk * pow(rr, -1, P) % P for rr, kk in zip(r, k)}
    if len(ratios) != 1:
        return None
    return rational_reconstruct(ratios.pop())


def _ratio_mistakes(net, ratio) -> list[Mistake]:
    n, d = ratio
    if (n, d) == (1, 1):
        return []
    out = []
    if n < 0:
        squared = net.spec.loss in ("half_squared", "squared", "mse")
        out.append(SignFlip() if squared else SignFlip(
            why="the formula is the negative of the gradient (check the sign of the loss "
                "derivative and of each factor)."))
    if (abs(n), d) != (1, 1):
        loss = net.spec.loss
        why = ("the loss is (y - yhat)^2 / 2 (half_squared), whose derivative has no 2"
               if loss == "half_squared" and (abs(n), d) == (2, 1) else
               "the loss is (y - yhat)^2 (squared), whose derivative carries a factor 2"
               if loss == "squared" and (abs(n), d) == (1, 2) else
               "check the constant in the loss derivative")
        f = str(sympy.Rational(abs(n), d))
        out.append(ConstantFactor(factor=f, why=why))
    return out


def _act_nodes(net):
    return [n for n in net.graph.nodes if n.role == Role.ACT and n.activation is not None
            and n.expr.args and n.expr.args[0].is_Symbol]


def _without_factor(expr, adjoint, coef):
    """``expr`` (a sum of adjoint * coefficient terms) with ``coef`` dropped from the
    term ``adjoint * coef``; term by term, since ``subs`` takes a second at MLP width 30.

    >>> a, b, w, v = sympy.symbols("a b w v")
    >>> _without_factor(a * w + b * v, a, w)
    a + b*v
    """
    term = adjoint * coef
    args = sympy.Add.make_args(expr)
    if term in args:
        return sympy.Add(*[adjoint if t == term else t for t in args])
    return expr.subs(term, adjoint)


def _mutants(net, defs):
    """The correct derivation, then single mutations of it, then all gates dropped."""
    yield _Mutant([], defs)
    bw_adj = {n.symbol: adjoint_symbol(n.symbol) for n in net.graph.nodes}
    acts = _act_nodes(net)
    for node in acts:
        z = node.expr.args[0]
        adj_z, adj_a = bw_adj[z], bw_adj[node.symbol]
        layer = node.layer
        act = node.activation
        a = node.symbol
        variants = []
        if act.is_piecewise:
            variants.append((sympy.S.One, MissingGate(z=str(z), layer=layer)))
        variants.append((act.derivative(a),
                         WrongGateArgument(a=str(a), z=str(z), layer=layer)
                         if act.name == "relu" else
                         WrongActivationDerivative(used=f"f'({a})", act=act.name,
                                                   right=f"f'({z})", layer=layer)))
        for other in _SWAPS:
            if other != act.name:
                used = parse_activation(other).derivative(z)
                variants.append((used, WrongActivationDerivative(
                    used=f"{other}'({z})", act=act.name, right=f"{act.name}'({z})",
                    layer=layer)))
        for deriv, mistake in variants:
            mutated = dict(defs)
            mutated[adj_z] = adj_a * deriv
            yield _Mutant([mistake], mutated)
    for node in net.graph.nodes:
        if node.linear is None:
            continue
        adj_z = bw_adj[node.symbol]
        for u, coef in node.linear.items():
            if u in bw_adj and coef.is_Symbol:  # dC/da_{k-1} gets dC/dz_k * w_k
                mutated = dict(defs)
                target = adjoint_symbol(u)
                mutated[target] = _without_factor(defs[target], adj_z, coef)
                why = f"{adjoint_name(u)} = {adjoint_name(node.symbol)} * {coef}"
                yield _Mutant([MissingFactor(factor=str(coef), why=why, layer=node.layer)],
                              mutated)
    if acts:
        mutated = dict(defs)
        for node in acts:
            mutated[bw_adj[node.expr.args[0]]] = bw_adj[node.symbol]
        yield _Mutant([MissingGates()], mutated)


def _structural(net, defs, wrt, candidate, signs) -> list[Mistake]:
    """When no single mutation explains it: parameters never mentioned, extra gates."""
    from .search import Sampler
    from ..core.assumptions import Assumptions
    sampler = Sampler(net, defs, Assumptions())
    needed = sampler.deps(adjoint_symbol(wrt)) & set(net.params)
    used = sampler.deps(candidate) & set(net.params)
    missing = sorted(needed - used - {wrt}, key=str)
    out = []
    if missing:
        out.append(ReusedLastLayerFormula(missing=", ".join(map(str, missing)), wrt=str(wrt)))
    extra = None if out else _extra_gate(defs, adjoint_symbol(wrt), candidate, signs)
    if extra is not None:
        out.append(ExtraGate(arg=str(extra)))
    return out or [Unexplained()]


def _extra_gate(defs, reference, candidate, signs):
    """A gate argument of ``candidate`` that is no gate of ``reference`` (compared
    formally through the definitions, up to a constant factor and factors of known
    sign), or None.

    >>> from derivcheck.core.network import chain
    >>> net = chain(["w1"], "relu")
    >>> w1, x = sympy.symbols("w1 x")
    >>> ref = adjoint_symbol(w1)
    >>> _extra_gate(net.definitions(), ref, Step(2 * x * w1) * Step(w1 - 1), {})
    w1 - 1
    >>> _extra_gate(net.definitions(), ref, Step(w1), {x: 1}) is None
    True
    """
    fe = FormalEvaluator(defs, mode="offkink", signs=signs)
    try:
        fe.value(reference)
        known = set(fe.gates)
        for arg in sorted({f.args[0] for f in candidate.atoms(Step, IsPos, IsNonNeg)}, key=str):
            if all(v == 0 for v in fe.value(arg)):
                continue
            found = fe.gate_of(arg)
            if found is None or found[0] not in known:
                return arg
    except ZeroDivisionError:
        return None
    return None
