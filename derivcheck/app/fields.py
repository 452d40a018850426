"""Checking the fields of a record a user wrote (a batch line, a question file) against a
small schema, with messages that name the field and say what it should hold.

One :class:`Field` per field: its name, the kinds of value it accepts, whether it is
required, and what it is for. :func:`validate` returns the values (a lone string where a
list of strings is expected becomes a one-element list: ``assume = "x > 0"`` is one
condition, not five characters) or raises the error class it is given.

>>> from derivcheck.errors import SpecError
>>> FORMULA = (Field("text", TEXT, required=True, about="the formula"),
...            Field("assume", TEXTS, about='conditions such as "x > 0"'))
>>> validate({"text": "x", "assume": "x > 0"}, FORMULA, "formulas[1]", SpecError)
{'text': 'x', 'assume': ['x > 0']}
>>> validate({"assume": 5}, FORMULA, "formulas[1]", SpecError)
Traceback (most recent call last):
derivcheck.errors.SpecError: error: formulas[1]: 'text' is missing (the formula)
>>> validate({"text": "x", "asume": []}, FORMULA, "formulas[1]", SpecError)
Traceback (most recent call last):
derivcheck.errors.SpecError: error: formulas[1]: unknown field 'asume'
did you mean: assume?
hint: fields: text, assume
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass

__all__ = ["Kind", "Field", "validate", "TEXT", "TEXTS", "TABLE", "TABLES", "INTEGER",
           "describe"]


@dataclass(frozen=True)
class Kind:
    """A kind of value: what to call it, and a test."""

    name: str
    test: object  # value -> bool

    def accepts(self, value) -> bool:
        return bool(self.test(value))


TEXT = Kind("a string", lambda v: isinstance(v, str))
TEXTS = Kind("a list of strings",
             lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v))
TABLE = Kind("an object (a table of fields)", lambda v: isinstance(v, dict))
TABLES = Kind("a list of objects",
              lambda v: isinstance(v, list) and all(isinstance(x, dict) for x in v))
INTEGER = Kind("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool))


def describe(value) -> str:
    """What a value is, in a user's words.

    >>> describe(3), describe("x"), describe(["a", 1]), describe(None), describe(True)
    ('a number', 'a string', 'a list holding a number', 'null', 'a boolean')
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        odd = next((x for x in value if not isinstance(x, str)), value[0] if value else None)
        return f"a list holding {describe(odd)}" if value else "an empty list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


@dataclass(frozen=True)
class Field:
    """One field of a record: its name, the kinds it accepts, and what it is for."""

    name: str
    kinds: Kind | tuple
    required: bool = False
    about: str = ""

    def check(self, value, where: str, error):
        kinds = self.kinds if isinstance(self.kinds, tuple) else (self.kinds,)
        if not any(k.accepts(value) for k in kinds):
            if TEXTS in kinds and TEXT.accepts(value):
                return [value]
            want = " or ".join(k.name for k in kinds)
            about = f" ({self.about})" if self.about else ""
            raise error(f"{where}: {self.name!r} must be {want}{about}, not "
                        f"{describe(value)}")
        return value


def validate(data, fields, where: str, error, *, open_fields: bool = False) -> dict:
    """``data``'s fields checked against ``fields``: {name: value} for those present.

    ``where`` names the record in messages (``"line 3"``, ``"formulas[2]"``); ``error``
    is the error class raised; ``open_fields`` lets unknown fields through.
    """
    if not isinstance(data, dict):
        raise error(f"{where}: must be an object with the fields "
                    + ", ".join(f.name for f in fields) + f", not {describe(data)}")
    names = [f.name for f in fields]
    if not open_fields:
        for key in data:
            if key not in names:
                close = difflib.get_close_matches(str(key), names, n=1, cutoff=0.6)
                raise error(f"{where}: unknown field {key!r}",
                            suggestion=close[0] if close else None,
                            hint="fields: " + ", ".join(names))
    out = {}
    for f in fields:
        if f.name in data:
            out[f.name] = f.check(data[f.name], where, error)
        elif f.required:
            about = f" ({f.about})" if f.about else ""
            raise error(f"{where}: {f.name!r} is missing{about}")
    return out
