"""``check()``: read a candidate, decide it, diagnose it, return a :class:`Result`.

The one-way flow of the whole product in one function: network -> gradients ->
candidate -> equivalence -> diagnosis -> verdict.

>>> from derivcheck.core.network import chain
>>> net = chain(weights=["w1"], activations="relu")
>>> r = check(net, "(y - relu(w1*x))*x", wrt="w1", assume=["x > 0"])
>>> r.verdict, [d.kind for d in r.diagnosis]
('not_equivalent', ['sign_flip', 'missing_gate'])
>>> check(net, r"\\frac{dC}{dw_1} = (ReLU(w_1 x) - y)\\,Step(w_1 x)\\,x").verdict
'equivalent'
"""
from __future__ import annotations

import time

from sympy import Symbol

from .. import limits
from ..core.assumptions import Assumptions
from ..core.conventions import get_convention
from .diagnosis import diagnose
from .equivalence import decide
from ..errors import LimitError, SpecError
from ..guard import Timeout, time_limit
from ..core.gradients import adjoint_symbol
from ..core.printing import plain
from .verdict import Result, Verdict

__all__ = ["check", "gradient_display"]

#: Networks up to this many equations show gradients fully substituted.
SHOW_EXPANDED = 12


def gradient_display(net, wrt: Symbol, convention="any"):
    """(expression to show, definitions it uses as {name: text}) for one gradient.

    Small gradients are shown fully substituted; larger ones in the network's own
    intermediate quantities, with the definitions those use (linear in depth).
    """
    bw = net.backward(convention)
    g = bw.gradients[wrt]
    inline = bw.inline(g)
    if len(net.graph.nodes) <= SHOW_EXPANDED:
        return bw.expand(g), {}
    used = set(inline.free_symbols)
    for node in reversed(net.graph.nodes):  # consumers before what they use
        if node.symbol in used:
            used |= node.expr.free_symbols
    ordered = {str(n.symbol): plain(n.expr) for n in net.graph.nodes if n.symbol in used}
    return inline, ordered


def check(net, candidate, wrt=None, *, assume=(), convention="any", latex=None,
          timeout: float = limits.DEFAULT_TIMEOUT) -> Result:
    """Judge ``candidate`` (text or a SymPy expression) as dC/d``wrt``.

    ``assume``: bounds such as ``"x > 0"``; ``convention``: kink convention name;
    ``latex``: force (True) or forbid (False) the LaTeX reader, None to detect;
    ``timeout``: seconds for the decision and the diagnosis (in the main thread, a
    diagnosis still running then is dropped with a warning; the verdict stays).
    """
    try:
        return _check(net, candidate, wrt, assume, convention, latex, timeout)
    except RecursionError:
        raise LimitError("the formula or the network nests too deeply to process",
                         position=0, hint="name inner parts (z2, a1, ...) instead of "
                                          "nesting them") from None


def _check(net, candidate, wrt, assume, convention, latex, timeout) -> Result:
    start = time.monotonic()
    conv = get_convention(convention)
    readings, warnings, source = [], [], ""
    if isinstance(candidate, str):
        from ..parsing import parse_formula
        source = candidate
        parsed = parse_formula(candidate, net.namespace, latex=latex, wrt=wrt)
        expr, readings, warnings = parsed.expr, list(parsed.readings), list(parsed.warnings)
        wrt = wrt or parsed.wrt
    else:
        expr = candidate
        source = plain(expr)
    if wrt is None:
        raise SpecError("which parameter is this the gradient of?",
                        hint="pass --wrt (e.g. --wrt w1) or start the formula with "
                             "dC/dw1 = ...")
    param = net.parameter(wrt)
    assumptions = Assumptions.parse(assume, known=set(net.variables))
    reference = adjoint_symbol(param)
    decision = decide(net, reference, expr, convention=conv, assumptions=assumptions,
                      timeout=timeout)
    diagnosis = []
    left = start + timeout - time.monotonic()
    if decision.verdict in (Verdict.NOT_EQUIVALENT, Verdict.EQUIVALENT_ALMOST_EVERYWHERE):
        try:
            budget = min(max(left, 1e-3), limits.DIAGNOSIS_BUDGET)
            with time_limit(budget):
                diagnosis = diagnose(net, param, expr, convention=conv,
                                     verdict=decision.verdict, assumptions=assumptions,
                                     counterexample=decision.counterexample,
                                     timeout=0.9 * budget)
        except Timeout:
            warnings.append("the mistake was not diagnosed: the time budget ran out")
    shown, definitions = gradient_display(net, param, conv)
    return Result(
        verdict=decision.verdict, wrt=str(param), candidate=plain(expr),
        gradient=plain(shown), method=decision.method, kink_convention=conv.name,
        counterexample=decision.counterexample, kink_point=decision.kink_point,
        diagnosis=diagnosis, assumptions=assumptions.texts(), method_detail=decision.detail,
        reason=decision.reason, readings=readings, warnings=warnings, definitions=definitions,
        source=source, candidate_expr=expr, gradient_expr=shown, network=net,
        elapsed=time.monotonic() - start)

