r"""Reading LaTeX lexemes: the lexer, and names with their subscripts and superscripts.

:func:`lex` cuts LaTeX into lexemes (commands, letters, numbers, single characters) and
matches the braces. :class:`NameReader` reads names the way the contract maps them to plain
names, by dropping markup: ``w_1`` and ``w_{1}`` are ``w1``, ``W^{(1)}_{12}`` is ``W1_12``,
``\hat{y}`` is ``yhat``, ``z^{(k+1)}_j`` is ``zk1_j``; a superscript that is no layer index
and no transpose is a power.

See :func:`lex`; :mod:`derivcheck.parsing.latex` uses both.
"""
from __future__ import annotations

import re
from typing import NamedTuple

from lark import Token

from ..errors import ParseError
from .tokens import Notes, Unit, Word, tok
from .vocabulary import ACCENTS, GREEK

__all__ = ["Lx", "lex", "NameReader", "TEXT_COMMANDS", "FONT_COMMANDS"]

_LEX = re.compile(r"""
    (?P<cmd>\\[A-Za-z]+\*?)
  | (?P<sym>\\[^A-Za-z])
  | (?P<num>[0-9]+(?:\.[0-9]+)?|\.[0-9]+)
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


def lex(text: str) -> tuple[list[Lx], dict[int, int]]:
    r"""The lexemes of ``text`` (comments dropped) and the index of each ``{``'s ``}``.

    >>> lexemes, match = lex(r"\hat{y}_1")
    >>> [lx.kind for lx in lexemes], match
    (['cmd', 'char', 'letter', 'char', 'char', 'num'], {1: 3})
    """
    lexemes = [Lx(m.lastgroup, m.group(), m.start(), m.end()) for m in _LEX.finditer(text)
               if m.lastgroup != "comment"]
    match: dict[int, int] = {}
    stack: list[int] = []
    for i, lx in enumerate(lexemes):
        if lx.kind == "char" and lx.text == "{":
            stack.append(i)
        elif lx.kind == "char" and lx.text == "}":
            if not stack:
                raise ParseError("'}' closes no '{'", text=text, position=lx.start,
                                 hint="remove it, or add the '{' it belongs to")
            match[stack.pop()] = i
    if stack:
        raise ParseError("'{' is never closed", text=text, position=lexemes[stack[0]].start,
                         hint="add the missing '}'")
    return lexemes, match


TEXT_COMMANDS = frozenset({"text", "textrm", "textit", "textnormal", "textsf", "texttt", "mathrm",
                   "operatorname", "mbox"})
FONT_COMMANDS = frozenset({"mathbf", "boldsymbol", "bm", "mathit", "mathcal", "mathsf", "mathbb",
                           "mathds", "mathscr", "mathfrak", "pmb", "textbf", "mathnormal"})
_WITH_ARG = TEXT_COMMANDS | FONT_COMMANDS | frozenset(ACCENTS)
#: What may follow ``\\mathbb{1}`` for it to be an indicator.
_INDICATOR_FOLLOWERS = frozenset({"[", "(", "_", "\\{", "\\left", "\\lbrace", "\\big", "\\Big",
                                  "\\bigl", "\\Bigl"})
_CONDITION_WORDS = frozenset({"if", "for", "when", "where", ""})
_OTHERWISE_WORDS = frozenset({"otherwise", "else", "elsewhere", "o.w"})
_LAYER = re.compile(r"[0-9]+|[A-Za-z][A-Za-z0-9]*(?:[+-][0-9]+)?")
#: deeplearning.ai's superscript of one example of a layer's quantity: ``[1](i)``.
_EXAMPLE = re.compile(r"\[(?P<layer>[0-9]+|[A-Za-z](?:[+-][0-9]+)?|L)\]\((?P<index>[0-9]+|[A-Za-z])\)")
_TRANSPOSE = frozenset({"T", "\\top", "\\intercal", "\\mathsf{T}", "\\mathrm{T}", "\\text{T}",
                        "\\mathsfT", "\\mathrmT"})


#: Libraries whose calls (``np.sum(...)``) may stand inside LaTeX.
_LIBRARIES = frozenset({"np", "numpy", "jnp", "torch"})


class NameReader:
    """Reads names and scripts from lexemes. The subclass supplies ``convert(lo, hi)``, which
    turns any stretch of lexemes into tokens (an argument may hold a whole formula)."""

    def __init__(self, text: str, lexemes: list[Lx], match: dict[int, int], notes: Notes):
        self.text, self.lx, self.match, self.notes = text, lexemes, match, notes
        self.cases = 0

    def error(self, message: str, position: int, hint: str | None = None) -> ParseError:
        return ParseError(message, text=self.text, position=position, hint=hint)

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
                      or (lx.kind == "cmd" and lx.text[1:] in TEXT_COMMANDS | FONT_COMMANDS)):
                raise self.error(f"cannot read '{lx.text}' in {what}", lx.start,
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
        call = self._library_call(word, j, hi, units[0].start)
        if call is not None:
            out.append(call[0])
            return call[1]
        if self.cases and word in _CONDITION_WORDS:
            return j
        if self.cases and word in _OTHERWISE_WORDS:
            out.append(tok("OTHERWISE", word, units[0].start, units[-1].end))
            return j
        return self._scripts(j, hi, units, out)

    def _library_call(self, word: str, j: int, hi: int, start: int):
        """``np.sum(`` inside LaTeX, as deeplearning.ai's slides mix them
        (``\\frac{1}{m} np.sum(dZ^{[1]}, axis=1, keepdims=True)``): the FUNC token the plain
        front end gives, and the index after the function's name; None for other words."""
        if word not in _LIBRARIES or not self._is_char(j, hi, "."):
            return None
        k = j + 1
        while k < hi and self.lx[k].kind == "letter":
            k += 1
        name = self.text[self.lx[j + 1].start:self.lx[k - 1].end] if k > j + 1 else ""
        if not name or not self._is_char(self._skip_space(k, hi), hi, "("):
            return None
        from .plain import numpy_function
        return tok("FUNC", numpy_function(name, start), start, self.lx[k - 1].end), k

    def _scripts(self, j: int, hi: int, units: list[Unit], out: list[Token]) -> int:
        """Subscripts and layer superscripts become part of the name; a power ends it."""
        sub = layer = raw_layer = example = None
        transposes: list[Token] = []
        end = units[-1].end
        while True:
            k = self._skip_space(j, hi)
            if self._is_char(k, hi, "_"):
                if sub is not None:
                    raise self.error("a second subscript", self.lx[k].start,
                                     "write one subscript, e.g. w_{12}")
                lo, sub_hi, j = self._arg(k, hi)
                sub = self._flat(lo, sub_hi, "a subscript")
            elif self._is_char(k, hi, "^"):
                shape, lo, sup_hi, nxt = self._superscript(k, hi)
                if shape == "transpose":
                    transposes.append(tok("TRANSPOSE", "T", self.lx[k].start,
                                          self.lx[nxt - 1].end))
                    j = nxt
                    continue
                elif shape.startswith("primed:") and layer is None and sub is None:
                    # g^{[1]'}(Z^{[1]}): g' at its argument, whose layer the argument names
                    self._emit_name(units, None, None, end, out, None)
                    out.append(tok("PRIME", "'", self.lx[k].start, self.lx[nxt - 1].end))
                    self.notes.read(f"read {self.text[units[0].start:self.lx[nxt - 1].end]} "
                                    f"as {''.join(u.text for u in units)}', the derivative of "
                                    f"layer {shape[len('primed:'):]}'s activation at its "
                                    "argument")
                    return nxt
                elif shape.startswith("example:") and layer is None:
                    _, raw_layer, example = shape.rstrip("'").split(":")
                    layer = re.sub(r"[^A-Za-z0-9]", "", raw_layer)
                    if shape.endswith("'"):
                        transposes.append(tok("TRANSPOSE", "T", self.lx[k].start,
                                              self.lx[nxt - 1].end))
                elif shape.startswith("layer:") and layer is None:
                    layer = shape[len("layer:"):].rstrip("'")
                    raw_layer = self._layer_text(lo, sup_hi)
                    if shape.endswith("'"):
                        transposes.append(tok("TRANSPOSE", "T", self.lx[k].start,
                                              self.lx[nxt - 1].end))
                else:
                    after = self._skip_space(nxt, hi)
                    if sub is None and shape != "paren" and self._is_char(after, hi, "_"):
                        # a_k^{2} and a^{2}_k are one name with its subscript, then the
                        # superscript (a power, or Nielsen's layer)
                        sub_lo, sub_hi, sub_next = self._arg(after, hi)
                        sub = self._flat(sub_lo, sub_hi, "a subscript")
                        self._emit_name(units, sub, layer, self.lx[sub_next - 1].end, out,
                                        raw_layer)
                        out.extend(transposes)
                        self._emit_superscript(k, shape, lo, sup_hi, nxt, out)
                        return sub_next
                    self._emit_name(units, sub, layer, end, out, raw_layer)
                    out.extend(transposes)
                    return self._emit_superscript(k, shape, lo, sup_hi, nxt, out)
                j = nxt
            else:
                break
            end = self.lx[j - 1].end
        self._emit_name(units, sub, layer, end, out, raw_layer, example)
        out.extend(transposes)
        return j

    def _layer_text(self, lo: int, hi: int) -> str:
        """A layer index as written, without its brackets or a transpose: ``k+1``."""
        items = [lx.text for lx in self.lx[lo:hi] if lx.kind != "space"]
        if items and items[-1] in _TRANSPOSE:
            items = items[:-1]
        return "".join(items[1:-1])

    def _emit_name(self, units, sub, layer, end, out, raw_layer=None, example=None) -> None:
        last = units[-1]
        text = last.text + (layer or "")
        if sub:
            text += ("_" if layer or last.text[-1].isdigit() else "") + sub
        script = (last.text, raw_layer, sub or None) if sub or raw_layer else None
        units = (*units[:-1], Unit(text, last.start, end))
        word = Word(units, latex=True, layered=layer is not None, script=script)
        if example is not None:
            word.example = (int(example) if example.isdigit() else example, None)
        out.append(tok("NAME", word, units[0].start, end))

    def _superscript(self, k: int, hi: int) -> tuple[str, int, int, int]:
        """``(shape, lo, hi, next)`` of the superscript at ``k``; shape is ``paren``,
        ``transpose``, ``prime``, ``layer:<index>``, ``primed:<index>`` (deeplearning.ai's
        ``g^{[1]'}``, layer 1's activation derivative) or ``power``."""
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
        primed = len(items) > 1 and items[-1] in ("\\prime", "'")  # g^{[1]'}
        core = items[:-1] if transposed or primed else items
        pairs = {"(": ")", "[": "]"}
        example = _EXAMPLE.fullmatch("".join(core))
        if example and not primed:   # z^{[1](i)}: layer 1, example i's column
            mark = "'" if transposed else ""
            return (f"example:{example['layer']}:{example['index']}{mark}", lo, sup_hi, nxt)
        if len(core) > 2 and core[0] in pairs and core[-1] == pairs[core[0]]:
            inner = "".join(core[1:-1])
            if _LAYER.fullmatch(inner):
                if primed:
                    return "primed:" + inner, lo, sup_hi, nxt
                mark = "'" if transposed else ""
                return "layer:" + re.sub(r"[^A-Za-z0-9]", "", inner) + mark, lo, sup_hi, nxt
        return "power", lo, sup_hi, nxt

    def _emit_superscript(self, k, shape, lo, hi, nxt, out) -> int:
        caret = self.lx[k]
        if shape == "transpose":
            out.append(tok("TRANSPOSE", "T", caret.start, self.lx[nxt - 1].end))
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
        inner = self._flat(lo, arg_hi, "an accent")
        if not inner:
            raise self.error(f"'{self.lx[i].text}' needs a letter", self.lx[i].start,
                             "write e.g. \\hat{y}")
        unit = Unit(inner + suffix, self.lx[i].start, self.lx[nxt - 1].end)
        return self._scripts(nxt, hi, [unit], out)

    def _text(self, i: int, hi: int, out: list[Token]) -> int:
        lo, arg_hi, nxt = self._arg(i, hi)
        raw = self.text[self.lx[lo].start:self.lx[arg_hi - 1].end] if lo < arg_hi else ""
        content = raw.strip().strip(",.;:").strip().replace("\\_", "_")
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
        """``\\mathbf{W}`` is ``W``; ``\\mathbb{1}`` before ``[``, ``(``, ``\\{`` or ``_`` is an
        indicator."""
        lo, arg_hi, nxt = self._arg(i, hi)
        items = [lx for lx in self.lx[lo:arg_hi] if lx.kind != "space"]
        start = self.lx[i].start
        after = self._skip_space(nxt, hi)
        if ([lx.text for lx in items] in (["1"], ["I"])
                and after < hi and self.lx[after].text in _INDICATOR_FOLLOWERS):
            out.append(tok("INDICATOR", "1", start, self.lx[nxt - 1].end))
            if self.lx[after].text != "_":
                return after
            sub_lo, sub_hi, sub_next = self._arg(after, hi)
            out.extend(self._group(sub_lo, sub_hi, self.lx[after].start, self.lx[sub_next - 1].end))
            return sub_next
        if items and all(lx.kind == "letter" for lx in items):
            return self._scripts(nxt, hi, [Unit(lx.text, lx.start, lx.end) for lx in items], out)
        if len(items) == 1 and items[0].kind == "cmd" and items[0].text[1:] in GREEK:
            unit = Unit(items[0].text[1:], start, self.lx[nxt - 1].end)
            return self._scripts(nxt, hi, [unit], out)
        out.extend(self._group(lo, arg_hi, start, self.lx[nxt - 1].end))
        return nxt
