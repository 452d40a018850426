"""From tokens to SymPy: the LALR parser and the callbacks that build the expression.

The parser is built once from ``grammar.lark`` (LALR, strict: the grammar has no
conflicts). It runs *tree-less*: each rule's callback builds its SymPy object the moment
the rule is reduced, so no parse tree is held and nothing recurses over the input. Sums and
products arrive as flat lists and are built with one ``Add``/``Mul`` each.

Numbers are exact (``0.01`` is ``1/100``) and no number is ever computed past the limits:
an exponent beyond ``MAX_EXPONENT`` and powers whose digits would exceed a budget are
refused, so ``9^{9^{9^{9}}}`` costs nothing.

>>> from .tokens import tok
>>> from .resolve import Resolver, Resolved
>>> import sympy
>>> x = sympy.Symbol("x")
>>> tokens = [tok("NUMBER", "0.5", 0, 3), tok("NAME", Resolved("x", x), 4, 5),
...           tok("POW", "^", 5, 6), tok("NUMBER", "2", 6, 7)]
>>> parse_tokens(tokens, Resolver(None, "0.5 x^2"))
x**2/2
"""
from __future__ import annotations

import math
import re
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

import sympy
from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedInput
from lark.lexer import Lexer

from ..core import functions as F
from ..core.matrix import expr as mx
from ..errors import LimitError, ParseError
from ..limits import MAX_DIGITS, MAX_EXPONENT
from .errors import from_lark
from .resolve import Resolver
from .matrix_calls import MATRIX_CALLS, CallError, build_call
from .vocabulary import function_named

__all__ = ["parse_tokens", "MAX_POWER_DIGITS"]

#: Digits all numeric powers of one formula may produce together (``2^{1000}`` uses 302).
MAX_POWER_DIGITS = 10 * MAX_EXPONENT

_NUMBER = re.compile(r"([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?")
_UNDEFINED = (sympy.zoo, sympy.nan, sympy.oo, -sympy.oo)
_ZERO_HINT = "a gradient formula is defined everywhere: check the denominators and logarithms"
_NUMBER_HINT = "write the number with fewer digits, or as a fraction"


@dataclass
class _State:
    resolver: Resolver
    power_digits: int = 0
    text: str = field(init=False)

    def __post_init__(self):
        self.text = self.resolver.text

    def error(self, message: str, position: int, hint: str | None = None) -> ParseError:
        return ParseError(message, text=self.text, position=position, hint=hint)


_STATE: ContextVar[_State] = ContextVar("derivcheck_parse_state")


@dataclass(frozen=True)
class _Comparison:
    left: sympy.Expr
    op: str
    right: sympy.Expr

    def iverson(self):
        """``[a > b]`` is IsPos(a - b), ``[a >= b]`` IsNonNeg(a - b); ``<`` swaps sides;
        on matrices, entry by entry."""
        big, small = (self.left, self.right) if self.op in (">", ">=") else (self.right, self.left)
        f = F.IsPos if self.op in (">", "<") else F.IsNonNeg
        if mx.is_matrix(big) or mx.is_matrix(small):
            return mx.compare(self.op, self.left, self.right,
                              lambda xs: f(xs[0] - xs[1]) if self.op in (">", ">=")
                              else f(xs[1] - xs[0]))
        return f(big - small)


def _checked(value, where: Token):
    if value in _UNDEFINED:
        raise _STATE.get().error("this part of the formula is undefined (a division by zero)",
                                 where.start_pos, _ZERO_HINT)
    return value


class _Build(Transformer):
    """Callbacks named after the grammar's rules and aliases."""

    def start(self, c):
        return c[0]

    def sum(self, c):
        if any(isinstance(t, mx.MExpr) for t in c):
            acc = c[0]
            for op, t in zip(c[1::2], c[2::2]):
                acc = mx.add(acc, t) if op == "+" else mx.sub(acc, t)
            return acc
        terms = [c[0]] + [t if op == "+" else -t for op, t in zip(c[1::2], c[2::2])]
        return sympy.Add(*terms)

    def product(self, c):
        if any(isinstance(t, mx.MExpr) for t in c):
            return _matrix_product(c)
        for t in c:
            if isinstance(t, Token) and t == "@":
                raise _STATE.get().error("unexpected character '@'", t.start_pos,
                                         "'@' is a matrix product: describe a network with "
                                         "matrices (--widths with --batch or --style)")
        top, bottom, i = [c[0]], [], 1
        while i < len(c):
            if isinstance(c[i], Token):
                if c[i] == "/":
                    if c[i + 1] == 0:
                        raise _STATE.get().error("division by zero", c[i].start_pos, _ZERO_HINT)
                    bottom.append(c[i + 1])
                else:
                    top.append(c[i + 1])
                i += 2
            else:
                top.append(c[i])
                i += 1
        return sympy.Mul(*top) / sympy.Mul(*bottom) if bottom else sympy.Mul(*top)

    def signed(self, c):
        op, value = c
        if mx.is_matrix(value):
            return mx.neg(value) if op == "-" else value
        return -value if op == "-" else value

    def transpose(self, c):
        value = c[0]
        if mx.is_matrix(value):
            return mx.transpose(value)
        _STATE.get().resolver.notes.read("read ^T (transpose) as a no-op on scalars")
        return value

    def kwarg(self, c):
        return (str(c[0].value), c[1])

    def power(self, c):
        base, op, exponent = c
        if mx.is_matrix(base) or mx.is_matrix(exponent):
            return mx.power(base, exponent)
        if exponent.is_Rational:
            _check_exponent(base, exponent, op)
        return _checked(sympy.Pow(base, exponent), op)

    def number(self, c):
        return _number(c[0])

    def name(self, c):
        return c[0].value.expr

    def adjoint(self, c):
        return c[0].value.expr

    def constant(self, c):
        return sympy.E if c[0].value == "E" else sympy.pi

    def args(self, c):
        return [a.iverson() if isinstance(a, _Comparison) else a for a in c]

    def call(self, c):
        return _call(c[0], c[1])

    def call_bare(self, c):
        return _call(c[0], [c[1]])

    def frac(self, c):
        top, bottom = c[1], c[2]
        if mx.is_matrix(top) or mx.is_matrix(bottom):
            return mx.div(top, bottom)
        if bottom == 0:
            raise _STATE.get().error("division by zero", c[0].start_pos, _ZERO_HINT)
        return top / bottom

    def derivative(self, c):
        prime, arg = c
        if isinstance(prime.value.function, str):
            spec = function_named(prime.value.function)
            if mx.is_matrix(arg):
                return mx.apply(f"{spec.name}'", lambda xs: spec.derivative(xs[0]), [arg])
            return spec.derivative(arg)
        if prime.value.function is not None:  # a function the author defined
            return _checked(prime.value.function.derivative(arg), prime)
        return _activation_derivative(prime, arg)

    def indexed(self, c):
        return c[0].value.expr

    def index_sum(self, c):
        from ..core.matrix.indexed import IndexSum
        from ..core.matrix.slices import has_slice
        from .index_notation import scalar_body
        state = _STATE.get()
        mark = c[0].value
        if mx.is_matrix(c[1]) and has_slice(c[1]):   # columns: sum_i dz^{(i)}
            return IndexSum(mark.letter, mark.size, c[1])
        body = scalar_body(c[1], state.resolver, c[0].start_pos, f"the summand of {mark}")
        return IndexSum(mark.letter, mark.size, body)

    def comparison(self, c):
        return _Comparison(c[0], str(c[1]), c[2])

    def iverson(self, c):
        return c[-1].iverson()

    def absolute(self, c):
        if mx.is_matrix(c[0]):
            return mx.apply("abs", lambda xs: F.Absolute(xs[0]), [c[0]])
        return F.Absolute(c[0])

    def case_if(self, c):
        return c[0], c[1].iverson()

    def case_otherwise(self, c):
        return c[0], None

    def cases(self, c):
        """First matching row wins: value_k [cond_k] (1 - [cond_1]) ... (1 - [cond_k-1])."""
        total, none_before = sympy.S.Zero, sympy.S.One
        matrix = any(mx.is_matrix(x) for row in c for x in row)
        add, mul = (mx.add, mx.mul) if matrix else (sympy.Add, sympy.Mul)
        for value, condition in c:
            if condition is None:
                total = add(total, mul(value, none_before))
                break
            total = add(total, mul(mul(value, condition), none_before))
            none_before = mul(none_before, mx.sub(1, condition) if matrix else 1 - condition)
        else:
            _STATE.get().resolver.notes.warn("the cases have no 'otherwise' row: read as 0 where "
                                            "no condition holds")
        return total


def _number(t: Token):
    """The exact value of a literal: ``0.01`` is 1/100, ``1e-3`` is 1/1000."""
    text = str(t)
    whole, decimals, exponent = _NUMBER.fullmatch(text).groups("")
    if len(whole) + len(decimals) > MAX_DIGITS:
        raise LimitError(f"a number with more than {MAX_DIGITS} digits", text=_STATE.get().text,
                         position=t.start_pos, hint=_NUMBER_HINT)
    if len(exponent.lstrip("+-")) > 6 or abs(int(exponent or "0")) > MAX_EXPONENT:
        raise LimitError(f"the exponent of {text} is beyond {MAX_EXPONENT}", text=_STATE.get().text,
                         position=t.start_pos, hint=_NUMBER_HINT)
    shift = int(exponent or "0") - len(decimals)
    return sympy.Rational(int(whole + decimals) * 10 ** max(shift, 0), 10 ** max(-shift, 0))


def _check_exponent(base, exponent, op: Token) -> None:
    state = _STATE.get()
    p, q = abs(exponent.p), exponent.q
    if p > MAX_EXPONENT or q > MAX_EXPONENT:
        what = (f"the exponent {exponent} is beyond the limit of {MAX_EXPONENT}" if p > q else
                f"the exponent {exponent} takes a root of degree {q}, beyond the limit of "
                f"{MAX_EXPONENT} on the numerator and denominator of exponents")
        raise LimitError(what, text=state.text, position=op.start_pos,
                         hint="such powers are not part of a gradient; check the formula")
    if base.is_Rational:
        if base == 0 and exponent < 0:
            raise state.error("0 raised to a negative power (a division by zero)", op.start_pos,
                              _ZERO_HINT)
        size = max(abs(base.p).bit_length(), base.q.bit_length())
        state.power_digits += math.ceil(p * size * math.log10(2))
        if state.power_digits > MAX_POWER_DIGITS:
            raise LimitError(f"the numbers in this formula grow beyond {MAX_POWER_DIGITS} digits",
                             text=state.text, position=op.start_pos, hint=_NUMBER_HINT)


def _matrix_product(c):
    """Left to right: ``@`` and ``np.dot`` are matrix products, ``*``, ``\\odot`` and
    ``\\circ`` elementwise, ``/`` elementwise division; ``\\cdot``, ``\\times`` and two
    factors side by side read as a matrix product when the shapes fit (see
    :func:`derivcheck.core.matrix.expr.juxtapose`)."""
    notes = _STATE.get().resolver.notes
    acc, i = c[0], 1
    while i < len(c):
        if isinstance(c[i], Token):
            op, value = str(c[i]), c[i + 1]
            i += 2
            if op == "@":
                acc = mx.matmul(acc, value)
            elif op == "/":
                acc = mx.div(acc, value)
            elif op in ("\\cdot", "\\times"):
                acc = mx.juxtapose(acc, value, notes)
            else:
                acc = mx.mul(acc, value)
        else:
            acc = mx.juxtapose(acc, c[i], notes)
            i += 1
    return acc


def _call(func: Token, args: list):
    if not isinstance(func.value, str):  # a function the author defined
        defined = func.value
        if len(args) != len(defined.params):
            raise _STATE.get().error(f"{defined.name} takes {len(defined.params)} argument(s), "
                                     f"got {len(args)}", func.start_pos,
                                     f"as defined: {defined.text}")
        return _checked(defined.apply(args), func)
    name = str(func.value)
    if name in MATRIX_CALLS:
        try:
            return build_call(name, args, getattr(_STATE.get().resolver.ns, "class_axis", None))
        except CallError as err:
            raise _STATE.get().error(str(err), func.start_pos,
                                     "e.g. np.sum(dZ, axis=1, keepdims=True)") from None
    spec = function_named(name)
    if spec is None or any(isinstance(a, tuple) for a in args):
        raise _STATE.get().error(f"cannot read the function {name}", func.start_pos,
                                 "numpy functions read: " + ", ".join(sorted(MATRIX_CALLS))
                                 + ", exp, log, tanh, abs, sqrt")
    if any(mx.is_matrix(a) for a in args):
        return mx.apply(spec.name, spec.build, args)
    if not spec.accepts(len(args)):
        raise _STATE.get().error(f"{spec.name} takes {spec.arity()}, got {len(args)}",
                                 func.start_pos, f"e.g. {spec.name}(" +
                                 ", ".join(["z", "a", "b"][:max(spec.min_args, 1)]) + ")")
    return _checked(spec.build(args), func)


def _activation_derivative(prime: Token, arg):
    """``f'(z1)``: the derivative of the activation the network applies to ``z1``."""
    state = _STATE.get()
    ns = state.resolver.ns
    name = state.resolver.name_of.get(arg) if not mx.is_matrix(arg) else (
        getattr(arg, "name", None))   # a matrix, or one entry of it (index notation)
    activation = ns.activations.get(name) if name else None
    activation = activation or ns.default_activation
    if activation is None:
        what = f"the activation applied to {name}" if name else "which activation it stands for"
        raise state.error(f"cannot read {prime.value}: the network does not say {what}",
                          prime.start_pos,
                          "write the derivative itself, e.g. relu'(z1) or Step(z1)")
    state.resolver.notes.read(f"read {prime.value}({name or '...'}) as {activation.label()}'"
                              f"({name or '...'})")
    if mx.is_matrix(arg):
        return mx.apply(f"{activation.label()}'", lambda xs: activation.derivative(xs[0]), [arg])
    return activation.derivative(arg)


class _TokenFeed(Lexer):
    """The tokens are already made: hand them to the parser as they are."""

    def __init__(self, lexer_conf):
        del lexer_conf

    def lex(self, data):
        yield from data


_PARSER = Lark(Path(__file__).with_name("grammar.lark").read_text(), parser="lalr",
               lexer=_TokenFeed, transformer=_Build(), strict=True)


def parse_tokens(tokens: list[Token], resolver: Resolver):
    """Parse resolved tokens into a SymPy expression; errors become :class:`ParseError`."""
    reset = _STATE.set(_State(resolver))
    try:
        return _PARSER.parse(tokens)
    except UnexpectedInput as err:
        raise from_lark(err, tokens, resolver.text) from None
    finally:
        _STATE.reset(reset)
