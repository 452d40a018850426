"""Loss functions C(yhat, y) as SymPy expressions over output and target symbols.

>>> from sympy import symbols
>>> yhat, y = symbols("yhat y")
>>> loss_expr("half_squared", [yhat], [y])
(y - yhat)**2/2
>>> loss_expr("bce", [yhat], [y])
-y*log(yhat) - (1 - y)*log(1 - yhat)
>>> loss_expr("l1", [yhat], [y])
Absolute(y - yhat)
>>> loss_expr("none", [yhat], [y]), loss_expr("upstream", [yhat], [symbols("dyhat")])
(yhat, dyhat*yhat)
"""
from __future__ import annotations

import sympy
from sympy import Add, Rational, exp, log

from .functions import Absolute

from ..errors import SpecError

__all__ = ["LOSSES", "UPSTREAM", "loss_expr"]

#: The default name of the upstream gradient dC/dyhat under the ``upstream`` loss.
UPSTREAM = "dyhat"

#: name -> one-line definition (the contract's).
LOSSES = {
    "half_squared": "(y - yhat)^2 / 2",
    "squared": "(y - yhat)^2",
    "mse": "mean over outputs of (y - yhat)^2",
    "bce": "-(y log yhat + (1 - y) log(1 - yhat))",
    "cross_entropy": "softmax of the outputs + negative log-likelihood of the targets",
    "l1": "|y - yhat| (absolute error; its kink at yhat = y takes the Step(0) convention)",
    "none": "no loss: the gradient of the output yhat itself",
    "upstream": "an unspecified upstream gradient: C = dyhat * yhat, so dC/dyhat = dyhat "
                "stays a symbol (the target names it: dyhat, dA, ...)",
}


def loss_expr(name: str, outputs: list, targets: list) -> sympy.Expr:
    """The loss as an expression of the output and target symbols (same length)."""
    if name not in LOSSES:
        raise SpecError(f"unknown loss {name!r}", hint="use one of: " + ", ".join(LOSSES))
    if len(outputs) != len(targets):
        raise SpecError(f"{len(outputs)} outputs but {len(targets)} targets")
    pairs = list(zip(outputs, targets))
    if name == "none":
        if len(outputs) != 1:
            raise SpecError(f"the loss 'none' needs one output, not {len(outputs)}",
                            hint="the gradient of one output yhat; with several outputs use "
                                 "upstream, which weights each by its own symbol")
        return outputs[0]
    if name == "upstream":
        return Add(*[y * o for o, y in pairs])
    if name == "l1":
        return Add(*[Absolute(y - o) for o, y in pairs])
    if name == "half_squared":
        return Add(*[(y - o) ** 2 for o, y in pairs]) / 2
    if name == "squared":
        return Add(*[(y - o) ** 2 for o, y in pairs])
    if name == "mse":
        return Add(*[(y - o) ** 2 for o, y in pairs]) * Rational(1, len(pairs))
    if name == "bce":
        return Add(*[-(y * log(o) + (1 - y) * log(1 - o)) for o, y in pairs])
    if len(pairs) < 2:
        raise SpecError("cross_entropy needs at least two outputs (one logit per class)",
                        hint="use bce for a single sigmoid output, or give the network "
                             "several outputs yhat1, yhat2, ...")
    lse = log(Add(*[exp(o) for o in outputs]))
    return Add(*[y * (lse - o) for o, y in pairs])
