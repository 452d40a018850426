"""Hostile input: no text ever runs as code, shell or TeX, and bombs are refused fast.

Names like ``__import__`` or ``os.system`` are refused wherever a name enters (chain
fields, forward equations, activation arguments, assumptions, TOML files, batch lines);
Python in a candidate is a parse error; TeX primitives in a candidate are an error or plain
text, never executed; and no module of the package hands a non-literal string to
``eval``/``exec``/``sympify``/``parse_expr``/``lambdify``.
"""
import json
import re
import time
from pathlib import Path

import pytest

from derivcheck.app.batch import grade_item, run_batch
from derivcheck.decide.check import check
from derivcheck.errors import DerivcheckError
from derivcheck.core.network import chain, forward, from_dict, load
from derivcheck.oracle.exact import Oracle

from .test_limits import cli

PACKAGE = Path(__file__).resolve().parents[2] / "derivcheck"
NET = chain(["w1", "w2"], "relu")
#: CPU seconds of this process (not wall time, which a loaded machine stretches).
FAST = 5.0
BAD_NAMES = ["__import__", "os.system", "lambda", "a;b", "exec(1)", "exec('ls')", "__class__",
             "x.__class__", "a b", "", "w1\nw2", "eval(input())", "import", "None", "1w",
             "w" * 65, "σ'", "$x", "x[0]"]
SENTINEL = Path("/tmp/derivcheck_pwned")


def refused(call, *args, **kw) -> DerivcheckError:
    start = time.process_time()
    with pytest.raises(DerivcheckError) as info:
        call(*args, **kw)
    assert time.process_time() - start < FAST
    return info.value


# -- names -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", BAD_NAMES)
@pytest.mark.parametrize("field", ["weights", "biases", "input", "target"])
def test_bad_names_in_chain_fields(field, name):
    data = {"weights": ["w1"], "biases": ["b1"]}
    data[field] = [name]
    err = refused(from_dict, data)
    assert err.kind == "network_error"


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_names_as_mlp_inputs(name):
    refused(from_dict, {"widths": [1, 1], "input": [name]})


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_names_on_the_left_of_forward_equations(name):
    refused(forward, [f"{name} = w*x", "yhat = v*h"])


@pytest.mark.parametrize("right", ["__import__('os').system('ls')", "os.system(x)", "lambda*x",
                                   "a;b", "exec(x)", "eval(x)", "x.__class__", "getattr(x, y)",
                                   "open('/etc/passwd')", "`ls`", "$(ls)", "x; import os"])
def test_code_on_the_right_of_forward_equations(right):
    err = refused(forward, [f"yhat = {right}"])
    assert err.kind in ("parse_error", "unknown_name", "network_error")


@pytest.mark.parametrize("act", ["prelu(__import__)", "prelu(lambda)", "prelu(os.system)",
                                 "relu; import os", "leaky_relu(__import__('os'))",
                                 "__import__('os')", "exec", "prelu(a;b)"])
def test_code_in_activations(act):
    refused(from_dict, {"weights": ["w1"], "activations": act})


@pytest.mark.parametrize("cond", ["__import__('os') > 0", "os.system > 0", "lambda > 0",
                                  "x > __import__", "exec(1) > 0", "x > 0; import os"])
def test_code_in_assumptions(cond):
    err = refused(check, NET, "x", "w1", assume=[cond])
    assert err.kind == "assumption_error"


@pytest.mark.parametrize("wrt", ["__import__", "os.system", "lambda", "exec(1)"])
def test_code_as_wrt(wrt):
    refused(check, NET, "x", wrt)


@pytest.mark.parametrize("name", ["__import__", "os.system", "lambda", "a;b", "exec(1)"])
def test_bad_names_in_toml_files(tmp_path, name):
    path = tmp_path / "net.toml"
    path.write_text(f"weights = [{json.dumps(name)}]\nactivations = 'relu'\n")
    refused(load, path)
    path.write_text(f"forward = [{json.dumps(name + ' = w*x')}, 'yhat = v*h']\n")
    refused(load, path)


@pytest.mark.parametrize("network", [
    {"weights": ["__import__"]}, {"weights": ["os.system"]}, {"weights": ["lambda"]},
    {"weights": ["w1"], "input": "a;b"}, {"forward": ["yhat = exec(x)"]},
    {"forward": ["__class__ = x"]}, {"weights": ["w1"], "activations": "prelu(__import__)"},
    {"weights": ["w1"], "__class__": 1},
])
def test_bad_names_in_batch_lines(network):
    record = grade_item({"network": network, "wrt": "w1", "candidate": "x"})
    assert record["error"]["kind"] in ("network_error", "parse_error", "unknown_name")


def test_bad_names_in_a_batch_file(tmp_path):
    lines = [{"id": i, "network": {"weights": [name]}, "wrt": name, "candidate": "x"}
             for i, name in enumerate(BAD_NAMES[:5])]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    summary = run_batch(tmp_path / "in.jsonl", tmp_path / "out.jsonl", progress=False)
    assert summary.errors == {"network_error": 5}


# -- candidates --------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "__import__('os').system('touch /tmp/derivcheck_pwned')", "exec('1')", "eval('1')",
    "lambda: 0", "().__class__.__bases__", "os.system('ls')", "a;b", "x if x else y",
    "[x for x in y]", "{'a': 1}", "open('/etc/passwd').read()", "x.__class__", "`x`",
    "import os", "x @ y", "x % y", "x // y", "x << 2", "!x", "x = 1; x",
])
def test_python_in_candidates_is_a_clean_error(text):
    err = refused(check, NET, text, "w1")
    assert err.kind in ("parse_error", "unknown_name")
    assert err.position is not None


@pytest.mark.parametrize("text", [
    r"\input{/etc/passwd}", r"\include{/etc/passwd}", r"\write18{touch /tmp/derivcheck_pwned}",
    r"\immediate\write18{touch /tmp/derivcheck_pwned}", r"\catcode`\^=7 x",
    r"\def\x{1} \x", r"\newcommand{\x}{1} \x", r"\openout1=/tmp/derivcheck_pwned",
    r"\read16 to \x", r"\csname relax\endcsname", r"\usepackage{shellesc}",
    r"\documentclass{article}", r"\verb|x|", r"\special{sh}", r"\ShellEscape{ls}",
    r"\makeatletter \x", r"x \\ \input|ls", r"\lstinputlisting{/etc/passwd}",
    r"\directlua{os.execute('touch /tmp/derivcheck_pwned')}", r"$$\input{/etc/passwd}$$",
])
def test_tex_primitives_in_candidates_are_never_executed(text):
    SENTINEL.unlink(missing_ok=True)
    start = time.process_time()
    try:
        result = check(NET, text, "w1", timeout=5)
    except DerivcheckError as err:
        shown = err.render()
    else:
        shown = json.dumps(result.to_json())
    assert time.process_time() - start < FAST
    assert "root:" not in shown  # /etc/passwd was not read
    assert not SENTINEL.exists()


def test_tex_in_a_candidate_is_escaped_in_reports():
    """A left side that is no derivative is refused (issue 14: the right side is never
    graded alone); text that reaches a report as a warning is escaped."""
    from derivcheck.write.report import report_source
    with pytest.raises(DerivcheckError) as info:
        check(NET, r"\catcode`\^=7 x", "w1")
    assert info.value.position == 0 and "not a derivative" in info.value.message
    result = check(NET, "x", "w1")
    result.warnings.append(r"the left side \catcode`\^=7 was not read")
    source = report_source(result)
    assert not re.search(r"(?<!\\textbackslash\{\})\\catcode", source)


@pytest.mark.parametrize("text", ["x\x00", "\x1b[2Jx", "x\u202e", "\ud800", "x\ufeff",
                                  "\u0000" * 1000, "\U0001F600", "w1\u200bx"])
def test_control_and_odd_unicode(text):
    try:
        check(NET, text, "w1", timeout=5)
    except DerivcheckError as err:
        assert err.kind in ("parse_error", "unknown_name")


def test_cli_does_not_run_candidate_code():
    SENTINEL.unlink(missing_ok=True)
    code, out, _, _ = cli("check", "--format", "json", "--weights", "w1", "--wrt", "w1",
                          "__import__('os').system('touch /tmp/derivcheck_pwned')")
    assert code == 2 and json.loads(out)["error"]["kind"] == "parse_error"
    code, out, _, _ = cli("check", "--format", "json", "--forward", "yhat = os.system(x)",
                          "--wrt", "w1", "x")
    assert code == 2 and "error" in json.loads(out)
    assert not SENTINEL.exists()


# -- the package source ------------------------------------------------------------------

#: A call of an evaluating function whose first argument is not a string or number literal.
DYNAMIC_CALL = re.compile(
    r"(?<![\w.])(?:eval|exec|compile|execfile|__import__)\s*\(\s*(?![\"'\d)])"
    r"|\b(?:sympify|parse_expr|lambdify|import_module|parse_latex)\s*\(\s*(?![\"'\d)])"
    r"|\bS\s*\(\s*(?![\"'\d)])")

#: Reviewed exceptions: (file, text of the call line), and why each is safe.
ALLOWED = {
    # a SymPy expression, never a string: strict=True refuses strings instead of parsing them
    ("latex.py", "sympy.sympify(expr, strict=True)"),
    # straight-line code generated from slot numbers and integer literals only; the
    # tokens of every generated program are checked (generated_source) before it compiles
    ("exact.py", 'exec(compile(generated_source(gen.lines)'),
}


def test_no_code_evaluation_on_non_literal_arguments():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if code.lstrip().startswith("def ") or not DYNAMIC_CALL.search(code):
                continue
            if not any(path.name == f and snippet in code for f, snippet in ALLOWED):
                found.append(f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert not found, "\n".join(found)


def test_the_pattern_catches_what_it_should():
    for bad in ["eval(text)", "exec(source)", "sympy.sympify(text)", "parse_expr(s)",
                "lambdify(args, e)", "S(text)", "__import__(name)", "compile(src, 'f', 'exec')"]:
        assert DYNAMIC_CALL.search(bad), bad
    for fine in ["cls.eval(z)", "S('1/2')", "sympify(1)", "evaluate(x)", "self.exec_count"]:
        assert not DYNAMIC_CALL.search(fine), fine


_PROGRAM_TOKEN = re.compile(
    r"\s+|def|if|else|raise|return|ZeroDivisionError|_run|_gcd|_F|EV\.define|EV|S0N|S0D"
    r"|[LKV]\[\d+\]"
    r"|[st]\d+[ndg]?|\d+|g|L|K|V|[-+*/=<>!(),:;\[\]]|//=|\*\*")


@pytest.mark.parametrize("network", [
    chain(["w1", "w2"], "relu"), chain(["W0"], "sigmoid", biases=["b0"]),
    forward(["h = relu(alpha*x + beta)", "yhat = gamma*h - 10^200*x"]),
    from_dict({"widths": [2, 2, 1], "activations": "leaky_relu(0.01),tanh", "bias": True}),
])
def test_generated_oracle_programs_hold_no_user_text(network):
    """The one exec in the package runs code made only of slot names, integer literals
    and operators: no name or text of the user reaches it."""
    oracle = Oracle(network, "torch")
    program = oracle._program("torch")
    source = "\n".join(_program_lines(program))
    leftover = _PROGRAM_TOKEN.sub("", source)
    assert leftover == "", leftover


def _program_lines(program):
    from derivcheck.oracle.exact import _Codegen
    gen = _Codegen(program.leaves)
    for symbol, expr in program.definitions.items():
        gen.define(symbol, expr)
    return gen.lines
