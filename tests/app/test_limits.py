"""Every input limit: refused fast, as ``limit_exceeded`` with a position, in the API, in
batch records and on the command line (exit 2, JSON error)."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from derivcheck import limits
from derivcheck.app.batch import grade_item
from derivcheck.decide.check import check
from derivcheck.errors import LimitError, SpecError
from derivcheck.guard import Timeout, time_limit
from derivcheck.core.network import chain, from_dict
from derivcheck.parsing import parse_equation, parse_formula
from derivcheck.core.spec import NetworkSpec

ROOT = Path(__file__).resolve().parents[2]
NET = chain(["w1", "w2"], "relu")
#: CPU seconds of this process (not wall time, which a loaded machine stretches): a
#: limit is enforced before any real work, which would take minutes.
FAST = 5.0


def refused(call, *args, **kw) -> LimitError:
    """The LimitError ``call`` raises, asserting it came fast and names a position."""
    start = time.process_time()
    with pytest.raises(LimitError) as info:
        call(*args, **kw)
    assert time.process_time() - start < FAST
    err = info.value
    assert err.kind == "limit_exceeded"
    assert isinstance(err.position, int)
    assert err.to_json()["error"]["kind"] == "limit_exceeded"
    return err


def cli(*args, stdin=None, timeout=60):
    """Run the derivcheck command; (exit code, stdout, stderr, seconds)."""
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from derivcheck.app.cli import main; sys.exit(main())",
         *args], input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    return proc.returncode, proc.stdout, proc.stderr, time.monotonic() - start


# -- formulas ---------------------------------------------------------------------------

def test_formula_length():
    err = refused(check, NET, "x" * (limits.MAX_TEXT_LENGTH + 1), "w1")
    assert err.position == limits.MAX_TEXT_LENGTH


def test_formula_length_of_a_valid_sum_is_refused_before_parsing():
    refused(check, NET, "+".join(["x"] * (limits.MAX_TEXT_LENGTH // 2 + 1)), "w1")


def test_nesting_depth():
    err = refused(check, NET, "(" * (limits.MAX_NESTING + 1) + "x" + ")" * (limits.MAX_NESTING + 1),
                  "w1")
    assert err.position == limits.MAX_NESTING


@pytest.mark.parametrize("opener", ["sigmoid(", "relu(", r"\sigma(", "exp(", "|", "max(x,",
                                    "leaky_relu(", "abs(", "softplus(", "-(", "1/("])
def test_nesting_within_the_limit_never_overflows_the_stack(opener):
    """At the nesting limit every stage still works (no RecursionError), in bounded time."""
    n = limits.MAX_NESTING
    closer = "|" if opener == "|" else ")"
    with time_limit(30):
        result = check(NET, opener * n + "w1*x" + closer * n, "w1", timeout=3)
    assert result.verdict in ("not_equivalent", "unknown")


@pytest.mark.parametrize("function", ["tanh", "sech", "cosh", "sinh", "elu", "gelu", "selu",
                                      "celu", "swish", "sigmoid", "softplus", "relu", "abs",
                                      "exp", "log", "leaky_relu", "hardtanh", "relu6"])
def test_nested_functions_are_read_and_judged_fast(function):
    """Taking nested activations apart copies their argument (elu(z) mentions z three
    times; sech, in exp form, twice), and SymPy's assumptions used to walk every copy:
    ten nested elu took 12 s, twenty sech never finished. Arguments are named now."""
    depth = limits.MAX_NESTING - 2
    text = f"{function}(" * depth + "w1*x" + ")" * depth
    start = time.process_time()
    with time_limit(10):
        parse_formula(text, NET.namespace)
        result = check(NET, text, "w1", timeout=2)
    assert result.verdict in ("not_equivalent", "unknown")
    assert time.process_time() - start < 4


def test_power_towers_count_as_nesting():
    refused(parse_formula, "x^" * (limits.MAX_NESTING + 1) + "x")


def test_number_of_names():
    text = "z = " + "+".join(f"v{i}" for i in range(limits.MAX_NAMES + 1))
    err = refused(parse_equation, text)
    assert text[err.position:].startswith(f"v{limits.MAX_NAMES}")


@pytest.mark.parametrize("text", ["9^{9^{9^{9}}}", "9^9^9^9", "x^{99999}", "2^1000^1000",
                                  "1e999999999*x", "x^(1000*1000)", "sigmoid(x)^1000^1000"])
def test_exponent_size(text):
    err = refused(check, NET, text, "w1")
    assert 0 <= err.position < len(text)


@pytest.mark.parametrize("text", ["((x^1000)^1000)^1000", "(w1^1000)^1000*x",
                                  "x^1000*x^1000*x^1000", "*".join(["x^900"] * 40)])
def test_exponents_merged_by_sympy_are_limited_too(text):
    """SymPy folds (x^a)^b into x^(ab) and x^a x^b into x^(a+b); the limit applies to the
    result, so exact evaluation never meets x^(10^9)."""
    refused(check, NET, text, "w1")


@pytest.mark.parametrize("text", [
    "1" * (limits.MAX_DIGITS + 1), "0." + "3" * limits.MAX_DIGITS, "*".join(["10^999"] * 20),
    "(" + "x+" * 20_000 + "x)^1000", "*".join(["7^1000"] * 9) + "*x",
    "*".join(f"(x+{i})^1000" for i in range(limits.MAX_DEGREE // 1000 + 1)),
], ids=["literal", "decimal", "product", "coefficient", "powers", "degree"])
def test_number_size(text):
    refused(check, NET, text, "w1")


def test_values_past_the_str_limit_are_printed_exactly():
    """Within the limits, exact values can pass Python's 4300-digit str() limit."""
    result = check(NET, "*".join(f"(x+{i})^1000" for i in range(1, 10)), "w1")
    value = result.to_json()["counterexample"]["candidate"]
    assert len(value) > 4300 and value.replace("/", "").lstrip("-").isdigit()


# -- networks -----------------------------------------------------------------------------

def test_chain_depth():
    err = refused(NetworkSpec.from_dict, {"weights": [f"w{i}" for i in range(100_000)]})
    assert err.position == limits.MAX_DEPTH


def test_chain_depth_as_text():
    refused(NetworkSpec.from_dict, {"weights": ",".join(f"w{i}" for i in range(100_000))})


def test_many_activations_are_refused_fast():
    start = time.process_time()
    with pytest.raises(SpecError):
        NetworkSpec.from_dict({"weights": ["w1"], "activations": "relu," * 100_000})
    assert time.process_time() - start < FAST


def test_mlp_width():
    err = refused(NetworkSpec.from_dict, {"widths": [2, 10_000, 1]})
    assert err.position == 1


def test_mlp_depth_and_size():
    err = refused(NetworkSpec.from_dict, {"widths": [2] * (limits.MAX_DEPTH + 2)})
    assert err.position == limits.MAX_DEPTH + 1
    err = refused(NetworkSpec.from_dict, {"widths": [limits.MAX_WIDTH] * 3})
    assert err.position == 1
    refused(NetworkSpec.from_dict, {"widths": [64] * 100})


def test_forward_equation_count():
    err = refused(NetworkSpec.from_dict, {"forward": ["yhat = w*x"] * 100_000})
    assert err.position == limits.MAX_DEPTH


def test_forward_equations_total_length():
    eq = "z = " + "+".join(["w*x"] * (limits.MAX_TEXT_LENGTH // 4 - 2))
    refused(NetworkSpec.from_dict, {"forward": [eq] * 20})


def test_network_file_size(tmp_path):
    path = tmp_path / "big.toml"
    path.write_text("weights = ['w1']\n" + "# padding\n" * (limits.MAX_FILE_SIZE // 10 + 1))
    err = refused(NetworkSpec.from_toml, path)
    assert err.position == limits.MAX_FILE_SIZE


def test_endless_network_file_is_not_read_to_the_end():
    refused(NetworkSpec.from_toml, "/dev/zero")


def test_deeply_nested_network_file(tmp_path):
    path = tmp_path / "nested.toml"
    path.write_text("weights = " + "[" * 50_000 + "]" * 50_000 + "\n")
    refused(NetworkSpec.from_toml, path)


@pytest.mark.parametrize("act", ["leaky_relu(1e999999999)", "leaky_relu(1e-999999999)",
                                 "elu(" + "9" * 10_000 + ")", "leaky_relu(1" + "0" * 300 + "/3)"])
def test_activation_arguments(act):
    refused(from_dict, {"weights": ["w1"], "activations": act})


def test_limits_reach_batch_records():
    record = grade_item({"network": {"weights": [f"w{i}" for i in range(100_000)]},
                         "wrt": "w1", "candidate": "x"})
    assert record["error"]["kind"] == "limit_exceeded"
    assert record["error"]["position"] == limits.MAX_DEPTH
    record = grade_item({"network": {"weights": ["w1"]}, "wrt": "w1", "candidate": "9^9^9^9"})
    assert record["error"]["kind"] == "limit_exceeded"


# -- the command line -------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["--weights", "w1", "--wrt", "w1", "9^{9^{9^{9}}}"],
    ["--weights", "w1", "--wrt", "w1", "(" * 1000 + "x" + ")" * 1000],
    ["--weights", ",".join(f"w{i}" for i in range(15_000)), "--wrt", "w1", "x"],
    ["--widths", "2,10000,1", "--wrt", "W0_11", "x"],
], ids=["exponent", "nesting", "depth", "width"])
def test_cli_limit_errors_are_json_with_exit_2(args):
    code, out, _, seconds = cli("check", "--format", "json", *args)
    assert code == 2
    error = json.loads(out)["error"]
    assert error["kind"] == "limit_exceeded" and isinstance(error["position"], int)
    assert seconds < 10  # interpreter start included


def test_cli_reads_a_bounded_amount_from_standard_input():
    code, out, _, _ = cli("check", "--format", "json", "--weights", "w1", "--wrt", "w1", "-",
                          stdin="x+" * (limits.MAX_TEXT_LENGTH + 10) + "x")
    assert code == 2 and json.loads(out)["error"]["kind"] == "limit_exceeded"


def test_cli_timeout_answers_unknown():
    """Work that overruns its budget inside SymPy (a 1-99-99-1 MLP, near the parameter
    limit, takes seconds to build and differentiate) is stopped: verdict unknown, exit 3,
    and a reason that says what was running when the time ran out."""
    code, out, _, seconds = cli("check", "--format", "json", "--widths", "1,99,99,1",
                                "--act", "relu", "--wrt", "W0_1_1", "--timeout", "0.5", "x")
    assert code == 3, out
    data = json.loads(out)
    assert data["verdict"] == "unknown"
    assert "time budget" in data["reason"] and " ran out while " in data["reason"]
    assert seconds < 15


def test_cli_timeout_keeps_a_verdict_reached_in_time():
    """When the decision is in and only the diagnosis overruns, the verdict stays."""
    code, out, _, _ = cli("check", "--format", "json", "--weights", "w1,w2,w3,w4",
                          "--act", "tanh", "--wrt", "w1", "--timeout", "0.3",
                          "tanh(tanh(tanh(w1*x)))")
    assert code in (1, 3)
    data = json.loads(out)
    assert data["verdict"] in ("not_equivalent", "unknown")
    if data["verdict"] == "unknown":
        assert "time budget" in data["reason"]
