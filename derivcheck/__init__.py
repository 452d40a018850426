"""derivcheck: is this backpropagation derivation right?

Build a network, get its exact gradients, and judge a hand-derived formula:

>>> import derivcheck
>>> net = derivcheck.chain(weights=["w1", "w2"], activations="relu")
>>> net.gradient("w1")
w2*x*(-y + ReLU(w2*ReLU(w1*x)))*Step(w1*x)*Step(w2*ReLU(w1*x))
>>> derivcheck.check(net, "x*(relu(w1*x)-y)*step(w1*x)", wrt="w1").verdict
'not_equivalent'

Layers and batches in matrix notation (CONTRACT section 5):

>>> ng = derivcheck.mlp(["n0", "n1", 1], "tanh,sigmoid", loss="bce", batch="m", bias=True)
>>> derivcheck.check(ng, r"dW^{[1]} = \\frac{1}{m} dZ^{[1]} X^T").verdict
'equivalent'
"""
__version__ = "0.1.0"

from .decide.check import assert_gradient, check
from .core.conventions import get_convention
from .errors import DerivcheckError, LimitError, ParseError, SpecError
from .core.network import Network, chain, forward, from_dict, load, mlp
from .core.matrix.network import MatrixNetwork
from .decide.verdict import Diagnosis, Result, Witness


def __getattr__(name):
    """Loaded on first use: the oracle, the framework adapters and the sheet writer pull
    in more (numpy or torch when used, Jinja)."""
    if name == "Oracle":
        from .oracle.exact import Oracle
        return Oracle
    if name == "gradcheck":
        from .oracle.gradcheck import gradcheck
        return gradcheck
    if name == "strategies":
        import importlib
        return importlib.import_module(".strategies", __name__)
    if name in ("compare_numpy", "compare_torch"):
        from .oracle import adapters
        return getattr(adapters, name)
    if name == "write_sheet":
        from .write.sheet import write_sheet
        return write_sheet
    raise AttributeError(f"module 'derivcheck' has no attribute {name!r}")


__all__ = ["check", "assert_gradient", "chain", "mlp", "forward", "load", "from_dict",
           "Network", "MatrixNetwork", "Oracle", "gradcheck", "Result", "Witness", "Diagnosis",
           "DerivcheckError", "ParseError", "SpecError", "LimitError", "get_convention",
           "compare_numpy",
           "compare_torch", "write_sheet", "__version__"]
