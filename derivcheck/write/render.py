r"""Jinja for LaTeX: the environment the sheet and report templates render in.

Delimiters leave LaTeX's braces alone: ``\VAR{...}`` prints, ``\BLOCK{...}`` is a
statement, ``\#{...}`` a comment, and a line starting with ``%%`` is a statement too.
Undefined names are errors (``StrictUndefined``). Nothing is escaped automatically:
LaTeX that derivcheck produced goes in as it is, and user text goes through the
``tex_escape`` filter (or ``tex_code`` for a typewriter line that may break).

>>> env = environment()
>>> env.from_string(r"\textbf{\VAR{name | tex_escape}} $\VAR{math}$").render(
...     name="50% of $x_1", math=r"\frac{1}{2}")
'\\textbf{50\\% of \\$x\\_1} $\\frac{1}{2}$'
"""
from __future__ import annotations

import importlib.resources
import re
import unicodedata
from pathlib import Path

import jinja2

__all__ = ["environment", "render", "templates_root", "tex_escape", "tex_code"]

_SPECIAL = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
    "_": r"\_", "%": r"\%", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}",
    "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}", "\n": " ", "\t": " ",
}

#: Unicode symbols people paste into formulas, as LaTeX math.
_MATH = {
    "·": r"\cdot", "×": r"\times", "−": "-", "≥": r"\geq", "≤": r"\leq", "≠": r"\neq",
    "∂": r"\partial", "∑": r"\sum", "∏": r"\prod", "√": r"\surd", "∞": r"\infty",
    "⊙": r"\odot", "′": "'", "→": r"\to", "≈": r"\approx", "∈": r"\in",
}
#: Quotes as typed, not typographic, in typewriter text.
_TT_QUOTES = {"`": r"\textasciigrave{}", "'": r"\textquotesingle{}"}
_ACCENTS = {"\u0302": "^", "\u0301": "'", "\u0300": "`", "\u0308": '"', "\u0303": "~",
            "\u0304": "="}


def templates_root():
    """The folder holding the templates: the installed package data
    (``derivcheck.templates``), or the top-level ``templates/`` of a source checkout.

    >>> (templates_root() / "sheet.tex").is_file()
    True
    """
    try:
        return importlib.resources.files("derivcheck.templates")
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[2] / "templates"


def _load(name: str):
    path = templates_root().joinpath(name)
    if not path.is_file():
        return None
    return path.read_text(encoding="utf-8"), str(path), lambda: True


def environment() -> jinja2.Environment:
    """A Jinja environment for LaTeX templates (see the module docstring)."""
    env = jinja2.Environment(
        block_start_string=r"\BLOCK{", block_end_string="}",
        variable_start_string=r"\VAR{", variable_end_string="}",
        comment_start_string=r"\#{", comment_end_string="}",
        line_statement_prefix="%%", line_comment_prefix="%#",
        trim_blocks=True, lstrip_blocks=True, autoescape=False,
        keep_trailing_newline=True, undefined=jinja2.StrictUndefined,
        loader=jinja2.FunctionLoader(_load))
    env.filters["tex_escape"] = tex_escape
    env.filters["tex_code"] = tex_code
    return env


def render(template: str, **context) -> str:
    r"""Render the template file ``template`` (in :func:`templates_root`) with ``context``.

    >>> "\\begin{document}" in render("base.tex", title="T")
    True
    """
    return environment().get_template(template).render(**context)


def tex_escape(text) -> str:
    r"""User text as LaTeX that prints it literally, in any text font.

    Every special character is escaped, so no command the text holds (``\input``,
    ``\write18``, ``\catcode``, ``\openout``) can run; non-ASCII letters become accented
    letters, Greek letters and common symbols become math, anything else its code point.

    >>> print(tex_escape(r"\input{/etc/passwd} 100% $x^2_1$"))
    \textbackslash{}input\{/etc/passwd\} 100\% \$x\textasciicircum{}2\_1\$
    >>> print(tex_escape("~ σ·ŷ"))
    \textasciitilde{} \ensuremath{\sigma}\ensuremath{\cdot}\^{y}
    """
    return "".join(_escape_char(c) for c in str(text))


def _escape_char(c: str) -> str:
    if c in _SPECIAL:
        return _SPECIAL[c]
    if " " <= c <= "~":
        return c
    if c in _MATH:
        return rf"\ensuremath{{{_MATH[c]}}}"
    name = unicodedata.name(c, "")
    greek = re.match(r"GREEK (SMALL|CAPITAL) LETTER (\w+)$", name)
    if greek:
        letter = greek[2].lower() if greek[1] == "SMALL" else greek[2].capitalize()
        return rf"\ensuremath{{\{letter}}}" if letter in _GREEK else f"[U+{ord(c):04X}]"
    base, *marks = unicodedata.normalize("NFD", c)
    if " " <= base <= "~" and base not in _SPECIAL and marks and \
            all(m in _ACCENTS for m in marks):
        out = base
        for m in marks:
            out = f"\\{_ACCENTS[m]}{{{out}}}"
        return out
    return f"[U+{ord(c):04X}]"


_GREEK = set("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi "
             "rho sigma tau upsilon phi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma "
             "Upsilon Phi Psi Omega".split())


def tex_code(text) -> str:
    r"""User text in ``\texttt``, escaped, with line breaks allowed after operators.

    >>> print(tex_code("(y-ReLU(w_1x))(x)"))
    \texttt{(y-\allowbreak{}ReLU(w\_1x))\allowbreak{}(x)}
    """
    text, out = str(text), []
    for i, c in enumerate(text):
        out.append(_TT_QUOTES.get(c) or _escape_char(c))
        if c in "+-*/,=)" and i + 1 < len(text) and text[i + 1] not in ")":
            out.append(r"\allowbreak{}")
    return r"\texttt{" + "".join(out) + "}"
