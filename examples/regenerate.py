"""Regenerate the example sheets and report in this folder (.tex and .pdf).

    python examples/regenerate.py

* ``sheet_seed_relu3``: the seed question's 3-layer ReLU chain, weights named the asker's
  way (w3, w2, w1 from the input side), with x > 0;
* ``sheet_sigmoid4``: a sigmoid chain of depth 4 (the vanishing-gradient bound);
* ``sheet_mlp_2_3_1``: an MLP with widths 2-3-1, ReLU hidden layer, identity output;
* ``report_seed_1layer``: the check of the asker's 1-layer formula (y - ReLU(w_1x))(x);
* ``sheet_ng_2layer``: deeplearning.ai's 2-layer network (tanh hidden, sigmoid output, BCE,
  a batch of m) in the ng style: shapes, forward pass, the six equations, backward pass;
* ``report_ng_dW1``: the check of ``dW1 = dZ1 @ X.T`` on it (the 1/m is missing), with the
  counterexample's matrices.

PDFs are made reproducible (fixed SOURCE_DATE_EPOCH), so an unchanged example gives an
unchanged file.
"""
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a source checkout without installing

from derivcheck.decide.check import check  # noqa: E402
from derivcheck.core.matrix.network import MatrixNetwork  # noqa: E402
from derivcheck.core.network import chain, mlp  # noqa: E402
from derivcheck.write.matrix_sheet import matrix_report_source, matrix_sheet_source  # noqa: E402
from derivcheck.write.pdf import write_tex_or_pdf  # noqa: E402
from derivcheck.write.report import report_source  # noqa: E402
from derivcheck.write.sheet import sheet_source  # noqa: E402

#: name -> (network, assumptions shown on the sheet)
SHEETS = {
    "sheet_seed_relu3": (lambda: chain(["w3", "w2", "w1"], "relu"), ["x > 0"]),
    "sheet_sigmoid4": (lambda: chain(["w1", "w2", "w3", "w4"], "sigmoid"), []),
    "sheet_mlp_2_3_1": (lambda: mlp([2, 3, 1], ["relu", "identity"]), []),
}


def seed_report() -> str:
    """The asker's 1-layer formula, checked with x > 0 (verdict: not_equivalent)."""
    result = check(chain(["w1"], "relu"), "(y-ReLU(w_1x))(x)", wrt="w1", assume=["x > 0"])
    result.elapsed = 0.0  # timings vary from run to run; keep the committed files stable
    return report_source(result)


def ng_network():
    """deeplearning.ai's 2-layer network with size names."""
    return MatrixNetwork(["n0", "n1", 1], "tanh,sigmoid", "bce", batch="m", bias=True,
                         style="ng")


def ng_report() -> str:
    """dW1 without the 1/m of the mean (verdict: not_equivalent, missing_batch_mean)."""
    result = check(ng_network(), "dW1 = dZ1 @ X.T")
    result.elapsed = 0.0
    return matrix_report_source(result)


def main() -> int:
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1700000000")
    sources = {name: sheet_source(build(), assume=assume)
               for name, (build, assume) in SHEETS.items()}
    sources["report_seed_1layer"] = seed_report()
    sources["sheet_ng_2layer"] = matrix_sheet_source(ng_network())
    sources["report_ng_dW1"] = ng_report()
    for name, source in sources.items():
        for suffix in (".tex", ".pdf"):
            print(write_tex_or_pdf(source, HERE / f"{name}{suffix}").relative_to(HERE.parent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
