r"""The LaTeX front end: LaTeX as people write it into the tokens the grammar reads.

Reading happens in two steps. :class:`LatexSource` cuts the text into lexemes (commands,
letters, numbers, single characters) and matches the braces; :meth:`LatexSource.tokens`
then turns one side of an equation into tokens. Markup is dropped from names
(``W^{(1)}_{12}`` is ``W1_12``, ``\hat{y}`` is ``yhat``), ``\frac{\partial C}{\partial w}``
becomes one ``ADJ`` token, spacing and sizing commands vanish, ``^T`` is a no-op.

>>> from .tokens import Notes
>>> src = LatexSource(r"\frac{\partial C}{\partial W^{(0)}} = (r^{(1)} - y)\,Step(z^{(1)})")
>>> lhs, rhs = src.segments()
>>> [(t.type, str(t)) for t in src.tokens(lhs, Notes())]
[('ADJ', 'W0')]
>>> [str(t) for t in src.tokens(rhs, Notes())]
['(', 'r1', '-', 'y', ')', 'Step', '(', 'z1', ')']
"""
from __future__ import annotations

import re
from typing import NamedTuple

from lark import Token

from ..errors import ParseError
from .plain import char_token
from .tokens import (Notes, Segment, Unit, Word, differential, loss_differential, segments, tok)
from .vocabulary import ACCENTS, GREEK

__all__ = ["LatexSource"]

_LEX = re.compile(r"""
    (?P<cmd>\\[A-Za-z]+\*?)
  | (?P<sym>\\[^A-Za-z])
  | (?P<num>\d+(?:\.\d+)?|\.\d+)
  | (?P<letter>[A-Za-z])
  | (?P<space>\s+|~|\$)
  | (?P<comment>%[^\n]*)
  | (?P<char>.)
""", re.VERBOSE | re.DOTALL)


class Lx(NamedTuple):
    """One lexeme: ``cmd sym num letter space char``."""

    kind: str
    text: str
    start: int
    end: int


_IGNORED = frozenset("""quad qquad enspace thinspace medspace thickspace negthinspace
    negmedspace negthickspace displaystyle textstyle scriptstyle nonumber notag limits nolimits
    big Big bigg Bigg bigl bigr Bigl Bigr biggl biggr Biggl Biggr bigm Bigm mathstrut strut
    relax""".split())
_IGNORED_WITH_ARG = frozenset({"hspace", "vspace", "phantom", "hphantom", "vphantom", "label", "tag"})
_SKIPPED_SYMBOLS = frozenset({"\\,", "\\;", "\\:", "\\!", "\\ ", "\\>", "\\(", "\\)", "\\[", "\\]"})
_TEXT = frozenset({"text", "textrm", "textit", "textnormal", "textsf", "texttt", "mathrm",
                   "operatorname", "mbox"})
_FONTS = frozenset({"mathbf", "boldsymbol", "bm", "mathit", "mathcal", "mathsf", "mathbb", "mathds",
                    "mathscr", "mathfrak", "pmb", "textbf", "mathnormal"})
_FUNCTION_COMMANDS = {"exp": "exp", "log": "log", "ln": "log", "tanh": "tanh", "sinh": "sinh",
                      "cosh": "cosh", "sech": "sech", "max": "max", "min": "min", "sqrt": "sqrt",
                      "sgn": "sign"}
_WITH_ARG = _TEXT | _FONTS | frozenset(ACCENTS)
_FRACS = frozenset({"frac", "dfrac", "tfrac", "cfrac"})
_SIMPLE = {"cdot": ("MULOP", "*"), "times": ("MULOP", "*"), "odot": ("MULOP", "*"),
           "ast": ("MULOP", "*"), "bullet": ("MULOP", "*"), "div": ("MULOP", "/"),
           "ge": ("CMP", ">="), "geq": ("CMP", ">="), "geqslant": ("CMP", ">="),
           "le": ("CMP", "<="), "leq": ("CMP", "<="), "leqslant": ("CMP", "<="),
           "gt": ("CMP", ">"), "lt": ("CMP", "<"), "partial": ("PARTIAL", "\u2202"),
           "lbrace": ("_LPAR", "\\{"), "rbrace": ("_RPAR", "\\}"), "lbrack": ("_LBRACK", "["),
           "rbrack": ("_RBRACK", "]"), "lvert": ("_BAR_OPEN", "|"), "rvert": ("_BAR_CLOSE", "|"),
           "vert": ("BAR", "|"), "mid": ("BAR", "|"), "prime": ("PRIME", "'")}
_SYMBOLS = {"\\{": ("_LPAR", "\\{"), "\\}": ("_RPAR", "\\}"), "\\|": ("BAR", "|")}
_INDEXED = frozenset({"sum", "prod", "int", "oint", "lim", "nabla"})
_ENVIRONMENTS = frozenset({"aligned", "align", "align*", "equation", "equation*", "split",
                           "gathered", "gather", "gather*", "displaymath", "math"})
_CASES = frozenset({"cases", "dcases", "cases*"})
_CONDITION_WORDS = frozenset({"if", "for", "when", "where", ""})
_OTHERWISE_WORDS = frozenset({"otherwise", "else", "elsewhere", "o.w"})
_LAYER = re.compile(r"\d+|[A-Za-z][A-Za-z0-9]*(?:[+-]\d+)?")
_TRANSPOSE = frozenset({"T", "\\top", "\\intercal", "\\mathsf{T}", "\\mathrm{T}", "\\text{T}",
                        "\\mathsfT", "\\mathrmT"})
_HINT = (r"derivcheck reads \frac, \cdot, \times, \left( \right), \hat{y}, \sigma, \tanh, \exp, "
         r"\log, \max, \text{ReLU}, \begin{cases}, \mathbb{1}[z > 0] and Greek letters")


class LatexSource:
    """A LaTeX formula cut into lexemes, with its braces matched."""

    def __init__(self, text: str):
        self.text = text
        self.lx = [Lx(m.lastgroup, m.group(), m.start(), m.end()) for m in _LEX.finditer(text)
                   if m.lastgroup != "comment"]
        self.match: dict[int, int] = {}
        stack: list[int] = []
        for i, lx in enumerate(self.lx):
            if lx.kind == "char" and lx.text == "{":
                stack.append(i)
            elif lx.kind == "char" and lx.text == "}":
                if not stack:
                    raise ParseError("'}' closes no '{'", text=text, position=lx.start,
                                     hint="remove it, or add the '{' it belongs to")
                self.match[stack.pop()] = i
        if stack:
            first = self.lx[stack[0]]
            raise ParseError("'{' is never closed", text=text, position=first.start,
                             hint="add the missing '}'")

    def segments(self) -> list[Segment]:
        """The sides of an equation ``A = B = C``, split at ``=`` outside every bracket."""
        kinds = []
        for i, lx in enumerate(self.lx):
            t = lx.text
            if lx.kind == "cmd":
                kinds.append({"\\begin": "_LPAR", "\\end": "_RPAR"}.get(t, "cmd"))
            elif lx.kind == "char" and t == "=" and i and self.lx[i - 1].text in "<>!":
                kinds.append("CMP")
            elif lx.kind == "char":
                kinds.append({"(": "_LPAR", "[": "_LPAR", "{": "_LPAR", ")": "_RPAR", "]": "_RPAR",
                              "}": "_RPAR", "=": "EQUAL"}.get(t, "char"))
            else:
                kinds.append(lx.kind)
        return segments(list(range(len(self.lx))), kinds.__getitem__,
                        lambda i: (self.lx[i].start, self.lx[i].end))

    def tokens(self, segment: Segment, notes: Notes) -> list[Token]:
        """Tokens of one side of the equation; unreadable LaTeX raises :class:`ParseError`."""
        return _Converter(self, notes).convert(segment.lo, segment.hi)


class _Converter:
    """Turns lexemes into tokens; recursion only enters brace arguments, so it is bounded by
    the nesting depth checked before."""

    def __init__(self, src: LatexSource, notes: Notes):
        self.src, self.lx, self.match, self.notes = src, src.lx, src.match, notes
        self.cases = 0

    def error(self, message: str, position: int, hint: str | None = None) -> ParseError:
        return ParseError(message, text=self.src.text, position=position, hint=hint)

    def convert(self, lo: int, hi: int) -> list[Token]:
        out: list[Token] = []
        i = lo
        while i < hi:
            i = self._step(i, hi, out)
        return out

    def _step(self, i: int, hi: int, out: list[Token]) -> int:
        lx = self.lx[i]
        if lx.kind == "space":
            return i + 1
        if lx.kind == "letter":
            return self._run(i, hi, out)
        if lx.kind == "num":
            return self._number(i, hi, out)
        if lx.kind == "cmd":
            return self._command(i, hi, out)
        if lx.kind == "sym":
            return self._symbol(i, out)
        return self._char(i, hi, out)

    # -- small helpers -------------------------------------------------------------------
    def _skip_space(self, j: int, hi: int) -> int:
        while j < hi and self.lx[j].kind == "space":
            j += 1
        return j

    def _is_char(self, j: int, hi: int, chars: str) -> bool:
        return j < hi and self.lx[j].kind == "char" and self.lx[j].text in chars

    def _arg(self, k: int, hi: int) -> tuple[int, int, int]:
        """``(lo, hi, next)`` of the argument after lexeme ``k``: a ``{group}``, one letter,
        one number, one command (with its own argument), or a sign and what follows it."""
        j = self._skip_space(k + 1, hi)
        here = self.lx[k]
        if j >= hi:
            raise self.error(f"'{here.text}' needs an argument after it", here.start,
                             "write e.g. x^{2}, w_{1} or \\hat{y}")
        lx = self.lx[j]
        if lx.kind == "char" and lx.text == "{":
            return j + 1, self.match[j], self.match[j] + 1
        if lx.kind == "cmd" and lx.text[1:] in _WITH_ARG:
            nxt = self._arg(j, hi)[2]
            return j, nxt, nxt
        if lx.kind in ("letter", "num", "cmd"):
            return j, j + 1, j + 1
        if lx.kind == "char" and lx.text in "+-":
            nxt = self._arg(j, hi)[2]
            return j, nxt, nxt
        raise self.error(f"cannot read '{lx.text}' as the argument of '{here.text}'", lx.start,
                         "put the argument in braces, e.g. x^{2} or w_{1}")

    def _group(self, lo: int, hi: int, start: int, end: int) -> list[Token]:
        """Tokens of lexemes ``lo:hi`` wrapped in ``{ }``."""
        return ([tok("_LGROUP", "{", start, start + 1)] + self.convert(lo, hi)
                + [tok("_RGROUP", "}", end - 1, end)])

    def _flat(self, lo: int, hi: int, what: str) -> str:
        """The letters and digits of a subscript/index/accent: ``{i,j}`` is ``ij``."""
        parts = []
        for lx in self.lx[lo:hi]:
            if lx.kind == "letter" or (lx.kind == "num" and "." not in lx.text):
                parts.append(lx.text)
            elif lx.kind == "cmd" and lx.text[1:] in GREEK:
                parts.append(lx.text[1:])
            elif not (lx.kind == "space" or (lx.kind == "char" and lx.text in ",{}()[]+-")
                      or (lx.kind == "cmd" and lx.text[1:] in _TEXT | _FONTS)):
                raise self.error(f"cannot read '{lx.text}' in a {what}", lx.start,
                                 "a subscript or layer index holds letters and digits, e.g. w_{12}")
        return "".join(parts)

    # -- names ---------------------------------------------------------------------------
    def _run(self, i: int, hi: int, out: list[Token]) -> int:
        """A run of letters (with digits after them), then its subscripts and superscripts."""
        units: list[Unit] = []
        j = i
        while j < hi:
            lx = self.lx[j]
            if lx.kind == "letter":
                units.append(Unit(lx.text, lx.start, lx.end))
            elif lx.kind == "num" and units and "." not in lx.text:
                units[-1] = Unit(units[-1].text + lx.text, units[-1].start, lx.end)
            else:
                break
            j += 1
        word = "".join(u.text for u in units)
        if self.cases and word in _CONDITION_WORDS:
            return j
        if self.cases and word in _OTHERWISE_WORDS:
            out.append(tok("OTHERWISE", word, units[0].start, units[-1].end))
            return j
        return self._scripts(j, hi, units, out)

    def _scripts(self, j: int, hi: int, units: list[Unit], out: list[Token]) -> int:
        """Subscripts and layer superscripts become part of the name; a power ends it."""
        sub = layer = None
        end = units[-1].end
        while True:
            k = self._skip_space(j, hi)
            if self._is_char(k, hi, "_"):
                if sub is not None:
                    raise self.error("a second subscript", self.lx[k].start,
                                     "write one subscript, e.g. w_{12}")
                lo, sub_hi, j = self._arg(k, hi)
                sub = self._flat(lo, sub_hi, "subscript")
            elif self._is_char(k, hi, "^"):
                shape, lo, sup_hi, nxt = self._superscript(k, hi)
                if shape == "transpose":
                    self.notes.read("read ^T (transpose) as a no-op on scalars")
                elif shape.startswith("layer:") and layer is None:
                    layer = shape[len("layer:"):]
                else:
                    self._emit_name(units, sub, layer, end, out)
                    return self._emit_superscript(k, shape, lo, sup_hi, nxt, out)
                j = nxt
            else:
                break
            end = self.lx[j - 1].end
        self._emit_name(units, sub, layer, end, out)
        return j

    def _emit_name(self, units, sub, layer, end, out) -> None:
        last = units[-1]
        text = last.text + (layer or "")
        if sub:
            text += ("_" if layer or last.text[-1].isdigit() else "") + sub
        units = (*units[:-1], Unit(text, last.start, end))
        out.append(tok("NAME", Word(units, latex=True, layered=layer is not None),
                       units[0].start, end))

    def _superscript(self, k: int, hi: int) -> tuple[str, int, int, int]:
        """``(shape, lo, hi, next)`` of the superscript at ``k``; shape is ``paren``,
        ``transpose``, ``prime``, ``layer:<index>`` or ``power``."""
        j = self._skip_space(k + 1, hi)
        if self._is_char(j, hi, "("):
            return "paren", j, j, j
        lo, sup_hi, nxt = self._arg(k, hi)
        items = [lx.text for lx in self.lx[lo:sup_hi] if lx.kind != "space"]
        if "".join(items) in _TRANSPOSE:
            return "transpose", lo, sup_hi, nxt
        if items and all(t in ("\\prime", "'") for t in items):
            return "prime", lo, sup_hi, nxt
        transposed = len(items) > 1 and items[-1] in _TRANSPOSE   # W^{(0)T}
        core = items[:-1] if transposed else items
        pairs = {"(": ")", "[": "]"}
        if len(core) > 2 and core[0] in pairs and core[-1] == pairs[core[0]]:
            inner = "".join(core[1:-1])
            if _LAYER.fullmatch(inner):
                if transposed:
                    self.notes.read("read ^T (transpose) as a no-op on scalars")
                return "layer:" + re.sub(r"[^A-Za-z0-9]", "", inner), lo, sup_hi, nxt
        return "power", lo, sup_hi, nxt

    def _emit_superscript(self, k, shape, lo, hi, nxt, out) -> int:
        caret = self.lx[k]
        if shape == "transpose":
            self.notes.read("read ^T (transpose) as a no-op on scalars")
        elif shape == "prime":
            out.extend(tok("PRIME", "'", caret.start, self.lx[nxt - 1].end)
                       for lx in self.lx[lo:hi] if lx.kind != "space")
        else:
            out.append(tok("POW", "^", caret.start, caret.end))
            if shape != "paren":
                out.extend(self._group(lo, hi, self.lx[lo].start if lo < hi else caret.end,
                                       self.lx[nxt - 1].end))
        return nxt

    def _accent(self, i: int, hi: int, out: list[Token], suffix: str) -> int:
        lo, arg_hi, nxt = self._arg(i, hi)
        inner = self._flat(lo, arg_hi, "accent")
        if not inner:
            raise self.error(f"'{self.lx[i].text}' needs a letter", self.lx[i].start,
                             "write e.g. \\hat{y}")
        return self._scripts(nxt, hi, [Unit(inner + suffix, self.lx[i].start, self.lx[nxt - 1].end)],
                             out)

    def _text(self, i: int, hi: int, out: list[Token]) -> int:
        lo, arg_hi, nxt = self._arg(i, hi)
        raw = self.src.text[self.lx[lo].start:self.lx[arg_hi - 1].end] if lo < arg_hi else ""
        content = raw.strip().strip(",.;:").strip()
        start, end = self.lx[i].start, self.lx[nxt - 1].end
        if self.cases and content.lower() in _CONDITION_WORDS:
            return nxt
        if self.cases and content.lower() in _OTHERWISE_WORDS:
            out.append(tok("OTHERWISE", content, start, end))
            return nxt
        if not content:
            return nxt
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", content):
            raise self.error(f"cannot read {self.lx[i].text}{{{content}}} in a formula", start,
                             "text is read only as a name or function such as \\text{ReLU}")
        return self._scripts(nxt, hi, [Unit(content, start, end)], out)

    def _font(self, i: int, hi: int, out: list[Token]) -> int:
        """``\\mathbf{W}`` is ``W``; ``\\mathbb{1}`` before ``[``, ``(``, ``\\{`` or ``_`` is an indicator."""
        lo, arg_hi, nxt = self._arg(i, hi)
        items = [lx for lx in self.lx[lo:arg_hi] if lx.kind != "space"]
        start = self.lx[i].start
        after = self._skip_space(nxt, hi)
        if ([lx.text for lx in items] in (["1"], ["I"])
                and after < hi and self.lx[after].text in ("[", "(", "_", "\\{", "\\left", "\\lbrace",
                                                           "\\big", "\\Big", "\\bigl", "\\Bigl")):
            out.append(tok("INDICATOR", "1", start, self.lx[nxt - 1].end))
            if self.lx[after].text != "_":
                return after
            sub_lo, sub_hi, sub_next = self._arg(after, hi)
            out.extend(self._group(sub_lo, sub_hi, self.lx[after].start, self.lx[sub_next - 1].end))
            return sub_next
        if items and all(lx.kind == "letter" for lx in items):
            return self._scripts(nxt, hi, [Unit(lx.text, lx.start, lx.end) for lx in items], out)
        if len(items) == 1 and items[0].kind == "cmd" and items[0].text[1:] in GREEK:
            return self._scripts(nxt, hi, [Unit(items[0].text[1:], start, self.lx[nxt - 1].end)], out)
        out.extend(self._group(lo, arg_hi, start, self.lx[nxt - 1].end))
        return nxt

    # -- numbers, fractions, commands ------------------------------------------------------
    def _number(self, i: int, hi: int, out: list[Token]) -> int:
        lx = self.lx[i]
        after = self._skip_space(i + 1, hi)
        if lx.text == "1" and self._is_char(after, hi, "_"):
            out.append(tok("INDICATOR", "1", lx.start, lx.end))
            lo, sub_hi, nxt = self._arg(after, hi)
            out.extend(self._group(lo, sub_hi, self.lx[after].start, self.lx[nxt - 1].end))
            return nxt
        out.append(tok("NUMBER", lx.text, lx.start, lx.end))
        return i + 1

    def _frac(self, i: int, hi: int, out: list[Token]) -> int:
        j = self._skip_space(i + 1, hi)
        lx = self.lx[j] if j < hi else None
        if lx is not None and lx.kind == "num" and len(lx.text) == 2 and lx.text.isdigit():
            top = [tok("NUMBER", lx.text[0], lx.start, lx.start + 1)]
            bottom = [tok("NUMBER", lx.text[1], lx.start + 1, lx.end)]
            nxt = j + 1
        else:
            lo, top_hi, first = self._arg(i, hi)
            lo2, bottom_hi, nxt = self._arg(first - 1, hi)
            top, bottom = self.convert(lo, top_hi), self.convert(lo2, bottom_hi)
        out.extend(self._fraction(top, bottom, self.lx[i].start, self.lx[nxt - 1].end))
        return nxt

    def _fraction(self, top, bottom, start: int, end: int) -> list[Token]:
        """``\\frac{∂C}{∂w}`` is one ``ADJ``; other derivatives are reported later."""
        source = self.src.text[start:end]
        if loss_differential(top):
            quantity = differential(bottom)
            if quantity is None and len(bottom) == 1 and bottom[0].type == "NAME":
                quantity = bottom[0].value
                self.notes.warn(f"read {source} as dC/d{quantity} (the 'd' of d{quantity} is missing)")
            if quantity is None:
                raise self.error(f"cannot read {source} as a derivative of the loss", start,
                                 r"write it as \frac{\partial C}{\partial w_1} or dC/dw1")
            return [tok("ADJ", quantity, start, end)]
        quantity = differential(bottom)
        if quantity is not None and len(top) == 1 and (top[0].type == "PARTIAL"
                                                     or str(top[0]) == "d"):
            return [tok("DOP", source, start, end)]
        if quantity is not None and differential(top) is not None:
            return [tok("PDERIV", source, start, end)]
        return ([tok("FRAC", "\\frac", start, start + 1), tok("_LGROUP", "{", start, start + 1)] + top
                + [tok("_RGROUP", "}", end - 1, end), tok("_LGROUP", "{", start, start + 1)] + bottom
                + [tok("_RGROUP", "}", end - 1, end)])

    def _command(self, i: int, hi: int, out: list[Token]) -> int:
        lx = self.lx[i]
        name = lx.text[1:].rstrip("*")
        if name in _IGNORED:
            return i + 1
        if name in _IGNORED_WITH_ARG:
            return self._arg(i, hi)[2]
        if name in ("left", "right"):
            return self._delimiter(i, hi, out, name == "left")
        if name in GREEK or name == "pi":
            return self._scripts(i + 1, hi, [Unit(name, lx.start, lx.end)], out)
        if name in ACCENTS:
            return self._accent(i, hi, out, ACCENTS[name])
        if name in _TEXT:
            return self._text(i, hi, out)
        if name in _FONTS:
            return self._font(i, hi, out)
        if name in _FRACS:
            return self._frac(i, hi, out)
        if name == "sqrt" and self._is_char(self._skip_space(i + 1, hi), hi, "["):
            raise self.error("\\sqrt[n]{...} (an n-th root) is not read", lx.start,
                             "write the root as a power, e.g. x^{1/3}")
        if name in _FUNCTION_COMMANDS:
            out.append(tok("FUNC", _FUNCTION_COMMANDS[name], lx.start, lx.end))
            return i + 1
        if name in _SIMPLE:
            out.append(tok(*_SIMPLE[name], lx.start, lx.end))
            return i + 1
        if name in ("begin", "end"):
            return self._environment(i, hi, out, name == "begin")
        if name in _INDEXED:
            raise self.error(f"'{lx.text}' cannot be read: derivcheck reads scalar formulas",
                             lx.start, "write the terms out for the scalar network")
        raise self.error(f"unknown LaTeX command '{lx.text}'", lx.start, _HINT)

    def _delimiter(self, i: int, hi: int, out: list[Token], left: bool) -> int:
        j = self._skip_space(i + 1, hi)
        lx = self.lx[j] if j < hi else None
        if lx is None:
            raise self.error(f"'{self.lx[i].text}' needs a delimiter after it", self.lx[i].start,
                             "write e.g. \\left( x \\right)")
        if lx.text == ".":
            return j + 1
        if lx.text in ("|", "\\|", "\\vert", "\\lvert", "\\rvert"):
            out.append(tok("_BAR_OPEN" if left else "_BAR_CLOSE", "|", self.lx[i].start, lx.end))
            return j + 1
        if lx.text in ("(", ")", "[", "]", "\\{", "\\}", "\\lbrace", "\\rbrace", "\\lbrack", "\\rbrack"):
            return j
        raise self.error(f"cannot read the delimiter '{lx.text}'", lx.start,
                         "use ( ), [ ], \\{ \\} or | |")

    def _environment(self, i: int, hi: int, out: list[Token], begin: bool) -> int:
        lo, arg_hi, nxt = self._arg(i, hi)
        name = "".join(lx.text for lx in self.lx[lo:arg_hi])
        where = self.lx[i].start
        if name in _CASES:
            self.cases += 1 if begin else -1
            out.append(tok("_CASES_BEGIN" if begin else "_CASES_END", "cases", where,
                           self.lx[nxt - 1].end))
            return nxt
        if name in _ENVIRONMENTS:
            return nxt
        raise self.error(f"the environment '{name}' is not read", where,
                         "derivcheck reads \\begin{cases} ... \\end{cases}")

    def _symbol(self, i: int, out: list[Token]) -> int:
        lx = self.lx[i]
        if lx.text in _SKIPPED_SYMBOLS:
            return i + 1
        if lx.text == "\\\\":
            if self.cases:
                out.append(tok("_ROWSEP", "\\\\", lx.start, lx.end))
            return i + 1
        if lx.text in _SYMBOLS:
            out.append(tok(*_SYMBOLS[lx.text], lx.start, lx.end))
            return i + 1
        out.append(tok("ERROR", lx.text, lx.start, lx.end))
        return i + 1

    def _char(self, i: int, hi: int, out: list[Token]) -> int:
        lx = self.lx[i]
        c = lx.text
        if c == "^":
            shape, lo, sup_hi, nxt = self._superscript(i, hi)
            return self._emit_superscript(i, "power" if shape.startswith("layer:") else shape,
                                          lo, sup_hi, nxt, out)
        if c == "_":
            raise self.error("a subscript needs a name before it", lx.start,
                             "write the name first, e.g. w_1")
        if c == "&":
            if self.cases:
                out.append(tok("_AMP", "&", lx.start, lx.end))
            return i + 1
        if c in "<>" and self._is_char(i + 1, hi, "="):
            out.append(tok("CMP", c + "=", lx.start, lx.end + 1))
            return i + 2
        out.append(char_token(c, lx.start))
        return i + 1
