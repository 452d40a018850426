"""Fuzzing the whole pipeline: every input gets an answer in bounded time, a verdict or a
DerivcheckError, never another exception.

About 15,000 inputs per run: token soups made of the real vocabulary (names of real
networks, numbers, operators, functions, LaTeX commands), random bytes and Unicode, valid
formulas built from a grammar (which reach deep into the decision procedure), forward
equations, and random batch lines. Cheap parser-only inputs are many, full checks fewer.
"""
import importlib.util
import json
import random
import re
import time
from pathlib import Path

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from derivcheck.app.batch import grade_item
from derivcheck.decide.check import check
from derivcheck.errors import DerivcheckError
from derivcheck.guard import Timeout, time_limit
from derivcheck.core.network import chain, forward, from_dict, mlp
from derivcheck.parsing import parse_formula
from derivcheck.decide.verdict import VERDICTS

NETWORKS = {
    "relu2": chain(["w1", "w2"], "relu", biases=["b1", "b2"]),
    "sig2": chain(["w1", "w2"], ["sigmoid", "tanh"], loss="squared"),
    "leaky": chain(["W0", "W1"], "leaky_relu(0.1)"),
    "mlp": mlp([2, 2, 1], "relu", bias=True),
    "eqs": forward(["z1 = w1*x + b1", "h = relu(z1)", "yhat = w2*h"], loss="mse"),
}
NAMES = sorted({n for net in NETWORKS.values() for n in net.namespace.symbols})
WRT = {k: [str(p) for p in net.params] for k, net in NETWORKS.items()}
CONVENTIONS = ["any", "0", "1", "1/2", "torch", "jax", "tensorflow"]

PLAIN = NAMES + ["relu(", "step(", "sigmoid(", "tanh(", "exp(", "log(", "abs(", "max(", "min(",
                 "leaky_relu(", "elu(", "softplus(", "sqrt(", "relu'(", "f'(", "dC/d", "dC/dz1",
                 "dC/dw1", "[", "]", "(", ")", "|", ",", "+", "-", "*", "/", "^", "**", "=", ">",
                 ">=", "<", "0", "1", "2", "0.5", "1e-3", "3/4", "100", " ", "\u03c3", "\u00b7",
                 "\u2212", "\u0177", "'", ".", ";"]
LATEX = NAMES + [r"\frac{", "}{", "{", "}", "^", "_", "^{(1)}", "_{1}", r"\partial", "C", r"\cdot",
                 r"\times", r"\odot", r"\left(", r"\right)", "(", ")", "ReLU", r"\text{ReLU}",
                 r"\mathrm{Step}", r"\operatorname{relu}", "H(", "Step", r"\sigma", r"\sigma'",
                 r"\tanh", r"\exp", r"\log", r"\max(0,", r"\hat{y}", r"\hat y", "W^{(0)}", "w_1",
                 "w_{2}", "z^{(1)}", "dz^{[1]}", r"\mathbb{1}[", r"\mathbb{1}_{", ">", r"\ge",
                 r"\begin{cases}", r"\end{cases}", "&", r"\\", r"\text{otherwise}", "^T", "=",
                 r"\frac{\partial C}{\partial w_1}", "+", "-", "2", "0.1", r"\,", "$", r"\input",
                 r"\write18", r"\catcode", " "]
#: Seconds one input may take (a loaded CI machine); typical inputs take milliseconds.
PARSE_BOUND = 3.0
CHECK_BOUND = 8.0
FEW = settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
SOME = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


def soup(tokens, max_size=24):
    return st.tuples(st.lists(st.sampled_from(tokens), max_size=max_size),
                     st.sampled_from(["", " "])).map(lambda p: p[1].join(p[0]))


def answered(call, bound, *args, **kw):
    """``call``'s result, or None for a DerivcheckError that describes itself; within
    ``bound`` seconds, and nothing else raised."""
    start = time.monotonic()
    try:
        with time_limit(bound):
            return call(*args, **kw)
    except Timeout:
        pytest.fail(f"no answer within {bound} s: {call.__name__}{args!r}")
    except DerivcheckError as err:
        body = err.to_json()["error"]
        json.dumps(body)
        assert body["kind"] != "error" and body["message"]
        assert err.position is None or isinstance(err.position, int)
        err.render()
        return None
    finally:
        assert time.monotonic() - start < bound + 1


# -- the reader, with real networks' names -------------------------------------------------

@FEW
@given(soup(PLAIN), st.sampled_from(sorted(NETWORKS)))
def test_plain_soup(text, net):
    parsed = answered(parse_formula, PARSE_BOUND, text, NETWORKS[net].namespace, latex=False)
    assert parsed is None or isinstance(parsed.expr, sympy.Basic)


@FEW
@given(soup(LATEX), st.sampled_from(sorted(NETWORKS)))
def test_latex_soup(text, net):
    parsed = answered(parse_formula, PARSE_BOUND, text, NETWORKS[net].namespace)
    assert parsed is None or isinstance(parsed.expr, sympy.Basic)


@FEW
@given(st.one_of(st.binary(max_size=60).map(lambda b: b.decode("utf-8", "replace")),
                 st.binary(max_size=60).map(lambda b: b.decode("latin-1")),
                 st.text(max_size=60)),
       st.sampled_from(sorted(NETWORKS)))
def test_bytes_and_unicode(text, net):
    answered(parse_formula, PARSE_BOUND, text, NETWORKS[net].namespace)


def seeded_texts(seed: int, count: int):
    """``count`` texts from one seed: token soups (plain, LaTeX, both mixed) and random
    bytes; hypothesis explores seeds, Python's random makes the texts (far cheaper per
    input than a hypothesis example)."""
    rng = random.Random(seed)
    for _ in range(count):
        kind = rng.randrange(4)
        if kind == 3:
            raw = bytes(rng.randrange(256) for _ in range(rng.randrange(40)))
            yield raw.decode(rng.choice(["utf-8", "latin-1"]), "replace")
        else:
            tokens = (PLAIN, LATEX, PLAIN + LATEX)[kind]
            glue = rng.choice(["", " "])
            yield glue.join(rng.choice(tokens) for _ in range(rng.randrange(30)))


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.integers(0, 2**64), st.sampled_from(sorted(NETWORKS)))
def test_seeded_soups(seed, net):
    for text in seeded_texts(seed, 50):
        answered(parse_formula, PARSE_BOUND, text, NETWORKS[net].namespace)


@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(soup(PLAIN, 10), min_size=1, max_size=3))
def test_forward_equation_soups(rights):
    """Networks from random forward equations: built, or refused with a clean error."""
    equations = [f"h{i} = {r}" for i, r in enumerate(rights[:-1])] + [f"yhat = {rights[-1]}"]
    net = answered(forward, PARSE_BOUND, equations)
    if net is not None and net.params:
        answered(net.gradient, PARSE_BOUND, net.params[0], form="inline")


# -- the whole check ----------------------------------------------------------------------

def formulas(names):
    """Valid plain formulas over ``names``: what students write, right or wrong."""
    leaves = st.sampled_from(names) | st.sampled_from(["0", "1", "2", "1/2", "0.1"])

    def grow(inner):
        return (st.tuples(inner, st.sampled_from(["+", "-", "*", "/"]), inner)
                .map(lambda t: f"({t[0]} {t[1]} {t[2]})")
                | st.tuples(st.sampled_from(["relu", "step", "sigmoid", "tanh", "abs", "exp",
                                             "softplus", "-", "sigmoid'", "relu'"]), inner)
                .map(lambda t: f"{t[0]}({t[1]})")
                | st.tuples(inner, inner).map(lambda t: f"max({t[0]}, {t[1]})")
                | st.tuples(inner, st.sampled_from(["2", "3", "-1"]))
                .map(lambda t: f"({t[0]})^{t[1]}")
                | st.tuples(inner, st.sampled_from([">", ">="])).map(lambda t: f"[{t[0]} {t[1]} 0]"))
    return st.recursive(leaves, grow, max_leaves=12)


def judged(net_name, text, wrt, convention, assume):
    result = answered(check, CHECK_BOUND, NETWORKS[net_name], text, wrt, assume=assume,
                      convention=convention, timeout=2.0)
    if result is not None:
        assert result.verdict in VERDICTS
        data = json.loads(json.dumps(result.to_json()))
        assert data["verdict"] == result.verdict and data["wrt"] == wrt
        if result.verdict == "not_equivalent":
            assert data["counterexample"]["point"]
    return result


@st.composite
def grammar_case(draw):
    net = draw(st.sampled_from(sorted(NETWORKS)))
    names = sorted(n for n in NETWORKS[net].namespace.symbols if "_" not in n or net == "mlp")
    x, p = NETWORKS[net].inputs[0], NETWORKS[net].params[0]
    assume = draw(st.sampled_from([[], [f"{x} > 0"], [f"{x} < 0"], [f"{p} >= 0", f"{x} > 1/2"]]))
    return (net, draw(formulas(names)), draw(st.sampled_from(WRT[net])),
            draw(st.sampled_from(CONVENTIONS)), assume)


@SOME
@given(grammar_case())
def test_check_valid_formulas(case):
    judged(*case)


@SOME
@given(st.sampled_from(sorted(NETWORKS)), soup(PLAIN, 16), st.sampled_from(CONVENTIONS))
def test_check_plain_soup(net, text, convention):
    judged(net, text, WRT[net][0], convention, [])


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(sorted(NETWORKS)), soup(LATEX, 16))
def test_check_latex_soup(net, text):
    judged(net, text, WRT[net][-1], "any", ["x > 0"])


def test_true_gradients_in_every_convention():
    """The printed gradient read back is equivalent, for each network and parameter."""
    for name, net in NETWORKS.items():
        for wrt in WRT[name]:
            text = str(check(net, "0", wrt).gradient)
            assert judged(name, text, wrt, "any", []).verdict == "equivalent", (name, wrt)


# -- batch lines ----------------------------------------------------------------------------

JSON = st.recursive(st.none() | st.booleans() | st.integers(-10**6, 10**6)
                    | st.floats(allow_nan=False) | st.text(max_size=12),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=10)
FIELD_VALUES = {
    "weights": st.sampled_from([["w1"], "w1,w2", [], ["os.system"], "W0,W1"]) | JSON,
    "activations": st.sampled_from(["relu", "relu,sigmoid", ["tanh"], "prelu(a)",
                                    "leaky_relu(1e-3)", "nope"]) | JSON,
    "biases": st.sampled_from([["b1"], "b1,b2", True]) | JSON,
    "widths": st.sampled_from([[2, 2, 1], "1,1", [1, 0], [3]]) | JSON,
    "forward": st.sampled_from([["yhat = w*x"], "yhat = relu(w*x)", ["h = x", "yhat = h"]]) | JSON,
    "input": st.sampled_from(["x", ["x1", "x2"], "lambda"]) | JSON,
    "target": st.sampled_from(["y", "t"]) | JSON,
    "loss": st.sampled_from(["half_squared", "mse", "bce", "cross_entropy", "l1"]) | JSON,
}


@st.composite
def batch_lines(draw):
    fields = draw(st.lists(st.sampled_from(sorted(FIELD_VALUES)), max_size=4, unique=True))
    network = {k: draw(FIELD_VALUES[k]) for k in fields}
    network = draw(st.sampled_from([network, {"weights": ["w1", "w2"]}]) | JSON)
    line = {"network": network, "candidate": draw(soup(PLAIN, 8) | JSON),
            "wrt": draw(st.sampled_from(["w1", "w2", "W0", None]) | JSON)}
    for key in ("assume", "kink_convention", "id", "extra"):
        if draw(st.booleans()):
            line[key] = draw(st.sampled_from([["x > 0"], "x > 0", "torch", "any", "1/2"]) | JSON)
    return line


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(batch_lines())
def test_batch_lines(line):
    start = time.monotonic()
    with time_limit(CHECK_BOUND):
        record = grade_item(line, timeout=2.0)
    assert time.monotonic() - start < CHECK_BOUND
    json.dumps(record)
    if "error" in record:
        assert record["error"]["kind"] not in ("internal_error", "error"), record
    else:
        assert record["verdict"] in VERDICTS


@settings(max_examples=800, deadline=None, suppress_health_check=list(HealthCheck))
@given(JSON)
def test_network_fields_from_any_json(data):
    answered(from_dict, PARSE_BOUND, data)


# -- the soundness stress run --------------------------------------------------------------

@pytest.mark.slow
def test_soundness_quick_run(capsys):
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "soundness.py"
    spec = importlib.util.spec_from_file_location("soundness", path)
    soundness = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(soundness)
    assert soundness.main(["--quick"]) == 0
    out = capsys.readouterr().out
    for line in ("WRONG verdicts: 0", "UNCONFIRMED verdicts: 0", "REFERENCE MISMATCHES: 0"):
        assert line in out
    # the verifier really verified: a verifier that cannot evaluate would flag nothing
    m = re.search(r"(\d+) point comparisons \((\d+) not evaluable\); random points reached "
                  r"(\d+) of (\d+) pieces .*; kink probes reached (\d+) of (\d+) breakpoints; "
                  r"the verdict's own evidence confirmed in (\d+) of (\d+) decided cases; "
                  r"reference gradients checked against autograd: (.*)", out)
    compared, lost, pieces, all_pieces, kinks, all_kinks, confirmed, decided = map(
        int, m.groups()[:8])
    assert lost <= compared // 50 and confirmed == decided > 100, m.group(0)
    assert pieces >= 0.9 * all_pieces and kinks >= 0.8 * all_kinks, m.group(0)
    assert " by torch" in m.group(9), m.group(0)
