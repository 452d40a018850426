"""Errors a user can act on: what is wrong, where (a caret under the text), and a hint.

Every error derivcheck raises for bad input is a :class:`DerivcheckError`; the CLI prints
it with :meth:`DerivcheckError.render` and exits 2, and ``--format json`` prints
:meth:`DerivcheckError.to_json`. Nothing else ever reaches the user as a traceback.

>>> err = ParseError("expected an operand", text="(y - ReLU(w_1 x)(x", position=16,
...                  hint="a ')' is probably missing")
>>> print(err.render())
error: expected an operand at column 17
  (y - ReLU(w_1 x)(x
                  ^
hint: a ')' is probably missing
"""
from __future__ import annotations

__all__ = ["error_json", "DerivcheckError", "ParseError", "NameError_", "SpecError",
           "LimitError", "NetworkLimitError", "AssumptionError", "UsageError", "PdfError",
           "OutputError"]


def error_json(kind: str, message: str, position: int | None = None, *,
               hint: str | None = None, suggestion: str | None = None) -> dict:
    """The JSON of an error, in the one shape every command prints.

    >>> error_json("limit_exceeded", "too deep")["verdict"]
    'error'
    """
    return {"verdict": "error",
            "error": {"kind": kind, "message": message, "position": position,
                      "hint": hint, "suggestion": suggestion}}


class DerivcheckError(Exception):
    """Base of all user-facing errors (exit code 2)."""

    kind = "error"

    def __init__(self, message: str, *, text: str | None = None, position: int | None = None,
                 hint: str | None = None, suggestion: str | None = None):
        super().__init__(message)
        self.message = message
        self.text = text
        self.position = position
        self.hint = hint
        self.suggestion = suggestion

    def render(self) -> str:
        """Human-readable message with a caret line under the offending column."""
        where = f" at column {self.position + 1}" if self.position is not None else ""
        lines = [f"error: {self.message}{where}"]
        if self.text is not None and self.position is not None:
            line_start = self.text.rfind("\n", 0, self.position) + 1
            line_end = self.text.find("\n", self.position)
            line = self.text[line_start: line_end if line_end >= 0 else len(self.text)]
            col = self.position - line_start
            if len(line) > 120:  # keep a window around the caret
                lo = max(0, col - 60)
                line, col = line[lo: lo + 120], col - lo
            lines += ["  " + line, "  " + " " * col + "^"]
        if self.suggestion:
            lines.append(f"did you mean: {self.suggestion}?")
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines)

    def to_json(self) -> dict:
        """``{"verdict": "error", "error": {...}}`` per the contract, every key present.

        >>> SpecError("no network given").to_json()["error"]["hint"] is None
        True
        """
        return error_json(self.kind, self.message, self.position, hint=self.hint,
                          suggestion=self.suggestion)

    def __str__(self) -> str:
        return self.render()


class ParseError(DerivcheckError):
    """A candidate or equation that cannot be read."""

    kind = "parse_error"


class NameError_(ParseError):
    """A name that matches nothing in the network."""

    kind = "unknown_name"


class SpecError(DerivcheckError):
    """A network description that does not make a network."""

    kind = "network_error"


class LimitError(DerivcheckError):
    """Input past a size, depth or time limit."""

    kind = "limit_exceeded"


class NetworkLimitError(LimitError, SpecError):
    """A network past a size limit (layers, widths, parameters, file size): reported as
    ``limit_exceeded``, and still a :class:`SpecError` for code that catches those."""

    kind = "limit_exceeded"


class AssumptionError(DerivcheckError):
    """An --assume condition that cannot be read."""

    kind = "assumption_error"


class UsageError(DerivcheckError, ValueError):
    """An option given a value it does not take (``form="pretty"``); still a
    :class:`ValueError` for code that catches those."""

    kind = "usage_error"


class PdfError(DerivcheckError):
    """pdflatex missing or failing."""

    kind = "pdf_error"


class OutputError(DerivcheckError):
    """An output that cannot be written (a read-only folder, a folder as the output path,
    a full disk, an output that is also the input)."""

    kind = "output_error"

