"""The pytest plugin, run inside pytest with ``pytester``: the ``gradient_oracle``
fixture passing and failing, its message, the options, the assertion hook, laziness."""
import importlib
import importlib.metadata
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

# Imported here, once: pytester's in-process runs unload whatever they import, and
# importing again is slow (hypothesis, which its plugin imports) or breaks (torch).
for _name in ("hypothesis", "torch"):
    if importlib.util.find_spec(_name):
        importlib.import_module(_name)
HAS_TORCH = "torch" in sys.modules

pytest_plugins = ["pytester"]

#: The plugin's file, wherever derivcheck is imported from (the checkout or a wheel).
PLUGIN = Path(importlib.util.find_spec("derivcheck.oracle.pytest_plugin").origin)

#: A user's test module: a chain y = relu(w2 relu(w1 x)) and a hand-written backward
#: pass whose ReLU mask is MASK ("z > 0": Step(0) = 0; "z >= 0": Step(0) = 1).
USER_TESTS = '''
import derivcheck.core.network as dn

NET = dn.chain(["w1", "w2"], "relu", loss="half_squared")

def relu_grad(z):
    return 1.0 if MASK else 0.0

def backward(params, inputs, targets):
    x, w1, w2, y = inputs["x"], params["w1"], params["w2"], targets["y"]
    z1 = w1 * x; a1 = max(z1, 0.0); z2 = w2 * a1; a2 = max(z2, 0.0)
    dz2 = SIGN * (a2 - y) * relu_grad(z2)
    dz1 = dz2 * w2 * relu_grad(z1)
    return {"w1": dz1 * x, "w2": dz2 * a1}

def test_backward(gradient_oracle):
    gradient_oracle.check(NET, backward)
'''


def plugin_args() -> list:
    """``-p derivcheck.oracle.pytest_plugin`` unless the installed entry point loads it."""
    installed = any(ep.name == "derivcheck"
                    for ep in importlib.metadata.entry_points(group="pytest11"))
    return [] if installed else ["-p", "derivcheck.oracle.pytest_plugin"]


def run(pytester, source, *args, mask="z > 0", sign="1"):
    pytester.makepyfile(source.replace("MASK", mask).replace("SIGN", sign))
    return pytester.runpytest(*plugin_args(), *args)


def test_a_correct_backward_pass_passes(pytester):
    run(pytester, USER_TESTS).assert_outcomes(passed=1)


def failing(pytester, **implementation):
    """The output of the user's test failing with this ``mask`` or ``sign``."""
    result = run(pytester, USER_TESTS, **implementation)
    result.assert_outcomes(failed=1)
    return result.stdout


def test_a_wrong_backward_pass_fails_with_a_readable_message(pytester):
    out = failing(pytester, sign="-1")
    out.fnmatch_lines(["*AssertionError: dC/dw1 differs from the exact gradient "
                       "(kink convention torch)", "*  at x = *, w1 = *, w2 = *, y = *",
                       "*  exact: *", "*  yours: *", "*points disagree*"])
    assert "only a kink convention" not in out.str()


def test_step0_equal_one_is_named_as_the_convention(pytester):
    failing(pytester, mask="z >= 0").fnmatch_lines([
        "*(a kink point)", "*only a kink convention: your implementation uses Step(0) = 1*"])


def test_the_convention_option(pytester):
    run(pytester, USER_TESTS, "--derivcheck-convention=1", mask="z >= 0").assert_outcomes(
        passed=1)
    run(pytester, USER_TESTS, "--derivcheck-convention", "any", mask="z >= 0") \
        .assert_outcomes(passed=1)


def test_the_points_option(pytester):
    source = '''
import derivcheck.core.network as dn

def backward(params, inputs, targets):
    return {"w1": (params["w1"] * inputs["x"] - targets["y"]) * inputs["x"]}

def test_points(gradient_oracle):
    assert gradient_oracle.points == 2 and gradient_oracle.convention == "jax"
    net = dn.chain(["w1"], "identity")
    assert gradient_oracle.check(net, backward).points == 2
    result = gradient_oracle.check(net, backward, points=5, convention="torch")
    assert result.points == 5 and result.convention == "torch"
'''
    run(pytester, source, "--derivcheck-points=2", "--derivcheck-convention=jax") \
        .assert_outcomes(passed=1)


def test_defaults(pytester):
    source = '''
def test_defaults(gradient_oracle):
    assert (gradient_oracle.convention, gradient_oracle.points) == ("torch", 8)
'''
    run(pytester, source).assert_outcomes(passed=1)


def test_help_shows_the_option_group(pytester):
    result = pytester.runpytest(*plugin_args(), "--help")
    result.stdout.fnmatch_lines(["derivcheck: exact gradients as a test oracle:",
                                 "*--derivcheck-convention=C*", "*--derivcheck-points=N*"])


def test_check_torch_with_a_module(pytester):
    source = '''
import torch
import derivcheck.core.network as dn

NET = dn.mlp([2, 3, 1], "relu,identity", bias=True)

def test_module(gradient_oracle):
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    gradient_oracle.check_torch(NET, model, points=3)

def test_wrong_module(gradient_oracle):
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1))
    gradient_oracle.check_torch(NET, model, points=3)
'''
    if not HAS_TORCH:
        pytest.skip("needs torch")
    result = run(pytester, source)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*differs from the exact gradient*"])


def test_assertion_hook_explains_expected_gradients(pytester):
    source = '''
import derivcheck.core.network as dn

def test_equal(gradient_oracle):
    net = dn.chain(["w1"], "relu")
    expected = gradient_oracle.expected(net, {"x": 1, "w1": 2, "y": 0})
    assert {"w1": 2.0} == expected
    assert expected != {"w1": 2.5}
    assert dict(expected) == {"w1": 2}

def test_at_kink(gradient_oracle):
    net = dn.chain(["w1"], "relu")
    assert {"w1": -1.0} == gradient_oracle.expected(net, {"x": 1, "w1": 0, "y": 1})
'''
    result = run(pytester, source)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*your gradients differ from the exact ones:",
        "*dC/dw1 differs from the exact gradient (kink convention torch)",
        "*at x = 1, w1 = 0, y = 1 (a kink point)",
        "*exact: 0",
        "*yours: -1.0",
        "*only a kink convention: your implementation uses Step(0) = 1*",
    ])


def test_assertion_hook_shows_comparisons(pytester):
    source = '''
import derivcheck.core.network as dn
from derivcheck.oracle.adapters import compare_numpy

def test_compare():
    net = dn.chain(["w1"], "relu")
    comparison = compare_numpy(net, lambda p, i, t: {"w1": 0.0}, points=1, kinks=False)
    assert comparison == "ok"
'''
    result = run(pytester, source)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*derivcheck comparison:", "*dC/dw1 differs*"])


def test_importing_the_plugin_module_loads_neither_sympy_nor_torch():
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('plugin_alone', {str(PLUGIN)!r})\n"
        "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "print(sorted(m for m in ('sympy', 'torch', 'mpmath') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
