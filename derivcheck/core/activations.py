"""Activations: the primitives a network layer may apply, with their arguments bound.

Every fact about an activation (its SymPy function, whose ``fdiff`` is the derivative;
its parameters with defaults and whether one is learnable, like ``prelu(a)``'s slope; its
kinks; the "forms people use" for its derivative in its own output, ``sigmoid' = a (1 - a)``,
``tanh' = 1 - a^2``: seed 004) is declared once in :mod:`derivcheck.core.primitives`;
this module reads it.

>>> act = parse_activation("leaky_relu(0.01)")
>>> act.name, act.args
('leaky_relu', (1/100,))
>>> z = sympy.Symbol("z")
>>> act.apply(z)
LeakyReLU(z, 1/100)
>>> act.derivative(z)
99*Step(z)/100 + 1/100
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import sympy
from sympy import Rational, Symbol

from .. import limits
from ..errors import NetworkLimitError, SpecError
from ..names import did_you_mean, valid_name
from .primitives import Primitive, derivative, primitive_named, primitives

__all__ = ["ActivationKind", "Activation", "ACTIVATIONS", "parse_activation", "activation_names"]

#: An activation's kind is its primitive.
ActivationKind = Primitive

#: Every name and alias an activation may be given -> its primitive (read from the registry).
ACTIVATIONS: dict[str, Primitive] = {name: p for p in primitives() if p.activation
                                     for name in p.names}


def activation_names() -> list[str]:
    """The primary names, sorted (for --help and error messages)."""
    return sorted({k.name for k in ACTIVATIONS.values()})


@dataclass(frozen=True)
class Activation:
    """An activation with its arguments bound: ``leaky_relu(0.01)``, ``prelu(a)``."""

    kind: Primitive
    args: tuple = field(default=())

    @property
    def name(self) -> str:
        return self.kind.name

    @property
    def learnable(self) -> tuple[Symbol, ...]:
        """Parameters of the network this activation introduces (prelu's slope)."""
        return tuple(a for a in self.args if isinstance(a, Symbol))

    def apply(self, z):
        """The forward expression act(z)."""
        return self.kind.apply((z, *self.args))

    def derivative(self, z):
        """d act / dz at z, in Step form (the kink value is the convention)."""
        out = self.apply(z)
        if out == z:
            return sympy.S.One
        return derivative(out, 1) if isinstance(out, sympy.Function) else sympy.diff(out, z)

    @property
    def is_piecewise(self) -> bool:
        return bool(self.kind.kinks)

    def label(self) -> str:
        """How the user would write it back: ``leaky_relu(1/100)``."""
        if not self.args:
            return self.name
        return f"{self.name}({', '.join(str(a) for a in self.args)})"


_SPEC = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$|^[+-]?\d+/\d+$")


def parse_activation(text: str) -> Activation:
    """Read ``relu``, ``leaky_relu(0.01)``, ``elu(1)``, ``prelu(a)``.

    Numbers are read exactly (``0.01`` is 1/100); a name argument is a learnable
    parameter of the network.

    >>> parse_activation("prelu(alpha)").learnable
    (alpha,)
    >>> parse_activation("leaky")
    Activation(kind=..., args=(1/100,))
    """
    m = _SPEC.match(text)
    if not m:
        raise SpecError(f"cannot read activation {text!r}", hint="write e.g. relu or leaky_relu(0.01)")
    name, argtext = m.group(1), m.group(2)
    kind = primitive_named(name)
    if kind is None or not kind.activation:
        raise SpecError(f"unknown activation {name!r}",
                        hint="known: " + ", ".join(activation_names()),
                        suggestion=did_you_mean(name, ACTIVATIONS))
    raw = [a.strip() for a in argtext.split(",")] if argtext and argtext.strip() else []
    if len(raw) > len(kind.params):
        raise SpecError(f"{kind.name} takes {len(kind.params)} argument(s), got {len(raw)}")
    args = []
    for i, param in enumerate(kind.params):
        if i < len(raw):
            args.append(_activation_argument(raw[i], kind.name, param.name))
        elif param.default is None:
            raise SpecError(f"{kind.name} needs its {param.name} argument",
                            hint=f"write {kind.name}({param.name}) to make it a parameter")
        else:
            args.append(sympy.nsimplify(param.default))
    return Activation(kind, tuple(args))


def _activation_argument(text: str, act: str, pname: str):
    if _NUMBER.match(text):
        mantissa, _, exponent = text.lower().partition("e")
        if (len(mantissa) > limits.MAX_DIGITS or len(exponent) > 6
                or abs(int(exponent or 0)) > limits.MAX_EXPONENT):
            raise NetworkLimitError(f"argument {pname} of {act} is a number past the limits "
                                    f"({limits.MAX_DIGITS} digits, exponent "
                                    f"{limits.MAX_EXPONENT})", position=0)
        return Rational(text)
    if valid_name(text):
        return Symbol(text)
    raise SpecError(f"argument {pname} of {act} must be a number or a name, got {text!r}")
