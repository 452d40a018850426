"""The activation table: one entry per activation a network layer may use.

An entry names the SymPy function that computes it (whose ``fdiff`` is the derivative,
see :mod:`derivcheck.core.functions`), its numeric parameters with defaults, whether a
parameter is learnable (``prelu(a)`` makes ``a`` a parameter of the network), where its
kinks are, and the "forms people use" for its derivative in terms of the activation's
own output (``sigmoid' = a (1 - a)``, ``tanh' = 1 - a^2``: seed 004).

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
from typing import Callable

import sympy
from sympy import Rational, Symbol

from . import functions as F
from . import hyperbolic
from .. import limits
from ..errors import NetworkLimitError, SpecError
from ..names import did_you_mean, valid_name

__all__ = ["ActivationKind", "Activation", "ACTIVATIONS", "parse_activation", "activation_names"]


@dataclass(frozen=True)
class ActivationKind:
    """One row of the table."""

    name: str
    build: Callable[..., sympy.Expr]          # (z, *args) -> forward expression
    params: tuple[tuple[str, object], ...] = ()  # (name, default); default None = required
    kinks: tuple[str, ...] = ()               # breakpoints as text, for sheets
    output_form: Callable | None = None       # (a) -> derivative written with the output a
    aliases: tuple[str, ...] = ()
    doc: str = ""


def _identity(z):
    return z


ACTIVATIONS: dict[str, ActivationKind] = {}


def _register(kind: ActivationKind) -> None:
    for name in (kind.name, *kind.aliases):
        ACTIVATIONS[name] = kind


for _kind in (
    ActivationKind("relu", F.ReLU, kinks=("0",), doc="max(0, z)", aliases=("ReLU",)),
    ActivationKind("leaky_relu", F.LeakyReLU, (("a", Rational(1, 100)),), ("0",),
                   aliases=("leaky", "lrelu"), doc="z for z > 0, a z otherwise"),
    ActivationKind("prelu", F.PReLU, (("a", None),), ("0",),
                   doc="leaky ReLU with a learnable slope (a parameter)"),
    ActivationKind("necro_relu", F.NecroReLU, (("slope", Rational(1, 10)),), ("0",),
                   doc="ReLU forward, backward slope `slope` for z < 0 (a surrogate gradient)"),
    ActivationKind("elu", F.ELU, (("a", 1),), ("0",), doc="z for z > 0, a (e^z - 1) otherwise"),
    ActivationKind("selu", F.SELU, (), ("0",), doc="scale * elu(z, alpha), fixed constants"),
    ActivationKind("celu", F.CELU, (("a", 1),), (), doc="max(0,z) + min(0, a (e^(z/a) - 1))"),
    ActivationKind("softplus", F.Softplus, doc="log(1 + e^z)"),
    ActivationKind("sigmoid", F.Sigmoid, output_form=lambda a: a * (1 - a),
                   aliases=("logistic", "sigma"), doc="1 / (1 + e^-z)"),
    ActivationKind("tanh", hyperbolic.tanh, output_form=lambda a: 1 - a**2, doc="tanh z"),
    ActivationKind("abs", F.Absolute, kinks=("0",), doc="|z|"),
    ActivationKind("identity", _identity, aliases=("linear", "none"), doc="z"),
    ActivationKind("hardtanh", F.HardTanh, kinks=("-1", "1"), doc="clamp(z, -1, 1)"),
    ActivationKind("relu6", F.ReLU6, kinks=("0", "6"), doc="min(max(0, z), 6)"),
    ActivationKind("gelu", F.GELU, doc="z Phi(z), exact erf form"),
    ActivationKind("swish", F.Swish, aliases=("silu",), doc="z sigmoid(z)"),
):
    _register(_kind)


def activation_names() -> list[str]:
    """The primary names, sorted (for --help and error messages)."""
    return sorted({k.name for k in ACTIVATIONS.values()})


@dataclass(frozen=True)
class Activation:
    """An activation with its arguments bound: ``leaky_relu(0.01)``, ``prelu(a)``."""

    kind: ActivationKind
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
        return self.kind.build(z, *self.args)

    def derivative(self, z):
        """d act / dz at z, in Step form (the kink value is the convention)."""
        out = self.apply(z)
        if out == z:
            return sympy.S.One
        return out.fdiff(1) if isinstance(out, sympy.Function) else sympy.diff(out, z)

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
    kind = ACTIVATIONS.get(name) or ACTIVATIONS.get(name.lower())
    if kind is None:
        raise SpecError(f"unknown activation {name!r}",
                        hint="known: " + ", ".join(activation_names()),
                        suggestion=did_you_mean(name, ACTIVATIONS))
    raw = [a.strip() for a in argtext.split(",")] if argtext and argtext.strip() else []
    if len(raw) > len(kind.params):
        raise SpecError(f"{kind.name} takes {len(kind.params)} argument(s), got {len(raw)}")
    args = []
    for i, (pname, default) in enumerate(kind.params):
        if i < len(raw):
            args.append(_activation_argument(raw[i], kind.name, pname))
        elif default is None:
            raise SpecError(f"{kind.name} needs its {pname} argument",
                            hint=f"write {kind.name}({pname}) to make it a parameter")
        else:
            args.append(sympy.nsimplify(default))
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
