"""Results as text for people: the verdict line first, then the witness as a small
table, then the diagnosis, then how it was decided (CONTRACT section 2)."""
from __future__ import annotations

import textwrap

from ..decide.evaluate import format_value

__all__ = ["format_result", "format_gradients"]

_HEADLINES = {
    "equivalent": "equivalent: the formula is the gradient (at every point, kinks included)",
    "equivalent_almost_everywhere": "equivalent_almost_everywhere: equal except at a kink",
    "not_equivalent": "not_equivalent: the formula is not the gradient",
    "unknown": "unknown: could not decide",
}


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
    rows += [f"  entry       {witness.entry}",
             f"  candidate   {shown['candidate']}",
             f"  true value  {shown['expected']}"]
    if witness.step0 is not None:
        rows.append(f"  with Step(0) = {format_value(witness.step0)}")
    return rows


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(text, width=88, initial_indent=indent, subsequent_indent=indent)


def format_result(result) -> str:
    """The text the ``check`` command prints."""
    wrt = result.wrt if getattr(result.network, "is_matrix", False) else f"dC/d{result.wrt}"
    lines = [f"{_HEADLINES[result.verdict]}  ({wrt})"]
    if result.reason:
        lines += _wrap("why: " + result.reason, "  ")
    lines.append(f"  candidate read as: {result.candidate}")
    for r in result.readings:
        lines.append(f"  note: {r}")
    for w in result.warnings:
        lines.append(f"  warning: {w}")
    if result.counterexample:
        lines += _table(result.counterexample, "counterexample (exact; off the kinks"
                        + (", assuming " + ", ".join(result.assumptions)
                           if result.assumptions else "") + ")")
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
    lines += [f"dC/d{k} = {v}" for k, v in gradients.items()]
    return "\n".join(lines)
