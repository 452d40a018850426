"""The test oracle: exact gradients of a network at a point, under a kink convention.

``Oracle(net, convention)`` evaluates the network's own definitions (forward, adjoints
and parameter gradients, see :meth:`derivcheck.core.network.Network.definitions`) at a point:
exact :class:`~fractions.Fraction` values wherever the network is piecewise-rational,
mpmath numbers (60 digits) for transcendental parts. A framework profile (``torch``,
``jax``, ``tensorflow``) evaluates its Iverson-bracket reference; ``0``, ``1``, ``1/2``
set Step(0); ``any`` uses Step(0) = 0 and offers :meth:`Oracle.gradients_all_conventions`.

The definitions are compiled once per network into straight-line Python over integer
numerator/denominator pairs, so one point of a piecewise-rational network costs a few
thousand integer operations, not a SymPy tree walk; transcendental definitions go to
:class:`derivcheck.decide.evaluate.PointEvaluator`, the reference semantics. Where the fast
path meets something it cannot decide (a division by zero, an undecidable sign), the
point is evaluated lazily by the reference evaluator alone.

>>> from derivcheck.core.network import chain
>>> net = chain(weights=["w1", "w2"], activations="relu")
>>> oracle = Oracle(net, convention="torch")
>>> oracle.gradients({"x": 0.5, "w1": 3, "w2": 2, "y": 1})
{'w1': Fraction(2, 1), 'w2': Fraction(3, 1)}
>>> oracle.loss({"x": "1/2", "w1": 3, "w2": 2, "y": 1})
Fraction(2, 1)
>>> kink = {"x": 1, "w1": 0, "w2": 2, "y": 1}
>>> oracle.at_kink(kink), Oracle(net, "1").gradient("w1", kink)
(True, Fraction(-2, 1))
"""
from __future__ import annotations

import io
import math
import numbers
import re
import tokenize
import weakref
from fractions import Fraction

import mpmath
import sympy
from sympy import Symbol

from ..core.conventions import Convention, get_convention
from ..errors import SpecError
from ..decide.evaluate import DEFAULT_DPS, PointEvaluator, UndefinedAt, Undetermined, to_fraction
from ..core.functions import IsNonNeg, IsPos, Step, decompose
from ..core.gradients import adjoint_symbol
from ..core.network import from_dict
from ..names import did_you_mean

__all__ = ["Oracle", "exact_point", "exact_number", "STEP_VALUES"]

#: Digits the transcendental parts may be evaluated with, at most.
MAX_DPS = 960
#: The values of Step(0) that ``any`` allows, as exact Fractions.
STEP_VALUES = (Fraction(0), Fraction(1, 2), Fraction(1))

_NAMES_SHOWN = 12


def exact_number(value, name: str = "value") -> Fraction:
    """An exact Fraction from an int, a float (exactly), a string, a SymPy or numpy number.

    >>> exact_number(0.1) == Fraction(0.1), exact_number("3/7"), exact_number(sympy.Rational(1, 3))
    (True, Fraction(3, 7), Fraction(1, 3))
    """
    if isinstance(value, Fraction):
        return value
    if isinstance(value, (str, sympy.Basic)):
        try:
            return to_fraction(value)
        except (TypeError, ValueError, ZeroDivisionError):
            raise SpecError(f"{name} = {value!r} is not an exact number",
                            hint='write e.g. 3, -0.5 or "3/7"') from None
    if isinstance(value, numbers.Integral):
        return Fraction(int(value))
    if isinstance(value, numbers.Real):
        if not math.isfinite(float(value)):
            raise SpecError(f"{name} = {value!r} is not a finite number")
        return Fraction(float(value))
    if hasattr(value, "item"):  # numpy scalars, 0-d arrays and tensors
        return exact_number(value.item(), name)
    raise SpecError(f"{name} = {value!r} is not a number")


def exact_point(net, values: dict) -> dict:
    """``values`` (names or symbols -> numbers) as {Symbol: Fraction} for every variable.

    >>> from derivcheck.core.network import chain
    >>> exact_point(chain(["w1"]), {"x": 1, "w": 2, "y": 0})
    Traceback (most recent call last):
    ...
    derivcheck.errors.SpecError: error: the point names 'w', which is not a variable of the network
    did you mean: w1?
    hint: a point assigns every input, parameter and target: x, w1, y
    """
    variables = net.variables
    return dict(zip(variables, _exact_values([s.name for s in variables], values)))


def _exact_values(names: list, values: dict) -> list:
    """The values of ``names`` (in order) from a point keyed by names or symbols."""
    by_name = {k.name if isinstance(k, Symbol) else str(k): v for k, v in values.items()}
    shown = ", ".join(names[:_NAMES_SHOWN])
    if len(names) > _NAMES_SHOWN:
        shown += f", ... ({len(names)} in all)"
    hint = f"a point assigns every input, parameter and target: {shown}"
    if len(by_name) > len(names) or any(n not in by_name for n in names):
        known = set(names)
        for name in by_name:
            if name not in known:
                raise SpecError(f"the point names {name!r}, which is not a variable of the "
                                "network", hint=hint, suggestion=did_you_mean(name, names))
        raise SpecError("the point has no value for "
                        + ", ".join(n for n in names if n not in by_name), hint=hint)
    return [exact_number(by_name[n], n) for n in names]


# --- the compiled program --------------------------------------------------------------

_RATIONAL_FUNCS = (Step, IsPos, IsNonNeg)


class _Codegen:
    """Straight-line Python for one list of definitions.

    A piecewise-rational symbol lives in two locals ``sKn, sKd`` (numerator, positive
    denominator, reduced after each definition). Any other definition is handed to a
    :class:`PointEvaluator` ``EV`` (the reference semantics), whose ``values`` ``V``
    receive every symbol such a definition uses.
    """

    def __init__(self, leaves):
        self.lines = ["def _run(L, S0N, S0D, EV, V):"]
        self.slot, self.exact, self.consts, self.shared = {}, {}, [], set(leaves)
        self.temps = 0
        for i, s in enumerate(leaves):
            self.slot[s], self.exact[s] = f"s{i}", True
            self.emit(f"s{i}n, s{i}d = L[{i}]")

    def emit(self, line):
        self.lines.append("    " + line)

    def temp(self):
        self.temps += 1
        return f"t{self.temps}"

    def const(self, value):
        self.consts.append(value)
        return f"K[{len(self.consts) - 1}]"

    def is_rational(self, e) -> bool:
        if e.is_Symbol:
            return self.exact[e]
        if e.is_Rational:
            return True
        if e.is_Add or e.is_Mul or isinstance(e, _RATIONAL_FUNCS):
            return all(self.is_rational(a) for a in e.args)
        return e.is_Pow and e.args[1].is_Integer and self.is_rational(e.args[0])

    def define(self, symbol, expr):
        e = decompose(expr)
        name = f"s{len(self.slot)}"
        if self.is_rational(e):
            n, d = self.pair(e)
            self.emit(f"{name}n = {n}; {name}d = {d}; g = _gcd({name}n, {name}d)")
            self.emit(f"if g != 1: {name}n //= g; {name}d //= g")
            self.slot[symbol], self.exact[symbol] = name, True
            return
        for u in sorted(e.free_symbols - self.shared, key=str):
            self.emit(f"V[{self.const(u)}] = _F({self.slot[u]}n, {self.slot[u]}d)")
        self.shared |= e.free_symbols | {symbol}
        self.emit(f"{name}g = EV.define({self.const(symbol)}, {self.const(e)})")
        self.slot[symbol], self.exact[symbol] = name, False

    def pair(self, e):
        """(numerator, denominator) expressions of a piecewise-rational expression."""
        if e.is_Symbol:
            return f"{self.slot[e]}n", f"{self.slot[e]}d"
        if e.is_Rational:
            return str(e.p) if e.p >= 0 else f"({e.p})", str(e.q)
        t = self.temp()
        if e.is_Mul:
            parts = [self.pair(a) for a in e.args]
            n = "*".join(p for p, _ in parts if p != "1") or "1"
            d = "*".join(q for _, q in parts if q != "1") or "1"
            self.emit(f"{t}n = {n}; {t}d = {d}")
        elif e.is_Add:
            (n, d), *rest = [self.pair(a) for a in e.args]
            self.emit(f"{t}n = {n}; {t}d = {d}")
            for n, d in rest:
                if d == "1":
                    self.emit(f"{t}n += {n}*{t}d")
                else:
                    self.emit(f"if {t}d == {d}: {t}n += {n}")
                    self.emit(f"else: {t}n = {t}n*{d} + {n}*{t}d; {t}d *= {d}")
        elif e.is_Pow:
            (n, d), k = self.pair(e.args[0]), int(e.args[1])
            if k >= 0:
                self.emit(f"{t}n = {n}**{k}; {t}d = {d}**{k}")
            else:
                self.emit(f"if {n} == 0: raise ZeroDivisionError")
                self.emit(f"{t}n = {d}**{-k}; {t}d = {n}**{-k}")
                self.emit(f"if {t}d < 0: {t}n = -{t}n; {t}d = -{t}d")
        else:
            n, _ = self.pair(e.args[0])
            if e.func is Step:
                self.emit(f"{t}n = 1 if {n} > 0 else 0 if {n} < 0 else S0N; "
                          f"{t}d = 1 if {n} else S0D")
            else:
                op = ">" if e.func is IsPos else ">="
                self.emit(f"{t}n = 1 if {n} {op} 0 else 0; {t}d = 1")
        return f"{t}n", f"{t}d"


#: The only identifiers generated code may hold: its own slots and temporaries, its
#: arguments, and the helpers put in its namespace. Keywords are listed separately.
_GENERATED_NAME = re.compile(r"(s\d+[ndg]|t\d+[nd]|g|L|S0N|S0D|EV|V|K|_F|_gcd|_run|"
                             r"ZeroDivisionError|define|values)")
_GENERATED_KEYWORDS = frozenset({"def", "return", "if", "else", "raise"})
_GENERATED_OPS = frozenset("( ) [ ] , ; : . = + - * / < > ** // == != >= <= += -= *= //=".split())


def generated_source(lines: list) -> str:
    """The program's source, after proving that nothing but the generator's own tokens
    is in it: no string, no float, no name a network or a user chose (names and constants
    reach the program only as indices into ``K``). A violation is a bug in the generator,
    so it raises :class:`AssertionError` rather than running the code.

    >>> generated_source(["def _run(L, S0N, S0D, EV, V):", "    s0n, s0d = L[0]"]).count("\\n")
    1
    >>> generated_source(["def _run(L, S0N, S0D, EV, V):", "    s0n = __import__('os')"])
    Traceback (most recent call last):
    ...
    AssertionError: generated code holds NAME '__import__' at line 2
    """
    source = "\n".join(lines)
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        kind, text = tokenize.tok_name[tok.type], tok.string
        allowed = {
            "NAME": text in _GENERATED_KEYWORDS or _GENERATED_NAME.fullmatch(text),
            "NUMBER": text.isdigit(),
            "OP": text in _GENERATED_OPS,
        }.get(kind, kind in {"NEWLINE", "NL", "INDENT", "DEDENT", "ENDMARKER"})
        if not allowed:
            raise AssertionError(f"generated code holds {kind} {text!r} at line {tok.start[0]}")
    return source


class _Program:
    """One network's definitions, compiled once; :meth:`run` evaluates them all.

    Where the definitions are transcendental, ``run`` evaluates at half and at full
    precision and accepts the full one only if ``outputs`` agree to all but 10 of the
    half's digits (so at most 10 digits were lost to cancellation); otherwise it doubles
    the precision, up to :data:`MAX_DPS`.
    """

    def __init__(self, definitions: dict, leaves: list, outputs: list, dps: int):
        self.definitions, self.leaves, self.dps = definitions, leaves, dps
        gen = _Codegen(leaves)
        for symbol, expr in definitions.items():
            gen.define(symbol, expr)
        self.symbols = list(gen.slot)
        self.index = {s: i for i, s in enumerate(self.symbols)}
        self.checked = [self.index[s] for s in outputs]
        returned = [f"({v}n, {v}d)" if gen.exact[s] else f"{v}g" for s, v in gen.slot.items()]
        gen.emit("return [" + ", ".join(returned) + "]")
        self.transcendental = not all(gen.exact.values())
        namespace = {"K": gen.consts, "_F": Fraction, "_gcd": math.gcd}
        exec(compile(generated_source(gen.lines), f"<derivcheck program {id(self)}>", "exec"),
             namespace)
        self._run = namespace["_run"]

    def run(self, leaves: list, step0: Fraction):
        """Every symbol's value, given the leaves' values (Fractions, in leaf order)."""
        if not self.transcendental:
            raw = self._attempt(leaves, step0, self.dps)
            return _Values(self, raw) if raw is not None else self._lazy(leaves, step0, self.dps)
        dps, coarse = self.dps, self._attempt(leaves, step0, self.dps // 2)
        while True:
            fine = self._attempt(leaves, step0, dps)
            if fine is not None and coarse is not None and self._agree(coarse, fine, dps // 4):
                return _Values(self, fine)
            if dps >= MAX_DPS:
                break
            coarse, dps = fine, dps * 2
        if fine is None:
            return self._lazy(leaves, step0, dps)
        raise Undetermined(f"the values still change in the first {dps // 4} digits at "
                           f"{dps} digits of precision")

    def _attempt(self, leaves: list, step0: Fraction, dps: int):
        """The fast path's values at ``dps`` digits, or None when it raised."""
        pairs = [(v.numerator, v.denominator) for v in leaves]
        ev = PointEvaluator({}, dict(zip(self.leaves, leaves)), step0=step0, dps=dps) \
            if self.transcendental else None
        try:
            return self._run(pairs, step0.numerator, step0.denominator, ev, ev and ev.values)
        except (ArithmeticError, UndefinedAt, Undetermined):
            return None

    def _lazy(self, leaves: list, step0: Fraction, dps: int):
        return _Values(self, [], PointEvaluator(self.definitions, dict(zip(self.leaves, leaves)),
                                                step0=step0, dps=dps))

    def _agree(self, coarse: list, fine: list, digits: int) -> bool:
        scale = max((abs(_as_mpf(fine[i])) for i in self.checked), default=0)
        return all(_same(coarse[i], fine[i], digits, scale) for i in self.checked)


_ZERO = Fraction(0)


class _Values:
    """Values of one run by symbol (``values[s]``) or position (``values.at(i)``): from
    the fast path's raw list, or from the reference ``evaluator`` where it refused."""

    def __init__(self, program: _Program, raw: list, evaluator: PointEvaluator | None = None):
        self.program, self.raw, self.evaluator = program, raw, evaluator

    def __getitem__(self, symbol):
        return self.at(self.program.index[symbol])

    def at(self, i: int):
        if self.evaluator is not None:
            return self.evaluator.symbol(self.program.symbols[i])
        v = self.raw[i]
        if type(v) is not tuple:
            return v
        n, d = v
        return _ZERO if n == 0 else Fraction(n) if d == 1 else Fraction(n, d)


#: Per network: its names, and its compiled programs by (convention family, dps).
_PROGRAMS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class Oracle:
    """Exact gradients of ``net`` under one kink convention (see the module docstring).

    For a matrix network (``derivcheck.mlp([784, 128, 10], ..., oracle=True)``, or any
    MLP with a batch or a style) this is an
    :class:`~derivcheck.oracle.arrays.ArrayOracle`: named arrays in, named arrays out.
    """

    def __new__(cls, net=None, convention="any", **kwargs):
        if getattr(net, "is_matrix", False):
            from .arrays import ArrayOracle
            return ArrayOracle(net, convention)
        return super().__new__(cls)

    def __init__(self, net, convention: str | Convention = "any", *, dps: int = DEFAULT_DPS):
        self.net = net = from_dict(net) if isinstance(net, dict) else net
        self.convention = get_convention(convention)
        self.dps = dps
        self.step0 = to_fraction(self.convention.step0_values[0])
        self._cache = _PROGRAMS.setdefault(net, {})
        if "names" not in self._cache:
            self._cache["names"] = [s.name for s in net.variables]
            self._cache["parameters"] = [p.name for p in net.params]
            self._cache["grads"] = [adjoint_symbol(p) for p in self._cache["parameters"]]
        self.parameters = self._cache["parameters"]
        self._names, self._grads = self._cache["names"], self._cache["grads"]

    def __repr__(self) -> str:
        return f"Oracle({self.net!r}, convention={self.convention.name!r})"

    def point(self, values: dict) -> dict:
        """The point as {Symbol: Fraction}, checked: every variable, nothing else."""
        return exact_point(self.net, values)

    def _program(self, family: str) -> _Program:
        key = (family, self.dps)
        if key not in self._cache:
            program = _Program(self.net.definitions(family), self.net.variables,
                               [*self._grads, self.net.graph.loss], self.dps)
            program.gradient_positions = program.checked[:-1]
            self._cache[key] = program
        return self._cache[key]

    def values(self, point: dict, *, step0: Fraction | None = None) -> _Values:
        """Every symbol's value (forward, adjoints, gradients): ``values[symbol]``."""
        family = self.convention.name if self.convention.is_profile else "any"
        return self._program(family).run(_exact_values(self._names, point),
                                         self.step0 if step0 is None else step0)

    def gradients(self, point: dict) -> dict:
        """{parameter name: dC/dparameter} at ``point``."""
        return self._gradients(self.values(point))

    def loss_and_gradients(self, point: dict) -> tuple:
        """``(loss, gradients)`` at ``point``, from one evaluation."""
        values = self.values(point)
        return values[self.net.graph.loss], self._gradients(values)

    def _gradients(self, values: _Values) -> dict:
        positions = values.program.gradient_positions
        return {name: values.at(i) for name, i in zip(self.parameters, positions)}

    def gradient(self, name, point: dict):
        """dC/d``name`` at ``point`` (a parameter or an input)."""
        symbol = self.net.parameter(name)
        return self.values(point)[adjoint_symbol(symbol.name)]

    def loss(self, point: dict):
        """The loss at ``point``."""
        return self.values(point)[self.net.graph.loss]

    def gradients_all_conventions(self, point: dict) -> dict:
        """{"0": gradients, "1/2": ..., "1": ...}: the Step form under each Step(0)."""
        program, leaves = self._program("any"), _exact_values(self._names, point)
        return {str(c): self._gradients(program.run(leaves, c)) for c in STEP_VALUES}

    def at_kink(self, point: dict) -> bool:
        """Does the gradient here depend on the convention?

        True when the gradients under Step(0) = 0, 1/2 and 1 (and, for a profile, the
        profile's own) are not all equal; a breakpoint reached only behind a dead unit
        is not a kink.
        """
        variants = list(self.gradients_all_conventions(point).values())
        if self.convention.is_profile:
            variants.append(self.gradients(point))
        first = variants[0]
        if all(isinstance(g, (Fraction, int)) for v in variants for g in v.values()):
            return any(v != first for v in variants[1:])  # exact: no scale needed
        scale = max(abs(_as_mpf(g)) for v in variants for g in v.values())
        return not all(_same(v[k], first[k], self.dps // 2, scale)
                       for v in variants[1:] for k in first)


def _as_mpf(value):
    """A Fraction, a (numerator, denominator) pair or an mpf as an mpf."""
    if isinstance(value, tuple):
        value = Fraction(*value)
    if isinstance(value, Fraction):
        return mpmath.mpf(value.numerator) / value.denominator
    return value


def _same(a, b, digits: int, scale=0) -> bool:
    """Equal: exactly for exact values; otherwise to ``digits`` digits of the larger of
    the two and ``scale`` (the size of the values they are compared among)."""
    if not (isinstance(a, mpmath.mpf) or isinstance(b, mpmath.mpf)):
        return a == b
    with mpmath.workdps(2 * digits + 10):
        a, b = _as_mpf(a), _as_mpf(b)
        return abs(a - b) <= mpmath.mpf(10) ** -digits * max(abs(a), abs(b), scale)
