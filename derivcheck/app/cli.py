"""The ``derivcheck`` command: a thin shell over the API (parse args, call, format).

Exit codes: 0 equivalent (or almost everywhere), 1 not equivalent, 2 bad input,
3 unknown, 4 internal error.
"""
from __future__ import annotations

import argparse
import json
import sys

from .. import __version__
from ..errors import DerivcheckError, SpecError
from ..limits import DEFAULT_TIMEOUT, MAX_TEXT_LENGTH

__all__ = ["main", "build_parser", "network_from_args"]

EPILOG = """\
networks:
  a chain      --weights w1,w2,w3 --act relu [--biases b1,b2,b3] [--loss half_squared]
  per layer    --weights W0,W1 --act relu,sigmoid --loss bce
  an MLP       --widths 2,3,1 --act relu,identity [--bias]
  equations    --forward "z1 = w1*x + b1" --forward "h = relu(z1)" --forward "yhat = w2*h"
  a file       --net network.toml   (the same fields: weights, activations, widths, forward...)

examples:
  derivcheck check --weights w1 --act relu --wrt w1 --assume "x > 0" "(y - relu(w1*x))*x"
  derivcheck check --weights W0 --act relu '\\frac{\\partial C}{\\partial W^{(0)}} = (ReLU(W^{(0)}x) - y)Step(W^{(0)}x)x'
  derivcheck gradient --weights w1,w2,w3 --act relu --format json
  derivcheck sheet --weights w3,w2,w1 --act relu -o sheet.pdf
  derivcheck vectors --widths 2,3,1 --act relu,identity --kinks --kink-convention torch
  derivcheck parse '\\sigma'(z^{(1)}) \\cdot W^{(1)}_{12}'
  derivcheck run examples/seed_003.toml --out out

exit codes: 0 equivalent / equivalent_almost_everywhere, 1 not_equivalent, 2 bad input,
3 unknown, 4 internal error.
"""


def _network_options(p: argparse.ArgumentParser, required: bool = True) -> None:
    g = p.add_argument_group("network")
    g.add_argument("--weights", help="chain weights, input side first: w1,w2,w3")
    g.add_argument("--act", "--activations", dest="act",
                   help="one activation for all layers or one per layer: relu | "
                        "relu,sigmoid,leaky_relu(0.01) | prelu(a)")
    g.add_argument("--biases", help="chain biases, one per layer: b1,b2,b3")
    g.add_argument("--widths", help="MLP layer widths: 2,3,1")
    g.add_argument("--bias", action="store_true", help="MLP: a bias per unit")
    g.add_argument("--batch", help="MLP: a batch of examples, its size a name or a number (m)")
    g.add_argument("--style", help="MLP notation: ng, cs231n, nielsen or seed")
    g.add_argument("--reduce", help="MLP with a batch: mean (default) or sum of the losses")
    g.add_argument("--forward", action="append", metavar="EQUATION",
                   help='explicit forward equation "z1 = w1*x + b1" (repeat; the last '
                        "defines yhat)")
    g.add_argument("--input", help="input name(s): x or x1,x2 (default x)")
    g.add_argument("--target", help="target name(s) (default y)")
    g.add_argument("--loss", help="half_squared (default), squared, mse, bce, cross_entropy")
    g.add_argument("--net", metavar="FILE.toml", help="read the network from a TOML file")


def network_from_args(args, *, oracle: bool = False):
    """A Network from the network options (or --net); ``oracle``: for test vectors, within
    the oracle's limits."""
    from ..core.network import build
    from ..core.spec import NetworkSpec

    if args.net:
        return build(NetworkSpec.from_toml(args.net, oracle=oracle))
    data = {}
    if args.forward:
        data["forward"] = args.forward
    elif args.widths:
        data["widths"] = args.widths
        data["bias"] = args.bias
        for key in ("batch", "style", "reduce"):
            if getattr(args, key, None):
                data[key] = getattr(args, key)
    elif args.weights:
        data["weights"] = args.weights
    else:
        raise SpecError("no network given",
                        hint="describe it with --weights (a chain), --widths (an MLP), "
                             "--forward (equations) or --net FILE.toml; see --help")
    for key, value in (("activations", args.act), ("biases", args.biases),
                       ("input", args.input), ("target", args.target), ("loss", args.loss)):
        if value:
            data[key] = value
    return build(NetworkSpec.from_dict(data, oracle=oracle))


def _read_candidate(text: str) -> str:
    """CANDIDATE, ``-`` (standard input) or ``@FILE``."""
    if text == "-":
        text = sys.stdin.read(MAX_TEXT_LENGTH + 1)
    elif text.startswith("@"):
        try:
            with open(text[1:], encoding="utf-8") as fh:
                text = fh.read(MAX_TEXT_LENGTH + 1)
        except OSError as exc:
            raise SpecError(f"cannot read {text[1:]!r}: {exc.strerror}") from None
    return text.strip()


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    p = argparse.ArgumentParser(
        prog="derivcheck", formatter_class=fmt, epilog=EPILOG,
        description="Check hand-derived backpropagation gradients exactly: verdicts with "
                    "exact counterexamples, derivation sheets, and test vectors.")
    p.add_argument("--version", action="version", version=f"derivcheck {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    c = sub.add_parser("check", help="judge a candidate gradient formula", epilog=EPILOG,
                       formatter_class=fmt)
    _network_options(c)
    c.add_argument("--wrt", help="the parameter (may also come from a left side dC/dw1 =)")
    c.add_argument("--assume", action="append", default=[], metavar="COND",
                   help="a bound such as 'x > 0' (repeatable)")
    c.add_argument("--kink-convention", default="any",
                   help="any (default), 0, 1, 1/2, torch, jax, tensorflow")
    c.add_argument("--format", choices=("text", "json"), default="text")
    c.add_argument("--report", metavar="OUT.tex|OUT.pdf", help="write a LaTeX/PDF report")
    c.add_argument("--latex", action="store_true", help="read the candidate as LaTeX")
    c.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                   help="seconds before the answer is 'unknown' (default %(default)s)")
    c.add_argument("candidate", help="the formula; '-' reads standard input, @FILE a file")

    g = sub.add_parser("gradient", help="print exact gradients", epilog=EPILOG,
                       formatter_class=fmt)
    _network_options(g)
    g.add_argument("--wrt", action="append", help="parameter (repeatable; default: all)")
    g.add_argument("--format", choices=("text", "json", "latex"), default="text")
    g.add_argument("--kink-convention", default="any")
    g.add_argument("--expand", action="store_true", help="substitute everything")

    s = sub.add_parser("sheet", help="write a LaTeX derivation sheet", formatter_class=fmt)
    _network_options(s)
    s.add_argument("-o", "--output", default="sheet.pdf", help="sheet.tex or sheet.pdf")
    s.add_argument("--kink-convention", default="any")
    s.add_argument("--assume", action="append", default=[], metavar="COND")

    v = sub.add_parser("vectors", help="write exact test vectors (JSON)", formatter_class=fmt)
    _network_options(v)
    v.add_argument("--points", type=int, default=8)
    v.add_argument("--kinks", action="store_true", help="add points exactly on kinks")
    v.add_argument("--kink-convention", default="torch")
    v.add_argument("--seed", type=int, default=0)
    v.add_argument("--format", choices=("json", "npz"), dest="vectors_format",
                   default="json", help="json (default) or npz: arrays by name (MLPs; "
                                        "needs -o)")
    v.add_argument("-o", "--output", help="vectors.json or vectors.npz (default: standard "
                                          "output)")

    r = sub.add_parser("parse", help="show how a formula was read")
    _network_options(r)
    r.add_argument("--latex", action="store_true")
    r.add_argument("candidate")

    b = sub.add_parser("batch", help="grade many submissions (JSON lines)",
                       description="Grade every line of IN.jsonl into OUT.jsonl; re-running "
                                   "skips the ids already in OUT.jsonl.")
    b.add_argument("input", metavar="IN.jsonl")
    b.add_argument("-o", "--output", required=True, metavar="OUT.jsonl")
    b.add_argument("-j", "--jobs", type=int, default=1,
                   help="worker processes (0: one per CPU; default %(default)s)")
    b.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                   help="seconds per submission (default %(default)s)")
    b.add_argument("--no-progress", action="store_true",
                   help="no progress bar (it is shown only on a terminal anyway)")

    q = sub.add_parser("run", help="check every formula of a question file and write sheets")
    q.add_argument("question", metavar="QUESTION.toml")
    q.add_argument("--out", default="out", help="folder for sheets and reports")
    q.add_argument("--format", choices=("text", "json"), default="text")
    return p


def main(argv=None) -> int:
    """Entry point; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    json_mode = getattr(args, "format", "text") == "json"
    try:
        from . import commands
        return getattr(commands, f"cmd_{args.command}")(args)
    except DerivcheckError as err:
        if json_mode:
            print(json.dumps(err.to_json()))
        else:
            print(err.render(), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except RecursionError:
        msg = "the input is nested too deeply to process"
        print(json.dumps({"error": {"kind": "limit_exceeded", "message": msg,
                                    "position": None}}) if json_mode else f"error: {msg}",
              file=sys.stdout if json_mode else sys.stderr)
        return 2
    except Exception as exc:  # a bug of ours: say so plainly, never a traceback
        msg = f"internal error: {type(exc).__name__}: {exc}. Please report this input."
        print(json.dumps({"error": {"kind": "internal_error", "message": msg,
                                    "position": None}}) if json_mode else msg,
              file=sys.stdout if json_mode else sys.stderr)
        return 4

