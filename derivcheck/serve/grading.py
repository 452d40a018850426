"""What the server's worker processes do with one request: read it, grade it, answer.

Every function here runs in a worker (:mod:`derivcheck.serve.pool`), in its main thread,
so :func:`derivcheck.guard.time_limit` works and a runaway request stops at its budget.
A job is ``(kind, body, options)``; :func:`run_job` answers ``(status, payload)`` with an
HTTP status and a JSON object, or PDF bytes.

Requests are batch items (CONTRACT section 2): ``{"network": {...}, "wrt": ...,
"candidate": ..., "assume": [...], "kink_convention": ...}``, plus ``"latex": true`` to
read the candidate as LaTeX (the page's ``latex`` box). ``gradient`` and ``sheet`` take
the same fields without the candidate (``wrt`` may be a list there).

>>> net = {"weights": ["w1"], "activations": "relu"}
>>> status, body = run_job(("check", {"network": net, "wrt": "w1",
...                         "candidate": "x*(relu(w1*x)-y)*step(w1*x)"}, {}), 10)
>>> status, body["verdict"], "tex" in body
(200, 'equivalent', False)
>>> status, body = run_job(("check", {"network": net, "candidate": "(x"}, {"render": True}), 10)
>>> status, body["error"]["kind"], body["error"]["position"]
(400, 'parse_error', 0)
"""
from __future__ import annotations

import json
from functools import lru_cache

from .. import limits
from ..app.batch import ITEM
from ..app.fields import TEXT, TEXTS, Field, Kind, validate
from ..errors import DerivcheckError, LimitError, SpecError

__all__ = ["run_job", "KINDS", "ITEM_FIELDS", "gradient_json", "matrix_gradient_json"]

BOOLEAN = Kind("true or false", lambda v: isinstance(v, bool))

#: The batch item's fields (CONTRACT section 2), and ``latex`` for the page's box.
CHECK_ITEM = ITEM + (Field("latex", BOOLEAN, about="read the candidate as LaTeX"),)
#: ``gradient`` and ``sheet``: the same without a candidate; ``wrt`` may be a list there.
NETWORK_ITEM = tuple(
    Field("wrt", (TEXT, TEXTS), about="a parameter or a list of them") if f.name == "wrt"
    else Field(f.name, f.kinds, about=f.about) if f.name == "candidate" else f
    for f in CHECK_ITEM)
ITEM_FIELDS = tuple(f.name for f in CHECK_ITEM)


class RequestError(DerivcheckError):
    """A request whose fields are missing or of the wrong type."""

    kind = "invalid_item"


def error_body(err: DerivcheckError, source: str | None = None, render: bool = False) -> dict:
    """The error JSON (``{"verdict": "error", "error": {...}}``); with ``render``, also
    ``"rendered"``: the message with the caret under the text, as the CLI prints it.

    >>> from derivcheck.errors import ParseError
    >>> body = error_body(ParseError("expected an operand", position=2), "(x", render=True)
    >>> print(body["rendered"])
    error: expected an operand at column 3
      (x
        ^
    """
    body = {"verdict": "error", **err.to_json()}
    if render:
        if err.text is None and source is not None and err.position is not None:
            err.text = source
        body["rendered"] = err.render()
    return body


def _fields(item, need_candidate: bool = True) -> dict:
    """The request's fields, type-checked (``null`` is an absent field, as in batch).

    >>> _fields({"network": {}, "candidate": "x", "latex": "yes"})
    Traceback (most recent call last):
    derivcheck.serve.grading.RequestError: error: the request: 'latex' must be true or false (read the candidate as LaTeX), not a string
    """
    given = ({k: v for k, v in item.items() if v is not None or k == "network"}
             if isinstance(item, dict) else item)
    values = validate(given, CHECK_ITEM if need_candidate else NETWORK_ITEM, "the request",
                      RequestError)
    wrt = values.get("wrt")
    return {"network": json.dumps(values["network"], sort_keys=True),
            "wrt": [wrt] if isinstance(wrt, str) else wrt, "candidate": values.get("candidate"),
            "assume": values.get("assume", []),
            "convention": values.get("kink_convention") or "any",
            "latex": values.get("latex") or None}


@lru_cache(maxsize=32)
def _network(fields_json: str):
    """Networks come back in many requests: build each once per worker."""
    from ..core.network import from_dict
    return from_dict(json.loads(fields_json))


# -- the jobs --------------------------------------------------------------------------------

def _check(item, timeout: float, render: bool) -> dict:
    from ..decide.check import check, timed_out
    from ..guard import Timeout, time_limit
    f = _fields(item)
    wrt = f["wrt"][0] if f["wrt"] else None
    try:
        with time_limit(timeout + limits.TIMEOUT_SLACK):
            result = check(_network(f["network"]), f["candidate"], wrt, assume=f["assume"],
                           convention=f["convention"], latex=f["latex"], timeout=timeout)
    except Timeout as exc:
        if exc.stage is None:
            exc.stage = "building the network"
        result = timed_out(exc, timeout, wrt=wrt, candidate=f["candidate"],
                           convention=f["convention"], assumptions=f["assume"])
    body = result.to_json()
    if render:
        body["tex"] = _tex(result)
    return body


def _show(expr) -> str | None:
    """The LaTeX of ``expr``, or None when it nests too deeply to print."""
    from ..write.latex import MAX_NESTING, latex, nesting
    return latex(expr) if expr is not None and nesting(expr) < MAX_NESTING else None


def _tex(result) -> dict:
    """LaTeX of the candidate as read, the gradient and its definitions (for the page);
    for a matrix network also the counterexample's matrices, in the style's notation."""
    from sympy import Symbol

    from ..write.latex import latex
    if _is_matrix(result.network):
        from ..write.matrix_page import matrix_tex
        return matrix_tex(result)
    defs = {}
    if result.network is not None:
        for node in result.network.graph.nodes:
            if str(node.symbol) in result.definitions:
                defs[latex(node.symbol)] = _show(node.expr)
    return {"wrt": latex(Symbol(result.wrt)) if result.wrt != "?" else None,
            "candidate": _show(result.candidate_expr),
            "gradient": _show(result.gradient_expr), "definitions": defs}


def _is_matrix(net) -> bool:
    return bool(getattr(net, "is_matrix", False))


def _parse(item, timeout: float, render: bool) -> dict:
    """How the candidate was read: its LaTeX, readings and warnings (the live preview)."""
    from sympy import Symbol

    from ..parsing import parse_formula
    from ..parsing.index_notation import LayerVariable
    from ..write.latex import latex
    f = _fields(item)
    given = f["wrt"][0] if f["wrt"] else None
    net = _network(f["network"])
    notes = []
    try:
        parsed = parse_formula(f["candidate"], net.namespace, latex=f["latex"], wrt=given)
    except LayerVariable as unbound:   # w^l: read for every layer; shown for the first
        parsed, layer = _first_layer(net, f, given, unbound)
        notes.append(f"read {unbound.letter} as every layer; shown for {unbound.letter} "
                     f"= {layer}")
    wrt = parsed.wrt or given
    if _is_matrix(net):
        from ..core.matrix.expr import MExpr
        from ..write.matrix_latex import mlatex, name_tex
        from ..write.matrix_page import left_side_tex
        tex = mlatex(parsed.expr, net.style) if isinstance(parsed.expr, MExpr) else None
        wrt_tex = name_tex(wrt, net.style) if wrt else None
        lhs = left_side_tex(net, wrt)
    else:
        tex, wrt_tex = _show(parsed.expr), latex(Symbol(wrt)) if wrt else None
        lhs = rf"\frac{{\partial C}}{{\partial {wrt_tex}}}" if wrt else ""
    return {"latex": parsed.latex, "wrt": wrt, "wrt_tex": wrt_tex, "lhs": lhs, "tex": tex,
            "readings": notes + list(parsed.readings), "warnings": list(parsed.warnings)}


def _first_layer(net, f, given, unbound):
    """The first layer where a formula with a layer letter reads, and that layer."""
    from ..errors import NameError_
    from ..parsing import parse_formula
    for value in range(0, getattr(net, "L", -2) + 2):
        try:
            return parse_formula(f["candidate"], net.namespace, latex=f["latex"], wrt=given,
                                 layers={unbound.letter: value}), value
        except NameError_:
            continue
    raise unbound


def gradient_json(net, wrts, convention: str = "any") -> dict:
    """``{"gradients": {...}, "definitions": {...}, "kink_convention": ...}`` (CONTRACT
    section 2): gradients in the network's intermediate quantities, with the definitions
    of those and of the backward quantities, so the size stays linear in depth.

    >>> from derivcheck.core.network import chain
    >>> out = gradient_json(chain(["w1", "w2"], "relu"), None)
    >>> out["gradients"]["w2"], out["definitions"]["a1"]
    ('dC/dz2*a1', 'relu(z1)')
    """
    from ..core.printing import plain
    from ..core.conventions import get_convention
    conv = get_convention(convention)
    params = [net.parameter(w) for w in wrts] if wrts else net.params
    bw = net.backward(conv)
    keep = bw.kept()
    grads = {str(p): plain(bw.inline(bw.gradients[p], keep=keep)) for p in params}
    defs = {str(n.symbol): plain(n.expr) for n in net.graph.nodes if n.role != "loss"}
    defs.update({str(k): plain(v) for k, v in bw.compact().items()})
    return {"gradients": grads, "definitions": defs, "kink_convention": conv.name}


def matrix_gradient_json(net, wrts, convention: str = "any") -> dict:
    """The gradients of a matrix network by parameter, as ``gradient --format json``
    gives them, with the named gradients they use.

    >>> from derivcheck.core.matrix.network import MatrixNetwork
    >>> net = MatrixNetwork([3, 4, 1], "tanh,sigmoid", "bce", batch="m", style="ng")
    >>> out = matrix_gradient_json(net, ["W1"])
    >>> out["gradients"], out["definitions"]["dJ/dZ1"]
    ({'W1': 'dJ/dZ1 @ X.T'}, 'dJ/dA1 * tanh_prime(Z1)')
    """
    from ..core.conventions import get_convention
    grads = net.gradients()
    missing = [w for w in wrts or () if w not in grads]
    if missing:
        raise SpecError(f"{missing[0]!r} is not a parameter of the network",
                        hint="parameters: " + ", ".join(grads))
    if wrts:
        grads = {w: grads[w] for w in wrts}
    defs: dict = {}
    for v in grads.values():
        defs.update(net.definitions(v))
    return {"gradients": {k: v.text() for k, v in grads.items()}, "definitions": defs,
            "kink_convention": get_convention(convention).name}


def _gradient(item, timeout: float, render: bool) -> dict:
    f = _fields(item, need_candidate=False)
    net = _network(f["network"])
    if _is_matrix(net):
        return matrix_gradient_json(net, f["wrt"], f["convention"])
    return gradient_json(net, f["wrt"], f["convention"])


def _pdf(source: str) -> bytes:
    import tempfile
    from pathlib import Path

    from ..write.pdf import compile_pdf
    with tempfile.TemporaryDirectory(prefix="derivcheck-serve-") as tmp:
        return compile_pdf(source, Path(tmp) / "out.pdf").read_bytes()


def _sheet(item, timeout: float, render: bool) -> bytes:
    from ..write.sheet import sheet_source
    f = _fields(item, need_candidate=False)
    net = _network(f["network"])
    if _is_matrix(net):
        from ..write.matrix_sheet import matrix_sheet_source
        return _pdf(matrix_sheet_source(net))
    return _pdf(sheet_source(net, f["convention"], assume=f["assume"]))


def _report(item, timeout: float, render: bool) -> bytes:
    from ..decide.check import check
    from ..write.report import report_source
    f = _fields(item)
    result = check(_network(f["network"]), f["candidate"], f["wrt"][0] if f["wrt"] else None,
                   assume=f["assume"], convention=f["convention"], latex=f["latex"],
                   timeout=timeout)
    if _is_matrix(result.network):
        from ..write.matrix_sheet import matrix_report_source
        return _pdf(matrix_report_source(result))
    return _pdf(report_source(result))


#: job kind -> the function answering it.
KINDS = {"check": _check, "parse": _parse, "gradient": _gradient, "sheet": _sheet,
         "report": _report}


def run_job(job, timeout: float):
    """``(status, payload)`` for ``job = (kind, body, options)``: 200 and the answer, 400
    and the error JSON for bad input, 500 for a bug of ours (never a traceback)."""
    from ..decide.check import timeout_reason
    from ..guard import Timeout, time_limit
    kind, body, options = job
    render = bool(options.get("render"))
    source = body.get("candidate") if isinstance(body, dict) else None
    try:
        with time_limit(timeout + 2 * limits.TIMEOUT_SLACK):
            return 200, KINDS[kind](body, timeout, render)
    except Timeout as exc:
        return 503, {"verdict": "error", "error": {
            "kind": "timeout", "message": timeout_reason(exc.stage or f"answering {kind}",
                                                         timeout), "position": None}}
    except DerivcheckError as err:
        return 400, error_body(err, source if isinstance(source, str) else None, render)
    except RecursionError:
        return 400, error_body(LimitError("the input is nested too deeply to process"))
    except MemoryError:
        return 500, {"verdict": "error", "error": {
            "kind": "limit_exceeded", "message": "the request needs more memory than allowed",
            "position": None}}
    except Exception as exc:  # a bug of ours: answered, never fatal to the worker
        return 500, {"verdict": "error", "error": {
            "kind": "internal_error", "message": f"{type(exc).__name__}: {exc}",
            "position": None}}
