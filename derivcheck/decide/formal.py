"""Formal evaluation: expressions as rational functions, tested modulo a large prime.

Every gate ``Step(g)``, Iverson bracket and transcendental function value becomes an
*atom*: a fresh random variable chosen by the fingerprint of its argument (the
argument's values at the evaluation points). Two expressions whose values agree at
K random points modulo the prime P = 2^61 - 1 are, with probability at least
1 - (d/P)^K (Schwartz-Zippel; d bounds the degrees), the same rational function of
the leaves and the atoms, and therefore equal at every point where the atoms take
their real values.

Modes:

* ``free``: ``Step(g)``, ``Step(-g)``, ``[g > 0]``, ``[g >= 0]``... are independent
  atoms, and ``Step(0)`` is an atom ``c``. Identity here means equality at every
  point, kinks included, for every value of Step(0).
* ``offkink``: each gate class has one 0/1 variable s (``Step(-g) = 1 - s``,
  ``[g > 0] = [g >= 0] = s``), optionally fixed by ``pattern`` (gate key -> 0/1).
  Identity here means equality off the kinks on the pattern's region.

>>> from sympy import symbols
>>> from derivcheck.core.functions import ReLU, Step
>>> w, x = symbols("w x")
>>> fe = FormalEvaluator({}, mode="free")
>>> fe.value(ReLU(w * x)) == fe.value(w * x * Step(x * w))
True
>>> fe.value(ReLU(w * x)) == fe.value(w * x * Step(-w * x))
False
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache

import sympy

from .evaluate import _decomposed
from ..core.functions import IsNonNeg, IsPos, Step
from ..core.primitives import primitive_of

__all__ = ["P", "FormalEvaluator", "GateInfo", "rational_reconstruct"]

P = (1 << 61) - 1
K = 3  # evaluation points
#: Definitions followed when taking sign-definite factors out of a gate's argument.
STRIP_DEPTH = 4
EXP_UNIT = 5040  # exp(q h) for every q with a denominator dividing this shares a base


def rational_reconstruct(r: int, bound: int = 1 << 28):
    """The small fraction n/d with n = r d (mod P), or None.

    >>> rational_reconstruct((-2 * pow(3, -1, P)) % P)
    (-2, 3)
    """
    r0, r1, s0, s1 = P, r % P, 0, 1
    while r1 > bound:
        q = r0 // r1
        r0, r1, s0, s1 = r1, r0 - q * r1, s1, s0 - q * s1
    if s1 == 0 or abs(s1) > bound:
        return None
    n, d = (r1, s1) if s1 > 0 else (-r1, -s1)
    return (n, d) if (n - r * d) % P == 0 else None


@dataclass
class GateInfo:
    """One class of gate arguments equal up to a positive constant factor."""

    key: tuple                 # projective fingerprint
    rep: tuple                 # residues of the representative argument
    expr: sympy.Expr           # the representative argument (real expression)
    order: int                 # discovery order (inner gates first)
    dead: bool = False         # argument is identically zero

    def orientation(self, lead: int) -> int | None:
        """+1 or -1: the sign of the constant ratio of an argument in this class, whose
        first nonzero residue is ``lead``, to the representative; None when the ratio is
        too large to identify."""
        first = next(x for x in self.rep if x)
        rr = rational_reconstruct(lead * pow(first, -1, P) % P)
        if rr is None:
            return None
        return 1 if rr[0] > 0 else -1


@dataclass
class FormalEvaluator:
    """Evaluate expressions formally at K random points modulo P."""

    definitions: dict
    mode: str = "free"
    pattern: dict = field(default_factory=dict)
    c_value: object = None        # fixed Step(0) (int residue) or None for an atom
    signs: dict = field(default_factory=dict)  # symbol -> +1/-1 known strict sign
    seed: int = 1
    keyer: "FormalEvaluator | None" = None  # names gates independently of the pattern
    registry: dict | None = None  # gate classes shared by evaluators that must agree
    known: dict | None = None     # values of symbols already evaluated elsewhere
    overrides: dict | None = None  # leaf symbol -> residues to use instead of random ones
    structural: bool = True       # take out factors positive by structure (exp, sigmoid)

    def __post_init__(self):
        self._values: dict = dict(self.known or {})
        self._exp_classes: dict = {}
        self._stripped_memo: dict = {}
        self._memo: dict = {}
        # key -> GateInfo; shared through ``registry`` so that a gate's orientation
        # (which of Step(g), Step(-g) is "s") is the same in every evaluator of a search
        self.gates: dict = self.registry if self.registry is not None else {}
        self._atoms: dict = {}
        self.free_gates: list = []   # keys met that the pattern does not fix
        self._idempotent: dict = {}  # 0/1 gate values -> their complements (or None)
        self.degree = 1              # running bound on degrees seen

    # -- atoms and leaves -------------------------------------------------------------
    def _random(self, tag) -> tuple:
        """K residues fixed by (seed, tag): the same atom gets the same value in every
        evaluator, whatever order it is met in."""
        if tag not in self._atoms:
            digest = hashlib.blake2b(repr((self.seed, tag)).encode(), digest_size=8 * K).digest()
            self._atoms[tag] = tuple(2 + int.from_bytes(digest[8 * i: 8 * i + 8], "big") % (P - 3)
                                     for i in range(K))
        return self._atoms[tag]

    def _const(self, n: int) -> tuple:
        return (n % P,) * K

    def symbol(self, s):
        if s in self._values:
            return self._values[s]
        if s not in self.definitions:
            if self.overrides and s in self.overrides:
                return self.overrides[s]
            return self._random(("leaf", s.name))
        pending = [s]
        while pending:
            top = pending[-1]
            missing = [d for d in _symbols_of(self.definitions[top])
                       if d not in self._values and d in self.definitions]
            if missing:
                pending.extend(missing)
                continue
            pending.pop()
            if top not in self._values:
                self._values[top] = self._eval(_decomposed(self.definitions[top]))
        return self._values[s]

    def value(self, expr) -> tuple:
        """The K residues of ``expr``."""
        return self._eval(_decomposed(expr))

    # -- evaluation ---------------------------------------------------------------------
    def _eval(self, e) -> tuple:
        if e.is_Symbol:
            return self.symbol(e)
        if e.is_Integer:
            return self._const(int(e))
        if e.is_Rational:
            return self._const(int(e.p) * pow(int(e.q), -1, P))
        if e.is_Float:
            r = sympy.Rational(str(e))
            return self._const(int(r.p) * pow(int(r.q), -1, P))
        if e in self._memo:
            return self._memo[e]
        out = self._compound(e)
        self._memo[e] = out
        return out

    def _compound(self, e) -> tuple:
        if e.is_Add:
            acc = [0] * K
            for a in e.args:
                v = self._eval(a)
                acc = [(p + q) % P for p, q in zip(acc, v)]
            return tuple(acc)
        if e.is_Mul:
            acc, gates = [1] * K, set()
            for a in e.args:
                v = self._eval(a)
                if v in self._idempotent:  # a 0/1 gate value: s s = s, s (1 - s) = 0
                    if self._idempotent[v] in gates:
                        return self._const(0)
                    if v in gates:
                        continue
                    gates.add(v)
                acc = [(p * q) % P for p, q in zip(acc, v)]
            return tuple(acc)
        if e.is_Pow:
            base, ex = e.args
            if ex.is_Integer:
                n = int(ex)
                b = self._eval(base)
                if n >= 1 and b in self._idempotent:
                    return b
                self.degree = max(self.degree, abs(n))
                if n < 0 and 0 in b:
                    raise ZeroDivisionError("a denominator vanished at a random point")
                return tuple(pow(v, n, P) for v in b)
            return self._random(("pow", self._eval(base), self._eval(ex)))
        f = e.func
        if f in (Step, IsPos, IsNonNeg):
            return self._gate(f, e.args[0])
        if f is sympy.exp:
            return self._exp(e.args[0])
        primitive = primitive_of(f)
        if primitive is not None and primitive.exp_form is not None:
            return self._hyperbolic(primitive.exp_form, e.args[0])
        return self._random((f.__name__,) + tuple(self._eval(a) for a in e.args))

    def _hyperbolic(self, form, arg) -> tuple:
        """A hyperbolic function as its rational function of ``u = exp(arg)``."""
        u, n = self._exp_power(arg)
        self.degree = max(self.degree, 2 * n)
        num, den = ([sum(c * pow(x, i, P) for i, c in enumerate(cs)) % P for x in u]
                    for cs in form)
        if 0 in den:
            raise ZeroDivisionError("a denominator vanished at a random point")
        return tuple(a * pow(d, -1, P) % P for a, d in zip(num, den))

    def _exp(self, arg) -> tuple:
        """exp(q h) = E_h^q: exponentials of proportional arguments are related."""
        return self._exp_power(arg)[0]

    def _exp_power(self, arg) -> tuple:
        """(residues of exp(arg), its degree in the bases of its classes). The argument
        is split into its additive terms, through definitions (z2 = w2 a1 + b2), so
        ``exp(b2) exp(w2 a1)`` and ``exp(z2)`` meet."""
        acc, degree = self._const(1), 0
        for coeff, term in self._additive_terms(arg):
            v = tuple(coeff * x % P for x in self._eval(term))
            if all(x == 0 for x in v):
                continue
            value, n = self._exp_class(v)
            acc = tuple(a * b % P for a, b in zip(acc, value))
            degree += n
        self.degree = max(self.degree, degree)
        return acc, degree

    def _additive_terms(self, arg) -> list:
        """[(coefficient residue, term)] with ``arg`` = sum of coefficient * term, no term
        a sum or a symbol defined as one."""
        out, stack = [], [(1, arg)]
        while stack:
            coeff, e = stack.pop()
            if e.is_Symbol and e in self.definitions:
                d = _decomposed(self.definitions[e])
                if d.is_Add or (d.is_Mul and d.args[0].is_Rational) or d.is_Symbol:
                    stack.append((coeff, d))
                    continue
            if e.is_Add:
                stack.extend((coeff, a) for a in e.args)
                continue
            if e.is_Mul and e.args[0].is_Rational and len(e.args) > 1:
                c = e.args[0]
                rest = e.func(*e.args[1:])
                stack.append((coeff * int(c.p) * pow(int(c.q), -1, P) % P, rest))
                continue
            spread = self._distributed(e) if e.is_Mul and len(out) + len(stack) < 16 else None
            if spread is not None:  # w2 (w1 x + b1) = w2 w1 x + w2 b1: exp of each term
                stack.extend((coeff, t) for t in spread)
                continue
            out.append((coeff, e))
        return out

    def _distributed(self, mul):
        """The terms of a product with one factor a sum without gates (directly or
        through a definition: an affine layer), distributed; None when there is none."""
        for i, f in enumerate(mul.args):
            d = f
            for _ in range(STRIP_DEPTH):
                if d.is_Symbol and d in self.definitions:
                    d = _decomposed(self.definitions[d])
            if d.is_Add and len(d.args) <= 8 and not d.has(Step, IsPos, IsNonNeg):
                others = mul.args[:i] + mul.args[i + 1:]
                return [sympy.Mul(*others, t) for t in d.args]
        return None

    def _exp_class(self, v: tuple) -> tuple:
        """(residues of exp(t), degree) for a term t with residues ``v``: exp(q h) = E_h^q,
        so exponentials of proportional terms are related."""
        key, lead = _projective(v)
        rep = self._exp_classes.setdefault(key, lead)
        base = self._random(("exp", key))
        rr = rational_reconstruct(lead * pow(rep, -1, P) % P)
        if rr and EXP_UNIT % rr[1] == 0 and abs(rr[0]) <= 64:
            # base stands for exp(rep / EXP_UNIT), so exp(q rep) = base^(q EXP_UNIT)
            n = rr[0] * EXP_UNIT // rr[1]
            return tuple(pow(b, n, P) for b in base), abs(n)
        return self._random(("exp-other", v)), 1


    def _gate(self, f, arg) -> tuple:
        value, complement = self._gate_value(f, arg)
        if complement is not False:  # a 0/1 value: s^2 = s, and s (1 - s) = 0
            self._idempotent[value] = complement
        return value

    def _gate_value(self, f, arg):
        """(residues, complement): the complement's residues when the gate is 0/1-valued
        wherever this evaluation speaks (None when no complement is known), False when it
        may take Step(0) = c with c^2 != c."""
        sign, v = self._stripped(arg)
        if all(x == 0 for x in v):
            value = self._kink_value(f)
            return value, (None if value in (self._const(0), self._const(1)) else False)
        if len(set(v)) == 1:  # a constant argument (e.g. only factors of known sign)
            rr = rational_reconstruct(v[0])
            if rr is not None:
                return self._const(int(sign * rr[0] > 0)), None
        if self.mode == "free" and f is Step and self.c_value in (0, 1):
            f = IsPos if self.c_value == 0 else IsNonNeg  # Step(0) = c fixed
        zero_one = self.mode != "free" or f is not Step  # off the kinks, or an Iverson bracket
        classified = (self.keyer or self).classify(arg, sign, v) if self.keyer is None \
            else self.keyer.classify(arg, *self.keyer._stripped(arg))
        if classified is None:  # proportional by an unknown constant: keep it apart
            return self._random(("gate-apart", f.__name__, v, sign)), (None if zero_one
                                                                     else False)
        key, positive = classified
        if self.mode == "free":
            return self._random(("gate", f.__name__, key, positive)), (None if zero_one
                                                                      else False)
        s = self.pattern.get(key)
        if s is None:
            if key not in self.free_gates:
                self.free_gates.append(key)
            s_val = self._random(("s", key))
        else:
            s_val = self._const(s)
        other = tuple((1 - x) % P for x in s_val)
        self._idempotent[other if positive else s_val] = s_val if positive else other
        return (s_val, other) if positive else (other, s_val)

    def classify(self, arg, sign, v):
        """(gate key, orientation) of an argument with stripped value ``v``; registers
        a new gate class on first sight. None when proportional to a known class by a
        constant too large to identify."""
        if all(x == 0 for x in v):
            return None
        key, lead = _projective(v)
        info = self.gates.get(key)
        if info is None:
            info = GateInfo(key, v, sign * arg, len(self.gates))
            self.gates[key] = info
        orientation = info.orientation(lead)
        if orientation is None:
            return None
        return key, orientation * sign > 0

    def gate_of(self, expr):
        """(gate key, orientation) of the gate class met so far that ``expr`` is a
        nonzero constant multiple of (factors of known strict sign taken out):
        orientation +1 when ``expr`` points the way of the class's representative, -1
        when it points the other way. None when ``expr`` is identically 0, belongs to no
        class met so far, or is proportional to one by a constant too large to identify.

        >>> from derivcheck.core.functions import ReLU
        >>> w, x = sympy.symbols("w x")
        >>> fe = FormalEvaluator({}, mode="offkink", signs={x: 1})
        >>> _ = fe.value(Step(w * x))
        >>> [fe.gate_of(e)[1] for e in (w, -3 * w * x, w * x / 2)]
        [1, -1, 1]
        >>> fe.gate_of(x - w) is None, fe.gate_of(ReLU(w) - ReLU(-w)) == fe.gate_of(w)
        (True, True)
        """
        sign, v = self._stripped(_decomposed(expr))
        if all(x == 0 for x in v):
            return None
        key, lead = _projective(v)
        info = self.gates.get(key)
        orientation = info.orientation(lead) if info is not None else None
        if orientation is None:
            return None
        return key, sign * orientation

    def _stripped(self, e, depth: int = 0):
        """(sign, residues) of ``e`` with factors of known strict sign taken out (from the
        assumptions, or positive by structure: exp, sigmoid, softplus), and monotone
        rewritings of its zero undone (``exp(u) - 1`` and ``tanh(u)`` vanish exactly
        where ``u`` does, with its sign), so Step(w x), Step(z1) with z1 = w x, and
        Step(w) are one gate when x > 0, and Step(w2 a1) is Step(w2) when a1 is a
        sigmoid. Exact at every point, the kinks included."""
        if not self.structural and not self.signs:
            return 1, self._eval(e)
        if e in self._stripped_memo:
            return self._stripped_memo[e]
        out = None
        if not e.is_Symbol and e in self.signs:  # an assumed sign such as yhat - y > 0
            out = (self.signs[e], self._const(1))
        elif not e.is_Symbol and -e in self.signs:
            out = (-self.signs[-e], self._const(1))
        elif self._positive(e):
            out = (1, self._const(1))
        elif e.is_Symbol:
            if e in self.signs:
                out = (self.signs[e], self._const(1))
            elif e in self.definitions and depth < STRIP_DEPTH:
                out = self._stripped(_decomposed(self.definitions[e]), depth + 1)
        elif e.is_Number and e != 0:
            out = (1 if e > 0 else -1, self._eval(abs(e)))
        elif e.is_Mul:
            sign, acc = 1, self._const(1)
            for a in e.args:
                s, v = self._stripped(a, depth)
                sign *= s
                acc = tuple(p * q % P for p, q in zip(acc, v))
            out = (sign, acc)
        elif e.is_Pow and e.args[1].is_Integer:
            s, v = self._stripped(e.args[0], depth)
            n = int(e.args[1])
            if n < 0 and 0 in v:
                raise ZeroDivisionError("a denominator vanished at a random point")
            out = (s ** (n % 2) if s < 0 else 1, tuple(pow(x, n, P) for x in v))
        elif self.structural:
            inner = _same_sign_as(e, self.definitions)
            if inner is not None:
                s, v = self._stripped(inner[1], depth)
                out = (inner[0] * s, v)
        if out is None:
            out = (1, self._eval(e))
        self._stripped_memo[e] = out
        return out

    def _positive(self, e, depth: int = 0) -> bool:
        """Is ``e`` certainly > 0 everywhere (by structure or the assumed signs)?"""
        key = ("positive", e)
        if key in self._stripped_memo:
            return self._stripped_memo[key]
        if e.is_Number:
            out = bool(e > 0)
        elif not self.structural:
            out = self.signs.get(e) == 1
        elif e.is_Symbol:
            out = self.signs.get(e) == 1 or (
                e in self.definitions and depth < STRIP_DEPTH
                and self._positive(_decomposed(self.definitions[e]), depth + 1))
        elif isinstance(e, (sympy.exp, sympy.cosh)):
            out = True
        elif e.is_Add or e.is_Mul:
            out = all(self._positive(a, depth) for a in e.args)
        elif e.is_Pow and e.args[1].is_Integer:
            out = self._positive(e.args[0], depth)
        elif e.func is sympy.log:
            # log(1 + t) with t > 0 (softplus): its argument exceeds 1
            arg = e.args[0]
            while arg.is_Symbol and arg in self.definitions and depth < STRIP_DEPTH:
                arg, depth = _decomposed(self.definitions[arg]), depth + 1
            out = arg.is_Add and any(a.is_Number and a >= 1 for a in arg.args) and all(
                self._positive(a, depth) for a in arg.args)
        else:
            out = False
        self._stripped_memo[key] = out
        return out

    def _kink_value(self, f) -> tuple:
        if f is IsPos:
            return self._const(0)
        if f is IsNonNeg:
            return self._const(1)
        if self.c_value is None:
            return self._random(("c",))
        return self._const(self.c_value)


def _same_sign_as(e, definitions=None):
    """(sign, u) when ``e`` has the sign of ``sign * u`` everywhere, ``e`` being an odd
    increasing function of u (tanh, sinh, erf) or ``a exp(u) - a`` (a rational); else
    None.

    >>> u = sympy.Symbol("u")
    >>> _same_sign_as(1 - sympy.exp(u)), _same_sign_as(sympy.tanh(u)), _same_sign_as(u + 1)
    ((-1, u), (1, u), None)
    """
    if e.func in (sympy.tanh, sympy.sinh, sympy.erf) or getattr(e.func, "__name__", "") in (
            "tanh", "sinh"):
        return 1, e.args[0]
    if e.is_Add and len(e.args) == 2:
        const, other = sorted(e.args, key=lambda a: not a.is_Rational)
        coeff, rest = other.as_coeff_Mul()
        for _ in range(STRIP_DEPTH):  # a named exp(u) (names given to compound arguments)
            if rest.is_Symbol and definitions and rest in definitions:
                rest = _decomposed(definitions[rest])
        if (const.is_Rational and const != 0 and rest.func is sympy.exp
                and coeff == -const):
            return (1 if coeff > 0 else -1), rest.args[0]
    return None


def _projective(v: tuple):
    """(``v`` scaled so its first nonzero residue is 1, that residue)."""
    j = next(i for i, x in enumerate(v) if x)
    inv = pow(v[j], -1, P)
    return tuple(x * inv % P for x in v), v[j]


@lru_cache(maxsize=200_000)
def _symbols_of(expr) -> tuple:
    return tuple(_decomposed(expr).free_symbols)


def degree_bound(expr, definitions: dict) -> int:
    """A bound on the degree of ``expr`` as a rational function of leaves and atoms
    (numerator and denominator), with definitions substituted: the d of the
    Schwartz-Zippel bound. Linear in the size of the definitions.

    >>> x, y = sympy.symbols("x y")
    >>> degree_bound(1 / (x + y) + x**3, {})
    5
    """
    memo: dict = {}
    stack = [(expr, False)]
    while stack:  # iterative post-order over the DAG
        e, ready = stack.pop()
        if e in memo:
            continue
        kids = (_decomposed(definitions[e]),) if e in definitions else e.args
        if not ready:
            stack.append((e, True))
            stack.extend((k, False) for k in kids if k not in memo)
            continue
        _fold_degree(e, definitions, memo)
    return max(1, sum(memo[expr]))


def _fold_degree(e, definitions, memo) -> None:
    """(numerator degree, denominator degree) of ``e`` from its children's."""
    if e in definitions:
        memo[e] = memo[_decomposed(definitions[e])]
    elif e.is_Atom:
        memo[e] = (0, 0) if e.is_Number else (1, 0)
    elif e.is_Add:
        num, den = 0, 0
        for a in e.args:
            n, d = memo[a]
            num, den = max(num + d, n + den), den + d
        memo[e] = (num, den)
    elif e.is_Mul:
        memo[e] = (sum(memo[a][0] for a in e.args), sum(memo[a][1] for a in e.args))
    elif e.is_Pow and e.args[1].is_Integer:
        n, d = memo[e.args[0]]
        k = int(e.args[1])
        memo[e] = (k * n, k * d) if k >= 0 else (-k * d, -k * n)
    else:  # an atom of its own (gate, exp, log): degree 1
        memo[e] = (1, 0)
