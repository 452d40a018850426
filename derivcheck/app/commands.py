"""One function per CLI command: call the API, print, return the exit code."""
from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

from ..decide.check import check, gradient_display
from .cli import _read_candidate, network_from_args
from ..errors import DerivcheckError, SpecError
from ..core.printing import plain
from ..write.textout import format_gradients, format_result

__all__ = ["cmd_check", "cmd_gradient", "cmd_sheet", "cmd_vectors", "cmd_parse", "cmd_batch",
           "cmd_run"]


def _write_output(source: str, path: str) -> str:
    """Write LaTeX (.tex) or compile it (.pdf); returns what was written."""
    from ..write.pdf import write_tex_or_pdf
    return str(write_tex_or_pdf(source, path))


def cmd_check(args) -> int:
    from ..guard import Timeout, time_limit, unknown_result
    from ..limits import TIMEOUT_SLACK
    candidate = _read_candidate(args.candidate)
    try:
        with time_limit(args.timeout + TIMEOUT_SLACK):
            result = check(network_from_args(args), candidate, args.wrt, assume=args.assume,
                           convention=args.kink_convention,
                           latex=True if args.latex else None, timeout=args.timeout)
    except Timeout as exc:
        result = unknown_result(exc, wrt=args.wrt, candidate=candidate,
                                convention=args.kink_convention, assumptions=args.assume)
    if args.format == "json":
        print(json.dumps(result.to_json(), indent=1))
    else:
        print(format_result(result))
    if args.report and result.network is not None:
        _scalar_only(result.network, "a report")
        from ..write.report import report_source
        written = _write_output(report_source(result), args.report)
        print(f"report written to {written}", file=sys.stderr)
    return result.exit_code


def _scalar_only(net, what: str) -> None:
    """A clear error where a matrix network is not supported yet."""
    if getattr(net, "is_matrix", False):
        raise SpecError(f"{what} is not written for matrix networks yet",
                        hint="check formulas with 'derivcheck check'; 'derivcheck gradient' "
                             "prints the matrix gradients")


def _matrix_gradients(net, args) -> int:
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
        print(json.dumps({"gradients": text, "definitions": defs,
                          "kink_convention": args.kink_convention,
                          "style": net.style.name}, indent=1))
    else:
        print(f"style {net.style.name}: {net.style.description}")
        for k, v in defs.items():
            print(f"{k} = {v}")
        for k, v in text.items():
            print(f"d{net.style.loss}/d{k} = {v}")
    return 0


def cmd_gradient(args) -> int:
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
        defs = {n.symbol: n.expr for n in net.graph.nodes if n.role != "loss"}
        defs.update(bw.compact())
    if args.format == "latex":
        from ..write.latex import latex
        rows = [f"{latex(k)} &= {latex(v)}" for k, v in defs.items()]
        rows += [f"\\frac{{\\partial C}}{{\\partial {latex(k)}}} &= {latex(v)}"
                 for k, v in grads.items()]
        print("\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}")
        return 0
    text = {str(k): plain(v) for k, v in grads.items()}
    shown_defs = {str(k): plain(v) for k, v in defs.items()}
    if args.format == "json":
        out = ({"wrt": next(iter(text)), "gradient": next(iter(text.values()))}
               if len(text) == 1 else {"gradients": text})
        out["definitions"] = shown_defs
        out["kink_convention"] = args.kink_convention
        print(json.dumps(out, indent=1))
    else:
        print(format_gradients(text, shown_defs))
    return 0


def cmd_sheet(args) -> int:
    from ..write.sheet import sheet_source
    net = network_from_args(args)
    _scalar_only(net, "a derivation sheet")
    written = _write_output(sheet_source(net, args.kink_convention, assume=args.assume),
                            args.output)
    print(f"sheet written to {written}")
    return 0


def cmd_vectors(args) -> int:
    net = network_from_args(args, oracle=True)
    npz = args.vectors_format == "npz"
    if getattr(net, "is_matrix", False) or npz and net.spec.kind == "mlp":
        return _array_vectors(net, args)
    if npz:
        raise SpecError("--format npz writes the arrays of an MLP",
                        hint="describe the network with --widths, or use JSON")
    from ..oracle.vectors import make_vectors
    data = make_vectors(net, points=args.points, kinks=args.kinks,
                        convention=args.kink_convention, seed=args.seed)
    text = json.dumps(data, indent=1)
    if args.output:
        Path(args.output).write_text(text + "\n")
        print(f"{len(data['vectors'])} vectors written to {args.output}")
    else:
        print(text)
    return 0


def _array_vectors(net, args) -> int:
    """Test vectors of a matrix network: named arrays as JSON or npz."""
    from ..oracle.array_vectors import make_array_vectors, save_npz
    npz = args.vectors_format == "npz"
    if npz and not args.output:
        raise SpecError("--format npz needs an output file", hint="add -o vectors.npz")
    data = make_array_vectors(net, points=args.points, kinks=args.kinks,
                              convention=args.kink_convention, seed=args.seed,
                              arrays_out=npz)
    if npz:
        save_npz(data, args.output)
    else:
        text = json.dumps(data, separators=(",", ":"))
        if not args.output:
            print(text)
            return 0
        Path(args.output).write_text(text + "\n")
    print(f"{len(data['vectors'])} vectors written to {args.output}")
    return 0


def cmd_parse(args) -> int:
    from ..names import Namespace
    from ..parsing import parse_formula
    has_net = any(getattr(args, k) for k in ("weights", "widths", "forward", "net"))
    ns = network_from_args(args).namespace if has_net else Namespace.free()
    parsed = parse_formula(_read_candidate(args.candidate), ns,
                           latex=True if args.latex else None)
    print(f"read as {'LaTeX' if parsed.latex else 'plain text'}:")
    if parsed.wrt:
        print(f"  left side names: dC/d{parsed.wrt}")
    if hasattr(parsed.expr, "shape") and not hasattr(parsed.expr, "free_symbols"):
        from ..core.matrix.shapes import show
        shape = show(parsed.expr.shape) if parsed.expr.shape is not None else "no shape: " + \
            parsed.expr.problem.message
        print(f"  {parsed.expr.text()}   ({shape})")
    else:
        print(f"  {plain(parsed.expr)}")
    for r in parsed.readings:
        print(f"  note: {r}")
    for w in parsed.warnings:
        print(f"  warning: {w}")
    return 0


def cmd_batch(args) -> int:
    from .batch import run_batch
    summary = run_batch(args.input, args.output, jobs=args.jobs, timeout=args.timeout,
                        progress=False if args.no_progress else None)
    print(summary.text())
    return 0


def cmd_run(args) -> int:
    """Check every formula of a question file; write a sheet per network and a report
    per formula into ``--out``."""
    from ..core.network import from_dict
    path = Path(args.question)
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SpecError(f"cannot read question file {str(path)!r}: {exc}") from None
    nets = {name: from_dict(spec) for name, spec in data.get("networks", {}).items()}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(data.get("title", path.stem))
    met, results = 0, []
    for i, f in enumerate(data.get("formulas", []), 1):
        if f.get("network") not in nets:
            raise SpecError(f"formula {i} names network {f.get('network')!r}, which the file "
                            f"does not define", hint="known: " + ", ".join(nets))
        label, expect = f.get("label", f"formula {i}"), f.get("expect")
        print(f"\n{i}. {label}\n   {f['text']}")
        try:
            r = check(nets[f["network"]], f["text"], f.get("wrt"),
                      assume=f.get("assume", data.get("assume", [])),
                      convention=f.get("kink_convention", "any"))
        except DerivcheckError as err:
            ok = expect == err.kind
            print("   " + err.render().replace("\n", "\n   ") + _mark(expect, ok))
        else:
            ok = expect is None or expect == r.verdict
            print("   " + format_result(r).replace("\n", "\n   ") + _mark(expect, ok))
            if not getattr(r.network, "is_matrix", False):
                from ..write.report import report_source
                _write_output(report_source(r), str(out / f"report-{i}.pdf"))
        met += ok
        results.append(f)
    from ..write.sheet import sheet_source
    for name in data.get("sheets", list(nets)):
        if getattr(nets[name], "is_matrix", False):
            continue   # sheets for matrix networks are not written yet
        _write_output(sheet_source(nets[name], assume=data.get("assume", [])),
                      str(out / f"sheet-{name}.pdf"))
    n = len(results)
    print(f"\n{met} of {n} formulas judged as expected; sheets and reports in {out}/")
    return 0 if met == n else 1


def _mark(expect, ok: bool) -> str:
    if expect is None:
        return ""
    return "\n   [as expected]" if ok else f"\n   [EXPECTED {expect}]"
