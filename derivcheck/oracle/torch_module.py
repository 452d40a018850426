"""A torch model as a matrix network: nn.Sequential / nn.Module layers mapped automatically.

:func:`network_of_module` reads a model's leaf modules in order (``nn.Linear``, ``ReLU``,
``LeakyReLU``, ``Sigmoid``, ``Tanh``, ``ELU``, ``Hardtanh``, ``ReLU6``, ``Softplus``,
``GELU``, ``SiLU``, ``Softmax``/``LogSoftmax`` last, ``Identity``, ``Flatten``) and a loss module (``CrossEntropyLoss``, ``MSELoss``, ``BCELoss``, ``NLLLoss``
after ``LogSoftmax``) into a :class:`~derivcheck.core.matrix.network.MatrixNetwork` (style
``ng``: ``W1`` is layer 1's ``weight``, ``b1`` its bias as a column, ``X`` the inputs as
columns); a layer it cannot map is a clear error naming it. :func:`compare_torch_module`
runs torch autograd (float64, on a copy of the model) at the oracle's points and compares.

>>> import torch
>>> model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
>>> net = network_of_module(model, torch.nn.CrossEntropyLoss(), batch=5)
>>> net.describe()
'widths 4, 3, 2, batch 5; activations relu, identity; loss cross_entropy (mean); style ng'
>>> compare_torch_module(model, torch.nn.CrossEntropyLoss(), batch=5, points=1)
<ArrayComparison ok: 2 points (1 on kinks), convention torch>
"""
from __future__ import annotations

import copy
import numpy as np

from ..errors import SpecError
from .array_compare import compare_arrays

__all__ = ["network_of_module", "compare_torch_module", "torch_gradients_fn"]


def _leaves(model) -> list:
    kids = list(model.children())
    if not kids:
        return [model]
    return [leaf for kid in kids for leaf in _leaves(kid)]


def _number(x) -> str:
    """A module's float argument as the decimal it was written as (0.01, not 2^-7...)."""
    return repr(float(x))


def _activation(module, last: bool) -> str | None:
    import torch.nn as nn

    if isinstance(module, nn.ReLU):
        return "relu"
    if isinstance(module, nn.LeakyReLU):
        return f"leaky_relu({_number(module.negative_slope)})"
    if isinstance(module, nn.Sigmoid):
        return "sigmoid"
    if isinstance(module, nn.Tanh):
        return "tanh"
    if isinstance(module, nn.ELU):
        return f"elu({_number(module.alpha)})"
    if isinstance(module, nn.Hardtanh) and not isinstance(module, nn.ReLU6):
        if (module.min_val, module.max_val) != (-1.0, 1.0):
            raise SpecError("Hardtanh is mapped with its default range [-1, 1] only")
        return "hardtanh"
    if isinstance(module, nn.ReLU6):
        return "relu6"
    if isinstance(module, nn.Softplus):
        if (module.beta, module.threshold) != (1.0, 20.0):
            raise SpecError("Softplus is mapped with beta=1, threshold=20 only (the torch "
                            "profile models that threshold)")
        return "softplus"
    if isinstance(module, nn.GELU):
        return "gelu" if module.approximate == "none" else "gelu_tanh"
    if isinstance(module, nn.SiLU):
        return "swish"
    if isinstance(module, (nn.Softmax, nn.LogSoftmax)):
        if not last:
            raise SpecError(f"{type(module).__name__} is mapped only as the last layer")
        if module.dim not in (None, -1, 1):
            raise SpecError(f"{type(module).__name__}(dim={module.dim}) is not over the classes",
                            hint="use dim=-1 or dim=1")
        return "softmax" if isinstance(module, nn.Softmax) else "log_softmax"
    return None


def _layers(model) -> tuple[list, list, list]:
    """(linear modules, activation names, widths)."""
    import torch.nn as nn

    leaves = [m for m in _leaves(model) if not isinstance(m, (nn.Identity, nn.Flatten))]
    linears, acts = [], []
    for i, m in enumerate(leaves):
        if isinstance(m, nn.Linear):
            if linears and len(acts) < len(linears):
                acts.append("identity")
            linears.append(m)
            continue
        if isinstance(m, nn.Dropout) and m.p == 0:
            continue
        act = _activation(m, i == len(leaves) - 1)
        if act is None:
            raise SpecError(f"derivcheck cannot map the layer {type(m).__name__} ({m})",
                            hint="supported: Linear, ReLU, LeakyReLU, Sigmoid, Tanh, ELU, "
                                 "Hardtanh, ReLU6, Softplus, GELU, SiLU, Softmax/LogSoftmax "
                                 "(last), Identity, Flatten")
        if not linears or len(acts) == len(linears):
            raise SpecError(f"{type(m).__name__} must follow an nn.Linear layer")
        acts.append(act)
    if not linears:
        raise SpecError("the model has no nn.Linear layer")
    if len(acts) < len(linears):
        acts.append("identity")
    widths = [linears[0].in_features] + [m.out_features for m in linears]
    for a, b in zip(linears, linears[1:]):
        if a.out_features != b.in_features:
            raise SpecError(f"nn.Linear layers do not chain: {a} then {b}")
    if len({m.bias is not None for m in linears}) > 1:
        raise SpecError("derivcheck maps models whose nn.Linear layers all have a bias or "
                        "none")
    return linears, acts, widths


def _loss(loss_fn, acts: list, n_out: int) -> tuple[str, str]:
    """(loss name, reduction)."""
    import torch.nn as nn

    reduction = getattr(loss_fn, "reduction", "mean")
    if reduction not in ("mean", "sum"):
        raise SpecError(f"reduction={reduction!r} gives no scalar loss")
    if isinstance(loss_fn, nn.CrossEntropyLoss):
        if acts[-1] in ("softmax", "log_softmax"):
            raise SpecError("CrossEntropyLoss after Softmax/LogSoftmax applies softmax twice",
                            hint="end the model with nn.Linear (logits), or use NLLLoss after "
                                 "LogSoftmax")
        if loss_fn.label_smoothing or loss_fn.weight is not None:
            raise SpecError("CrossEntropyLoss with label_smoothing or class weights is not "
                            "mapped")
        return "cross_entropy", reduction
    if isinstance(loss_fn, nn.NLLLoss):
        if acts[-1] != "log_softmax":
            raise SpecError("NLLLoss is mapped after LogSoftmax only")
        return "cross_entropy", reduction
    if acts[-1] == "log_softmax":
        raise SpecError("LogSoftmax is mapped with NLLLoss only")
    if isinstance(loss_fn, nn.MSELoss):
        return ("mse", "mean") if reduction == "mean" else ("squared", "sum")
    if isinstance(loss_fn, nn.BCELoss):
        if reduction == "mean" and n_out != 1:
            raise SpecError("BCELoss(reduction='mean') averages over outputs too; derivcheck "
                            "maps it for one output unit", hint="use reduction='sum'")
        return "bce", reduction
    raise SpecError(f"derivcheck cannot map the loss {type(loss_fn).__name__}",
                    hint="supported: CrossEntropyLoss, NLLLoss (after LogSoftmax), MSELoss, "
                         "BCELoss")


def network_of_module(model, loss_fn, *, batch: int | None = None):
    """The matrix network (style ``ng``) that ``model`` and ``loss_fn`` compute."""
    from ..core.matrix.network import MatrixNetwork

    linears, acts, widths = _layers(model)
    loss, reduction = _loss(loss_fn, acts, widths[-1])
    acts = ["softmax" if a == "log_softmax" else a for a in acts]
    if loss == "cross_entropy" and widths[-1] < 2:
        raise SpecError("cross-entropy needs at least two classes")
    return MatrixNetwork(widths, acts, loss, batch=batch, style="ng",
                         bias=linears[0].bias is not None, reduce=reduction)


def torch_gradients_fn(model, loss_fn):
    """``arrays -> gradients`` by torch autograd (float64) on a copy of ``model``."""
    import torch

    model = copy.deepcopy(model).double()
    linears, _, _ = _layers(model)
    loss_fn = copy.deepcopy(loss_fn)

    def gradients(arrays: dict) -> dict:
        with torch.no_grad():
            for l, m in enumerate(linears, 1):
                m.weight.copy_(torch.from_numpy(np.asarray(arrays[f"W{l}"])))
                if m.bias is not None:
                    m.bias.copy_(torch.from_numpy(np.asarray(arrays[f"b{l}"]).reshape(-1)))
        model.zero_grad()
        x = torch.from_numpy(np.asarray(arrays["X"]).T.copy())
        y = torch.from_numpy(np.asarray(arrays["Y"]).T.copy())
        if isinstance(loss_fn, torch.nn.NLLLoss):
            y = y.argmax(dim=1)          # one-hot rows as class labels
        loss_fn(model(x), y).backward()
        out = {}
        for l, m in enumerate(linears, 1):
            out[f"W{l}"] = m.weight.grad.numpy().copy()
            if m.bias is not None:
                out[f"b{l}"] = m.bias.grad.numpy().reshape(-1, 1).copy()
        return out
    return gradients


def compare_torch_module(model, loss_fn, *, batch: int | None = None, convention="torch",
                         points: int = 2, kinks: bool = True, rtol: float = 1e-12,
                         atol: float = 0.0, seed=0):
    """Torch autograd on ``model`` + ``loss_fn`` against the exact oracle."""
    net = network_of_module(model, loss_fn, batch=batch)
    _check_forward(net, model)
    return compare_arrays(net, torch_gradients_fn(model, loss_fn), convention=convention,
                          points=points, kinks=kinks, rtol=rtol, atol=atol, seed=seed)


def _check_forward(net, model) -> None:
    """The module's own forward computes the mapped network (a custom ``forward`` that
    skips, reorders or adds to its layers is refused, not silently mis-checked)."""
    import torch

    from .array_points import random_arrays
    from .arrays import ArrayOracle

    oracle = ArrayOracle(net)
    arrays = random_arrays(net, 0)
    A, _, _ = oracle.forward(oracle.canonical(arrays), oracle.step0)
    mine = A[net.L].floats()
    model = copy.deepcopy(model).double()
    linears, _, _ = _layers(model)
    with torch.no_grad():
        for l, m in enumerate(linears, 1):
            m.weight.copy_(torch.from_numpy(np.asarray(arrays[f"W{l}"])))
            if m.bias is not None:
                m.bias.copy_(torch.from_numpy(np.asarray(arrays[f"b{l}"]).reshape(-1)))
        out = model(torch.from_numpy(np.asarray(arrays["X"]).T.copy())).numpy().T
    if net.activation(net.L) == "softmax" and np.all(out <= 0):
        out = np.exp(out)                  # LogSoftmax
    if out.shape != mine.shape or not np.allclose(out, mine, rtol=1e-9, atol=1e-12):
        raise SpecError("the module's forward does not compute its layers in order",
                        hint="derivcheck maps modules whose forward applies their leaf "
                             "modules one after another (as nn.Sequential does)")
