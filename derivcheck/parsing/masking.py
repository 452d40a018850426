r"""cs231n's masking line, pasted with the line before it.

cs231n's two-layer net computes the hidden gradient in two statements::

    dhidden = np.dot(dscores, W2.T)
    dhidden[hidden_layer <= 0] = 0

:func:`split_masking` recognises exactly that shape (a statement ``q = ...`` and then
``q[condition] = 0``, on two lines or after ``;``) and gives the two parts with everything
else blanked out, so each is read with its positions into the text as typed;
:func:`parse_formula <derivcheck.parsing.parse_formula>` then reads the pair as
``(...) * (1 - [condition])``: the value ``q`` holds after the masking line. Any other
text gives None and is read as before.

>>> first, mask, line = split_masking("dhidden = dscores @ W2.T\ndhidden[H <= 0] = 0")
>>> first.rstrip(), mask.strip(), line
('dhidden = dscores @ W2.T', '[H <= 0]', 'dhidden[H <= 0] = 0')
>>> len(mask) == len("dhidden = dscores @ W2.T\ndhidden[H <= 0] = 0")
True
>>> split_masking("dW = a\nb[x] = 0") is None    # b is not what the first line assigned
True
"""
from __future__ import annotations

import re

__all__ = ["split_masking"]

_MASK = re.compile(r"(?P<sep>;|\n)\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*"
                   r"(?P<cond>\[[^\[\]\n;]+\])\s*=\s*0(?:\.0*)?\s*;?\s*$")
_FIRST = re.compile(r"^\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*=[^=]")


def _blank(text: str, keep: tuple[int, int]) -> str:
    """``text`` with every character outside ``keep`` a space (newlines kept)."""
    lo, hi = keep
    return "".join(c if lo <= i < hi or c == "\n" else " " for i, c in enumerate(text))


def split_masking(text: str):
    """(the first statement, the masking condition in brackets, each the whole text with
    the rest blanked; the masking line); None unless ``text`` is ``q = ...`` then
    ``q[cond] = 0``."""
    mask = _MASK.search(text)
    if mask is None:
        return None
    before = text[:mask.start()]
    first = _FIRST.match(before)
    if first is None or first["name"] != mask["name"] or ";" in before:
        return None
    return (_blank(text, (0, mask.start())),
            _blank(text, (mask.start("cond"), mask.end("cond"))),
            text[mask.start("name"):].strip().rstrip(";").strip())
