"""One function per CLI command: read the inputs, call the API within the command's time
budget, print, return the exit code.

The command functions own their inputs: :func:`network_from_args` builds the network from
the network options and :func:`read_candidate` reads a formula given as text, ``-`` or
``@FILE``. Files are written whole or not at all (:mod:`derivcheck.write.files`); an output
that cannot be written is an :class:`~derivcheck.errors.OutputError` (exit 2), checked
before any long work where that is possible.
"""
from __future__ import annotations

import json
import sys
from contextlib import contextmanager

from .. import limits
from ..core.graph import Role
from ..core.printing import plain
from ..decide.check import check, gradient_display, timed_out
from ..errors import DerivcheckError, LimitError, OutputError, ParseError, SpecError
from ..guard import Timeout, time_limit
from ..write.files import check_writable, same_file, write_atomic
from ..write.textout import format_gradients, format_result

__all__ = ["cmd_check", "cmd_gradient", "cmd_sheet", "cmd_vectors", "cmd_parse", "cmd_batch",
           "network_from_args", "read_candidate", "within_budget"]


def network_from_args(args, *, oracle: bool = False):
    """A Network from the network options (or --net); ``oracle``: for test vectors, so an
    MLP past the symbolic limits is a matrix network within the oracle's own limits."""
    from ..core.network import build
    from ..core.spec import NetworkSpec

    if args.net:
        spec = NetworkSpec.from_toml(args.net, oracle=oracle)
        spec.define = spec.define + [d.strip() for d in getattr(args, "define", None) or ()]
        return build(spec)
    data = {}
    if args.forward or args.widths:
        if args.forward:
            data["forward"] = args.forward
        else:
            data["widths"], data["bias"] = args.widths, args.bias
        for key in ("shape", "batch", "style", "reduce", "labels"):   # matrix networks
            if getattr(args, key, None):
                data[key] = getattr(args, key)
    elif args.weights:
        data["weights"] = args.weights
    else:
        raise SpecError("no network given",
                        hint="describe it with --weights (a chain), --widths (an MLP), "
                             "--forward (equations) or --net FILE.toml; see --help")
    for key, value in (("activations", args.act), ("biases", args.biases),
                       ("input", args.input), ("target", args.target), ("loss", args.loss),
                       ("upstream", getattr(args, "upstream", None)),
                       ("define", getattr(args, "define", None))):
        if value:
            data[key] = value
    return build(NetworkSpec.from_dict(data, oracle=oracle))


def _decode(raw: bytes, where: str) -> str:
    if len(raw) > 4 * (limits.MAX_TEXT_LENGTH + 1):
        raise LimitError(f"{where} holds more than {limits.MAX_TEXT_LENGTH} characters, the "
                         "limit for one formula", position=limits.MAX_TEXT_LENGTH)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(f"{where} is not UTF-8 text: byte {exc.start} cannot be read "
                         f"({exc.reason})", hint="save the file as UTF-8") from None


def read_candidate(text: str) -> str:
    """CANDIDATE, ``-`` (standard input) or ``@FILE``, as text (UTF-8 only)."""
    cap = 4 * (limits.MAX_TEXT_LENGTH + 1) + 1
    if text == "-":
        stream = getattr(sys.stdin, "buffer", None)
        text = (_decode(stream.read(cap), "standard input") if stream is not None
                else sys.stdin.read(limits.MAX_TEXT_LENGTH + 1))
    elif text.startswith("@"):
        try:
            with open(text[1:], "rb") as fh:
                text = _decode(fh.read(cap), repr(text[1:]))
        except OSError as exc:
            raise SpecError(f"cannot read {text[1:]!r}: {exc.strerror}") from None
    return text.strip()


@contextmanager
def within_budget(seconds: float, doing: str):
    """Run the block within ``seconds`` (the user's ``--timeout``); past it, a
    :class:`LimitError` that says what was running."""
    try:
        with time_limit(seconds):
            yield
    except Timeout:
        raise LimitError(f"the time budget of {seconds:g} s (--timeout) ran out while "
                         f"{doing}", hint="give more time with --timeout, or a smaller "
                                          "network") from None


def _inputs_of(args) -> list[str]:
    """Files the command reads: its network file and an @FILE formula."""
    files = [args.net] if getattr(args, "net", None) else []
    candidate = getattr(args, "candidate", None) or ""
    return files + ([candidate[1:]] if candidate.startswith("@") else [])


def _check_output(args, path: str, suffixes=(".tex", ".pdf")) -> str:
    """Refuse, before any work, an output that is an input or cannot be written."""
    for source in _inputs_of(args):
        if same_file(path, source):
            raise OutputError(f"the output {path!r} is the input file {source!r}",
                              hint="write to another file")
    check_writable(path)
    if suffixes and not path.lower().endswith(suffixes):
        raise OutputError(f"cannot tell what to write from the name {path!r}",
                          hint="give a file name ending in " + " or ".join(suffixes))
    return path


def _write_document(source: str, path: str) -> str:
    """Write LaTeX (.tex) or compile it (.pdf); returns what was written."""
    from ..write.pdf import write_tex_or_pdf
    return str(write_tex_or_pdf(source, path))


def cmd_check(args) -> int:
    """Judge a candidate. When ``--report`` cannot be written, the verdict is still
    printed and the exit code is 2 (the report was asked for and is missing)."""
    if args.report:
        _check_output(args, args.report)
    candidate = read_candidate(args.candidate)
    try:
        with time_limit(args.timeout + limits.TIMEOUT_SLACK):
            result = check(network_from_args(args), candidate, args.wrt, assume=args.assume,
                           convention=args.kink_convention,
                           latex=True if args.latex else None, timeout=args.timeout)
    except Timeout as exc:
        result = timed_out(exc, args.timeout, wrt=args.wrt, candidate=candidate,
                           convention=args.kink_convention, assumptions=args.assume)
    if args.format == "json":
        print(json.dumps(result.to_json(), indent=1, allow_nan=False))
    else:
        print(format_result(result))
    if args.report and result.network is not None:
        if getattr(result.network, "is_matrix", False):
            from ..write.matrix_sheet import matrix_report_source as report_source
        else:
            from ..write.report import report_source
        try:
            with within_budget(args.timeout, "writing the report"):
                written = _write_document(report_source(result), args.report)
        except DerivcheckError as err:
            print(err.render(), file=sys.stderr)
            print(f"the verdict above stands ({result.verdict}); the report was not written",
                  file=sys.stderr)
            return 2
        print(f"report written to {written}", file=sys.stderr)
    return result.exit_code


def _matrix_gradients(net, args) -> str:
    grads = net.gradients()
    if args.wrt:
        missing = [w for w in args.wrt if w not in grads]
        if missing:
            raise SpecError(f"{missing[0]!r} is not a parameter of the network",
                            hint="parameters: " + ", ".join(grads))
        grads = {w: grads[w] for w in args.wrt}
    if args.format == "latex":
        raise SpecError("LaTeX output is not written for matrix networks yet",
                        hint="use --format text or json")
    text = {k: v.text() for k, v in grads.items()}
    defs: dict = {}
    for v in grads.values():
        defs.update(net.definitions(v))
    if args.format == "json":
        return json.dumps({"gradients": text, "definitions": defs,
                           "kink_convention": args.kink_convention}, indent=1)
    lines = [f"style {net.style.name}: {net.style.description}"]
    lines += [f"{k} = {v}" for k, v in defs.items()]
    lines += [f"d{net.style.loss}/d{k} = {v}" for k, v in text.items()]
    return "\n".join(lines)


def cmd_gradient(args) -> int:
    with within_budget(args.timeout, "computing the gradients"):
        text = _gradients(args)
    print(text)
    return 0


def _gradients(args) -> str:
    net = network_from_args(args)
    if getattr(net, "is_matrix", False):
        return _matrix_gradients(net, args)
    params = [net.parameter(w) for w in args.wrt] if args.wrt else net.params
    bw = net.backward(args.kink_convention)
    defs: dict = {}  # symbol -> expression, forward then backward
    if len(params) == 1 and not args.expand:
        shown, used = gradient_display(net, params[0], args.kink_convention)
        grads = {params[0]: shown}
        defs = {n.symbol: n.expr for n in net.graph.nodes if str(n.symbol) in used}
    elif args.expand:
        grads = {p: bw.expand(bw.gradients[p]) for p in params}
    else:
        keep = bw.kept()
        grads = {p: bw.inline(bw.gradients[p], keep=keep) for p in params}
        defs = {n.symbol: n.expr for n in net.graph.nodes if n.role != Role.LOSS}
        defs.update(bw.compact())
    if args.format == "latex":
        from ..write.latex import latex
        rows = [f"{latex(k)} &= {latex(v)}" for k, v in defs.items()]
        rows += [f"\\frac{{\\partial C}}{{\\partial {latex(k)}}} &= {latex(v)}"
                 for k, v in grads.items()]
        return "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}"
    text = {str(k): plain(v) for k, v in grads.items()}
    shown_defs = {str(k): plain(v) for k, v in defs.items()}
    if args.format == "json":
        return json.dumps({"gradients": text, "definitions": shown_defs,
                           "kink_convention": args.kink_convention}, indent=1)
    return format_gradients(text, shown_defs)


def cmd_sheet(args) -> int:
    from ..write.sheet import sheet_source
    _check_output(args, args.output)
    with within_budget(args.timeout, "writing the sheet"):
        net = network_from_args(args)
        if getattr(net, "is_matrix", False):
            from ..write.matrix_sheet import matrix_sheet_source
            source = matrix_sheet_source(net)
        else:
            source = sheet_source(net, args.kink_convention, assume=args.assume)
        written = _write_document(source, args.output)
    print(f"sheet written to {written}")
    return 0


def cmd_vectors(args) -> int:
    """Test vectors: the scalar format for chains, equations and small MLPs; named arrays
    (JSON, or ``--format npz``) for matrix networks and MLPs at training sizes, which are
    built within the oracle's own limits."""
    npz = args.vectors_format == "npz"
    if npz and not args.output:
        raise SpecError("--format npz needs an output file", hint="add -o vectors.npz")
    if args.output:
        _check_output(args, args.output, suffixes=())
    if args.points == 0 and not args.kinks:
        raise SpecError("--points 0 without --kinks asks for no vectors at all",
                        hint="ask for at least one point, or add --kinks")
    with within_budget(args.timeout, "computing the test vectors"):
        net = network_from_args(args, oracle=True)
        if getattr(net, "is_matrix", False) or npz and net.spec.kind == "mlp":
            return _array_vectors(net, args, npz)
        if npz:
            raise SpecError("--format npz writes the arrays of an MLP",
                            hint="describe the network with --widths, or use JSON")
        from ..oracle.vectors import make_vectors
        data = make_vectors(net, points=args.points, kinks=args.kinks,
                            convention=args.kink_convention, seed=args.seed)
    text = json.dumps(data, indent=1, allow_nan=False)
    if args.output:
        write_atomic(args.output, text + "\n")
        print(f"{len(data['vectors'])} vectors written to {args.output}")
    else:
        print(text)
    return 0


def _array_vectors(net, args, npz: bool) -> int:
    """Test vectors of a matrix network: named arrays as JSON or npz."""
    import io

    from ..oracle.array_vectors import make_array_vectors, save_npz
    data = make_array_vectors(net, points=args.points, kinks=args.kinks,
                              convention=args.kink_convention, seed=args.seed,
                              arrays_out=npz)
    if npz:
        buffer = io.BytesIO()
        save_npz(data, buffer)
        write_atomic(args.output, buffer.getvalue())
    else:
        text = json.dumps(data, separators=(",", ":"), allow_nan=False)
        if not args.output:
            print(text)
            return 0
        write_atomic(args.output, text + "\n")
    print(f"{len(data['vectors'])} vectors written to {args.output}")
    return 0


def cmd_parse(args) -> int:
    from ..names import Namespace
    from ..parsing import parse_formula
    from ..parsing.index_notation import LayerVariable
    has_net = any(getattr(args, k) for k in ("weights", "widths", "forward", "net"))
    with within_budget(args.timeout, "reading the formula"):
        net = network_from_args(args) if has_net else None
        ns = net.namespace if net is not None else Namespace.free()
        text = read_candidate(args.candidate)
        latex = True if args.latex else None
        try:
            readings = [(None, parse_formula(text, ns, latex=latex))]
        except LayerVariable as unbound:   # w^l: one reading per layer that exists
            readings = _layer_readings(net, text, latex, unbound)
    for layer, parsed in readings:
        head = f" ({layer})" if layer else ""
        print(f"read as {'LaTeX' if parsed.latex else 'plain text'}{head}:")
        if parsed.wrt:
            gradient = ns.roles.get(parsed.wrt) == "gradient"
            print(f"  left side names: {'' if gradient else 'dC/d'}{parsed.wrt}")
        print(f"  {_shown(parsed.expr)}")
        for r in parsed.readings:
            print(f"  note: {r}")
        for w in parsed.warnings:
            print(f"  warning: {w}")
    return 0


def _layer_readings(net, text, latex, unbound) -> list:
    """(``l = 2``, reading) for every layer where the formula's names exist."""
    from ..errors import NameError_
    from ..parsing import parse_formula
    out = []
    for value in range(0, getattr(net, "L", -2) + 2):
        try:
            out.append((f"{unbound.letter} = {value}", parse_formula(
                text, net.namespace, latex=latex, layers={unbound.letter: value})))
        except NameError_:
            continue
    if not out:
        raise unbound
    return out


def _shown(expr) -> str:
    """A formula as read: plain text, or a matrix formula with its shape."""
    from ..core.matrix.expr import MExpr
    if not isinstance(expr, MExpr):
        return plain(expr)
    from ..core.matrix.shapes import show
    shape = show(expr.shape) if expr.shape is not None else "no shape: " + expr.problem.message
    return f"{expr.text()}   ({shape})"


def cmd_batch(args) -> int:
    """Exit 0 when every line got its record (errors included), 1 with ``--fail-on-error``
    when some record is an error, 2 when the batch could not run (or its output could not
    be written on; what was written stays, and running again resumes)."""
    from .batch import run_batch
    if args.score and args.format == "jsonl":
        raise SpecError("--score applies to the grader formats",
                        hint="add --format gradescope or --format prairielearn")
    if args.format != "jsonl":
        from .graders import grade_to_file, parse_policy
        summary = grade_to_file(args.input, args.output, args.format,
                                policy=parse_policy(args.score), jobs=args.jobs,
                                timeout=args.timeout,
                                progress=False if args.no_progress else None)
        print(summary.text() + f"\n{args.format} results written to {args.output}")
    else:
        summary = run_batch(args.input, args.output, jobs=args.jobs, timeout=args.timeout,
                            progress=False if args.no_progress else None)
        print(summary.text())
    return 1 if args.fail_on_error and (summary.errors or summary.skipped_errors) else 0
