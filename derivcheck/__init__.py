"""derivcheck: is this backpropagation derivation right?

Build a network, get its exact gradients, and judge a hand-derived formula:

>>> import derivcheck
>>> net = derivcheck.chain(weights=["w1", "w2"], activations="relu")
>>> net.gradient("w1")
w2*x*(-y + ReLU(w2*ReLU(w1*x)))*Step(w1*x)*Step(w2*ReLU(w1*x))
>>> derivcheck.check(net, "x*(relu(w1*x)-y)*step(w1*x)", wrt="w1").verdict
'not_equivalent'
"""
__version__ = "0.1.0"

from .decide.check import assert_gradient, check
from .core.conventions import get_convention
from .errors import DerivcheckError, LimitError, ParseError, SpecError
from .core.network import Network, chain, forward, from_dict, load, mlp
from .decide.verdict import Diagnosis, Result, Witness


def __getattr__(name):
    """Loaded on first use: the oracle, the framework adapters and the sheet writer pull
    in more (numpy or torch when used, Jinja)."""
    if name == "Oracle":
        from .oracle.exact import Oracle
        return Oracle
    if name in ("compare_numpy", "compare_torch"):
        from .oracle import adapters
        return getattr(adapters, name)
    if name == "write_sheet":
        from .write.sheet import write_sheet
        return write_sheet
    raise AttributeError(f"module 'derivcheck' has no attribute {name!r}")


__all__ = ["check", "assert_gradient", "chain", "mlp", "forward", "load", "from_dict",
           "Network", "Oracle", "Result", "Witness", "Diagnosis", "DerivcheckError",
           "ParseError", "SpecError", "LimitError", "get_convention", "compare_numpy",
           "compare_torch", "write_sheet", "__version__"]
