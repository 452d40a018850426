"""Reading a matrix formula: its style, the gradient it is compared with, and its shape.

:func:`_read` parses the formula in the network's style (or, without ``--style``, in the
first style whose names it uses) and finds the reference gradient leaf; :func:`_shape_problem`
compares the shapes before any value (a product that does not fit, or the wrong shape, is
``shape_mismatch`` or ``wrong_sum_axis`` with the fix); the rest words the output (which
names were read how, the gradient's definition).

>>> from derivcheck.core.matrix.network import MatrixNetwork
>>> net = MatrixNetwork([2, 3, 1], "relu,sigmoid", "bce", batch="m")
>>> view, parsed, reference, name, note = _read(net, "dW1 = dZ1 @ X.T / m", None, None)
>>> name, reference.shape, note
('dW1', (3, 2), ['no --style given: read in the ng style, whose names the formula uses'])
>>> print(_shape_problem(parsed.expr, reference))
None
"""
from __future__ import annotations

import re

from ..core.matrix import expr as mx
from ..core.matrix.layout import pushed
from ..core.matrix.shapes import a_shape
from ..core.styles import STYLES

__all__: list = []


def _read(net, candidate, wrt, latex, layers=None):
    """Parse the formula; without a ``--style``, in the first style whose names it uses
    (ng, cs231n, nielsen, seed), saying which was assumed."""
    from ..errors import DerivcheckError
    from ..parsing import parse_formula
    from ..parsing.index_notation import LayerVariable
    styles = [net] if net.style_given else [net] + [net.with_style(s) for s in STYLES
                                                     if s != net.style.name]
    first_error, found = None, None
    for view in styles:
        try:
            parsed = parse_formula(candidate, view.namespace, latex=latex, wrt=wrt,
                                   layers=layers)
            reference, name = _reference(view, view.namespace, wrt or parsed.wrt)
        except LayerVariable:
            raise
        except DerivcheckError as err:
            first_error = first_error or err
            continue
        found = _before_mask(view, parsed, reference, name)
        break
    if found is None:
        raise first_error
    note = [] if net.style_given else [f"no --style given: read in the {found[0].style.name} "
                                       "style, whose names the formula uses"]
    return (*found, note)


_GATES = re.compile(r"'|prime|grad|step|heaviside|sign", re.IGNORECASE)


def _before_mask(net, parsed, reference, name):
    """(view, parsed, reference, name) with a style's gradient name read by the mask the
    formula applies:
    cs231n's ``dhidden`` is dL/dH before ``dhidden[hidden_layer <= 0] = 0`` and dL/dZ1
    after it, so a formula for it that applies no mask (mentions no hidden quantity and
    no gate) is dL/dH. A warning says which reading was taken; used on a right side,
    ``dhidden`` is the masked one (a statement after the masking line)."""
    for own, (kind, layer) in net.style.gradient_names.items():
        used = own in _used_names(parsed.expr) if hasattr(parsed.expr, "walk") else False
        if used and own != name:
            parsed.warnings.append(f"read {own} as dL/d{net.name((kind, layer))}, the gradient "
                                   "after the mask (cs231n's dhidden after "
                                   "dhidden[hidden_layer <= 0] = 0)")
    before = net.style.before_mask.get(name)
    if before is None or before not in net._gradients or not hasattr(parsed.expr, "walk"):
        return net, parsed, reference, name
    kind, layer = net.style.gradient_names[name]
    after, plain = net.name((kind, layer)), net.name(before)
    if _masked(parsed.expr, net, {(kind, layer), before}):
        parsed.warnings.append(f"read {name} as dL/d{after}, the gradient after the mask, "
                               "since the formula applies one (cs231n's dhidden after "
                               "dhidden[hidden_layer <= 0] = 0)")
        return net, parsed, reference, name
    parsed.warnings.append(f"read {name} as dL/d{plain}, the gradient before the mask, since "
                           "the formula applies none (cs231n's dhidden = dscores.dot(W2.T), "
                           "before dhidden[hidden_layer <= 0] = 0); with the mask applied "
                           f"it is dL/d{after}")
    view = net.with_gradient_name(name, before)
    return view, parsed, view.namespace.symbols[name], name


def _masked(expr, net, keys) -> bool:
    """True when ``expr`` applies a mask or derivative: a comparison, a gate or
    derivative call, or any mention of the quantities ``keys`` (H, Z1)."""
    for node in expr.walk():
        if isinstance(node, mx.Elementwise) and (
                node.op in (">", ">=", "<", "<=") or _GATES.search(node.label or "")):
            return True
        key = getattr(node, "key", ())
        if isinstance(node, mx.Leaf) and key and isinstance(key[0], tuple) and key[0] in keys:
            return True
    return False


def _used_names(expr) -> list:
    """The names a formula uses, left to right (the order readings are given in)."""
    out: list = []

    def visit(node):
        if isinstance(node, mx.Leaf):
            out.append(node.name)
        for child in node.children:
            visit(child)

    visit(expr)
    return list(dict.fromkeys(out))


def _definitions(net, reference) -> dict:
    """The named gradients the correct formula uses, except its own top one."""
    leaf = reference.key[1] if reference.key[0] == "entry" else reference
    inner = leaf.expansion
    top = inner.expansion if isinstance(inner, mx.Leaf) and inner.expansion is not None else inner
    return net.definitions(top) if top is not None else {}


def _gradient_text(reference) -> str:
    leaf = reference
    if leaf.expansion is None and leaf.key and leaf.key[0] == "entry":
        leaf = leaf.key[1]
    if leaf.expansion is None:
        return reference.name
    scale = leaf.key[3] if len(leaf.key) > 3 else 1
    inner = leaf.expansion
    top = inner.expansion if isinstance(inner, mx.Leaf) and inner.expansion is not None else inner
    text = pushed(mx.transpose(top) if leaf.key[2] == "T" else top).text()
    return f"{reference.name} = " + (f"{scale} * ({text})" if scale != 1 else text)


def _reference(net, ns, wrt):
    """The gradient leaf a formula is compared with, and its name."""
    from ..errors import SpecError
    if wrt is None:
        grads = [k for k, r in ns.roles.items() if r == "gradient"]
        raise SpecError("which quantity is this the gradient of?",
                        hint="pass --wrt (e.g. --wrt W1) or start the formula with a "
                             "gradient of the network: " + ", ".join(grads[:16]))
    name = str(wrt)
    leaf = ns.symbols.get(name)
    if isinstance(leaf, mx.Leaf) and (leaf.key[0] == "grad" or (
            leaf.key[0] == "entry" and leaf.key[1].key[0] == "grad")):
        return leaf, name
    if name.startswith("dC/d") or name.startswith("dJ/d") or name.startswith("dL/d"):
        name = name[4:]
    if name in ns.adjoints:
        return ns.adjoints[name], name
    leaf = ns.symbols.get(name)
    if isinstance(leaf, mx.Leaf) and leaf.key[0] == "entry":
        matrix = leaf.key[1]
        adj = ns.adjoints.get(matrix.name)
        if adj is not None:
            return mx.Leaf(f"d{net.style.loss}/d{name}", (), key=("entry", adj, leaf.key[2]),
                           description=f"d{net.style.loss}/d{name} -> entry "
                                       f"{list(leaf.key[2])} of {adj.name}"), name
    raise SpecError(f"{wrt!r} is no quantity of the network",
                    hint="quantities: " + ", ".join(list(ns.adjoints)[:16]))


def _strip(shape) -> tuple:
    shape = tuple(shape)
    while shape and shape[0] == 1:
        shape = shape[1:]
    return shape


def _shape_problem(expr, reference):
    """A shape_mismatch diagnosis, or None when the shapes agree."""
    from .matrix_fixes import mistake
    if expr.shape is None:
        p = expr.problem
        fix = f" Did you mean {p.fix}?" if p.fix else ""
        return mistake("shape_mismatch", f"{p.message}.{fix}")
    if tuple(expr.shape) == tuple(reference.shape):
        return None
    if _strip(expr.shape) == _strip(reference.shape) and len(expr.shape) != len(reference.shape):
        return None
    kind = "shape_mismatch"
    fix = ""
    if tuple(expr.shape)[::-1] == tuple(reference.shape) and len(expr.shape) == 2:
        fix = f" Transposed, {expr.text()} has the right shape."
    if isinstance(expr, mx.Sum) or (len(expr.shape) == 1 and len(reference.shape) == 2):
        kind = "wrong_sum_axis"
        fix += " Sum over the other axis, or keep the summed axis (keepdims=True)."
    return mistake(kind, f"the formula is {a_shape(expr.shape)}, but {reference.name} is "
                         f"{a_shape(reference.shape)}.{fix}")

