"""The ``derivcheck`` command: parse the arguments, dispatch to the command's function
(:data:`COMMANDS`), and turn every failure a user or a disk can cause into a message and
an exit code.

Exit codes: 0 equivalent (or almost everywhere), 1 not equivalent, 2 bad input or an
output that cannot be written, 3 unknown, 4 internal error (a bug of ours); a closed
pipe (``derivcheck ... | head``) ends the command quietly with 141, as for SIGPIPE.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from .. import __version__, limits
from ..errors import DerivcheckError, error_json
from ..guard import budget
from . import commands, question
from .batch import INPUT_FORMAT
from .helptext import EPILOG, KINK_HELP, VECTORS_KINK_HELP, epilog

__all__ = ["main", "build_parser", "COMMANDS"]


def _serve(args) -> int:
    """``derivcheck serve``: the serve package sits above app (it grades batch items), so
    it is imported when it runs."""
    from ..serve import cmd_serve
    return cmd_serve(args)


#: Command name -> the function that runs it (``args -> exit code``).
COMMANDS = {
    "check": commands.cmd_check,
    "gradient": commands.cmd_gradient,
    "sheet": commands.cmd_sheet,
    "vectors": commands.cmd_vectors,
    "parse": commands.cmd_parse,
    "batch": commands.cmd_batch,
    "run": question.cmd_run,
    "serve": _serve,
}


def _seconds(text: str) -> float:
    """argparse type of --timeout: a positive finite number of seconds, at most a day."""
    try:
        return budget(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _count(low: int, high: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}, not {value}")
        return value
    return parse


def _timeout_option(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--timeout", type=_seconds, default=limits.DEFAULT_TIMEOUT,
                   metavar="SECONDS", help=f"{what} (default %(default)g; positive, at most "
                                           f"{limits.MAX_TIMEOUT:g})")


def _network_options(p: argparse.ArgumentParser, required: bool = True) -> None:
    g = p.add_argument_group("network")
    g.add_argument("--weights", help="chain weights, input side first: w1,w2,w3")
    g.add_argument("--act", "--activations", dest="act",
                   help="one activation for all layers or one per layer: relu | "
                        "relu,sigmoid,leaky_relu(0.01) | prelu(a)")
    g.add_argument("--biases", help="chain biases, one per layer: b1,b2,b3")
    g.add_argument("--widths", help="MLP layer widths, input first: 2,3,1; weight W0_ij joins "
                                    "input i to unit j of layer 1 (W0_i_j past 9 units)")
    g.add_argument("--bias", action="store_true", help="MLP: a bias per unit")
    g.add_argument("--batch", help="MLP: a batch of examples, its size a name or a number (m)")
    g.add_argument("--style", help="MLP notation: ng, cs231n, nielsen or seed")
    g.add_argument("--reduce", help="MLP with a batch: mean (default) or sum of the losses")
    g.add_argument("--labels", action="store_true",
                   help="cross_entropy with class labels (an integer per example) instead "
                        "of one-hot targets")
    g.add_argument("--forward", action="append", metavar="EQUATION",
                   help='explicit forward equation "z1 = w1*x + b1" (repeat; the last '
                        'defines yhat); with --shape, matrix equations "Z1 = W1 @ X + b1"')
    g.add_argument("--shape", action="append", metavar="NAME=SIZES",
                   help="the shape of a matrix of --forward equations: X=n0,m, W1=n1,n0, "
                        "b1=n1,1 (repeat; sizes are names or numbers; the others are "
                        "inferred); with --labels, y=m for the class labels; with "
                        "--widths, checked against the network")
    g.add_argument("--input", help="input name(s): x or x1,x2 (default x)")
    g.add_argument("--target", help="target name(s) (default y)")
    g.add_argument("--loss", help="half_squared (default), squared, mse, bce, cross_entropy, "
                                  "l1 (|y - yhat|), none (the gradient of yhat itself)")
    g.add_argument("--upstream", nargs="?", const=True, metavar="NAME",
                   help="no loss: an unspecified upstream gradient dC/dyhat, the symbol NAME "
                        "(default dyhat; e.g. dA), as layer-by-layer backward passes write it")
    g.add_argument("--define", action="append", metavar="DEFINITION",
                   help="a name of your own: \"s(z) = sigmoid(z)\", \"d(z) = s(z)*(1 - s(z))\", "
                        "\"y' = yhat\" (repeat; read by the formula grammar, never evaluated)")
    g.add_argument("--net", metavar="FILE.toml", help="read the network from a TOML file")


BATCH_EXIT = """

exit codes: 0 every line got its record (errors included), 1 with --fail-on-error when
some record is an error, 2 the batch could not run (input unreadable, output is the input
or cannot be written; what was written stays whole and running again resumes)."""


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    p = argparse.ArgumentParser(
        prog="derivcheck", formatter_class=fmt, epilog=EPILOG,
        description="Check hand-derived backpropagation gradients exactly: verdicts with "
                    "exact counterexamples, derivation sheets, and test vectors.")
    p.add_argument("--version", action="version", version=f"derivcheck {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    c = sub.add_parser("check", help="judge a candidate gradient formula",
                       epilog=epilog("check"), formatter_class=fmt)
    _network_options(c)
    c.add_argument("--wrt", help="the parameter (default: named by a left side dC/dw1 = ..., "
                                 "or the network's only parameter)")
    c.add_argument("--assume", action="append", default=[], metavar="COND",
                   help="a bound such as 'x > 0' (repeatable)")
    c.add_argument("--kink-convention", default="any", help=KINK_HELP)
    c.add_argument("--format", choices=("text", "json"), default="text")
    c.add_argument("--report", metavar="OUT.tex|OUT.pdf", help="write a LaTeX/PDF report")
    c.add_argument("--latex", action="store_true",
                   help="read the candidate as LaTeX (default: detected)")
    _timeout_option(c, "seconds before the answer is 'unknown'")
    c.add_argument("candidate", help="the formula (may start with '-'); '-' alone reads "
                                     "standard input, @FILE a file")

    g = sub.add_parser("gradient", help="print exact gradients", epilog=epilog("gradient"),
                       formatter_class=fmt)
    _network_options(g)
    g.add_argument("--wrt", action="append", help="parameter (repeatable; default: all)")
    g.add_argument("--format", choices=("text", "json", "latex"), default="text")
    g.add_argument("--kink-convention", default="any", help=KINK_HELP)
    g.add_argument("--expand", action="store_true", help="substitute everything")
    _timeout_option(g, "seconds the command may take")

    s = sub.add_parser("sheet", help="write a LaTeX derivation sheet", epilog=epilog("sheet"),
                       formatter_class=fmt)
    _network_options(s)
    s.add_argument("-o", "--output", default="sheet.pdf", help="sheet.tex or sheet.pdf")
    s.add_argument("--kink-convention", default="any", help=KINK_HELP)
    s.add_argument("--assume", action="append", default=[], metavar="COND",
                   help="a bound such as 'x > 0' (repeatable)")
    _timeout_option(s, "seconds the command may take")

    v = sub.add_parser("vectors", help="write exact test vectors (JSON)",
                       epilog=epilog("vectors"), formatter_class=fmt)
    _network_options(v)
    v.add_argument("--points", type=_count(0, limits.MAX_POINTS), default=8,
                   help=f"random points (default %(default)s, at most {limits.MAX_POINTS}), "
                        "plus the kink points of --kinks")
    v.add_argument("--kinks", action="store_true",
                   help="add points exactly on kinks (on at most "
                        f"{limits.MAX_KINK_POINTS} units, fewer on a network with many "
                        "parameters, spread over it)")
    v.add_argument("--kink-convention", default="torch", help=VECTORS_KINK_HELP)
    v.add_argument("--seed", type=int, default=0,
                   help="random seed of the points (default %(default)s): the same seed "
                        "gives the same vectors")
    v.add_argument("--format", choices=("json", "npz"), dest="vectors_format",
                   default="json", help="json (default) or npz: arrays by name (MLPs; "
                                        "needs -o)")
    v.add_argument("-o", "--output", help="vectors.json or vectors.npz (default: standard "
                                          "output)")
    _timeout_option(v, "seconds the command may take")

    r = sub.add_parser("parse", help="show how a formula was read", epilog=epilog("parse"),
                       formatter_class=fmt)
    _network_options(r)
    r.add_argument("--latex", action="store_true",
                   help="read the candidate as LaTeX (default: detected)")
    r.add_argument("candidate", help="the formula (may start with '-'); '-' alone reads "
                                     "standard input, @FILE a file")
    _timeout_option(r, "seconds the command may take")

    b = sub.add_parser("batch", help="grade many submissions (JSON lines)",
                       formatter_class=fmt, epilog=INPUT_FORMAT + BATCH_EXIT,
                       description="Grade every line of IN.jsonl into OUT.jsonl; re-running "
                                   "grades only the lines not yet in OUT.jsonl.")
    b.add_argument("input", metavar="IN.jsonl")
    b.add_argument("-o", "--output", required=True, metavar="OUT.jsonl",
                   help="the results (not the input file itself)")
    b.add_argument("-j", "--jobs", type=_count(0, 1024), default=1,
                   help="worker processes (0: one per core; never more than the cores or the "
                        "lines; default %(default)s)")
    _timeout_option(b, "seconds per submission")
    b.add_argument("--fail-on-error", action="store_true",
                   help="exit 1 when some line got an error record")
    b.add_argument("--no-progress", action="store_true",
                   help="no progress bar (it is shown only on a terminal anyway)")
    b.add_argument("--format", choices=("jsonl", "gradescope", "prairielearn"),
                   default="jsonl", help="jsonl (default), or one grader results file: "
                   "Gradescope's results.json, PrairieLearn's results.json")
    b.add_argument("--score", metavar="POLICY",
                   help="what each verdict earns, e.g. 'not_equivalent=0.5,unknown=flag' "
                        "(default: equivalent and equivalent_almost_everywhere 1, "
                        "not_equivalent 0, unknown and error flag: for a person)")

    w = sub.add_parser("serve", help="the web page and the HTTP API",
                       description="Serve the page (GET /) and the API (POST /api/check, "
                                   "/api/gradient, /api/sheet; GET /healthz).")
    w.add_argument("--host", default="127.0.0.1")
    w.add_argument("--port", type=_count(1, 65535), default=8000)
    w.add_argument("-j", "--jobs", type=_count(0, 1024), default=2,
                   help="worker processes (0: one per core; default %(default)s)")
    _timeout_option(w, "seconds per check")

    q = sub.add_parser("run", help="check every formula of a question file and write sheets",
                       epilog=epilog("run", networks=False), formatter_class=fmt)
    q.add_argument("question", metavar="QUESTION.toml", nargs="?",
                   help="the question file (networks, formulas, expected verdicts)")
    q.add_argument("--example", choices=("seed",),
                   help="a question file shipped with derivcheck instead: seed (the seed "
                        "question, examples/seed_003.toml)")
    q.add_argument("--out", default="out", help="folder for sheets and reports")
    q.add_argument("--format", choices=("text", "json"), default="text")
    _timeout_option(q, "seconds per formula and per sheet")
    return p


def _formulas_as_operands(argv: list[str]) -> list[str]:
    """A formula such as ``-(y - yhat)*x`` is an operand, not an option: argparse takes a
    word with a space for an operand, so such words get a leading space (stripped when
    the formula is read). Only ``check`` and ``parse`` take formulas; their only short
    option is ``-h``.

    >>> _formulas_as_operands(["check", "--wrt", "w1", "-x*w1", "-", "-h", "--", "-y"])
    ['check', '--wrt', 'w1', ' -x*w1', '-', '-h', '--', '-y']
    >>> _formulas_as_operands(["sheet", "-o", "s.tex"])
    ['sheet', '-o', 's.tex']
    """
    if not argv or argv[0] not in ("check", "parse"):
        return argv
    out, rest = [], False
    for word in argv:
        rest = rest or word == "--"
        formula = (not rest and word.startswith("-") and not word.startswith("--")
                   and word not in ("-", "-h"))
        out.append(" " + word if formula else word)
    return out


def main(argv=None) -> int:
    """Entry point; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(_formulas_as_operands(
            list(sys.argv[1:] if argv is None else argv)))
        if not args.command:
            parser.print_help()
            return 2
    except BrokenPipeError:  # --help | head
        return _pipe_closed()
    json_mode = getattr(args, "format", "text") == "json"
    try:
        code = COMMANDS[args.command](args)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        return _pipe_closed()
    except DerivcheckError as err:
        return _fail(json_mode, err.to_json(), err.render(), 2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (RecursionError, MemoryError):
        msg = "the input is too large or nested too deeply to process"
        return _fail(json_mode, error_json("limit_exceeded", msg), f"error: {msg}", 2)
    except OSError as exc:  # a file or a disk: the user's to fix, not a bug
        msg = f"{exc.strerror or exc}" + (f": {exc.filename!r}" if exc.filename else "")
        return _fail(json_mode, error_json("os_error", msg), f"error: {msg}", 2)
    except Exception as exc:  # a bug of ours: say so plainly, never a traceback
        msg = f"internal error: {type(exc).__name__}: {exc}. Please report this input."
        return _fail(json_mode, error_json("internal_error", msg), msg, 4)


def _fail(json_mode: bool, data: dict, text: str, code: int) -> int:
    """Print an error (JSON on standard output, or text on standard error)."""
    try:
        if json_mode:
            print(json.dumps(data, indent=1))
            sys.stdout.flush()
        else:
            print(text, file=sys.stderr)
    except BrokenPipeError:
        return _pipe_closed()
    return code


def _pipe_closed() -> int:
    """Standard output was closed by the reader (``| head``): stop quietly, and point
    standard output at /dev/null so the interpreter's last flush cannot complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
    return 141
