"""Index-form nodes (derivcheck.core.matrix.indexed): values entry by entry at an instance,
and the bounds of the for-every-size argument."""
import sympy

from derivcheck.core.matrix import expr as mx
from derivcheck.core.matrix.bounds import bound
from derivcheck.core.matrix.indexed import Entry, IndexForm, IndexSum, involves
from derivcheck.core.matrix.network import MatrixNetwork

NET = MatrixNetwork(["n0", "n1", 1], "relu", batch="m", style="ng")


def test_an_index_form_is_the_matrix_of_its_entries():
    ns = NET.namespace
    dz, x = ns.symbols["dZ1"], ns.symbols["X"]
    body = IndexSum("i", "m", mx.mul(Entry(dz, ("j", "i")), Entry(x, ("k", "i"))))
    form = IndexForm(body, ("j", "k"), ("n1", "n0"))
    env = NET.instance({"n0": 2, "n1": 3, "m": 4}).env("atom", NET.convention)
    matrix = mx.matmul(dz, mx.transpose(x)).evaluate(env)
    assert form.evaluate(env).shape == (3, 2)
    assert all(sympy.expand(a - b) == 0 for a, b in zip(form.evaluate(env).flat, matrix.flat))


def test_bounds_count_summed_indices_and_a_sum_over_an_unused_index_raises_the_degree():
    x = NET.namespace.symbols["X"]
    used = bound(IndexForm(IndexSum("i", "m", Entry(x, ("k", "i"))), ("k", None), ("n0", 1)))
    unused = bound(IndexForm(IndexSum("i", "m", mx.Scalar(sympy.S.One)), (None, None), (1, 1)))
    assert used.indices["m"] == 1 and used.degree.get("m", (0, 0)) == (0, 0)
    assert unused.degree["m"] == (1, 0)


def test_a_function_of_a_sum_leaves_the_fragment():
    x = NET.namespace.symbols["X"]
    inner = IndexSum("i", "m", Entry(x, ("k", "i")))
    b = bound(mx.apply("exp", lambda xs: sympy.exp(xs[0]), [inner]))
    assert not b.fragment and "applies a function" in b.reason


def test_involves_is_false_when_some_term_ignores_the_index():
    x = NET.namespace.symbols["X"]
    e = Entry(x, ("k", "i"))
    assert involves(mx.mul(e, mx.Scalar(sympy.Integer(3))), "i")
    assert not involves(mx.add(e, mx.Scalar(sympy.S.One)), "i")
    assert not involves(e, "j")
