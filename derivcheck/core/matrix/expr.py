"""Matrix expressions as users write them: an AST with shapes, built by the one grammar.

Each node knows its shape (symbolic in size names, numpy's broadcasting, see
:mod:`.shapes`) the moment it is built; a product whose shapes do not fit is still built,
with ``shape`` None and a :class:`ShapeProblem` saying which shapes met and what would
fit, so a wrong formula becomes a verdict, never a parse error. :meth:`MExpr.evaluate`
gives the value at concrete sizes as a numpy array of exact SymPy entries.

>>> import sympy
>>> W = Leaf("W1", ("n1", "n0"), key=("W", 1))
>>> X = Leaf("X", ("n0", "m"), key=("X",))
>>> Z = matmul(W, X)
>>> Z.shape, Z.text()
(('n1', 'm'), 'W1 @ X')
>>> bad = matmul(X, W)
>>> bad.shape is None, bad.problem.message
(True, 'X @ W1: a n0 x m matrix times a n1 x n0 matrix does not fit (m != n1)')
>>> juxtapose(Scalar(1 / sympy.Symbol("m")), transpose(X)).text()
'1/m * X.T'
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Callable

import sympy

from .shapes import broadcast, matmul_shape, show, sum_shape, transpose_shape

class _Numpy:
    """numpy, imported on first use: reading a scalar formula never pays for it."""

    def __getattr__(self, name):
        import numpy
        return getattr(numpy, name)


np = _Numpy()

__all__ = ["MExpr", "Leaf", "Scalar", "Elementwise", "MatMul", "Transpose", "Sum", "Reshape",
           "ShapeProblem", "add", "sub", "neg", "mul", "div", "power", "matmul", "transpose",
           "juxtapose", "apply", "compare", "where", "total", "as_mexpr", "as_sympy", "is_matrix"]


@dataclass
class ShapeProblem:
    """Two shapes that do not fit, and the fix to suggest."""

    message: str
    left: tuple
    right: tuple
    fix: str | None = None
    op: str = ""


class MExpr:
    """A node; ``shape`` is None when some product below does not fit (see ``problem``)."""

    shape: tuple | None = None
    problem: ShapeProblem | None = None
    prec: int = 5
    children: tuple = ()

    def text(self) -> str:
        raise NotImplementedError

    def evaluate(self, env):
        """The value at ``env``'s sizes: a numpy object array of SymPy expressions."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.text()})"

    def _wrap(self, child: "MExpr", prec: int) -> str:
        t = child.text()
        return f"({t})" if child.prec < prec else t

    def walk(self):
        """Every node below (and including) this one."""
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(node.children)


def _inherit(node: MExpr, *kids: MExpr) -> bool:
    """Copy the first child's problem; True when every child has a shape."""
    for k in kids:
        if k.shape is None:
            node.shape, node.problem = None, k.problem
            return False
    return True


@dataclass(eq=False, repr=False)
class Leaf(MExpr):
    """A named matrix of the network (``W1``, ``X``, ``dZ1``) or one entry of one.

    ``key`` tells the environment which quantity it is; ``expansion`` is the expression a
    gradient name stands for (dZ1 -> the backward formula), used to bound index forms.
    """

    name: str
    shape: tuple
    key: tuple = ()
    description: str = ""
    expansion: MExpr | None = None
    problem: ShapeProblem | None = None

    def text(self) -> str:
        return self.name

    def evaluate(self, env):
        return env.leaf(self)

    def __hash__(self):
        return hash((self.name, self.key))


@dataclass(eq=False, repr=False)
class Scalar(MExpr):
    """A number or a rational function of size names (``1/m``)."""

    value: sympy.Expr
    shape: tuple = ()

    def text(self) -> str:
        return str(self.value)

    @property
    def prec(self) -> int:
        return 5 if self.value.is_Atom else 2

    def evaluate(self, env):
        v = self.value
        if v.free_symbols:
            v = v.xreplace({s: sympy.Integer(env.sizes[s.name]) for s in v.free_symbols})
        return np.array(v, dtype=object)


_SYMBOLS = {"+": "+", "-": "-", "*": "*", "/": "/"}


@dataclass(eq=False, repr=False)
class Elementwise(MExpr):
    """``op`` over broadcast operands: ``+ - * /``, ``**k``, a function, a comparison."""

    op: str
    args: tuple
    build: Callable | None = None   # entries -> SymPy value, for functions and comparisons
    label: str = ""

    def __post_init__(self):
        self.children = self.args
        if _inherit(self, *self.args):
            self.shape = broadcast(*[a.shape for a in self.args])
            if self.shape is None:
                a, b = self.args[0], self.args[1]
                self.problem = ShapeProblem(
                    f"{self.text()}: shapes {show(a.shape)} and {show(b.shape)} do not "
                    "broadcast", a.shape, b.shape, op=self.op)

    @property
    def prec(self) -> int:
        return {"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3, "**": 4}.get(self.op, 5)

    def text(self) -> str:
        a = self.args
        if self.op in ("+", "-"):
            return f"{a[0].text()} {self.op} {self._wrap(a[1], 2)}"
        if self.op in ("*", "/"):
            return f"{self._wrap(a[0], 2)} {self.op} {self._wrap(a[1], 3)}"
        if self.op == "neg":
            return f"-{self._wrap(a[0], 3)}"
        if self.op == "**":
            return f"{self._wrap(a[0], 5)}**{self._wrap(a[1], 5)}"
        if self.op in (">", ">=", "<", "<="):
            return f"({a[0].text()} {self.op} {a[1].text()})"
        return f"{self.label}({', '.join(x.text() for x in a)})"

    def evaluate(self, env):
        vals = [a.evaluate(env) for a in self.args]
        if self.op == "+":
            out = vals[0] + vals[1]
        elif self.op == "-":
            out = vals[0] - vals[1]
        elif self.op == "*":
            out = vals[0] * vals[1]
        elif self.op == "/":
            out = vals[0] / vals[1]
        elif self.op == "neg":
            out = -vals[0]
        elif self.op == "**":
            out = np.frompyfunc(sympy.Pow, 2, 1)(vals[0], vals[1])
        else:
            out = np.frompyfunc(lambda *xs: self.build(list(xs)), len(vals), 1)(*vals)
        return np.asarray(out, dtype=object)


@dataclass(eq=False, repr=False)
class MatMul(MExpr):
    left: MExpr
    right: MExpr
    prec: int = 2

    def __post_init__(self):
        self.children = (self.left, self.right)
        if _inherit(self, self.left, self.right):
            a, b = self.left.shape, self.right.shape
            self.shape = matmul_shape(a, b) if a and b else broadcast(a, b)
            if self.shape is None:
                self.problem = _matmul_problem(self)

    def text(self) -> str:
        return f"{self._wrap(self.left, 2)} @ {self._wrap(self.right, 3)}"

    def evaluate(self, env):
        a, b = self.left.evaluate(env), self.right.evaluate(env)
        if a.ndim == 0 or b.ndim == 0:
            return np.asarray(a * b, dtype=object)
        a2 = a if a.ndim == 2 else a.reshape(1, -1)
        b2 = b if b.ndim == 2 else b.reshape(-1, 1)
        out = np.empty((a2.shape[0], b2.shape[1]), dtype=object)
        for i in range(a2.shape[0]):
            for j in range(b2.shape[1]):   # one Add per entry: SymPy flattens once
                out[i, j] = sympy.Add(*[x * y for x, y in zip(a2[i, :], b2[:, j])])
        return out.reshape(matmul_result(a.shape, b.shape))


def matmul_result(a: tuple, b: tuple) -> tuple:
    """numpy's result shape of concrete shapes ``a @ b`` (1-D operands dropped)."""
    return tuple(a[:-1]) + tuple(b[1:] if len(b) == 2 else ())


def _matmul_problem(node: MatMul) -> ShapeProblem:
    a, b = node.left.shape, node.right.shape
    inner_b = b[0] if len(b) == 1 else b[-2]
    fix = None
    for left, right in ((node.right, node.left), (transpose(node.left), node.right),
                        (node.left, transpose(node.right))):
        shape = matmul_shape(left.shape, right.shape) if left.shape and right.shape else None
        if shape is not None:
            fix = f"{left.text()} @ {right.text()}"
            break
    message = (f"{node.text()}: a {show(a)} matrix times a {show(b)} matrix does not fit "
               f"({a[-1]} != {inner_b})")
    return ShapeProblem(message, a, b, fix, op="@")


@dataclass(eq=False, repr=False)
class Transpose(MExpr):
    arg: MExpr

    def __post_init__(self):
        self.children = (self.arg,)
        if _inherit(self, self.arg):
            self.shape = transpose_shape(self.arg.shape)

    def text(self) -> str:
        return f"{self._wrap(self.arg, 5)}.T"

    def evaluate(self, env):
        return np.asarray(self.arg.evaluate(env).T, dtype=object)


@dataclass(eq=False, repr=False)
class Sum(MExpr):
    """``np.sum(arg, axis=axis, keepdims=keepdims)`` (axis None: every entry)."""

    arg: MExpr
    axis: int | None = None
    keepdims: bool = False

    def __post_init__(self):
        self.children = (self.arg,)
        if _inherit(self, self.arg):
            self.shape = sum_shape(self.arg.shape, self.axis, self.keepdims)
            if self.shape is None:
                self.problem = ShapeProblem(f"{self.text()}: a {show(self.arg.shape)} has no "
                                            f"axis {self.axis}", self.arg.shape, ())

    def text(self) -> str:
        extra = "" if self.axis is None else f", axis={self.axis}"
        extra += ", keepdims=True" if self.keepdims else ""
        return f"np.sum({self.arg.text()}{extra})"

    def evaluate(self, env):
        v = self.arg.evaluate(env)
        if not v.size:
            return v
        out = np.apply_along_axis(lambda r: sympy.Add(*r), self.axis, v) if (
            self.axis is not None and v.ndim > 1) else np.asarray(sympy.Add(*v.flat),
                                                                   dtype=object)
        out = np.asarray(out, dtype=object)
        if self.keepdims:
            out = out.reshape(tuple(1 if self.axis is None or i == self.axis % v.ndim else d
                                    for i, d in enumerate(v.shape)))
        return out


@dataclass(eq=False, repr=False)
class Reshape(MExpr):
    """A vector seen as a column or row (a style's bias of length n as canonical n x 1)."""

    arg: MExpr
    target: tuple = ()

    def __post_init__(self):
        self.children = (self.arg,)
        if _inherit(self, self.arg):
            self.shape = self.target

    def text(self) -> str:
        return self.arg.text()

    def evaluate(self, env):
        from .shapes import instantiate
        return self.arg.evaluate(env).reshape(instantiate(self.target, env.sizes))


# -- builders: what the grammar's callbacks call ------------------------------------------

def is_matrix(x) -> bool:
    return isinstance(x, MExpr)


def as_sympy(x) -> sympy.Basic:
    """A SymPy object for a Python int or Fraction (SymPy objects pass unchanged)."""
    if isinstance(x, sympy.Basic):
        return x
    if isinstance(x, bool) or not isinstance(x, (int, Fraction)):
        raise TypeError(f"not a number: {x!r}")
    return sympy.Rational(x.numerator, x.denominator)


def as_mexpr(x) -> MExpr:
    """A SymPy number (or constant) as a :class:`Scalar`; nodes pass unchanged."""
    return x if isinstance(x, MExpr) else Scalar(as_sympy(x))


def _scalars(*xs) -> bool:
    return all(isinstance(x, Scalar) for x in xs)


def add(a, b) -> MExpr:
    a, b = as_mexpr(a), as_mexpr(b)
    return Scalar(a.value + b.value) if _scalars(a, b) else Elementwise("+", (a, b))


def sub(a, b) -> MExpr:
    a, b = as_mexpr(a), as_mexpr(b)
    return Scalar(a.value - b.value) if _scalars(a, b) else Elementwise("-", (a, b))


def neg(a) -> MExpr:
    a = as_mexpr(a)
    return Scalar(-a.value) if _scalars(a) else Elementwise("neg", (a,))


def mul(a, b) -> MExpr:
    """Elementwise product (numpy's ``*``, ``\\odot``), scalars folded."""
    a, b = as_mexpr(a), as_mexpr(b)
    if _scalars(a, b):
        return Scalar(a.value * b.value)
    if isinstance(a, Scalar) and a.value == 1:
        return b
    return Elementwise("*", (a, b))


def div(a, b) -> MExpr:
    a, b = as_mexpr(a), as_mexpr(b)
    return Scalar(a.value / b.value) if _scalars(a, b) else Elementwise("/", (a, b))


def power(a, b) -> MExpr:
    """A power is elementwise (``A1**2``, ``(A^{[1]})^2``), as numpy and the courses use it."""
    a, b = as_mexpr(a), as_mexpr(b)
    return Scalar(a.value ** b.value) if _scalars(a, b) else Elementwise("**", (a, b))


def matmul(a, b) -> MExpr:
    """``a @ b``; a scalar operand scales (``np.dot(2, A)``)."""
    a, b = as_mexpr(a), as_mexpr(b)
    if a.shape == () or b.shape == ():
        return mul(a, b)
    return MatMul(a, b)


def transpose(a) -> MExpr:
    a = as_mexpr(a)
    if a.shape is not None and len(a.shape) < 2:
        return a
    if isinstance(a, Transpose):
        return a.arg
    return Transpose(a)


def juxtapose(a, b, notes=None) -> MExpr:
    """Two factors written side by side (LaTeX, ``\\cdot``): a scalar scales; two
    matrices are a matrix product when their shapes fit, else an elementwise product when
    those fit (with a note); if neither fits, the matrix product (with its problem). When
    both fit, a warning says so, unless they are the same matrix (a column times a row).

    >>> class Warnings(list):
    ...     warn = list.append
    >>> notes = Warnings()
    >>> juxtapose(Leaf("a", ("n", 1)), Leaf("b", (1, "k")), notes).text(), notes
    ('a @ b', [])
    >>> juxtapose(Leaf("A", ("n", "n")), Leaf("B", ("n", "n")), notes).text(), len(notes)
    ('A @ B', 1)
    """
    a, b = as_mexpr(a), as_mexpr(b)
    if a.shape == () or b.shape == () or a.shape is None or b.shape is None:
        return mul(a, b) if (a.shape == () or b.shape == ()) else matmul(a, b)
    product = matmul(a, b)
    elementwise = broadcast(a.shape, b.shape) if len(a.shape) == len(b.shape) else None
    if product.shape is not None:
        # over an inner size of 1 (a column times a row) both readings are the same matrix
        same = len(a.shape) == 2 and len(b.shape) == 2 and a.shape[1] == 1 == b.shape[0]
        if elementwise is not None and notes is not None and not same:
            notes.warn(f"{a.text()} {b.text()} read as a matrix product (an elementwise "
                       "product would fit too)")
        return product
    if elementwise is not None:
        if notes is not None:
            notes.read(f"read {a.text()} {b.text()} as an elementwise product (a matrix "
                       f"product of {show(a.shape)} and {show(b.shape)} does not fit)")
        return mul(a, b)
    return product


def apply(label: str, build: Callable, args: list) -> MExpr:
    """A scalar function applied entry by entry (``np.tanh(Z1)``, ``g'(Z1)``, ``max``)."""
    args = [as_mexpr(x) for x in args]
    if _scalars(*args):
        return Scalar(build([a.value for a in args]))
    return Elementwise("call", tuple(args), build=build, label=label)


def compare(op: str, a, b, build: Callable) -> MExpr:
    """``(Z > 0)`` entry by entry, as 0/1 (Iverson brackets)."""
    return Elementwise(op, (as_mexpr(a), as_mexpr(b)), build=build)


def where(cond, a, b) -> MExpr:
    """``np.where(cond, a, b)`` = cond * a + (1 - cond) * b for a 0/1 condition."""
    cond = as_mexpr(cond)
    return add(mul(cond, a), mul(sub(Scalar(sympy.S.One), cond), b))


def total(a, axis=None, keepdims=False) -> MExpr:
    return Sum(as_mexpr(a), axis, bool(keepdims))
