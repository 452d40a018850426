"""Shapes as a user declares them (``--shape W1=n1,n0``, ``shape = {X = "n0,m"}``) and
their unification: every size of a network is a variable (n0..nL, m) bound to a name or a
number, and two different ones never match.

>>> parse_shape("b1 = n1, 1").dims
('n1', 1)
>>> sizes = Sizes()
>>> sizes.bind(("n", 0), "n0", "X=n0,m", SpecError)
>>> sizes.bind(("n", 0), "d", "W1=n1,d", SpecError)
Traceback (most recent call last):
derivcheck.errors.SpecError: error: the input size is n0 (from X=n0,m) but here d: the shapes contradict each other
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ... import limits
from ...errors import NetworkLimitError, SpecError
from ...names import valid_name

__all__ = ["GivenShape", "parse_shape", "parse_shapes", "Sizes", "pattern", "show_var",
           "what", "check_declared"]

_SIZE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,15}")


@dataclass
class GivenShape:
    """``W1=n1,n0``: a name, its dims (names or numbers), the text and each dim's column."""

    name: str
    dims: tuple
    text: str
    starts: tuple = ()
    where: str = "--shape"

    def error(self, message: str, dim: int | None = None, hint: str | None = None,
              kind=SpecError):
        position = self.starts[dim] if dim is not None and dim < len(self.starts) else 0
        return kind(f"{self.where} {self.text}: {message}", text=self.text, position=position,
                    hint=hint)


def parse_shape(text, where: str = "--shape", name: str | None = None) -> GivenShape:
    """``"W1=n1,n0"`` (or, with ``name``, the dims alone: ``"n1,n0"`` or a list).

    >>> parse_shape("X=n0,m,k")
    Traceback (most recent call last):
    derivcheck.errors.SpecError: error: --shape X=n0,m,k: a shape has one or two sizes (a vector or a matrix) at column 8
      X=n0,m,k
             ^
    hint: e.g. --shape X=n0,m
    """
    if isinstance(text, (list, tuple)):
        items = [str(d) if isinstance(d, int) and not isinstance(d, bool) else d for d in text]
        if not all(isinstance(d, str) for d in items):
            raise SpecError(f"{where} {name}: sizes are names or whole numbers, got {text!r}",
                            hint='e.g. X = ["n0", "m"]')
        text = ",".join(items)
    if not isinstance(text, str):
        raise SpecError(f"{where}: a shape is text such as X=n0,m, got {text!r}")
    full = text if name is None else f"{name}={text}"
    if len(full) > limits.MAX_TEXT_LENGTH:
        raise NetworkLimitError(f"{where}: the shape is longer than {limits.MAX_TEXT_LENGTH} "
                                "characters", position=0)
    given = GivenShape(name or "", (), full, (), where)
    if "=" not in full:
        raise given.error("expected NAME=SIZES", hint="e.g. --shape X=n0,m")
    left, right = full.split("=", 1)
    given.name = left.strip()
    if not valid_name(given.name):
        raise given.error(f"{given.name!r} is not a name", hint="e.g. --shape W1=n1,n0")
    given.starts = (0,)
    dims, starts, offset = [], [], len(left) + 1
    for piece in right.split(","):
        start = offset + len(piece) - len(piece.lstrip())
        offset += len(piece) + 1
        dims.append(piece.strip())
        starts.append(start)
    given.starts = tuple(starts)
    if len(dims) > 2:
        raise given.error("a shape has one or two sizes (a vector or a matrix)", 2,
                          hint="e.g. --shape X=n0,m")
    out = []
    for i, d in enumerate(dims):
        if d.isdigit():
            if len(d) > 6 or int(d) > limits.MAX_WIDTH:
                raise given.error(f"the size {d} is past the limit {limits.MAX_WIDTH}: too "
                                  "large to instantiate", i, kind=NetworkLimitError,
                                  hint="give the size as a name (n1, m): derivcheck picks "
                                       "small values and proves the formula for all")
            if int(d) < 1:
                raise given.error("a size is at least 1", i)
            out.append(int(d))
        elif _SIZE.fullmatch(d) and valid_name(d):
            out.append(d)
        else:
            raise given.error(f"{d!r} is not a size: a name (n1, m) or a whole number", i,
                              hint="e.g. --shape W1=n1,n0")
    given.dims = tuple(out)
    return given


def parse_shapes(items, where: str = "--shape") -> dict:
    """Several shapes (``["X=n0,m", ...]`` or a table ``{X = "n0,m"}``): name -> GivenShape.

    >>> sorted(parse_shapes({"X": "n0,m", "W1": ["n1", "n0"]}))
    ['W1', 'X']
    """
    out: dict = {}
    if isinstance(items, dict):
        pairs = [parse_shape(v, where, str(k)) for k, v in items.items()]
    elif isinstance(items, (list, tuple)):
        pairs = [parse_shape(v, where) for v in items]
    elif isinstance(items, str):
        pairs = [parse_shape(items, where)]
    else:
        raise SpecError(f"{where}: shapes are NAME=SIZES texts or a table of them, got "
                        f"{items!r}", hint='e.g. shape = {X = "n0,m", W1 = "n1,n0"}')
    for given in pairs:
        if given.name in out:
            raise given.error(f"{given.name} is given two shapes")
        out[given.name] = given
    return out


class Sizes:
    """Unification of the sizes: variables (n0..nL, m) bound to names or numbers."""

    def __init__(self):
        self.bound: dict = {}      # variable -> (value, where it came from)

    def bind(self, var, value, source: str, fail):
        if var == 1:
            if value != 1:
                raise fail(f"this size must be 1 (one bias per unit, broadcast over the "
                           f"examples), not {value}")
            return
        if var in self.bound and self.bound[var][0] != value:
            old, where = self.bound[var]
            raise fail(f"{what(var)} is {old} (from {where}) but here {value}: the shapes "
                       "contradict each other")
        self.bound.setdefault(var, (value, source))


def what(var) -> str:
    """A size variable in words.

    >>> what("m"), what(("n", 0)), what(("n", 2))
    ('the number of examples', 'the input size', 'the width of layer 2')
    """
    if var == "m":
        return "the number of examples"
    return "the input size" if var[1] == 0 else f"the width of layer {var[1]}"


def pattern(role, layout, weights, bias_rank=2) -> tuple:
    """The shape of a quantity (``("W", 2)``, ``("X",)``, ``("Y", ("n", L))``, the class
    labels ``("labels",)``) in terms of the size variables, in a layout.

    >>> pattern(("W", 2), "columns", "out_in"), pattern(("b", 1), "rows", "in_out", 1)
    ((('n', 2), ('n', 1)), (('n', 1),))
    """
    kind = role[0]
    cols = layout == "columns"
    if kind == "labels":           # one class index per example
        return ("m",)
    if kind == "X":
        n = ("n", 0)
    elif kind in ("Y", "P"):
        n = role[1]
    elif kind == "W":
        l = role[1]
        out = (("n", l), ("n", l - 1))
        return out if weights == "out_in" else out[::-1]
    elif kind == "b":
        n = ("n", role[1])
        if cols:
            return (n, 1)
        return (n,) if bias_rank == 1 else (1, n)
    else:
        n = ("n", role[1])
    return (n, "m") if cols else ("m", n)


def show_var(v) -> str:
    """How a size variable is written in a hint: ``n1``, ``m``, ``1``.

    >>> [show_var(v) for v in (("n", 1), "m", 1)]
    ['n1', 'm', '1']
    """
    if v == 1:
        return "1"
    return "m" if v == "m" else f"n{v[1]}"


def check_declared(net, shapes: dict) -> None:
    """Shapes given for a network of widths (``--widths n0,n1,n2 --batch m --shape X=n0,m``,
    with ``--labels`` also ``--shape y=m``): each must be the shape the network has in its
    style; anything else is an error at the size that differs.

    >>> from .network import MatrixNetwork
    >>> net = MatrixNetwork(["n0", "n1", "c"], "relu,softmax", "cross_entropy", batch="m",
    ...                     labels=True)
    >>> check_declared(net, parse_shapes(["X=n0,m", "y=m"]))
    >>> check_declared(net, parse_shapes(["y=c"]))
    Traceback (most recent call last):
    derivcheck.errors.SpecError: error: --shape y=c: y (the class labels, one per example) is a vector of length m in this network, not a vector of length c at column 3
      y=c
        ^
    hint: the widths and --batch fix every shape: give it as m
    """
    from .shapes import show
    names = net.quantity_names()
    labels = net.name(("Y",)).lower() if net.labels else None
    for name, given in shapes.items():
        if name == labels and (name not in names or len(given.dims) == 1):
            expected, called = (net.batch,), f"{name} (the class labels, one per example)"
        elif name in names:
            expected, called = net.styled_shape(names[name]), name
        else:
            known = list(names)[:16] + ([f"{labels} (the class labels)"] if labels else [])
            raise given.error(f"{name} is no quantity of the network",
                              hint="quantities: " + ", ".join(known))
        differs = [i for i, (e, g) in enumerate(zip(expected, given.dims)) if e != g]
        if len(expected) != len(given.dims) or differs:
            at = differs[0] if differs else min(len(expected), len(given.dims) - 1)
            raise given.error(f"{called} is {_a(show(tuple(expected)))} in this network, not "
                              f"{_a(show(tuple(given.dims)))}", at,
                              hint="the widths and --batch fix every shape: give it as "
                                   + ",".join(str(d) for d in expected))


def _a(text: str) -> str:
    return "a " + text if text.startswith("vector") else text
