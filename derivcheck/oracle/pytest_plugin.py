"""pytest plugin: the ``gradient_oracle`` fixture checks your backward pass exactly.

Registered by the ``pytest11`` entry point ``derivcheck``. Importing it costs nothing:
SymPy and torch are imported only when a test uses the fixture.

.. code-block:: python

    def test_backward(gradient_oracle):
        net = derivcheck.mlp([2, 3, 1], "relu,identity", loss="squared")
        gradient_oracle.check(net, my_backward)          # numpy-style backward pass
        gradient_oracle.check_torch(net, my_module)      # torch autograd on a module
        gradient_oracle.check_arrays(big_net, backward)  # whole arrays: W1, b1, X, Y ...
        gradient_oracle.check_torch_module(model, torch.nn.CrossEntropyLoss(), batch=32)
        gradient_oracle.check_jax(net, loss_fn, params)  # jax.grad over a params pytree
        assert my_grads(point) == gradient_oracle.expected(net, point)

``check`` and ``check_torch`` test random points and one point exactly on each kink, and
raise ``AssertionError`` naming the parameter, the point and both values, and saying
when the difference is only a kink convention (``your implementation uses Step(0) =
1``). Options: ``--derivcheck-convention`` (default ``torch``) and
``--derivcheck-points`` (default 8).

>>> oracle = GradientOracle(convention="1", points=3)
>>> oracle.convention, oracle.points
('1', 3)
"""
from __future__ import annotations

import sys
from collections.abc import Mapping

import pytest

__all__ = ["GradientOracle", "ExpectedGradients", "gradient_oracle"]


def pytest_addoption(parser):
    group = parser.getgroup("derivcheck", "derivcheck: exact gradients as a test oracle")
    group.addoption("--derivcheck-convention", default="torch", metavar="C",
                    help="kink convention gradient_oracle checks against: torch (default), "
                         "jax, tensorflow, 0, 1, 1/2 or any")
    group.addoption("--derivcheck-points", type=int, default=8, metavar="N",
                    help="random points per check, besides one point on each kink "
                         "(default 8)")


class ExpectedGradients(Mapping):
    """The exact gradients at one point; ``== {name: float}`` holds within ``rtol``.

    A failing ``assert yours == expected`` is explained by
    :func:`pytest_assertrepr_compare`: the first disagreeing parameter, the point, both
    values, and whether another kink convention explains it.
    """

    def __init__(self, net, point: dict, convention, *, rtol: float = 1e-12,
                 atol: float = 0.0):
        from derivcheck.oracle.exact import Oracle

        self.oracle = Oracle(net, convention)
        self.point = self.oracle.point(point)
        self.rtol, self.atol = rtol, atol
        self.values = self.oracle.gradients(self.point)

    def __getitem__(self, name):
        return self.values[name]

    def __iter__(self):
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)

    def __repr__(self) -> str:
        from derivcheck.core.printing import format_value

        return "{" + ", ".join(f"{k!r}: {format_value(v)}" for k, v in self.items()) + "}"

    def mismatch(self, actual: Mapping):
        """The :class:`derivcheck.oracle.adapters.Mismatch` with ``actual`` (None: they agree)."""
        from derivcheck.oracle.adapters import check_point

        return check_point(self.oracle.net, self.point, dict(actual),
                           convention=self.oracle.convention, rtol=self.rtol, atol=self.atol)

    def __eq__(self, other) -> bool:
        if not isinstance(other, Mapping) or isinstance(other, ExpectedGradients):
            return NotImplemented
        return self.mismatch(other) is None

    __hash__ = None

    def explain(self, actual: Mapping) -> list[str]:
        """Lines for pytest's assertion message."""
        found = self.mismatch(actual)
        if found is None:
            return ["the gradients agree"]
        return ["your gradients differ from the exact ones:",
                *found.lines(self.oracle.convention.name)]


class GradientOracle:
    """What the ``gradient_oracle`` fixture returns."""

    def __init__(self, convention: str = "torch", points: int = 8):
        self.convention, self.points = convention, points

    def _options(self, convention, points, kinks, options) -> dict:
        return dict(options, convention=convention or self.convention,
                    points=self.points if points is None else points, kinks=kinks)

    def check(self, net, backward_fn, convention=None, points=None, kinks=True, **options):
        """Check ``backward_fn(params, inputs, targets) -> {parameter: gradient}``; returns
        the :class:`derivcheck.oracle.adapters.Comparison`, raises ``AssertionError`` on a
        disagreement."""
        __tracebackhide__ = True
        from derivcheck.oracle.adapters import compare_numpy

        result = compare_numpy(net, backward_fn,
                               **self._options(convention, points, kinks, options))
        if not result.ok:
            raise AssertionError(str(result))
        return result

    def check_torch(self, net, module_or_fn=None, convention=None, points=None, kinks=True,
                    **options):
        """Check torch autograd on an ``nn.Module`` (its ``nn.Linear`` layers are the
        network's), on ``fn(params, inputs, targets) -> loss``, or (None) on the network
        itself; raises ``AssertionError`` on a disagreement."""
        __tracebackhide__ = True
        from derivcheck.oracle.adapters import compare_torch

        result = compare_torch(net, module_or_fn,
                               **self._options(convention, points, kinks, options))
        if not result.ok:
            raise AssertionError(str(result))
        return result

    def _raise(self, result):
        __tracebackhide__ = True
        if not result:
            raise AssertionError(str(result))
        return result

    def check_arrays(self, net, backward_fn, convention=None, points=None, kinks=True,
                     **options):
        """Check ``backward_fn(arrays) -> {parameter: gradient array}`` over whole arrays
        (an MLP at any size, style names and layout: ``W1``, ``b1``, ``X``, ``Y``)."""
        __tracebackhide__ = True
        from derivcheck.oracle.array_compare import compare_arrays

        return self._raise(compare_arrays(net, backward_fn, **self._array_options(
            convention, points, kinks, options)))

    def check_torch_module(self, model, loss_fn, batch=None, convention=None, points=None,
                           kinks=True, **options):
        """Check torch autograd on ``model`` (nn.Sequential or a module whose forward runs
        its layers in order) with ``loss_fn`` (an nn loss module), mapped automatically."""
        __tracebackhide__ = True
        from derivcheck.oracle.torch_module import compare_torch_module

        return self._raise(compare_torch_module(model, loss_fn, batch=batch,
                                                **self._array_options(convention, points,
                                                                      kinks, options)))

    def check_jax(self, net, loss_fn, params, convention=None, points=None, kinks=True,
                  **options):
        """Check ``jax.grad(loss_fn)(params, X, Y)`` (see
        :mod:`derivcheck.oracle.jax_adapter`); the convention defaults to jax's."""
        __tracebackhide__ = True
        from derivcheck.oracle.jax_adapter import compare_jax

        opts = self._array_options(convention or "jax", points, kinks, options)
        return self._raise(compare_jax(net, loss_fn, params, **opts))

    def _array_options(self, convention, points, kinks, options) -> dict:
        # at training sizes a point costs milliseconds, not microseconds: a few suffice
        return dict(options, convention=convention or self.convention,
                    points=min(self.points, 2) if points is None else points, kinks=kinks)

    def expected(self, net, point: dict, convention=None, **tolerances) -> ExpectedGradients:
        """The exact gradients at ``point``, to compare with ``==``."""
        return ExpectedGradients(net, point, convention or self.convention, **tolerances)

    def oracle(self, net, convention=None):
        """A :class:`derivcheck.oracle.exact.Oracle` under the session's convention."""
        from derivcheck.oracle.exact import Oracle

        return Oracle(net, convention or self.convention)


@pytest.fixture
def gradient_oracle(request) -> GradientOracle:
    """Checks backward passes against exact gradients (see :mod:`derivcheck.oracle.pytest_plugin`)."""
    config = request.config
    return GradientOracle(config.getoption("derivcheck_convention", "torch"),
                          config.getoption("derivcheck_points", 8))


def pytest_assertrepr_compare(config, op, left, right):
    """Explain ``yours == expected`` and ``comparison == ...`` failures."""
    if op != "==":
        return None
    for ours, other in ((left, right), (right, left)):
        if isinstance(ours, ExpectedGradients) and isinstance(other, Mapping):
            return ours.explain(other)
        adapters = sys.modules.get("derivcheck.oracle.adapters")
        if adapters is not None and isinstance(ours, adapters.Comparison):
            return ["derivcheck comparison:", *str(ours).splitlines()]
        arrays = sys.modules.get("derivcheck.oracle.array_compare")
        if arrays is not None and isinstance(ours, arrays.ArrayComparison):
            return ["derivcheck comparison:", *str(ours).splitlines()]
    return None
