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

from lark import Token

from ..core.gradients import adjoint_name

from .latex_reader import FONT_COMMANDS, TEXT_COMMANDS, NameReader, lex
from .index_sums import SumMark
from .plain import char_token
from .tokens import Notes, Segment, Unit, Word, differential, loss_differential, segments, tok
from .vocabulary import ACCENTS, GREEK

__all__ = ["LatexSource"]

_IGNORED = frozenset("""quad qquad enspace thinspace medspace thickspace negthinspace
    negmedspace negthickspace displaystyle textstyle scriptstyle nonumber notag limits nolimits
    big Big bigg Bigg bigl bigr Bigl Bigr biggl biggr Biggl Biggr bigm Bigm mathstrut strut
    relax""".split())
_IGNORED_WITH_ARG = frozenset({"hspace", "vspace", "phantom", "hphantom", "vphantom", "label",
                               "tag"})
_SKIPPED_SYMBOLS = frozenset({"\\,", "\\;", "\\:", "\\!", "\\ ", "\\>", "\\(", "\\)", "\\[", "\\]"})
_FUNCTION_COMMANDS = {"exp": "exp", "log": "log", "ln": "log", "tanh": "tanh", "sinh": "sinh",
                      "cosh": "cosh", "sech": "sech", "max": "max", "min": "min", "sqrt": "sqrt",
                      "sgn": "sign"}
_FRACS = frozenset({"frac", "dfrac", "tfrac", "cfrac"})
_DELIMITERS = frozenset({"(", ")", "[", "]", "\\{", "\\}", "\\lbrace", "\\rbrace", "\\lbrack",
                         "\\rbrack"})
_SIMPLE = {"cdot": ("MULOP", "\\cdot"), "times": ("MULOP", "\\times"),
           "odot": ("MULOP", "\\odot"), "circ": ("MULOP", "\\odot"),
           "ast": ("MULOP", "*"), "bullet": ("MULOP", "*"), "div": ("MULOP", "/"),
           "ge": ("CMP", ">="), "geq": ("CMP", ">="), "geqslant": ("CMP", ">="),
           "le": ("CMP", "<="), "leq": ("CMP", "<="), "leqslant": ("CMP", "<="),
           "gt": ("CMP", ">"), "lt": ("CMP", "<"), "partial": ("PARTIAL", "\u2202"),
           "lbrace": ("_LPAR", "\\{"), "rbrace": ("_RPAR", "\\}"), "lbrack": ("_LBRACK", "["),
           "rbrack": ("_RBRACK", "]"), "lvert": ("_BAR_OPEN", "|"), "rvert": ("_BAR_CLOSE", "|"),
           "vert": ("BAR", "|"), "mid": ("BAR", "|"), "prime": ("PRIME", "'")}
_SYMBOLS = {"\\{": ("_LPAR", "\\{"), "\\}": ("_RPAR", "\\}"), "\\|": ("BAR", "|")}
_INDEXED = frozenset({"sum", "prod", "int", "oint", "lim"})
_ENVIRONMENTS = frozenset({"aligned", "align", "align*", "equation", "equation*", "split",
                           "gathered", "gather", "gather*", "displaymath", "math"})
_CASES = frozenset({"cases", "dcases", "cases*"})
_HINT = (r"derivcheck reads \frac, \cdot, \times, \left( \right), \hat{y}, \sigma, \tanh, \exp, "
         r"\log, \max, \text{ReLU}, \begin{cases}, \mathbb{1}[z > 0] and Greek letters")


class LatexSource:
    """A LaTeX formula cut into lexemes, with its braces matched."""

    def __init__(self, text: str):
        self.text = text
        self.lx, self.match = lex(text)

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
        return _Converter(self.text, self.lx, self.match, notes).convert(segment.lo, segment.hi)

def _layered(tokens: list) -> list:
    r"""``a^L``, ``z^{3}`` under a ``\nabla``: one name whose superscript is the layer (as
    Nielsen writes it); other tokens unchanged."""
    kinds = [t.type for t in tokens]
    if kinds in (["NAME", "POW", "NAME"], ["NAME", "POW", "NUMBER"],
                 ["NAME", "POW", "_LGROUP", "NAME", "_RGROUP"],
                 ["NAME", "POW", "_LGROUP", "NUMBER", "_RGROUP"]) and not tokens[0].value.script:
        stem, layer = tokens[0].value.name, str(tokens[-1].value if kinds[-1] != "_RGROUP"
                                                  else tokens[-2].value)
        unit = Unit(stem + layer, tokens[0].start_pos, tokens[-1].end_pos)
        word = Word((unit,), latex=True, layered=True, script=(stem, layer, None))
        return [tok("NAME", word, unit.start, unit.end)]
    return tokens


class _Converter(NameReader):
    """Turns lexemes into tokens; recursion only enters brace arguments, so it is bounded by
    the nesting depth checked before."""

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
        source = self.text[start:end]
        if loss_differential(top):
            quantity = differential(bottom)
            if quantity is None and len(bottom) == 1 and bottom[0].type == "NAME":
                quantity = bottom[0].value
                self.notes.warn(f"read {source} as {adjoint_name(quantity)} "
                                f"(the 'd' of d{quantity} is missing)")
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
        open_, close = tok("_LGROUP", "{", start, start + 1), tok("_RGROUP", "}", end - 1, end)
        return [tok("FRAC", "\\frac", start, start + 1), open_, *top, close, open_, *bottom, close]

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
        if name in TEXT_COMMANDS:
            return self._text(i, hi, out)
        if name in FONT_COMMANDS:
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
        if name == "sum":
            return self._sum(i, hi, out)
        if name == "nabla":
            return self._nabla(i, hi, out)
        if name in _INDEXED:
            raise self.error(f"'{lx.text}' cannot be read: derivcheck reads scalar formulas",
                             lx.start, "write the terms out for the scalar network")
        raise self.error(f"unknown LaTeX command '{lx.text}'", lx.start, _HINT)

    def _sum(self, i: int, hi: int, out: list[Token]) -> int:
        r"""``\sum_k``, ``\sum_{\forall j}``, ``\sum_{k=1}^{n}``: one ``SUM`` token whose
        scope index notation decides (:mod:`.index_notation`)."""
        start = self.lx[i].start
        j = self._skip_space(i + 1, hi)
        while j < hi and self.lx[j].kind == "cmd" and self.lx[j].text[1:] in ("limits",
                                                                          "nolimits"):
            j = self._skip_space(j + 1, hi)
        letter = lower = upper = None
        end = self.lx[i].end
        for _ in range(2):
            if self._is_char(j, hi, "_") and letter is None:
                lo, sub_hi, nxt = self._arg(j, hi)
                items = [lx for lx in self.lx[lo:sub_hi] if lx.kind != "space"
                         and lx.text not in ("\\forall", "{", "}")]
                if items and items[0].kind == "letter":
                    letter = items[0].text
                    rest = items[1:]
                    if rest and rest[0].text == "=":
                        lower = "".join(lx.text for lx in rest[1:])
                        rest = []
                    if rest:
                        letter = None
                if letter is None:
                    raise self.error(r"cannot read the index of this \sum", self.lx[j].start,
                                     r"write one index letter: \sum_k, \sum_{k=1}^{n} or "
                                     r"\sum_{\forall j}")
            elif self._is_char(j, hi, "^") and upper is None:
                lo, sup_hi, nxt = self._arg(j, hi)
                where = self.lx[lo].start if lo < sup_hi else self.lx[j].start
                raw = self.text[where:self.lx[sup_hi - 1].end] if lo < sup_hi else ""
                upper = (self.convert(lo, sup_hi), where, raw)
            else:
                break
            end = self.lx[nxt - 1].end
            j = self._skip_space(nxt, hi)
        if letter is None:
            raise self.error(r"'\sum' needs its index", start,
                             r"write the index under it: \sum_k or \sum_{k=1}^{n}")
        out.append(tok("SUM", SumMark(letter, lower, upper, start), start, end))
        return j

    def _nabla(self, i: int, hi: int, out: list[Token]) -> int:
        r"""Nielsen's ``\nabla_a C`` (BP1): the gradient of the loss with respect to the
        output activation a^L (``\nabla_{a^L} C``, ``\nabla_{z^2} C`` name their quantity):
        one ``ADJ`` token, as ``\frac{\partial C}{\partial a^L}``."""
        start = self.lx[i].start
        under = self._skip_space(i + 1, hi)
        quantity, j = [], under
        if self._is_char(under, hi, "_"):
            lo, sub_hi, nxt = self._arg(under, hi)
            quantity = _layered(self.convert(lo, sub_hi))
            j = self._skip_space(nxt, hi)
        loss = self.convert(j, j + 1) if j < hi and self.lx[j].kind == "letter" else []
        if (len(quantity) != 1 or quantity[0].type != "NAME"
                or not loss_differential([tok("PARTIAL", "d", start, start), *loss])):
            raise self.error(r"cannot read this \nabla as a gradient of the loss", start,
                             r"write \nabla_a C (Nielsen's BP1), or \frac{\partial C}"
                             r"{\partial a^L}")
        word = quantity[0].value
        end = self.lx[j].end
        if word.name == "a" and not word.script:     # the output activation a^L
            unit = Unit("aL", word.start, word.end)
            word = Word((unit,), latex=True, layered=True, script=("a", "L", None))
            self.notes.read(f"read {self.text[start:end]} as dC/da^L, the gradient with "
                            "respect to the output activation (Nielsen's BP1)")
        out.append(tok("ADJ", word, start, end))
        return j + 1

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
        if lx.text in _DELIMITERS:
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
            return self._emit_superscript(i, "power" if shape.startswith(("layer:", "example:")) else shape,
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
