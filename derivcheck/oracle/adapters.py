"""Compare a user's backward pass (numpy-style or torch) with the exact oracle.

:func:`compare_numpy` calls ``backward_fn(params, inputs, targets)`` (dicts of floats by
name, returning {parameter: gradient}) at random points and at points placed exactly on
each kink; :func:`compare_torch` does the same with torch autograd on a module, a loss
function, or the network itself built by :func:`torch_forward`. The
:class:`Comparison` names the first disagreeing parameter, the point and both values,
and says when the disagreement is only a kink convention (the values equal the oracle
under another convention, such as Step(0) = 1).

Values agree when ``|yours - exact| <= rtol * max(|exact|, max_p |exact_p|) + atol``
(relative to the largest gradient component at that point), plus, where the residual
``yhat - y`` nearly cancels, the change float64 rounding of it can cause.

>>> from derivcheck.core.network import chain
>>> net = chain(["w1"], "relu")
>>> def backward(params, inputs, targets):     # Step(0) = 1: `grad[z < 0] = 0`
...     z = params["w1"] * inputs["x"]
...     return {"w1": (max(z, 0) - targets["y"]) * (z >= 0) * inputs["x"]}
>>> compare_numpy(net, backward, points=2).ok
False
>>> print(compare_numpy(net, backward, points=2))
dC/dw1 differs from the exact gradient (kink convention torch)
  at x = 7/4, w1 = 0, y = -11/4 (a kink point)
  exact: 0
  yours: 4.8125
  only a kink convention: your implementation uses Step(0) = 1 (it passes with convention '1')
1 of 3 points disagree (1 on a kink)
>>> compare_numpy(net, backward, points=2, convention="1").ok
True
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from fractions import Fraction

from ..core.primitives import primitive_of
from ..errors import SpecError
from ..core.gradients import adjoint_name
from ..core.graph import Role
from ..core.printing import format_value
from .exact import Oracle
from .points import sample_points

__all__ = ["Mismatch", "Comparison", "compare_numpy", "compare_torch", "check_point",
           "torch_forward", "torch_loss"]

#: Conventions a disagreement is tried against, in this order.
ALTERNATIVES = ("0", "1/2", "1", "torch", "jax", "tensorflow")
_POINT_SHOWN = 16
_PROBE = Fraction(1, 2 ** 30)


def _describe(convention: str) -> str:
    return f"Step(0) = {convention}" if convention in ("0", "1/2", "1") \
        else f"the {convention} convention"


def _show_point(point: dict) -> str:
    items = [f"{k} = {format_value(v)}" for k, v in point.items()]
    more = len(items) - _POINT_SHOWN
    return ", ".join(items[:_POINT_SHOWN]) + (f", ... ({more} more)" if more > 0 else "")


@dataclass
class Mismatch:
    """One point where the user's gradients disagree: the first disagreeing parameter."""

    parameter: str
    point: dict                 # name -> Fraction
    expected: object            # exact value under the convention
    actual: float | None        # None: the user's gradients lack this parameter
    at_kink: bool
    convention: str | None = None   # the other convention the user's values match, if any

    def lines(self, convention: str) -> list[str]:
        out = [f"{adjoint_name(self.parameter)} differs from the exact gradient "
               f"(kink convention {convention})",
               f"  at {_show_point(self.point)}" + (" (a kink point)" if self.at_kink else ""),
               f"  exact: {format_value(self.expected)}",
               "  yours: " + ("(missing)" if self.actual is None else repr(self.actual))]
        if self.convention:
            out.append(f"  only a kink convention: your implementation uses "
                       f"{_describe(self.convention)} (it passes with convention "
                       f"{self.convention!r})")
        return out


@dataclass
class Comparison:
    """The outcome of comparing a backward pass with the oracle at several points."""

    convention: str
    points: int = 0
    kink_points: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def __bool__(self) -> bool:
        return self.ok

    @property
    def first(self) -> Mismatch | None:
        return self.mismatches[0] if self.mismatches else None

    @property
    def convention_only(self) -> bool:
        """Every disagreement is explained by another kink convention."""
        return bool(self.mismatches) and all(m.convention for m in self.mismatches)

    def __str__(self) -> str:
        summary = f"({self.kink_points} on a kink)" if self.kink_points == 1 \
            else f"({self.kink_points} on kinks)"
        if self.ok:
            return f"all {self.points} points agree {summary}"
        return "\n".join(self.first.lines(self.convention) + [
            f"{len(self.mismatches)} of {self.points} points disagree {summary}"])

    def __repr__(self) -> str:
        if self.ok:
            return f"<Comparison ok: {self.points} points, convention {self.convention}>"
        m = self.first
        return (f"<Comparison failed: {adjoint_name(m.parameter)} = {m.actual!r}, exact "
                f"{format_value(m.expected)} ({len(self.mismatches)} of {self.points} points)>")


def _agree(actual: dict, expected: dict, rtol: float, atol: float, slack: dict) -> str | None:
    """The first parameter where ``actual`` disagrees with ``expected`` (None: agree)."""
    exact = {k: float(v) for k, v in expected.items()}
    scale = max((abs(v) for v in exact.values()), default=0.0)
    for name, e in exact.items():
        a = actual.get(name)
        if a is None or not abs(float(a) - e) <= rtol * max(abs(e), scale) + atol \
                + slack.get(name, 0.0):
            return name
    return None


class _Checker:
    """The oracle under one convention plus what is needed to explain a disagreement."""

    def __init__(self, net, convention, rtol: float, atol: float):
        self.net, self.rtol, self.atol = net, rtol, atol
        self.oracle = Oracle(net, convention)
        self.convention = self.oracle.convention.name

    def allowed(self, point: dict) -> list[dict]:
        if self.convention == "any":
            return list(self.oracle.gradients_all_conventions(point).values())
        return [self.oracle.gradients(point)]

    def mismatch(self, point: dict, actual: dict, at_kink: bool) -> Mismatch | None:
        allowed = self.allowed(point)
        if any(_agree(actual, e, self.rtol, self.atol, {}) is None for e in allowed):
            return None
        slack = self.slack(point)
        firsts = [_agree(actual, e, self.rtol, self.atol, slack) for e in allowed]
        if None in firsts:
            return None
        name = firsts[0]
        explained = next((c for c in ALTERNATIVES if c != self.convention and not (
            self.convention == "any" and c in ("0", "1/2", "1")) and _agree(
                actual, Oracle(self.net, c).gradients(point), self.rtol, self.atol, slack)
            is None), None)
        value = actual.get(name)
        return Mismatch(name, {s.name: v for s, v in point.items()}, allowed[0][name],
                        None if value is None else float(value), at_kink, explained)

    def slack(self, point: dict) -> dict:
        """What float64 rounding of the residuals ``yhat - y`` alone can change in each
        gradient: 16 rounding errors' worth of the change when every target moves by
        2^-30 of its size (targets enter only the loss, so this never crosses a kink)."""
        values = self.oracle.values(point)
        graph = self.net.graph
        moved = dict(point)
        for out, target in zip(graph.outputs, graph.targets):
            size = max(abs(float(values[out])), abs(float(point[target])), 2.0 ** -30)
            moved[target] = point[target] + Fraction(size) * _PROBE
        before, after = self.oracle.gradients(point), self.oracle.gradients(moved)
        return {k: 16 * 2.0 ** -52 / float(_PROBE) * abs(float(after[k]) - float(before[k]))
                for k in before}


def check_point(net, point: dict, actual: dict, *, convention="torch", rtol: float = 1e-12,
                atol: float = 0.0) -> Mismatch | None:
    """Compare gradients ``actual`` ({name: float}) at one ``point`` with the oracle.

    >>> from derivcheck.core.network import chain
    >>> check_point(chain(["w1"]), {"x": 1, "w1": 2, "y": 0}, {"w1": 2.0}) is None
    True
    >>> check_point(chain(["w1"]), {"x": 1, "w1": 2, "y": 0}, {"w1": -2.0}).expected
    Fraction(2, 1)
    """
    checker = _Checker(net, convention, rtol, atol)
    exact = checker.oracle.point(point)
    return checker.mismatch(exact, actual, checker.oracle.at_kink(exact))


def _compare(net, user_gradients, *, convention, points, kinks, rtol, atol, seed,
             assume) -> Comparison:
    checker = _Checker(net, convention, rtol, atol)
    out = Comparison(checker.convention)
    for point, at_kink in sample_points(net, points=points, kinks=kinks, convention=convention,
                                        seed=seed, assume=assume, float_exact=True):
        out.points += 1
        out.kink_points += at_kink
        found = checker.mismatch(point, user_gradients(point), at_kink)
        if found:
            out.mismatches.append(found)
    return out


def _split(net, values: dict, convert=float) -> tuple[dict, dict, dict]:
    """(params, inputs, targets) as {name: convert(value)}."""
    return tuple({s.name: convert(values[s]) for s in group}
                 for group in (net.params, net.inputs, net.targets))


def compare_numpy(net, backward_fn, *, convention="torch", points: int = 8, kinks: bool = True,
                  rtol: float = 1e-12, atol: float = 0.0, seed=0, assume=None) -> Comparison:
    """Check ``backward_fn(params, inputs, targets) -> {parameter: gradient}`` (floats).

    Kink points are placed so that every value is exactly a float64, so your code sees
    the same point as the oracle.
    """
    def user(point):
        return backward_fn(*_split(net, point))
    return _compare(net, user, convention=convention, points=points, kinks=kinks, rtol=rtol,
                    atol=atol, seed=seed, assume=assume)


def compare_torch(net, module_or_fn=None, *, convention="torch", points: int = 8,
                  kinks: bool = True, rtol: float = 1e-12, atol: float = 0.0, seed=0,
                  assume=None) -> Comparison:
    """Check torch autograd (float64) on ``module_or_fn`` against the oracle.

    ``module_or_fn`` is a ``torch.nn.Module`` whose ``nn.Linear`` layers, in order, are
    the network's layers (its output is the network's output; the loss is added here),
    or ``fn(params, inputs, targets) -> loss`` on dicts of 0-d float64 tensors, or None
    for the network itself built with torch operations (:func:`torch_forward`).
    """
    if module_or_fn is None:
        user = _autograd_gradients(net, lambda leaves: torch_forward(net, leaves))
    elif isinstance(module_or_fn, _torch().nn.Module):
        user = _module_gradients(net, module_or_fn)
    else:
        user = _autograd_gradients(net, lambda leaves: module_or_fn(
            *_split(net, leaves, lambda tensor: tensor)))
    return _compare(net, user, convention=convention, points=points, kinks=kinks, rtol=rtol,
                    atol=atol, seed=seed, assume=assume)


# --- torch -----------------------------------------------------------------------------

def _torch():
    import torch

    return torch


def _tensor(value, requires_grad: bool = False):
    return _torch().tensor(value, dtype=_torch().float64, requires_grad=requires_grad)


def _fixed(value) -> float:
    """A constant argument torch takes as a Python number (not a learnable tensor)."""
    if isinstance(value, _torch().Tensor):
        raise SpecError("torch takes this activation's argument as a fixed number, so its "
                        "gradient cannot be compared", hint="give the argument as a number")
    return float(value)


def _torch_operation(dotted: str):
    """The torch object a registry name such as ``torch.nn.functional.elu`` names (a
    name from the registry only, never from user input).

    >>> _torch_operation("torch.nn.functional.relu6").__name__
    'relu6'
    """
    root, *path = dotted.split(".")
    if root != "torch":
        raise ValueError(f"{dotted!r} is not a torch operation")
    op = _torch()
    for name in path:
        op = getattr(op, name)
    return op


def _torch_op(primitive):
    """The torch operation computing ``primitive``, as the registry names it: operands
    become float64 tensors, a learnable parameter a tensor, other parameters fixed numbers.
    """
    if primitive.name not in _TORCH_OPS:
        _TORCH_OPS[primitive.name] = _make_torch_op(primitive)
    return _TORCH_OPS[primitive.name]


#: Primitive name -> its torch operation (see :func:`_torch_op`).
_TORCH_OPS: dict = {}


def _make_torch_op(primitive):
    op = _torch_operation(primitive.torch)
    learnable = [p.learnable for p in primitive.params]
    count = primitive.operands

    def apply(*args):
        torch = _torch()
        operands = [a if isinstance(a, torch.Tensor) else _tensor(a) for a in args[:count]]
        params = [a if keep and isinstance(a, torch.Tensor) else _tensor(a) if keep
                  else _fixed(a) for a, keep in zip(args[count:], learnable)]
        return op(*operands, *params, **primitive.torch_kwargs)
    return apply


def torch_loss(name: str, outputs, targets):
    """The loss ``name`` with torch's own loss functions (1-D tensors of outputs/targets).

    >>> float(torch_loss("half_squared", _tensor([3.0]), _tensor([1.0])))
    2.0
    """
    import torch.nn.functional as F

    if name == "cross_entropy":
        return F.cross_entropy(outputs[None], targets[None])
    if name == "bce":
        return F.binary_cross_entropy(outputs, targets, reduction="sum")
    if name == "l1":
        return F.l1_loss(outputs, targets, reduction="sum")
    if name == "none":
        return outputs.sum()
    if name == "upstream":
        return (outputs * targets).sum()
    squares = F.mse_loss(outputs, targets, reduction="mean" if name == "mse" else "sum")
    return squares / 2 if name == "half_squared" else squares


def torch_forward(net, values: dict):
    """The loss of ``net`` computed with torch operations, node by node.

    ``values`` maps every input, parameter and target (by name or symbol) to a tensor or
    a number.

    >>> from derivcheck.core.network import chain
    >>> w = _tensor(3.0, requires_grad=True)
    >>> loss = torch_forward(chain(["w1"], "relu"), {"x": 0.5, "w1": w, "y": 1})
    >>> loss.backward(); loss.item(), w.grad.item()
    (0.125, 0.25)
    """
    env = {s: values[s] if s in values else values[s.name] for s in net.variables}
    env = {s: v if isinstance(v, _torch().Tensor) else _tensor(float(v)) for s, v in env.items()}
    graph = net.graph
    for node in graph.nodes:
        if node.role == Role.LOSS:
            stack = _torch().stack
            return torch_loss(net.spec.loss, stack([env[s] for s in graph.outputs]),
                              stack([env[s] for s in graph.targets]))
        env[node.symbol] = _translate(node.expr, env)
    raise SpecError("the network has no loss")


def _translate(e, env: dict):
    if e in env:
        return env[e]
    if e.is_Number or e.is_NumberSymbol:
        return int(e) if e.is_Integer else float(e)
    args = [_translate(a, env) for a in e.args]
    if e.is_Add or e.is_Mul:
        out = args[0]
        for a in args[1:]:
            out = out + a if e.is_Add else out * a
        return out
    if e.is_Pow:
        return args[0] ** args[1]
    primitive = primitive_of(e.func)
    if primitive is not None and primitive.name in _COMPARISONS:
        # an Iverson bracket (np.where's, torch.where's condition) is a comparison, a
        # constant for autograd: torch.where(z > 0, a, b) = [z > 0] a + (1 - [z > 0]) b
        u = args[0] if isinstance(args[0], _torch().Tensor) else _tensor(float(args[0]))
        return getattr(_torch(), _COMPARISONS[primitive.name])(u, 0).to(_torch().float64)
    if primitive is None or primitive.torch is None:
        raise SpecError(f"no torch operation computes {e.func.__name__}")
    return _torch_op(primitive)(*args)


#: The Iverson brackets and the torch comparison each is.
_COMPARISONS = {"ispos": "gt", "isnonneg": "ge"}


def _autograd_gradients(net, loss_of):
    """point -> gradients by autograd on ``loss_of(leaves)`` ({Symbol: 0-d tensor})."""
    def user(point):
        leaves = {s: _tensor(float(v), requires_grad=s in params) for s, v in point.items()}
        grads = _torch().autograd.grad(loss_of(leaves), [leaves[p] for p in net.params],
                                       allow_unused=True)
        return {p.name: 0.0 if g is None else float(g) for p, g in zip(net.params, grads)}
    params = set(net.params)
    return user


def _layers(net) -> list[tuple[list[list[str]], list[str]]]:
    """Per layer, the weight names as rows (one per unit) and the bias names."""
    params, layers = set(net.params), {}
    for node in net.graph.nodes:
        if node.role == Role.PRE:
            ws = [p.name for p, c in node.linear.items() if p in params and c != 1]
            bs = [p.name for p, c in node.linear.items() if p in params and c == 1]
            layers.setdefault(node.layer, []).append((ws, bs))
    if not layers:
        raise SpecError("a torch module can stand only for a chain or an MLP",
                        hint="pass fn(params, inputs, targets) -> loss instead")
    return [([ws for ws, _ in units], [b for _, bs in units for b in bs])
            for _, units in sorted(layers.items())]


def _module_gradients(net, module):
    """point -> gradients of the network's loss on ``module``'s output, by autograd."""
    torch = _torch()
    model = copy.deepcopy(module).double()
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    layout = _layers(net)
    shapes = [(len(rows), len(rows[0]), bool(bias)) for rows, bias in layout]
    found = [(*m.weight.shape, m.bias is not None) for m in linears]
    if shapes != found:
        raise SpecError(f"the module's nn.Linear layers (out, in, bias) are {found}, the "
                        f"network's layers are {shapes}")

    slots = [(m.weight, [w for row in rows for w in row]) for m, (rows, _) in
             zip(linears, layout)] + [(m.bias, bias) for m, (_, bias) in zip(linears, layout)
                                      if bias]

    def user(point):
        values = {s.name: float(v) for s, v in point.items()}
        with torch.no_grad():
            for tensor, names in slots:     # weights row by row: W[j, i] is unit j, input i
                tensor.copy_(_tensor([values[n] for n in names]).reshape(tensor.shape))
        yhat = model(_tensor([[values[s.name] for s in net.inputs]])).reshape(-1)
        loss = torch_loss(net.spec.loss, yhat, _tensor([values[s.name] for s in net.targets]))
        grads = torch.autograd.grad(loss, [t for t, _ in slots], allow_unused=True)
        out = {}
        for (_, names), g in zip(slots, grads):
            out.update(zip(names, [0.0] * len(names) if g is None else g.reshape(-1).tolist()))
        return out
    return user
