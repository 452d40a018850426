r"""LaTeX printing: expressions the way the seed answer writes them.

Names follow one rule, so that every printed name reads back as the plain name it came
from (``W^{(1)}_{12}`` is ``W1_12``, ``w_{1}`` is ``w1``):

* ``name<k>_<unit>`` (``z1_2``, ``W0_12``): the digits are a layer, printed as a
  superscript ``(k)``, the unit as a subscript: ``z^{(1)}_{2}``, ``W^{(0)}_{12}``;
* ``name<k>`` with a capital letter or a network quantity letter (``a h r s z``):
  a layer superscript, ``W^{(0)}``, ``z^{(1)}``, ``r^{(2)}``;
* ``name<k>`` otherwise (lower-case weights, inputs, targets, biases, Greek): an index
  subscript, ``w_{1}``, ``x_{1}``, ``\hat{y}_{2}``, ``\alpha_{1}``;
* ``dC/dq``: ``\frac{\partial C}{\partial q}``; ``yhat``: ``\hat{y}``; Greek names are
  Greek letters and other multi-letter names are ``\mathit{...}``.

Functions print as the seed answer writes them: ``\operatorname{ReLU}``,
``\operatorname{Step}``, ``\sigma``, ``|z|``, ``\max``, and the Iverson brackets
``[z > 0]``, ``[z \ge 0]``.

>>> from sympy import symbols
>>> from derivcheck.core.functions import ReLU, Step
>>> W0, x, y = symbols("W0 x y")
>>> print(latex((ReLU(W0 * x) - y) * Step(W0 * x) * x))
x \, (\operatorname{ReLU}(W^{(0)} x) - y) \, \operatorname{Step}(W^{(0)} x)

Long products and sums are broken between factors or terms for ``align`` (see
:func:`align_row`), so deep chains never run off the page.
"""
from __future__ import annotations

import re
from fractions import Fraction

import sympy
from sympy import Add
from sympy.printing.latex import LatexPrinter, translate

from ..core.gradients import adjoint_of
from ..core.primitives import primitive_of
from ..core.printing import format_value

__all__ = ["DerivcheckLatexPrinter", "latex", "latex_name", "latex_value", "tex_width",
           "latex_pieces", "align_row", "nesting", "WIDTH", "MAX_NESTING"]

#: Nesting up to which an expression is printed (the printer recurses about ten Python
#: frames per level).
MAX_NESTING = 60

#: Width of a display line in :func:`tex_width` units (about one italic letter each) for
#: an 11pt A4 page with 2.5 cm margins.
WIDTH = 64

#: Base letters of the network's own quantities (pre-activations and activations),
#: which take a layer superscript like capital weight names.
_LAYER_LETTERS = set("ahrsz")

_TALL = (r"\frac", r"\sum", r"\prod", r"\left")

_NAME = re.compile(r"^(?P<base>[A-Za-z]+?)(?P<layer>\d+)?(?:_(?P<sub>[A-Za-z0-9_]+))?$")


class DerivcheckLatexPrinter(LatexPrinter):
    """SymPy's LaTeX printer with derivcheck's names, functions and term order."""

    def __init__(self, settings=None):
        super().__init__({"order": "none", **(settings or {})})

    def _print_Symbol(self, expr, style="plain"):
        return latex_name(expr.name)

    def _print_Add(self, expr, order=None):
        """Positive terms first, so ``a - y`` rather than ``- y + a``."""
        terms = sorted(self._as_ordered_terms(expr, order=order),
                       key=lambda t: t.could_extract_minus_sign())
        return super()._print_Add(Add(*terms, evaluate=False), order="none")

    def _print_Function(self, expr, exp=None):
        """A primitive with its registered LaTeX head (``\\operatorname{ReLU}``,
        ``\\sigma``, ``\\max``), others as SymPy prints them."""
        primitive = primitive_of(expr)
        if primitive is None or primitive.latex is None:
            return super()._print_Function(expr, exp)
        return self._call(primitive.latex, expr.args, exp)

    _print_log = _print_Function  # SymPy has its own, with braces

    def _call(self, head: str, args, exp=None) -> str:
        tex = head + self.paren(", ".join(self._print(a) for a in args))
        return tex if exp is None else f"{tex}^{{{exp}}}"

    def paren(self, tex: str, left: str = "(", right: str = ")") -> str:
        """Brackets around ``tex`` that grow only around tall material (fractions)."""
        if any(tall in tex for tall in _TALL):
            return rf"\left{left}{tex}\right{right}"
        return f"{left}{tex}{right}"

    def _add_parens(self, s) -> str:
        return self.paren(s)

    def _print_Mul(self, expr):
        """A product in its given order; SymPy's own form when it has a denominator
        (SymPy also sends a reciprocal power such as 1/w here)."""
        if not expr.is_Mul or any(f.is_Pow and f.exp.is_negative for f in expr.args):
            return super()._print_Mul(expr)
        pieces = self.mul_pieces(expr)
        first, rest = pieces[0], pieces[1:]
        tex = f"{first[0]} {first[1]}" if first[0] else first[1]
        for (_, before), (_, after) in zip(pieces, rest):
            tex += _product_sep(before, after) + after
        return tex

    def mul_pieces(self, expr, split: bool = False) -> list:
        """A product's factors as ``[(joiner, tex), ...]``, bracketed where needed; only
        the first may carry the sign ``-``. With ``split``, a bracketed sum is cut into
        its terms too when it is wider than half a line (its plain brackets may then span
        lines)."""
        args = list(expr.args)
        sign = ""
        if args[0].is_Rational and args[0] < 0:
            sign, args[0] = "-", -args[0]
        if args[0] == 1 and len(args) > 1:
            args = args[1:]
        out = []
        for i, f in enumerate(args):
            tex = self._print(f)
            if not self._needs_mul_brackets(f, first=i == 0, last=i == len(args) - 1):
                out.append(("", tex))
            elif split and f.is_Add and self.paren(tex)[0] == "(" and tex_width(tex) > WIDTH / 2:
                inner = latex_pieces(f, self, whole_terms=True)
                inner[0] = ("", "(" + (f"{inner[0][0]} " if inner[0][0] else "") + inner[0][1])
                inner[-1] = (inner[-1][0], inner[-1][1] + ")")
                out += inner
            else:
                out.append(("", self.paren(tex)))
        out[0] = (sign, out[0][1])
        return out

    def _print_Absolute(self, expr, exp=None):
        tex = self.paren(self._print(expr.args[0]), "|", "|")
        return tex if exp is None else f"{tex}^{{{exp}}}"

    def _print_IsPos(self, expr, exp=None):
        return self._iverson(expr, ">", exp)

    def _print_IsNonNeg(self, expr, exp=None):
        return self._iverson(expr, r"\ge", exp)

    def _iverson(self, expr, relation: str, exp=None) -> str:
        tex = f"[{self._print(expr.args[0])} {relation} 0]"
        return tex if exp is None else f"{tex}^{{{exp}}}"


def latex_name(name: str) -> str:
    r"""The LaTeX of a plain derivcheck name (the rule in the module docstring).

    >>> for name in ("W1_12", "z1", "w1", "yhat2", "dC/dz2", "alpha", "dyhat"):
    ...     print(latex_name(name))
    W^{(1)}_{12}
    z^{(1)}
    w_{1}
    \hat{y}_{2}
    \frac{\partial C}{\partial z^{(2)}}
    \alpha
    d\hat{y}
    """
    quantity = adjoint_of(name)
    if quantity is not None:
        return rf"\frac{{\partial C}}{{\partial {latex_name(quantity)}}}"
    m = _NAME.match(name)
    if m is None:
        return rf"\mathit{{{name}}}"
    base, layer, sub = m["base"], m["layer"], m["sub"]
    tex = translate(base)
    if base[:1] == "d" and len(base) > 2 and translate(base[1:]) != base[1:]:
        tex = "d" + translate(base[1:])        # dyhat: d\hat{y}, not \hat{dy}
    elif tex == base and len(base) > 1:
        tex = rf"\mathit{{{base}}}"
    if sub is not None:
        sub_tex = sub.replace("_", ",") if sub.replace("_", "").isdigit() \
            else rf"\mathrm{{{sub}}}"
        return (f"{tex}^{{({layer})}}" if layer else tex) + f"_{{{sub_tex}}}"
    if layer is None:
        return tex
    if base[0].isupper() or base in _LAYER_LETTERS:
        return f"{tex}^{{({layer})}}"
    return f"{tex}_{{{layer}}}"


def latex(expr) -> str:
    r"""The LaTeX of ``expr``: a SymPy expression or a number (never text).

    >>> from fractions import Fraction
    >>> from sympy import Symbol
    >>> from derivcheck.core.functions import Sigmoid, IsPos
    >>> z = Symbol("z1")
    >>> latex(Sigmoid(z) * (1 - Sigmoid(z)) + IsPos(z))
    '(1 - \\sigma(z^{(1)})) \\, \\sigma(z^{(1)}) + [z^{(1)} > 0]'
    >>> latex(Fraction(-3, 4)), latex(2)
    ('- \\frac{3}{4}', '2')
    """
    if isinstance(expr, (int, Fraction)):
        expr = sympy.Rational(expr)
    elif not isinstance(expr, sympy.Basic):
        raise TypeError(f"latex() prints SymPy expressions and numbers, not {type(expr).__name__}")
    return DerivcheckLatexPrinter().doprint(expr)


def nesting(expr) -> int:
    """How deeply ``expr`` nests (an atom is 1), found without recursion: SymPy's
    printer recurses, so callers print only what nests less than :data:`MAX_NESTING`.

    >>> from sympy import Symbol
    >>> from derivcheck.core.functions import ReLU
    >>> x = Symbol("x")
    >>> nesting(x), nesting(ReLU(2 * ReLU(x)))
    (1, 4)
    """
    depth: dict = {}
    stack = [expr]
    while stack:
        e = stack[-1]
        pending = [a for a in e.args if a not in depth]
        if pending:
            stack.extend(pending)
        else:
            stack.pop()
            depth[e] = 1 + max((depth[a] for a in e.args), default=0)
    return depth[expr]


def latex_value(value, digits: int = 12) -> str:
    r"""A value from the exact evaluator: exact numbers as fractions, others (mpmath) in
    ``digits`` significant digits.

    >>> import mpmath
    >>> latex_value(Fraction(-9, 2)), latex_value(mpmath.mpf(2) / 3, 4)
    ('- \\frac{9}{2}', '0.6667')
    """
    if isinstance(value, (int, Fraction, sympy.Basic)):
        return latex(value)
    return format_value(value, digits)


# ---- widths and line breaking -------------------------------------------------------

_CMD_WIDTH = {",": 0.35, ";": 0.5, "!": 0.0, " ": 0.5, "quad": 2.0, "qquad": 4.0,
              "cdot": 1.8, "sum": 2.0, "ldots": 2.0, "cdots": 2.0, "vdots": 0.5}
_CHAR_WIDTH = {**dict.fromkeys("+-=<>", 2.4), **dict.fromkeys("()[]|", 0.75),
               **dict.fromkeys(",.;", 0.6), " ": 0.0, "&": 0.0}
_GROUP_CMDS = {"operatorname", "mathit", "mathrm", "text", "texttt", "hat", "mathbb",
               "mathbf", "boldsymbol"}


def tex_width(tex: str) -> float:
    r"""Estimated width of math-mode LaTeX, in italic-letter units.

    A fraction is as wide as its wider half, sub- and superscripts count 70%, and
    ``\left``/``\right`` and font commands cost nothing themselves.

    >>> tex_width("x + y"), tex_width(r"\frac{\partial C}{\partial z^{(2)}}")
    (4.4, 4.35)
    """
    width, _ = _width(tex, 0)
    return round(width, 2)


def _group(tex: str, i: int, script: bool = False) -> tuple[float, int]:
    """Width of the argument starting at ``i`` (a brace group or one token)."""
    while i < len(tex) and tex[i] == " ":
        i += 1
    if i < len(tex) and tex[i] == "{":
        return _width(tex, i + 1, closing=True, script=script)
    if i < len(tex) and tex[i] == "\\":
        return _command(tex, i)
    return (1.0 if i < len(tex) else 0.0), i + 1


def _command(tex: str, i: int) -> tuple[float, int]:
    m = re.match(r"\\([A-Za-z]+|.)", tex[i:])
    name, i = m.group(1), i + m.end()
    if name == "frac":
        top, i = _group(tex, i)
        bottom, i = _group(tex, i)
        return max(top, bottom) + 0.6, i
    if name in _GROUP_CMDS:
        return _group(tex, i)
    if name in ("left", "right"):
        inner, i = _group(tex, i)
        return (0.0 if tex[i - 1] == "." else 0.75), i
    return _CMD_WIDTH.get(name, 1.0), i


def _width(tex: str, i: int, closing: bool = False, script: bool = False):
    """(width, end) of ``tex`` from ``i`` to the end or the closing brace; in a
    ``script`` binary operators take no extra space."""
    total, last = 0.0, 0.0  # last: width of a sub/superscript just placed
    while i < len(tex):
        c = tex[i]
        if c == "}" and closing:
            return total, i + 1
        if c in "^_":
            w, i = _group(tex, i + 1, script=True)
            w *= 0.7
            total += max(0.0, w - last)  # a subscript under a superscript stacks
            last = w
            continue
        if c == "{":
            w, i = _width(tex, i + 1, closing=True, script=script)
        elif c == "\\":
            w, i = _command(tex, i)
        else:
            w = 1.0 if script and c in "+-=" else _CHAR_WIDTH.get(c, 1.3 if c.isupper() else 1.0)
            i += 1
        total += w
        last = 0.0 if w else last
    return total, i


def latex_pieces(expr, printer: DerivcheckLatexPrinter | None = None,
                 whole_terms: bool = False):
    r"""``expr`` cut where a line may break: ``[(joiner, tex), ...]``.

    A sum is cut between its terms (joiner ``+`` or ``-``), a product between its factors
    (joiner ``""`` for juxtaposition), recursively through a sum's terms and into a
    bracketed sum (whose plain brackets may then span lines); ``\left(...\right)`` and
    function arguments are never split, nor (``whole_terms``, used inside brackets) the
    terms of a sum. A product with a denominator stays whole.

    >>> from sympy import symbols
    >>> a, b, y = symbols("a b y")
    >>> latex_pieces(a * b - y)
    [('', 'a'), ('', 'b'), ('-', 'y')]
    """
    printer = printer or DerivcheckLatexPrinter()
    if expr.is_Add:
        terms = sorted(printer._as_ordered_terms(expr),
                       key=lambda t: t.could_extract_minus_sign())
        out = []
        for i, term in enumerate(terms):
            negative = term.could_extract_minus_sign()
            body = -term if negative else term
            pieces = ([("", printer.paren(printer._print(body)))] if body.is_Add
                      else [("", printer._print(body))] if whole_terms
                      else latex_pieces(body, printer))
            sign = "-" if negative else ("+" if i else "")
            out += [(sign, pieces[0][1])] + pieces[1:]
        return out
    if expr.is_Mul and not any(f.is_Pow and f.exp.is_negative for f in expr.args):
        return printer.mul_pieces(expr, split=True)
    return [("", printer._print(expr))]


def _product_sep(prev: str, tex: str) -> str:
    r"""What goes between two factors: ``\cdot`` before a number, a thin space next to
    brackets and function names, else nothing but a space."""
    if tex[:1].isdigit():
        return r" \cdot "
    if prev[-1:] in ")]|" or prev.startswith(r"\frac") or tex[:1] in "\\([":
        return r" \, "
    return " "


def align_row(lhs: str, *sides, width: float = WIDTH, tag=None) -> str:
    r"""One ``align`` entry ``lhs &= side_1 = side_2 ...`` that fits the page.

    Each side is LaTeX text (never split) or a SymPy expression (split between factors or
    terms). A side that does not fit, or follows one that took several lines, starts a
    new ``&=`` line; an expression that still does not fit continues on ``&\quad``
    lines, a product with ``\cdot``, a sum with its sign. ``tag`` numbers the row
    (``\tag{1}`` on its first line).

    >>> from sympy import Mul, symbols
    >>> print(align_row("f", Mul(*symbols("w1:13"), evaluate=False), width=20))
    f &= w_{1} w_{2} w_{3} w_{4} w_{5} w_{6} w_{7} w_{8} w_{9} \\*
    &\quad \cdot w_{10} w_{11} w_{12}
    """
    budget = width - tex_width(lhs) - 2.4
    printer = DerivcheckLatexPrinter()
    lines, current, used, prev = [], f"{lhs} &=", 0.0, ""
    for n, side in enumerate(sides):
        pieces = [("", side)] if isinstance(side, str) else latex_pieces(side, printer)
        for k, (joiner, tex) in enumerate(pieces):
            signed = f"{joiner} {tex}" if joiner else tex
            if k == 0:
                inline, at_start = (f" = {signed}" if n else f" {signed}"), f"= {signed}"
            elif joiner:
                inline, at_start = f" {signed}", rf"\quad {signed}"
            else:
                inline, at_start = _product_sep(prev, tex) + tex, rf"\quad \cdot {tex}"
            wrapped = k == 0 and n and lines  # an earlier side took several lines
            if wrapped or (used and used + tex_width(inline) > budget):
                lines.append(current)
                current, used = f"&{at_start}", tex_width(at_start)
            else:
                current, used = current + inline, used + tex_width(inline)
            prev = tex
    lines.append(current)
    if tag is not None:
        lines[0] += rf" \tag{{{tag}}}"
    return " \\\\*\n".join(lines)
