"""An independent reference for the soundness verifier: values and gradients computed
without derivcheck's ``fdiff``, ``eval`` or ``decompose``.

Every activation and its derivative is written here afresh from its textbook
definition (ReLU = max(0, z), ReLU' = H(z); ELU = z or a (e^z - 1), ...), with the
Heaviside function H(0) = c for the kink convention Step(0) = c. Numbers are exact
fractions while they can be (rational points through piecewise-linear units) and
otherwise mpmath intervals (``mpmath.iv``, 200 bits), so a difference is certified
when the two intervals are disjoint and a gate's side is certified when its interval
excludes 0; an exact zero is a kink.

SymPy expressions (a candidate, the network's forward equations) are walked here node
by node: derivcheck's function classes are recognised by name only, never called, so a
bug in their ``eval`` (which SymPy runs on numeric arguments) or ``fdiff`` cannot leak
into the reference. The true gradient is forward-mode differentiation of the network's
forward equations (:func:`gradient`).

Two more references check this one where they are installed: PyTorch autograd and
jax.grad in float64 (:func:`framework_gradient`), compared off the kinks only, where
every convention gives the same value.

>>> import sympy
>>> z = sympy.Symbol("z")
>>> value(sympy.Abs(z) + 1, {z: Fraction(-3, 2)})
Fraction(5, 2)
"""
from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import sympy
from mpmath import iv

__all__ = ["Undefined", "Uncertain", "Evaluator", "value", "gradient", "differ",
           "framework_gradient", "FRAMEWORKS", "SELU_ALPHA", "SELU_SCALE", "KINKS"]

iv.prec = 200
_MP_EXTRA = 64  # bits beyond iv.prec for functions iv lacks (erf), then widened

#: SELU's constants, the decimals every framework uses (Klambauer et al. 2017).
SELU_ALPHA = Fraction("1.6732632423543772848170429916717")
SELU_SCALE = Fraction("1.0507009873554804934193349852946")

#: Breakpoints of each piecewise activation (by the name of derivcheck's class).
KINKS = {"ReLU": (0,), "LeakyReLU": (0,), "PReLU": (0,), "NecroReLU": (0,), "ELU": (0,),
         "SELU": (0,), "Absolute": (0,), "HardTanh": (-1, 1), "ReLU6": (0, 6)}


class Undefined(ArithmeticError):
    """The expression has no value at the point (log of a non-positive number, 1/0)."""


class Uncertain(ArithmeticError):
    """The value cannot be certified (a gate's side, or a sign hidden by rounding)."""


# -- numbers: Fraction when exact, an mpmath interval otherwise -----------------------------

def _iv(v):
    if isinstance(v, Fraction):
        return iv.mpf(v.numerator) / v.denominator
    return v


def _exact(v) -> bool:
    return isinstance(v, Fraction)


def _zero(v) -> bool:
    return _exact(v) and v == 0


def add(a, b):
    if _exact(a) and _exact(b):
        return a + b
    if _zero(a):
        return b
    if _zero(b):
        return a
    return _iv(a) + _iv(b)


def mul(a, b):
    if _zero(a) or _zero(b):
        return Fraction(0)
    if _exact(a) and _exact(b):
        return a * b
    return _iv(a) * _iv(b)


def sign(v) -> int:
    """The certified sign of ``v``: exact for fractions; Uncertain when an interval
    holds 0."""
    if _exact(v):
        return (v > 0) - (v < 0)
    if v.a > 0:
        return 1
    if v.b < 0:
        return -1
    raise Uncertain("sign not certified")


def inv(a):
    """1 / a: Undefined at an exact 0, Uncertain when an interval holds 0."""
    if _zero(a):
        raise Undefined("division by zero")
    if not _exact(a):
        sign(a)
    return 1 / a


def power(base, n: int):
    """base ** n for an integer n."""
    return inv(base ** -n) if n < 0 else base ** n


def _monotone(fn, x, increasing=True):
    """An enclosure of ``fn`` (an mpmath function, monotone) on the interval ``x``:
    evaluated at the ends with extra bits, then widened outward."""
    x = _iv(x)
    with mpmath.workprec(iv.prec + _MP_EXTRA):
        lo, hi = fn(mpmath.mpf(x.a.a)), fn(mpmath.mpf(x.b.b))
        if not increasing:
            lo, hi = hi, lo
        slack = (abs(lo) + abs(hi)) * mpmath.ldexp(1, -iv.prec) + mpmath.ldexp(1, -2 * iv.prec)
        return iv.mpf([lo - slack, hi + slack])


def exp(x):
    return Fraction(1) if _zero(x) else iv.exp(_iv(x))


def log(x):
    if _exact(x):
        if x <= 0:
            raise Undefined("log of a non-positive number")
        if x == 1:
            return Fraction(0)
    elif sign(x) <= 0:
        raise Undefined("log of a non-positive number")
    return iv.log(_iv(x))


def sigmoid(x):
    """1 / (1 + e^-x)."""
    return Fraction(1, 2) if _zero(x) else 1 / (1 + iv.exp(-_iv(x)))


def tanh(x):
    """(e^2x - 1) / (e^2x + 1)."""
    if _zero(x):
        return Fraction(0)
    e = iv.expm1(2 * _iv(x))
    return e / (e + 2)


def erf(x):
    return Fraction(0) if _zero(x) else _monotone(mpmath.erf, x)


def softplus(x):
    """log(1 + e^x)."""
    return iv.log1p(iv.exp(_iv(x)))


def normal_cdf(x):
    """Phi(x) = (1 + erf(x / sqrt 2)) / 2."""
    if _zero(x):
        return Fraction(1, 2)
    return (1 + erf(_iv(x) / iv.sqrt(2))) / 2


def normal_pdf(x):
    """phi(x) = e^(-x^2/2) / sqrt(2 pi)."""
    return iv.exp(-_iv(x) ** 2 / 2) / iv.sqrt(2 * iv.pi)


# -- the evaluator ---------------------------------------------------------------------------

class Evaluator:
    """Values, and forward-mode derivatives with respect to ``wrt``, of SymPy expressions
    at ``point`` (symbol -> Fraction), with H(0) = ``step0``.

    ``definitions`` (symbol -> expression, a network's forward equations) are followed
    for symbols that are not in the point. After a call, ``used_step0`` holds the
    places where the value depended on H(0), and ``at_kinks`` every gate or kinked
    derivative met exactly on its breakpoint (Iverson brackets included);
    ``nearest_kink`` is the smallest distance of a piecewise unit's argument to one of
    its breakpoints (float; for frameworks, whose float64 rounding could cross it).
    """

    def __init__(self, point: dict, *, step0=Fraction(1, 2), wrt=None, definitions=None):
        irrational = {k: v for k, v in point.items() if _irrational(v)}
        self.point = {k: Fraction(v) for k, v in point.items() if k not in irrational}
        self.step0 = Fraction(step0)
        self.wrt = wrt
        self.definitions = definitions or {}
        self.used_step0: set = set()
        self.at_kinks: set = set()
        self.nearest_kink = float("inf")
        self.pieces: set = set()  # (unit, piece index) of each piecewise unit met off its kinks
        self._memo: dict = {}
        #: the point exactly (SymPy numbers) when a leaf is irrational (a kink witness
        #: solved exactly): a kinked unit's argument whose interval holds its breakpoint is
        #: then proved equal to it symbolically, or left uncertain
        self.exact = {k: sympy.Rational(v.numerator, v.denominator)
                      for k, v in self.point.items()} if irrational else None
        for k, v in irrational.items():
            self.exact[k] = v
            self.point[k] = self.dual(v)[0]

    def __call__(self, expr):
        """The value of ``expr``."""
        return self.dual(expr)[0]

    def derivative(self, expr):
        """d expr / d wrt."""
        return self.dual(expr)[1]

    def dual(self, e):
        hit = self._memo.get(e)
        if hit is None:
            hit = self._memo[e] = self._dual(e)
        return hit

    # H(z) with H(0) = step0, and the Iverson brackets
    def heaviside(self, z, key, kind="step"):
        s = sign(z)
        if s:
            return Fraction(int(s > 0))
        self.at_kinks.add(key)
        if kind == "pos":
            return Fraction(0)
        if kind == "nonneg":
            return Fraction(1)
        self.used_step0.add(key)
        return self.step0

    def _near(self, name, x, e):
        z = to_float(x[0]) - (to_float(x[1]) if name in ("Max2", "Min2") else 0.0)
        for k in KINKS_BY_NAME[name]:
            self.nearest_kink = min(self.nearest_kink, abs(z - k))
        if name in KINKS:
            try:
                side = [sign(add(x[0], Fraction(-k))) for k in KINKS[name]]
            except Uncertain:
                return
            if 0 not in side:
                self.pieces.add((e, sum(s > 0 for s in side)))

    def _dual(self, e):
        zero = Fraction(0)
        if e.is_Symbol:
            if e in self.point:
                return self.point[e], Fraction(int(e == self.wrt))
            if e in self.definitions:
                return self.dual(self.definitions[e])
            raise KeyError(f"no value for {e}")
        if e.is_Rational:
            return Fraction(int(e.p), int(e.q)), zero
        if e.is_Float:
            return Fraction(str(e)), zero
        if e is sympy.pi:
            return iv.pi, zero
        if e is sympy.E:
            return iv.e, zero
        if e.is_Add:
            v, d = zero, zero
            for a in e.args:
                av, ad = self.dual(a)
                v, d = add(v, av), add(d, ad)
            return v, d
        if e.is_Mul:
            v, d = Fraction(1), zero
            for a in e.args:
                av, ad = self.dual(a)
                d = add(mul(d, av), mul(v, ad))
                v = mul(v, av)
            return v, d
        if e.is_Pow:
            return self._pow(*e.args)
        name = type(e).__name__
        args = [self.dual(a) for a in e.args]
        vals = [a[0] for a in args]
        if self.exact is not None and name in KINKS_BY_NAME and name not in _TWO_SIDED:
            vals[0] = self._snap(vals[0], e.args[0], KINKS_BY_NAME[name])
        v = self._apply(name, vals, e)
        d = zero
        for i, (_, da) in enumerate(args):
            if not _zero(da):
                d = add(d, mul(self._partial(name, vals, i, e), da))
        return v, d

    def _snap(self, v, arg, breakpoints):
        """``v`` (the value of ``arg``), or the breakpoint it is proved to equal exactly."""
        if _exact(v):
            return v
        for k in breakpoints:
            if not add(v, Fraction(-k)).a > 0 and not add(v, Fraction(-k)).b < 0 and \
                    _proved_zero(arg - k, self.definitions, self.exact):
                return Fraction(k)
        return v

    def _pow(self, base, exponent):
        bv, bd = self.dual(base)
        if exponent.is_Integer:
            n = int(exponent)
            v = power(bv, n)
            return v, (Fraction(0) if _zero(bd) else mul(mul(Fraction(n), power(bv, n - 1)), bd))
        ev, ed = self.dual(exponent)
        if sign(bv) <= 0:
            raise Undefined("a non-integer power of a non-positive number")
        if _exact(bv) and _exact(ev) and ev.denominator == 2:  # square roots of squares
            root = _exact_sqrt(bv)
            if root is not None:
                v = power(root, ev.numerator)
                return v, add(mul(mul(ev, inv(bv)), mul(v, bd)), mul(mul(v, log(bv)), ed))
        v = iv.exp(_iv(ev) * iv.log(_iv(bv)))
        return v, add(mul(mul(ev, inv(bv)), mul(v, bd)), mul(mul(v, log(bv)), ed))

    # -- activations and functions: values ----------------------------------------------------
    def _apply(self, name, x, e):
        if name in KINKS_BY_NAME:
            self._near(name, x, e)
        if name in ("Step", "Heaviside"):
            return self.heaviside(x[0], e)
        if name == "IsPos":
            return self.heaviside(x[0], e, "pos")
        if name == "IsNonNeg":
            return self.heaviside(x[0], e, "nonneg")
        if name in ("ReLU", "NecroReLU"):
            return x[0] if sign(x[0]) > 0 else Fraction(0)
        if name in ("LeakyReLU", "PReLU"):
            return x[0] if sign(x[0]) > 0 else mul(x[1], x[0])
        if name == "ELU":
            return x[0] if sign(x[0]) >= 0 else mul(x[1], add(exp(x[0]), Fraction(-1)))
        if name == "SELU":
            inner = x[0] if sign(x[0]) >= 0 else mul(SELU_ALPHA, add(exp(x[0]), Fraction(-1)))
            return mul(SELU_SCALE, inner)
        if name == "CELU":
            if sign(x[0]) >= 0:
                return x[0]
            return mul(x[1], add(exp(mul(x[0], inv(x[1]))), Fraction(-1)))
        if name in ("Absolute", "Abs"):
            return x[0] if sign(x[0]) >= 0 else mul(Fraction(-1), x[0])
        if name == "HardTanh":
            return Fraction(-1) if sign(add(x[0], Fraction(1))) <= 0 else (
                Fraction(1) if sign(add(x[0], Fraction(-1))) >= 0 else x[0])
        if name == "ReLU6":
            return Fraction(0) if sign(x[0]) <= 0 else (
                Fraction(6) if sign(add(x[0], Fraction(-6))) >= 0 else x[0])
        if name in ("Max2", "Max"):
            return _extreme(x, max)
        if name in ("Min2", "Min"):
            return _extreme(x, min)
        if name == "Sigmoid":
            return sigmoid(x[0])
        if name == "Softplus":
            return softplus(x[0])
        if name == "tanh":
            return tanh(x[0])
        if name == "sech":
            return inv(_cosh(x[0]))
        if name == "cosh":
            return _cosh(x[0])
        if name == "sinh":
            return Fraction(0) if _zero(x[0]) else (iv.exp(_iv(x[0])) - iv.exp(-_iv(x[0]))) / 2
        if name == "GELU":
            return mul(x[0], normal_cdf(x[0]))
        if name == "Swish":
            return mul(x[0], sigmoid(x[0]))
        if name == "exp":
            return exp(x[0])
        if name == "log":
            return log(x[0])
        if name == "erf":
            return erf(x[0])
        if name == "sign":
            return Fraction(sign(x[0]))
        raise NotImplementedError(f"the reference does not know {name}")

    # -- and their partial derivatives (textbook forms, H(0) = step0) ------------------------
    def _partial(self, name, x, i, e):
        z = x[0]
        one, zero = Fraction(1), Fraction(0)
        H = self.heaviside
        if name in ("Step", "Heaviside", "IsPos", "IsNonNeg", "sign"):
            return zero
        if name == "ReLU":
            return H(z, e)
        if name in ("LeakyReLU", "PReLU"):
            a = x[1]
            if i == 0:
                return add(a, mul(add(one, mul(-one, a)), H(z, e)))
            return z if sign(z) < 0 else zero  # d/da of a*min(z, 0)
        if name == "NecroReLU":  # a surrogate: slope below 0 by definition, not ReLU'
            s = x[1]
            return add(s, mul(add(one, mul(-one, s)), H(z, e))) if i == 0 else zero
        if name == "ELU":
            h = H(z, e)
            if i == 0:
                return add(h, mul(add(one, -h), mul(x[1], exp(z))))
            return mul(add(one, -h), add(exp(z), -one))
        if name == "SELU":
            h = H(z, e)
            return mul(SELU_SCALE, add(h, mul(add(one, -h), mul(SELU_ALPHA, exp(z)))))
        if name == "CELU":
            a = x[1]
            if sign(z) >= 0:
                if _zero(z):
                    self.at_kinks.add(e)
                return one if i == 0 else zero
            u = exp(mul(z, inv(a)))
            if i == 0:
                return u
            return add(mul(u, add(one, mul(-z, inv(a)))), -one)
        if name in ("Absolute", "Abs"):
            return add(H(z, e), -H(-z, e))
        if name == "HardTanh":
            return mul(H(add(z, one), e), H(add(one, -z), e))
        if name == "ReLU6":
            return mul(H(z, e), H(add(Fraction(6), -z), e))
        if name in ("Max2", "Max"):
            return H(add(x[i], -x[1 - i]), e)
        if name in ("Min2", "Min"):
            return H(add(x[1 - i], -x[i]), e)
        if name == "Sigmoid":
            s = sigmoid(z)
            return mul(s, add(one, -s))
        if name == "Softplus":
            return sigmoid(z)
        if name == "tanh":
            t = tanh(z)
            return add(one, -mul(t, t))
        if name == "sech":
            return mul(-tanh(z), inv(_cosh(z)))
        if name == "cosh":
            return self._apply("sinh", [z], e)
        if name == "sinh":
            return _cosh(z)
        if name == "GELU":
            return add(normal_cdf(z), mul(z, normal_pdf(z)))
        if name == "Swish":
            s = sigmoid(z)
            return add(s, mul(z, mul(s, add(one, -s))))
        if name == "exp":
            return exp(z)
        if name == "log":
            return inv(z)
        if name == "erf":
            return mul(Fraction(2), iv.exp(-_iv(z) ** 2) / iv.sqrt(iv.pi))
        raise NotImplementedError(f"the reference has no derivative of {name}")


KINKS_BY_NAME = {**KINKS, "Max2": (0,), "Min2": (0,), "Step": (0,), "IsPos": (0,),
               "IsNonNeg": (0,)}


_TWO_SIDED = ("Max2", "Min2", "Max", "Min")  # kinks where two arguments meet, not at a value


def _irrational(v) -> bool:
    return isinstance(v, sympy.Basic) and not v.is_Rational and not v.free_symbols


#: derivcheck's function classes (by name) as SymPy's own textbook forms, for the exact
#: zero proofs: their own ``eval`` is never run on numbers.
_TEXTBOOK = {
    "ReLU": lambda z: sympy.Max(0, z),
    "LeakyReLU": lambda z, a: sympy.Max(z, 0) + a * sympy.Min(z, 0),
    "PReLU": lambda z, a: sympy.Max(z, 0) + a * sympy.Min(z, 0),
    "HardTanh": lambda z: sympy.Min(1, sympy.Max(-1, z)),
    "ReLU6": lambda z: sympy.Min(6, sympy.Max(0, z)),
    "Absolute": sympy.Abs,
    "Sigmoid": lambda z: 1 / (1 + sympy.exp(-z)),
    "Softplus": lambda z: sympy.log(1 + sympy.exp(z)),
    "Swish": lambda z: z / (1 + sympy.exp(-z)),
    "ELU": lambda z, a: sympy.Piecewise((z, z >= 0), (a * (sympy.exp(z) - 1), True)),
    **{name: getattr(sympy, name) for name in ("tanh", "sinh", "cosh", "exp", "log", "erf")},
}


def _textbook(e):
    """``e`` with derivcheck's classes written in SymPy's own functions; KeyError for a
    class the table lacks."""
    if e.is_Atom:
        return e
    args = [_textbook(a) for a in e.args]
    name = type(e).__name__
    if name in _TEXTBOOK:
        return _TEXTBOOK[name](*args)
    if not type(e).__module__.startswith("sympy"):
        raise KeyError(name)
    return e.func(*args)


def _proved_zero(arg, definitions: dict, exact: dict) -> bool:
    """Is ``arg`` exactly 0 at the exact point ``exact``? Proved by SymPy on the textbook
    forms (definitions followed down to the leaves); False when not proved."""
    expr = arg
    for _ in range(64):
        new = expr.xreplace(definitions)
        if new == expr:
            break
        expr = new
    try:
        value = _textbook(expr).xreplace(exact)
        return not value.free_symbols and sympy.simplify(value) == 0
    except (KeyError, TypeError, ValueError):
        return False


def _cosh(x):
    return Fraction(1) if _zero(x) else (iv.exp(_iv(x)) + iv.exp(-_iv(x))) / 2


def _extreme(values, pick):
    """max or min of two values (certified when one is an interval)."""
    a, b = values
    if _exact(a) and _exact(b):
        return pick(a, b)
    a_larger = sign(add(a, -b)) >= 0
    return a if a_larger == (pick is max) else b


def _exact_sqrt(q: Fraction):
    n, d = math.isqrt(q.numerator), math.isqrt(q.denominator)
    return Fraction(n, d) if n * n == q.numerator and d * d == q.denominator else None



def value(expr, point: dict, *, step0=Fraction(1, 2), definitions=None):
    """The value of ``expr`` at ``point`` (exact, or an interval).

    >>> import sympy
    >>> x = sympy.Symbol("x")
    >>> value(x**2 / 3, {x: Fraction(1, 2)})
    Fraction(1, 12)
    """
    return Evaluator(point, step0=step0, definitions=definitions)(expr)


def gradient(net, wrt, point: dict, *, step0=Fraction(1, 2)):
    """dC/d``wrt`` at ``point`` by forward-mode differentiation of the network's forward
    equations, and the evaluator (for its kink records).

    >>> from derivcheck.core.network import chain
    >>> import sympy
    >>> net = chain(["w1"], "relu")
    >>> x, y, w1 = sympy.symbols("x y w1")
    >>> g, ev = gradient(net, w1, {x: 2, y: 1, w1: Fraction(3)})
    >>> g                       # (relu(6) - 1) * 1 * 2
    Fraction(10, 1)
    >>> gradient(net, w1, {x: 2, y: 1, w1: Fraction(0)}, step0=1)[0]
    Fraction(-2, 1)
    """
    ev = Evaluator(point, step0=step0, wrt=wrt, definitions=net.graph.definitions)
    return ev.derivative(net.graph.loss), ev


def differ(a, b) -> bool | None:
    """True when two values certainly differ, False when they agree (exactly, or to
    within their enclosures of 200 bits), None when an enclosure is too wide to tell.

    >>> differ(Fraction(1, 3), iv.mpf(1) / 3), differ(Fraction(1, 3), Fraction(1, 2))
    (False, True)
    """
    if _exact(a) and _exact(b):
        return a != b
    d = _iv(a) - _iv(b)
    if d.a > 0 or d.b < 0:
        return True
    scale = max(abs(_iv(a)).b, abs(_iv(b)).b, iv.mpf(1)).b
    return None if (d.b - d.a) > scale * iv.mpf(2) ** -120 else False


def to_float(v) -> float:
    return float(v) if _exact(v) else float(mpmath.mpf(v.mid))


# -- frameworks ------------------------------------------------------------------------------

def _torch_ops():
    import torch
    import torch.nn.functional as F

    def prelu(z, a):
        return F.prelu(z.reshape(1), a.reshape(1)).reshape(())

    def leaky(z, a):
        return prelu(z, a) if isinstance(a, torch.Tensor) and a.requires_grad else \
            F.leaky_relu(z, float(a))

    return dict(
        tensor=lambda v, grad=False: torch.tensor(v, dtype=torch.float64, requires_grad=grad),
        ReLU=torch.relu, LeakyReLU=leaky, PReLU=prelu,
        ELU=lambda z, a: F.elu(z, float(a)), SELU=torch.selu,
        CELU=lambda z, a: F.celu(z, float(a)), Softplus=lambda z: F.softplus(z, threshold=60),
        Sigmoid=torch.sigmoid, tanh=torch.tanh, Absolute=torch.abs, Abs=torch.abs,
        HardTanh=F.hardtanh, ReLU6=F.relu6, GELU=lambda z: F.gelu(z, approximate="none"),
        Swish=F.silu, Max2=torch.maximum, Min2=torch.minimum, exp=torch.exp, log=torch.log,
        erf=torch.erf)


def _jax_ops():
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import jax.scipy.special as jss

    return dict(
        tensor=lambda v, grad=False: jnp.asarray(v, dtype=jnp.float64),
        ReLU=jax.nn.relu, LeakyReLU=lambda z, a: jax.nn.leaky_relu(z, a),
        PReLU=lambda z, a: jax.nn.leaky_relu(z, a),
        ELU=lambda z, a: jax.nn.elu(z, a), SELU=jax.nn.selu,
        CELU=lambda z, a: jax.nn.celu(z, a), Softplus=jax.nn.softplus,
        Sigmoid=jax.nn.sigmoid, tanh=jnp.tanh, Absolute=jnp.abs, Abs=jnp.abs,
        HardTanh=jax.nn.hard_tanh, ReLU6=jax.nn.relu6,
        GELU=lambda z: jax.nn.gelu(z, approximate=False), Swish=jax.nn.silu,
        Max2=jnp.maximum, Min2=jnp.minimum, exp=jnp.exp, log=jnp.log, erf=jss.erf)


def _available(module: str) -> bool:
    import importlib.util
    return importlib.util.find_spec(module) is not None


#: Frameworks installed here, by name.
FRAMEWORKS = [name for name in ("torch", "jax") if _available(name)]


def _walk(ops, e, env):
    """``e`` with the framework's operations; ``env`` maps symbols to tensors."""
    if e.is_Symbol:
        return env[e]
    if e.is_Number:
        return float(e)
    if e.is_Add:
        out = 0.0
        for a in e.args:
            out = out + _walk(ops, a, env)
        return out
    if e.is_Mul:
        out = 1.0
        for a in e.args:
            out = out * _walk(ops, a, env)
        return out
    if e.is_Pow:
        b, n = e.args
        return _walk(ops, b, env) ** (int(n) if n.is_Integer else float(n))
    fn = ops.get(type(e).__name__)
    if fn is None:
        raise NotImplementedError(f"no framework operation for {type(e).__name__}")
    return fn(*[_walk(ops, a, env) for a in e.args])


def framework_gradient(framework: str, net, wrt, point: dict) -> float:
    """dC/d``wrt`` at ``point`` by ``framework``'s autograd (float64), from the network's
    forward equations. Meaningful off the kinks only (each framework has its own kink
    values).

    >>> from derivcheck.core.network import chain
    >>> import sympy
    >>> x, y, w1 = sympy.symbols("x y w1")
    >>> all(framework_gradient(f, chain(["w1"], "relu"), w1, {x: 2, y: 1, w1: Fraction(3)})
    ...     == 10 for f in FRAMEWORKS)
    True
    """
    defs = net.graph.definitions
    if framework == "torch":
        ops = _torch_ops()
        env = {s: ops["tensor"](float(v), grad=(s == wrt)) for s, v in point.items()}
        for s, e in defs.items():
            env[s] = _walk(ops, e, env)
        loss = env[net.graph.loss]
        import torch
        (g,) = torch.autograd.grad(loss, env[wrt], allow_unused=True)
        return 0.0 if g is None else float(g)
    if framework == "jax":
        import jax
        ops = _jax_ops()
        fixed = {s: ops["tensor"](float(v)) for s, v in point.items() if s != wrt}

        def loss(t):
            env = {**fixed, wrt: t}
            for s, e in defs.items():
                env[s] = _walk(ops, e, env)
            return env[net.graph.loss]

        return float(jax.grad(loss)(ops["tensor"](float(point[wrt]))))
    raise ValueError(f"unknown framework {framework!r}")
