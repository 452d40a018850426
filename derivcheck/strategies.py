"""hypothesis strategies, so a framework's test suite can property-test its backward pass.

``networks()`` draws small matrix networks (widths, activations, loss, bias, batch);
``points(net, kinks=True)`` draws named float64 arrays for one of them (dyadic, so float64
code computes exactly what the oracle does), sometimes with one unit of every piecewise
layer exactly on a kink. With :func:`derivcheck.gradcheck`:

.. code-block:: python

    from hypothesis import given
    from derivcheck.strategies import networks

    @given(networks(activations=["relu", "tanh"], losses=["half_squared"]))
    def test_my_backward(net):
        assert derivcheck.gradcheck(my_loss_for(net), net)

>>> from hypothesis import given, settings
>>> @settings(max_examples=5, deadline=None)
... @given(networks(max_width=4))
... def test(net):
...     assert 2 <= len(net.widths) <= 4 and max(net.widths) <= 4
>>> test()
"""
from __future__ import annotations

from hypothesis import strategies as st

__all__ = ["networks", "points"]

#: Activations the oracle computes at training sizes, hidden and output.
HIDDEN = ("relu", "leaky_relu(0.125)", "tanh", "sigmoid", "elu", "identity", "abs",
          "hardtanh", "softplus")
LOSSES = ("half_squared", "squared", "mse", "bce", "cross_entropy")


@st.composite
def networks(draw, *, max_layers: int = 3, max_width: int = 6, activations=HIDDEN,
             losses=LOSSES, bias=None, batch=None, max_batch: int = 3):
    """A :class:`~derivcheck.core.matrix.network.MatrixNetwork` (style ``ng``)."""
    from .core.matrix.network import MatrixNetwork

    layers = draw(st.integers(1, max_layers))
    loss = draw(st.sampled_from(list(losses)))
    widths = [draw(st.integers(1, max_width)) for _ in range(layers + 1)]
    if loss == "cross_entropy":
        widths[-1] = max(widths[-1], 2)
    acts = [draw(st.sampled_from(list(activations))) for _ in range(layers)]
    if loss == "bce":
        acts[-1] = "sigmoid"
    elif loss == "cross_entropy" and draw(st.booleans()):
        acts[-1] = "softmax"
    has_bias = draw(st.booleans()) if bias is None else bias
    m = draw(st.integers(1, max_batch)) if batch is None else batch
    return MatrixNetwork(widths, acts, loss, batch=m, bias=has_bias)


@st.composite
def points(draw, net, *, kinks: bool = True, convention: str = "torch"):
    """Named float64 arrays for ``net`` (style names and layout); with ``kinks``, about
    half of them have a unit of every piecewise layer exactly on a breakpoint."""
    from .oracle.array_points import place_kinks, random_arrays

    arrays = random_arrays(net, draw(st.integers(0, 2 ** 32 - 1)))
    if kinks and draw(st.booleans()):
        arrays, _ = place_kinks(net, arrays, convention)
    return arrays
