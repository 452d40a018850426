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
from .diagnosis import explain
from .equivalence import decide
from .indexed import combine, generic_index, indexed_namespace
from ..errors import LimitError, NameError_, ParseError, SpecError, UsageError
from ..guard import Timeout, budget, time_limit
from ..core.gradients import adjoint_name, adjoint_symbol
from ..core.printing import plain
from .verdict import Result, Verdict

__all__ = ["check", "assert_gradient", "gradient_display", "timeout_reason", "timed_out"]

#: What had been done before each stage of a check, for the reason a timeout gives.
_DONE = {
    "reading the submission": "nothing yet",
    "building the network": "nothing yet",
    "starting the check": "the network was built",
    "checking a matrix formula": "the network was built",
    "reading the formula": "the network was built",
    "computing the exact gradient": "the formula was read",
    "deciding equivalence": "the formula was read and the exact gradient computed; the "
                            "decision procedure (identity test, random points, sign regions, "
                            "kinks) did not finish",
    "diagnosing the mistake": "the verdict was reached, but naming the mistake did not finish",
    "printing the gradient": "the verdict was reached",
}

#: Networks up to this many equations show gradients fully substituted.
SHOW_EXPANDED = 12


def gradient_display(net, wrt: Symbol, convention="any"):
    """(expression to show, definitions it uses as {name: text}) for one gradient.

    Small gradients are shown fully substituted; larger ones in the network's own
    intermediate quantities, with the definitions those use (linear in depth).
    """
    bw = net.backward(convention)
    g = bw.gradients[wrt] if wrt in bw.gradients else bw.definitions[adjoint_symbol(wrt)]
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
    ``timeout``: seconds for the whole check, reading and printing included, a positive
    finite number up to :data:`~derivcheck.limits.MAX_TIMEOUT` (in the main thread: past
    it, and :data:`~derivcheck.limits.TIMEOUT_SLACK` more, the verdict is ``unknown``
    with what was running; a diagnosis still running at the budget is dropped with a
    warning, and the verdict stays).
    """
    try:
        timeout = budget(timeout)
    except ValueError as exc:
        raise UsageError(f"the timeout {exc}") from None
    stage, start = ["starting the check"], time.monotonic()
    reached: list = []     # the verdict, once it is reached: a late timeout keeps it
    try:
        with time_limit(timeout + limits.TIMEOUT_SLACK):
            if getattr(net, "is_matrix", False):
                from .index_form import check_layers
                stage[0] = "checking a matrix formula"
                return check_layers(net, candidate, wrt, assume=assume, convention=convention,
                                    latex=latex, timeout=timeout)
            generic = generic_index(net, wrt)
            if generic is None and wrt is None and isinstance(candidate, str):
                from ..parsing import left_side_name
                named = left_side_name(candidate, latex)   # dC/dw_j = ...: for every j
                generic = generic_index(net, named)
                wrt = named if generic is not None else None
            if generic is not None:
                base, letter, values = generic
                results = []
                for k in values:
                    left = (max(start + timeout - time.monotonic(), 1e-3)
                            / (len(values) - len(results)))
                    results.append((k, _check(net, candidate, f"{base}{k}", assume,
                                              convention, latex, left, stage,
                                              indexed_namespace(net.namespace, letter, k))))
                return combine(str(wrt), letter, results)
            try:
                return _check(net, candidate, wrt, assume, convention, latex, timeout, stage,
                              reached=reached)
            except (NameError_, ParseError) as err:
                view = _matrix_view(net, candidate)
                if view is None:
                    raise
                from .index_form import check_layers
                try:
                    return check_layers(view, candidate, wrt, assume=assume,
                                        convention=convention, latex=latex, timeout=timeout)
                except (NameError_, ParseError, SpecError):
                    raise err from None
    except Timeout as exc:
        exc.stage = exc.stage or stage[0]
        if time.monotonic() - start < timeout:  # an outer, shorter budget: its owner answers
            raise
        if reached:
            result = undiagnosed(reached[-1])
            if not result.gradient:
                result.warnings.append("the correct gradient is not shown: the time budget "
                                       "ran out while it was being written")
            result.elapsed = time.monotonic() - start
            return result
        return timed_out(exc, timeout, wrt=str(wrt) if wrt else None,
                         candidate=candidate if isinstance(candidate, str) else plain(candidate),
                         convention=getattr(convention, "name", convention),
                         assumptions=[assume] if isinstance(assume, str) else assume)
    except RecursionError:
        raise LimitError("the formula or the network nests too deeply to process",
                         position=0, hint="name inner parts (z2, a1, ...) instead of "
                                          "nesting them") from None


def _matrix_view(net, candidate):
    """The matrix view of a scalar MLP, for a formula in matrix names."""
    spec = getattr(net, "spec", None)
    if spec is None or spec.kind != "mlp" or not isinstance(candidate, str):
        return None
    from ..core.matrix.network import MatrixNetwork
    return MatrixNetwork(spec.widths, spec.activations, spec.loss, bias=spec.bias)


def timeout_reason(stage: str | None, seconds: float) -> str:
    """The reason given when a budget of ``seconds`` (as the user set it) ran out while
    ``stage`` was running.

    >>> timeout_reason("deciding equivalence", 1)[:64]
    'the time budget of 1 s ran out while deciding equivalence (done:'
    """
    stage = stage or "starting the check"
    done = _DONE.get(stage, "nothing that can be reported")
    return f"the time budget of {seconds:g} s ran out while {stage} (done: {done})"


def timed_out(exc: Timeout, seconds: float, *, wrt, candidate: str, convention: str,
              assumptions=()) -> Result:
    """The ``unknown`` :class:`Result` a command answers with when its budget of
    ``seconds`` ran out (``exc`` says where).

    >>> r = timed_out(Timeout(2), 1, wrt="w1", candidate="x", convention="any")
    >>> r.verdict, r.exit_code, r.reason[:33]
    ('unknown', 3, 'the time budget of 1 s ran out wh')
    """
    return Result(verdict="unknown", wrt=wrt or "?", candidate=candidate, gradient="",
                  method="none", kink_convention=convention, assumptions=list(assumptions),
                  reason=timeout_reason(exc.stage, seconds), source=candidate,
                  elapsed=seconds)


def _check(net, candidate, wrt, assume, convention, latex, timeout, stage,
           namespace=None, reached: list | None = None) -> Result:
    start = time.monotonic()
    stage[0] = "reading the formula"
    conv = get_convention(convention)
    readings, warnings, source = [], [], ""
    if isinstance(candidate, str):
        from ..parsing import parse_formula
        source = candidate
        parsed = parse_formula(candidate, namespace or net.namespace, latex=latex, wrt=wrt)
        if parsed.other_left is not None:
            raise ParseError("the left side is not a derivative of the loss, so the formula "
                             "is not a gradient", text=candidate, position=parsed.other_left,
                             hint="start with dC/dw1 = or \\frac{\\partial C}{\\partial w_1} "
                                  "=, or give the formula alone")
        expr, readings, warnings = parsed.expr, list(parsed.readings), list(parsed.warnings)
        wrt = wrt or parsed.wrt
    else:
        expr = candidate
        source = plain(expr)
    if wrt is None and len(net.params) == 1:
        wrt = str(net.params[0])
    if wrt is None:
        raise SpecError("which parameter is this the gradient of?",
                        hint="pass --wrt (e.g. --wrt w1) or start the formula with "
                             "dC/dw1 = ...")
    stage[0] = "computing the exact gradient"
    param = net.quantity(wrt)
    assumptions = Assumptions.parse(assume).resolve(net.namespace.symbols, set(net.variables))
    reference = adjoint_symbol(param)
    stage[0] = "deciding equivalence"
    decision = decide(net, reference, expr, convention=conv, assumptions=assumptions,
                      timeout=max(start + timeout - time.monotonic(), 1e-3))
    result = Result(
        verdict=decision.verdict, wrt=str(param), candidate=plain(expr),
        gradient="", method=decision.method, kink_convention=conv.name,
        counterexample=decision.counterexample, kink_point=decision.kink_point,
        diagnosis=[], assumptions=assumptions.texts(), method_detail=decision.detail,
        reason=decision.reason, readings=readings, warnings=warnings, source=source,
        candidate_expr=expr, network=net, elapsed=time.monotonic() - start)
    if reached is not None:        # from here on, the budget running out keeps the verdict
        reached.append(result)
    stage[0] = "printing the gradient"
    shown, result.definitions = gradient_display(net, param, conv)
    result.gradient, result.gradient_expr = plain(shown), shown
    left = start + timeout - time.monotonic()
    if decision.verdict in (Verdict.NOT_EQUIVALENT, Verdict.EQUIVALENT_ALMOST_EVERYWHERE):
        stage[0] = "diagnosing the mistake"
        try:
            budget = min(max(left, 1e-3), limits.DIAGNOSIS_BUDGET)
            with time_limit(budget):
                result.explanation = explain(net, param, expr, convention=conv,
                                             verdict=decision.verdict, assumptions=assumptions,
                                             counterexample=decision.counterexample,
                                             timeout=0.9 * budget)
            result.diagnosis = result.explanation.diagnoses()
        except Timeout:
            undiagnosed(result)
    result.elapsed = time.monotonic() - start
    return result


def undiagnosed(result: Result) -> Result:
    """``result`` as it stands when the budget ran out while its mistake was being named:
    the verdict and its evidence stay, no diagnosis is claimed, and a warning says so."""
    result.diagnosis, result.explanation = [], None
    message = "the mistake was not diagnosed: the time budget ran out"
    if message not in result.warnings:
        result.warnings.append(message)
    return result


def assert_gradient(net, candidate, wrt=None, **kw) -> Result:
    """Check ``candidate`` as dC/d``wrt`` (keywords as :func:`check`) and raise
    ``AssertionError`` unless it is ``equivalent`` or ``equivalent_almost_everywhere``;
    the message is the verdict, the counterexample and the diagnosis, as the
    ``check`` command prints them. Returns the result when it passes.

    >>> from derivcheck.core.network import chain
    >>> net = chain(weights=["w1"], activations="relu")
    >>> assert_gradient(net, "(relu(w1*x) - y)*step(w1*x)*x", wrt="w1")
    <Result equivalent: dC/dw1 = (relu(w1*x) - y)*step(w1*x)*x>
    >>> assert_gradient(net, "(y - relu(w1*x))*x", wrt="w1", assume=["x > 0"])
    Traceback (most recent call last):
    AssertionError: dC/dw1 = (y - relu(w1*x))*x is not the gradient: not_equivalent...
    """
    result = check(net, candidate, wrt, **kw)
    if not result:
        raise AssertionError(f"{adjoint_name(result.wrt)} = {result.candidate} is not the "
                             f"gradient: "
                             f"{result}")
    return result

