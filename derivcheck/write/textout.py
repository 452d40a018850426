"""Results as text for people: the verdict line first, then the witness as a small
table, then the diagnosis, then how it was decided (CONTRACT section 2)."""
from __future__ import annotations

import textwrap

from ..core.gradients import adjoint_name
from ..core.printing import format_value
from ..decide.verdict import Verdict

__all__ = ["format_result", "format_gradients"]

_HEADLINES = {v: f"{v}: {words}" for v, words in {
    Verdict.EQUIVALENT: "the formula is the gradient (at every point, kinks included)",
    Verdict.EQUIVALENT_ALMOST_EVERYWHERE: "equal except at a kink",
    Verdict.NOT_EQUIVALENT: "the formula is not the gradient",
    Verdict.UNKNOWN: "could not decide",
}.items()}


def _table(witness, label: str) -> list[str]:
    matrices = getattr(witness, "matrices", None)
    if matrices:
        return _matrix_table(witness, label)
    point = ", ".join(f"{k} = {format_value(v)}" for k, v in witness.point.items())
    rows = [f"{label}:", f"  point       {point}",
            f"  candidate   {format_value(witness.candidate)}",
            f"  true value  {format_value(witness.expected)}"]
    if witness.step0 is not None:
        rows.append(f"  with Step(0) = {format_value(witness.step0)}")
    return rows


def _matrix_table(witness, label: str) -> list[str]:
    """Sizes, each matrix row by row (exact), the entry that differs and both values."""
    sizes = ", ".join(f"{k} = {v}" for k, v in witness.sizes.items()) or "the network's own"
    rows = [f"{label}:", f"  sizes       {sizes}"]
    for name, matrix in witness.matrices.items():
        cells = [[format_value(v) for v in row] for row in matrix]
        width = max((len(c) for row in cells for c in row), default=1)
        for i, row in enumerate(cells):
            head = f"  {name:<11} " if i == 0 else " " * 14
            rows.append(head + "[" + " ".join(c.rjust(width) for c in row) + "]")
    shown = witness.to_json()
    rows += [f"  entry       {witness.entry}"]
    rows += _value_rows("candidate", witness.candidate, shown["candidate"])
    rows += _value_rows("true value", witness.expected, shown["expected"])
    if witness.step0 is not None:
        rows.append(f"  with Step(0) = {format_value(witness.step0)}")
    return rows


def _value_rows(label: str, value, shown: str) -> list[str]:
    """One side of the witness: a number on its line; a whole matrix (a shape witness)
    row by row under its shape, inexact entries to 6 digits (the JSON keeps them all)."""
    if isinstance(value, str) or getattr(value, "ndim", 0) == 0:
        return [f"  {label:<11} {shown}"]
    matrix = value if value.ndim == 2 else value.reshape(1, -1)
    cells = [[format_value(v, digits=6) for v in row] for row in matrix]
    width = max(len(c) for row in cells for c in row)
    rows = [f"  {label:<11} a {matrix.shape[0]} x {matrix.shape[1]} matrix:"]
    return rows + [" " * 14 + "[" + " ".join(c.rjust(width) for c in row) + "]" for row in cells]


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(text, width=88, initial_indent=indent, subsequent_indent=indent)


def format_result(result) -> str:
    """The text the ``check`` command prints."""
    matrix = getattr(result.network, "is_matrix", False)
    wrt = result.wrt if matrix else adjoint_name(result.wrt)
    lines = [f"{_HEADLINES[result.verdict]}  ({wrt})"]
    if result.reason:
        lines += _wrap("why: " + result.reason, "  ")
    lines.append(f"  candidate read as: {result.candidate}")
    for r in result.readings:
        lines.append(f"  note: {r}")
    for w in result.warnings:
        lines.append(f"  warning: {w}")
    if result.counterexample:
        dead = result.counterexample.dead
        lines += _table(result.counterexample, "counterexample (exact; off the kinks"
                        + (", assuming " + ", ".join(result.assumptions)
                           if result.assumptions else "")
                        + ("; " + ", ".join(dead) + " = 0 on a whole region around it, "
                           "after a dead unit" if dead else "") + ")")
    if result.kink_point:
        lines += _table(result.kink_point, "kink point where they differ")
    if result.diagnosis:
        lines.append("diagnosis:")
        for d in result.diagnosis:
            where = f" (layer {d.layer})" if d.layer is not None else ""
            lines += _wrap(f"{d.kind}{where}: {d.message}", "  ")
    lines.append(f"correct gradient: {result.gradient}")
    for name, text in result.definitions.items():
        lines.append(f"  where {name} = {text}")
    lines.append(f"decided by: {result.method}, kink convention {result.kink_convention}")
    lines += _wrap(result.method_detail, "  ")
    return "\n".join(lines)


def format_gradients(gradients: dict, definitions: dict) -> str:
    """``gradient`` command text: definitions first, then each gradient."""
    lines = [f"{k} = {v}" for k, v in definitions.items()]
    if lines:
        lines.append("")
    lines += [f"{adjoint_name(k)} = {v}" for k, v in gradients.items()]
    return "\n".join(lines)
