"""The primitive registry: every function a network or a formula may use, one record each.

A primitive declares all its facets in one :class:`Primitive`, registered right beside its
SymPy class (the way jax registers ``ad.defjvp(exp_p, ...)`` beside ``exp_p``): its names
and parameters, its plain and LaTeX heads, its kinks and the class of its zero set, which
one-sided derivative each framework returns on a kink, the form of its derivative in its
own output, the torch and jax operations that compute it, and for the exact evaluators its
mpmath function, an exact value, its poles and its form in ``exp(z)``. Its derivative is the
class's ``fdiff`` (written with ``Step``, so the kink value stays a convention); every
caller differentiates through :func:`derivative`, which also builds a framework profile's
form from the declared sides.

The parser, the printers, the conventions, the activations, the decision procedure and the
adapters read this registry and keep no tables of their own.

>>> relu = primitive_named("relu")
>>> relu.name, relu.kinks, relu.zeros, relu.torch
('relu', ('0',), <ZeroSet.REGION: 'region'>, 'torch.relu')
>>> z = sympy.Symbol("z")
>>> derivative(relu.apply([z])), derivative(relu.apply([z]), profile="torch")
(Step(z), IsPos(z))
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Callable, Mapping

import sympy
from sympy import Rational

__all__ = ["Param", "Primitive", "ZeroSet", "Side", "register", "primitive_named",
           "primitive_of", "primitives", "derivative"]


class ZeroSet(StrEnum):
    """Where a primitive's value vanishes (what the decision's zero-set search needs)."""

    NEVER = "never"        # nowhere (sigmoid, exp)
    AT_ZERO = "at_zero"    # exactly where its first argument does (tanh, elu with a != 0)
    REGION = "region"      # on a whole region whose edge is a kink (relu, step)


class Side(StrEnum):
    """Which derivative a framework returns exactly on a kink."""

    LEFT = "left"          # the one-sided derivative from below
    RIGHT = "right"        # from above
    MEAN = "mean"          # the mean of the two (torch's |z|'(0) = 0, ties of max)


@dataclass(frozen=True)
class Param:
    """A numeric parameter after the operands: ``leaky_relu(z, a)``'s slope ``a``."""

    name: str
    default: object = None      # None: required
    learnable: bool = False     # a name given for it becomes a parameter of the network


@dataclass(frozen=True, eq=False)
class Primitive:
    """Every fact about one primitive. See the module docstring.

    ``kinks`` are the breakpoints in the first operand, as text (``"-1"``, or a parameter's
    name: clamp's ``"a"``); a primitive of two operands has one kink, the tie (``"a = b"``). ``at_kink`` maps a framework profile
    (``torch``, ``jax``, ``tensorflow``, ``numpy``) to the :class:`Side` it takes on every
    kink, or to a tuple of sides: one per kink, or for two operands one per operand.
    A profile not listed computes the ``Step`` form with the profile's own Step(0).
    """

    name: str
    cls: type | None                             # SymPy class of its applications
    params: tuple[Param, ...] = ()
    aliases: tuple[str, ...] = ()
    build: Callable[[list], sympy.Expr] | None = None   # when not ``cls(*args)``
    operands: int = 1
    variadic: bool = False                       # max(a, b, c): folded pairwise
    activation: bool = False                     # may be a layer's activation
    formula: bool = True                         # may be called in a formula
    plain: str | None = None                     # plain head (default: the name)
    latex: str | None = None                     # LaTeX head (None: SymPy's or the printer's)
    kinks: tuple[str, ...] = ()
    at_kink: Mapping[str, object] = field(default_factory=dict)
    zeros: ZeroSet | None = None                 # None: not known (the decision says unknown)
    output_form: Callable | None = None          # (a) -> derivative written with the output a
    torch: str | None = None                     # dotted name of the torch operation
    torch_kwargs: Mapping[str, object] = field(default_factory=dict)
    jax: str | None = None                       # dotted name of the jax operation
    jax_kwargs: Mapping[str, object] = field(default_factory=dict)
    also: tuple[type, ...] = ()                  # other SymPy classes meaning the same
    mpmath: str | None = None                    # mpmath's function, for a smooth primitive
    exact_at: tuple | None = None                # (point, value) where that value is exact
    poles: tuple[str, ...] = ()                  # where it is undefined
    exp_form: tuple | None = None                # a rational function of u = exp(z): the
    #                                              numerator's and denominator's coefficients
    positive_with_argument: bool = False         # f(z) > 0 exactly where z > 0 (relu, tanh),
    #                                              so a mask (f(z) > 0) is the mask (z > 0)
    doc: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        """The canonical name and every alias."""
        return (self.name, *self.aliases)

    @property
    def plain_head(self) -> str:
        return self.plain or self.name

    @property
    def min_args(self) -> int:
        return self.operands + sum(p.default is None for p in self.params)

    @property
    def max_args(self) -> int | None:
        return None if self.variadic else self.operands + len(self.params)

    def apply(self, args) -> sympy.Expr:
        """The expression for ``args`` (operands, then parameters; defaults fill the rest).

        >>> primitive_named("leaky_relu").apply([sympy.Symbol("z")])
        LeakyReLU(z, 1/100)
        """
        if self.build is not None:
            return self.build(list(args))
        args = list(args)
        for p in self.params[len(args) - self.operands:]:
            args.append(sympy.nsimplify(p.default))
        return self.cls(*args)

    def sides(self, profile: str) -> tuple[Side, ...] | None:
        """The side of each kink (or operand) under ``profile``; None when not declared."""
        side = self.at_kink.get(profile)
        if side is None:
            return None
        count = self.operands if self.operands > 1 else len(self.kinks)
        return tuple(Side(s) for s in side) if isinstance(side, tuple) else (Side(side),) * count


_BY_NAME: dict[str, Primitive] = {}
_BY_CLASS: dict[type, Primitive] = {}
_ORDER: list[Primitive] = []
#: Any class -> the primitive it is, through its bases (see :func:`primitive_of`).
_RESOLVED: dict[type, Primitive | None] = {}


def register(primitive: Primitive) -> Primitive:
    """Add ``primitive`` to the registry (its names and classes must be new)."""
    for name in primitive.names:
        if name in _BY_NAME:
            raise ValueError(f"{name!r} is already registered")
        _BY_NAME[name] = primitive
    for cls in (primitive.cls, *primitive.also):
        if cls is not None:
            _BY_CLASS[cls] = primitive
    _RESOLVED.clear()
    _ORDER.append(primitive)
    return primitive


def primitives() -> list[Primitive]:
    """Every registered primitive, in registration order."""
    return list(_ORDER)


def primitive_named(name: str, *, exact: bool = False) -> Primitive | None:
    """The primitive called ``name``: exactly, or (unless ``exact``) in any letter case.

    >>> primitive_named("ReLU").name, primitive_named("heaviside").name, primitive_named("x")
    ('relu', 'step', None)
    >>> primitive_named("h", exact=True), primitive_named("H", exact=True).name
    (None, 'step')
    """
    return _BY_NAME.get(name) or (None if exact else _BY_NAME.get(name.lower()))


def primitive_of(cls) -> Primitive | None:
    """The primitive whose SymPy class ``cls`` (or the class of an expression) is, through
    the class's bases (SymPy's own ``tanh`` is the registered ``tanh`` too).

    >>> primitive_of(sympy.exp(sympy.Symbol("z"))).name
    'exp'
    """
    if not isinstance(cls, type):
        cls = type(cls)
    if cls not in _RESOLVED:
        _RESOLVED[cls] = next((_BY_CLASS[b] for b in cls.__mro__ if b in _BY_CLASS), None)
    return _RESOLVED[cls]


def derivative(fn: sympy.Expr, argindex: int = 1, profile: str | None = None) -> sympy.Expr:
    """d ``fn`` / d (argument ``argindex``) of an applied function: the one way derivcheck
    differentiates a primitive. The ``Step`` form, or under a framework ``profile`` that
    declares its kink sides, the form whose brackets take that framework's value there.

    >>> z = sympy.Symbol("z")
    >>> leaky = primitive_named("leaky").apply([z])
    >>> derivative(leaky, 1, "torch"), derivative(leaky, 1, "jax")
    (99*IsPos(z)/100 + 1/100, 99*IsNonNeg(z)/100 + 1/100)
    """
    if profile is not None:
        form = _profile_form(type(fn), argindex, profile)
        if form is not None:
            dummies, template = form
            return template.xreplace(dict(zip(dummies, fn.args)))
    return fn.fdiff(argindex)


#: (class, argindex, profile) -> (dummies, derivative with the profile's brackets) or None.
_FORMS: dict = {}


def _profile_form(cls, argindex: int, profile: str):
    key = (cls, argindex, profile)
    if key not in _FORMS:
        _FORMS[key] = _build_form(cls, argindex, profile)
    return _FORMS[key]


def _build_form(cls, argindex: int, profile: str):
    """The derivative with each Step that ties on a kink replaced by the bracket giving the
    profile's side there: ``[u > 0]`` or ``[u >= 0]`` by the sign of u's slope, or their
    mean."""
    from .base import IsNonNeg, IsPos, Step

    prim = primitive_of(cls)
    sides = prim.sides(profile) if prim is not None else None
    if sides is None or argindex > prim.operands:
        return None
    dummies = [sympy.Dummy(f"x{i}") for i in range(prim.operands + len(prim.params))]
    d = cls(*dummies, evaluate=False).fdiff(argindex)
    x = dummies[argindex - 1]
    replace = {}
    for atom in d.atoms(Step):
        u = atom.args[0]
        slope = sympy.diff(u, x)
        if not (slope.is_Number and slope != 0):
            raise ValueError(f"{prim.name}: {atom} is not a kink of argument {argindex}")
        if prim.operands > 1:
            side = sides[argindex - 1]
        else:
            root = -(u - slope * x) / slope
            named = {p.name: dummies[prim.operands + i] for i, p in enumerate(prim.params)}
            kinks = [named[k] if k in named else Rational(k) for k in prim.kinks]
            if root not in kinks:
                raise ValueError(f"{prim.name}: {atom} ties at {root}, not a declared kink")
            side = sides[kinks.index(root)]
        if side is Side.MEAN:
            replace[atom] = (IsPos(u) + IsNonNeg(u)) / 2
        else:
            inclusive = (side is Side.RIGHT) == (slope > 0)
            replace[atom] = IsNonNeg(u) if inclusive else IsPos(u)
    return dummies, d.xreplace(replace)
