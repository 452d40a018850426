"""Network descriptions as users write them: CLI flags, TOML files, JSON objects.

A :class:`NetworkSpec` is plain data (names, activation texts, numbers), validated
but not yet built; :mod:`derivcheck.core.graph` turns it into equations.

>>> spec = NetworkSpec.from_dict({"weights": ["w1", "w2"], "activations": "relu"})
>>> spec.kind, spec.activations, spec.loss
('chain', ['relu', 'relu'], 'half_squared')
>>> NetworkSpec.from_dict({"weights": "W0,W1", "activations": "relu,sigmoid",
...                        "loss": "bce"}).to_dict()["activations"]
['relu', 'sigmoid']
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .. import limits
from ..errors import NetworkLimitError, SpecError
from .losses import LOSSES, UPSTREAM
from ..names import valid_name

__all__ = ["NetworkSpec"]

_FIELDS = {"weights", "activations", "activation", "act", "biases", "input", "inputs",
           "target", "targets", "loss", "upstream", "define", "forward", "widths", "bias", "name",
           "description", "batch", "style", "reduce", "shape", "shapes", "labels"}
#: Losses of issue 16 that matrix networks do not compute yet (refused there).
_SCALAR_ONLY_LOSSES = ("l1", "none", "upstream")
#: Fields that make an MLP a matrix network (CONTRACT section 5).
_MATRIX_FIELDS = ("batch", "style", "reduce", "labels")


def _names(value, what: str) -> list[str]:
    """A list of names from a list or a comma-separated string, validated."""
    if value is None:
        return []
    if not isinstance(value, (str, list, tuple)):
        raise SpecError(f"{what}: expected a name or a list of names, got {value!r}")
    items = value.split(",") if isinstance(value, str) else list(value)
    out = []
    for item in items:
        if not isinstance(item, str):
            raise SpecError(f"{what}: expected names, got {item!r}")
        name = item.strip()
        if not valid_name(name):
            raise SpecError(f"{what}: {name!r} is not a valid name",
                            hint="names start with a letter and use letters, digits and _")
        out.append(name)
    return out


def _split_activations(value) -> list[str]:
    """Split ``relu,leaky_relu(0.01),sigmoid`` at top-level commas only."""
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value]
    if not isinstance(value, str):
        raise SpecError(f"activations: expected a name or a list of names, got {value!r}",
                        hint='e.g. activations = "relu" or ["relu", "sigmoid"]')
    out, depth, cur = [], 0, ""
    for ch in value:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    out.append(cur.strip())
    return [a for a in out if a]


def _check_depth(count: int, what: str, position: int = limits.MAX_DEPTH) -> None:
    """At most MAX_DEPTH layers (or equations); ``position``: where the first extra one is."""
    if count > limits.MAX_DEPTH:
        raise NetworkLimitError(f"{count} {what} is more than the limit {limits.MAX_DEPTH}",
                                position=position)


def _check_total_length(equations: list) -> None:
    """All forward equations together are at most one network file long."""
    total = 0
    for i, eq in enumerate(equations):
        total += len(str(eq))
        if total > limits.MAX_FILE_SIZE:
            raise NetworkLimitError(f"the forward equations are longer than "
                                    f"{limits.MAX_FILE_SIZE} characters together", position=i)


def _check_mlp_size(widths: list[int], bias: bool) -> None:
    """Layers, units per layer and parameters within the limits; the position is the
    index of the first width past one."""
    _check_depth(len(widths) - 1, "layers", position=limits.MAX_DEPTH + 1)  # a width index
    count = 0
    for i, w in enumerate(widths):
        if w > limits.MAX_WIDTH:
            raise NetworkLimitError("widths need an input and an output layer, each 1 to "
                                    f"{limits.MAX_WIDTH} units", position=i)
        count += (widths[i - 1] + bias) * w if i else 0
        if count > limits.MAX_PARAMETERS:
            raise NetworkLimitError(f"more than {limits.MAX_PARAMETERS} weights and biases",
                                    position=i, hint="a smaller network shows the same "
                                                     "gradient structure")


def _past_symbolic(widths: list, data: dict) -> bool:
    """Whole-number widths past the symbolic path's limits."""
    try:
        _check_mlp_size([int(w) for w in widths], bool(data.get("bias", data.get("biases"))))
    except (NetworkLimitError, ValueError, TypeError):
        return True
    return False


def _check_oracle_size(widths: list, bias: bool, batch) -> None:
    """The oracle's limits: units per layer, parameters, and entries of one batch."""
    if not all(isinstance(w, int) or str(w).isdigit() for w in widths):
        return
    widths = [int(w) for w in widths]
    for i, w in enumerate(widths):
        if not 1 <= w <= limits.MAX_ORACLE_WIDTH:
            raise NetworkLimitError(f"widths for the oracle are 1 to {limits.MAX_ORACLE_WIDTH} "
                                    "units", position=i)
    count = sum((a + bias) * b for a, b in zip(widths, widths[1:]))
    if count > limits.MAX_ORACLE_PARAMETERS:
        raise NetworkLimitError(f"more than {limits.MAX_ORACLE_PARAMETERS} weights and biases "
                                "for the oracle", position=0)
    m = int(batch) if isinstance(batch, int) or str(batch).isdigit() else 1
    if m * sum(widths) > limits.MAX_ORACLE_ACTIVATIONS:
        raise NetworkLimitError(f"more than {limits.MAX_ORACLE_ACTIVATIONS} units times "
                                "examples for the oracle", position=0)


def _matrix_extra(data: dict) -> dict:
    """The matrix fields given (``labels = false`` is not given).

    >>> _matrix_extra({"batch": "m", "labels": False, "reduce": None})
    {'batch': 'm'}
    """
    out = {k: data[k] for k in _MATRIX_FIELDS if data.get(k) is not None
           and data.get(k) is not False}
    if "labels" in out and out["labels"] is not True:
        raise SpecError(f"labels must be true or false, got {out['labels']!r}")
    return out


def _definitions(value) -> list[str]:
    """``define``: one definition or a list of them (text), at most MAX_DEPTH, each at most
    one formula long; they are read when the network's names are.

    >>> _definitions("s(z) = sigmoid(z)")
    ['s(z) = sigmoid(z)']
    """
    if value is None:
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        raise SpecError("define must be a definition or a list of definitions (text)",
                        hint='e.g. define = ["s(z) = sigmoid(z)", "y\' = yhat"]')
    _check_depth(len(items), "definitions")
    for i, item in enumerate(items):
        if len(item) > limits.MAX_TEXT_LENGTH:
            raise NetworkLimitError(f"definition {i + 1} is longer than "
                                    f"{limits.MAX_TEXT_LENGTH} characters", position=i)
    return [v.strip() for v in items]


def _upstream(data: dict, loss: str, targets: list[str]) -> tuple[str, list[str]]:
    """The loss and target names once ``upstream`` (true, or the symbol's name such as
    ``dA``) is read: the loss becomes ``upstream`` and the upstream symbols are the
    targets (the names the loss pairs with the outputs).

    >>> _upstream({"upstream": "dA"}, "half_squared", [])
    ('upstream', ['dA'])
    >>> _upstream({"upstream": True}, "half_squared", [])
    ('upstream', [])
    """
    upstream = data.get("upstream")
    if upstream is None or upstream is False:
        return loss, targets
    if "loss" in data and loss != "upstream":
        raise SpecError(f"upstream replaces the loss, so it cannot be combined with loss "
                        f"{loss!r}", hint="give either a loss or upstream")
    if upstream is not True:
        if targets:
            raise SpecError("upstream names the upstream gradient; give its name there or "
                            "as the target, not both")
        targets = _names(upstream, "upstream")
    return "upstream", targets


@dataclass
class NetworkSpec:
    """A chain, an MLP or explicit forward equations, with loss and names."""

    kind: str
    weights: list[str] = field(default_factory=list)
    activations: list[str] = field(default_factory=list)
    biases: list[str] = field(default_factory=list)
    widths: list[int] = field(default_factory=list)
    bias: bool = False
    forward: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    loss: str = "half_squared"
    matrix: dict = field(default_factory=dict)   # batch, style, reduce of a matrix network
    #: The author's own names: ``s(z) = sigmoid(z)``, ``y' = yhat`` (read by the parser).
    define: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict, *, oracle: bool = False) -> "NetworkSpec":
        """From the fields of a TOML file or a batch line (see CONTRACT section 2).

        ``oracle``: the network is for the oracle only (test vectors, gradients at
        points), so an MLP past the symbolic limits is a matrix network within the
        oracle's own limits (:data:`derivcheck.limits.MAX_ORACLE_WIDTH`, ...).
        """
        if not isinstance(data, dict):
            raise SpecError("a network must be an object with fields such as weights, "
                            "activations, loss or forward")
        unknown = set(data) - _FIELDS
        if unknown:
            raise SpecError(f"unknown network field(s): {', '.join(sorted(unknown))}",
                            hint="known: " + ", ".join(sorted(_FIELDS - {'act', 'activation'})))
        acts = data.get("activations", data.get("activation", data.get("act", "relu")))
        loss = data.get("loss", "half_squared")
        if not isinstance(loss, str) or loss not in LOSSES:
            raise SpecError(f"unknown loss {loss!r}", hint="use one of: " + ", ".join(LOSSES))
        inputs = _names(data.get("input", data.get("inputs")), "input")
        targets = _names(data.get("target", data.get("targets")), "target")
        loss, targets = _upstream(data, loss, targets)
        define = _definitions(data.get("define"))
        default_target = [UPSTREAM if loss == "upstream" else "y"]
        if data.get("forward"):
            forward = data["forward"]
            forward = [forward] if isinstance(forward, str) else forward
            if not isinstance(forward, list) or not all(isinstance(f, str) for f in forward):
                raise SpecError("forward must be an equation or a list of equations (text)",
                                hint='e.g. forward = ["z1 = w1*x", "yhat = relu(z1)"]')
            _check_depth(len(forward), "equations")
            _check_total_length(forward)
            shapes = data.get("shape", data.get("shapes"))
            extra = _matrix_extra(data)
            if shapes is not None or extra:
                return cls._matrix_equations(forward, shapes, data, extra, loss, define)
            return cls("forward", forward=[str(f) for f in forward], inputs=inputs or ["x"],
                       targets=targets or default_target, loss=loss, define=define)
        if data.get("widths"):
            if not isinstance(data.get("bias", False), bool):
                raise SpecError(f"bias is true or false (a bias for every unit, or none), got "
                                f"{data['bias']!r}", hint="for biases on some layers only, "
                                "write the layers as matrix equations: forward = [\"Z1 = W1 "
                                "@ X + b1\", ...] with + b where a layer has one")
            widths = data["widths"]
            widths = widths.split(",") if isinstance(widths, str) else widths
            acts = _split_activations(acts)
            extra = _matrix_extra(data)
            if data.get("shape", data.get("shapes")) is not None:
                extra["shapes"] = data.get("shape", data.get("shapes"))
            if isinstance(widths, list) and (extra or "softmax" in acts or any(
                    isinstance(w, str) and not w.strip().isdigit() for w in widths)
                    or oracle and _past_symbolic(widths, data)):
                if define:
                    raise SpecError("define is not read for matrix networks yet",
                                    hint="write the formula with the network's own names")
                if loss in _SCALAR_ONLY_LOSSES:
                    raise SpecError(f"the loss {loss!r} is not available for matrix networks "
                                    "yet", hint="use it with a chain, an MLP of numbers or "
                                                "forward equations")
                return cls._matrix(widths, acts, data, extra, loss, oracle=oracle)
            if not isinstance(widths, list) or not all(
                    (isinstance(w, int) and not isinstance(w, bool))
                    or (isinstance(w, str) and w.strip().isdigit() and len(w.strip()) < 6)
                    for w in widths):
                raise SpecError(f"widths must be whole numbers, got {data['widths']!r}",
                                hint="e.g. widths = [2, 3, 1]")
            widths = [int(w) for w in widths]
            if len(widths) < 2 or min(widths) < 1:
                raise SpecError("widths need an input and an output layer, each 1 to "
                                f"{limits.MAX_WIDTH} units", hint="e.g. widths = [2, 3, 1]")
            _check_mlp_size(widths, bool(data.get("bias", data.get("biases", False))))
            activations = acts
            if len(activations) == 1:
                activations = activations * (len(widths) - 1)
            if len(activations) != len(widths) - 1:
                raise SpecError(f"{len(widths) - 1} layers but {len(activations)} activations")
            return cls("mlp", widths=widths, activations=activations,
                       bias=bool(data.get("bias", data.get("biases", False))),
                       inputs=inputs, targets=targets, loss=loss, define=define)
        weights = _names(data.get("weights"), "weights")
        if not weights:
            raise SpecError("a network needs weights (a chain), widths (an MLP) or forward "
                            "equations", hint="e.g. --weights w1,w2 --act relu")
        _check_depth(len(weights), "layers")
        activations = _split_activations(acts)
        if len(activations) == 1:
            activations = activations * len(weights)
        if len(activations) != len(weights):
            raise SpecError(f"{len(weights)} weights but {len(activations)} activations",
                            hint="give one activation for all layers or one per layer")
        raw_biases = data.get("biases")
        if raw_biases is True or data.get("bias"):
            raise SpecError("a chain's biases are given by name, one per weight",
                            hint="e.g. biases = [\"b1\", \"b2\"] (or --biases b1,b2)")
        biases = _names(raw_biases, "biases") if not isinstance(raw_biases, bool) else []
        if biases and len(biases) != len(weights):
            raise SpecError(f"{len(weights)} weights but {len(biases)} biases")
        return cls("chain", weights=weights, activations=activations, biases=biases,
                   inputs=inputs or ["x"], targets=targets or default_target, loss=loss,
                   define=define)

    @classmethod
    def _matrix(cls, widths, acts, data, extra, loss, oracle=False) -> "NetworkSpec":
        """An MLP with matrix names, a batch or a style (sizes may be names)."""
        for w in widths:
            if isinstance(w, bool) or not isinstance(w, (int, str)):
                raise SpecError(f"widths must be whole numbers or size names, got {w!r}",
                                hint="e.g. widths = [\"n0\", \"n1\", 1]")
        widths = [w.strip() if isinstance(w, str) else w for w in widths]
        for w in widths:
            if isinstance(w, str) and not (w.isdigit() or re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,15}",
                                                                        w)):
                raise SpecError(f"widths must be whole numbers or size names, got {w!r}",
                                hint="e.g. widths = [4, 3, 2] or [\"n0\", \"n1\", 2]")
        for key in ("style", "reduce"):
            if key in extra and not isinstance(extra[key], str):
                raise SpecError(f"{key} must be a name, got {extra[key]!r}")
        if "batch" in extra and not isinstance(extra["batch"], (int, str)):
            raise SpecError(f"batch must be a size name or a number, got {extra['batch']!r}")
        if "shapes" in extra:
            from .matrix.declared import parse_shapes
            shapes = extra["shapes"]
            given = parse_shapes([shapes] if isinstance(shapes, str) else shapes, "shape")
            extra["shapes"] = {name: list(g.dims) for name, g in given.items()}
        numeric = [int(w) for w in widths if isinstance(w, int) or w.isdigit()]
        if oracle:
            _check_oracle_size(widths, bool(data.get("bias", data.get("biases", False))),
                               extra.get("batch"))
        elif numeric and max(numeric) > limits.MAX_WIDTH:
            raise NetworkLimitError(f"a width past {limits.MAX_WIDTH} units", position=0)
        _check_depth(len(widths) - 1, "layers")
        return cls("matrix", widths=widths, activations=acts,
                   bias=bool(data.get("bias", data.get("biases", False))), loss=loss,
                   matrix=extra)

    @classmethod
    def _matrix_equations(cls, forward, shapes, data, extra, loss, define) -> "NetworkSpec":
        """Explicit matrix equations with shapes (CONTRACT section 5); the shapes are
        validated here, the equations when the network is built."""
        from .matrix.declared import parse_shapes
        if define:
            raise SpecError("define is not read for matrix equations yet",
                            hint="write the equations with names of their own")
        if loss in _SCALAR_ONLY_LOSSES:
            raise SpecError(f"the loss {loss!r} is not available for matrix networks yet",
                            hint="use it with scalar forward equations (no --shape)")
        if shapes is None:
            raise SpecError("matrix equations need the shapes of their inputs and weights",
                            hint="e.g. --shape X=n0,m --shape W1=n1,n0")
        if isinstance(shapes, str):
            shapes = [shapes]
        given = parse_shapes(shapes, "shape")
        for key in ("style", "reduce"):
            if key in extra and not isinstance(extra[key], str):
                raise SpecError(f"{key} must be a name, got {extra[key]!r}")
        if "batch" in extra and not isinstance(extra["batch"], (int, str)):
            raise SpecError(f"batch must be a size name or a number, got {extra['batch']!r}")
        extra["shapes"] = {name: list(g.dims) for name, g in given.items()}
        inputs = _names(data.get("input", data.get("inputs")), "input")
        targets = _names(data.get("target", data.get("targets")), "target")
        if len(inputs) > 1 or len(targets) > 1:
            raise SpecError("matrix equations have one input matrix and one target matrix",
                            hint="e.g. --input X --target Y")
        return cls("matrix", forward=[str(f) for f in forward], inputs=inputs, targets=targets,
                   loss=loss, bias=False, matrix=extra)

    @classmethod
    def from_toml(cls, path: str | Path, *, oracle: bool = False) -> "NetworkSpec":
        """Read a ``--net FILE.toml``."""
        p = Path(path)
        try:
            with open(p, encoding="utf-8") as fh:
                text = fh.read(limits.MAX_FILE_SIZE + 1)
        except OSError as exc:
            raise SpecError(f"cannot read network file {str(p)!r}: {exc.strerror}") from None
        except UnicodeDecodeError as exc:
            raise SpecError(f"{p.name} is not UTF-8 text: {exc.reason}") from None
        if len(text) > limits.MAX_FILE_SIZE:
            raise NetworkLimitError(f"network file is longer than {limits.MAX_FILE_SIZE} "
                                    "characters", position=limits.MAX_FILE_SIZE)
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise SpecError(f"{p.name}: {exc}") from None
        except RecursionError:
            raise NetworkLimitError(f"{p.name} nests too deeply", position=0) from None
        return cls.from_dict(data.get("network", data), oracle=oracle)

    def to_dict(self) -> dict:
        """The fields back, as JSON output shows the network."""
        if self.kind == "forward" or self.forward:
            d = {"forward": self.forward, **self.matrix}
        elif self.kind in ("mlp", "matrix"):
            d = {"widths": self.widths, "activations": self.activations, "bias": self.bias,
                 **self.matrix}
        else:
            d = {"weights": self.weights, "activations": self.activations}
            if self.biases:
                d["biases"] = self.biases
        if self.inputs:
            d["input"] = self.inputs if len(self.inputs) > 1 else self.inputs[0]
        if self.targets:
            d["target"] = self.targets if len(self.targets) > 1 else self.targets[0]
        d["loss"] = self.loss
        if self.define:
            d["define"] = list(self.define)
        return d
