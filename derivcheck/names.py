"""What a formula may name in one network: the bridge from the network to the parser.

A :class:`Namespace` maps every plain name a candidate may use (``w1``, ``x``, ``y``,
``z2``, ``a2``, ``r2``, ``yhat``) to the SymPy symbol it stands for, and every quantity
``q`` whose loss derivative ``dC/dq`` may be written to the symbol standing for that
derivative. The parser only reads it; the network builds it.

>>> ns = Namespace.free()
>>> ns.lookup("w1") is None
True
"""
from __future__ import annotations

import difflib
import keyword
import re
from dataclasses import dataclass, field

import sympy

__all__ = ["Namespace", "NamesOnDemand", "valid_name", "did_you_mean", "NAME_RE"]

#: A plain name: letters, digits and underscores, starting with a letter.
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


#: An MLP weight entry: ``W1_21`` (input 2, unit 1) or ``W1_2_1`` past 9 units.
_ENTRY = re.compile(r"^(?P<base>[A-Za-z]\w*?\d+)_(?:(?P<i>\d)(?P<j>\d)|(?P<i2>\d+)_(?P<j2>\d+))$")
#: ``delta``, ``delta2``, ``\delta^{(2)}`` once markup is dropped.
_DELTA = re.compile(r"^(?:delta|Delta)(?P<layer>\d*)$")


def valid_name(name: str) -> bool:
    """True for names derivcheck accepts as symbol names (never a Python keyword, so
    printed formulas stay readable by other tools).

    >>> valid_name("W0_12"), valid_name("__import__"), valid_name("a b"), valid_name("lambda")
    (True, False, False, False)
    """
    return bool(NAME_RE.match(name)) and not keyword.iskeyword(name)


#: How alike (difflib's ratio, case ignored) a word and an option must be to suggest it.
_CLOSE = 0.5
#: Words longer than this get no suggestion (difflib is quadratic in the length).
_LONGEST_SUGGESTED = 64


def did_you_mean(word: str, options) -> str | None:
    """The option closest to ``word`` for a "did you mean" (letter case ignored), or None
    when nothing is close enough.

    >>> did_you_mean("Relu", ["relu", "tanh"]), did_you_mean("w_1", ["w1", "x"])
    ('relu', 'w1')
    >>> did_you_mean("qqq", ["w1", "x"]) is None
    True
    """
    if len(word) > _LONGEST_SUGGESTED:
        return None
    by_lower = {}
    for option in options:
        by_lower.setdefault(option.lower(), option)
    found = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=_CLOSE)
    return by_lower[found[0]] if found else None


class NamesOnDemand(dict):
    """Names a namespace makes when first asked for: a subclass's ``__missing__`` makes the
    entry (or raises KeyError); ``in`` and ``get`` ask it too.

    >>> class Upper(NamesOnDemand):
    ...     def __missing__(self, name):
    ...         if not name.isupper():
    ...             raise KeyError(name)
    ...         self[name] = name.lower()
    ...         return self[name]
    >>> names = Upper()
    >>> "W" in names, names.get("w"), dict(names)
    (True, None, {'W': 'w'})
    """

    def __contains__(self, name):
        try:
            self[name]
        except KeyError:
            return False
        return True

    def get(self, name, default=None):
        return self[name] if name in self else default


@dataclass
class Namespace:
    """Names of one network.

    * ``symbols``: plain name -> SymPy expression it stands for (parameters, inputs,
      target, intermediate quantities and their aliases such as ``r1`` for ``a1``).
    * ``roles``: plain name -> ``parameter``, ``input``, ``target``, ``intermediate``.
    * ``adjoints``: plain quantity name -> symbol standing for dC/d(quantity).
    * ``activations``: plain pre-activation name -> the Activation applied to it, so
      ``f'(z2)`` can be read; ``default_activation`` when every layer shares one.
    * ``functions``, ``definitions``: what the author defined with ``--define``.
    * ``open``: True when there is no network (``derivcheck parse`` without one):
      every name is accepted as a fresh symbol.
    """

    symbols: dict = field(default_factory=dict)
    roles: dict = field(default_factory=dict)
    adjoints: dict = field(default_factory=dict)
    activations: dict = field(default_factory=dict)
    default_activation: object = None
    open: bool = False
    #: Functions the author defined (``s(z) = sigmoid(z)``): name -> Defined.
    functions: dict = field(default_factory=dict)
    #: Names the author defined (``y' = yhat``) or an index stands for (``x_j``): name ->
    #: how it was defined, as a reading says it (``defined: y' = yhat``, ``j = 2``).
    definitions: dict = field(default_factory=dict)

    @classmethod
    def free(cls) -> "Namespace":
        """A namespace with no network: every valid name is its own symbol."""
        return cls(open=True)

    def lookup(self, name: str):
        """The expression for ``name``, or None."""
        return self.symbols.get(name)

    def known(self) -> list[str]:
        """Sorted known names, for error messages."""
        return sorted(self.symbols)

    def case_match(self, name: str) -> str | None:
        """The one known name equal to ``name`` up to letter case, if exactly one."""
        hits = [k for k in self.symbols if k.lower() == name.lower()]
        return hits[0] if len(hits) == 1 else None

    def closest(self, name: str) -> str | None:
        """The closest known name, for "did you mean"."""
        return self.suggest(name)[0]

    def suggest(self, name: str) -> tuple[str | None, str | None]:
        """(the name meant, a hint explaining why) for an unknown ``name``.

        MLP weights are indexed input, unit (``W1_21`` joins input 2 to unit 1), so a
        swapped pair is offered as such; ``delta`` (dC/dz in Nielsen's notation) is
        offered as the dC/dz names of the network.

        >>> ns = Namespace(symbols={n: sympy.Symbol(n) for n in ("W1_11", "W1_21", "z2_1")},
        ...                activations={"z2_1": None}, adjoints={"z2_1": sympy.Symbol("dC/dz2_1")})
        >>> ns.suggest("W1_12")
        ('W1_21', 'indices are input, unit: W1_21 joins input 2 to unit 1')
        >>> ns.suggest(r"\\delta_2")[0]
        'dC/dz2_1'
        """
        entry = _ENTRY.match(name)
        if entry:
            base, i, j = entry["base"], entry["i"] or entry["i2"], entry["j"] or entry["j2"]
            swapped = f"{base}_{j}{i}" if entry["i"] else f"{base}_{j}_{i}"
            if swapped in self.symbols:
                return swapped, (f"indices are input, unit: {swapped} joins input {j} to "
                                 f"unit {i}")
        delta = _DELTA.match(re.sub(r"[\\{}()\[\]^_ ]", "", name))
        if delta:
            layer = delta["layer"]
            zs = dict.fromkeys([*self.activations, *(q for q in self.adjoints if q[:1] in "zZ")])
            pre = [self.adjoints[z].name for z in zs if z in self.adjoints and (
                not layer or re.fullmatch(rf"[A-Za-z]+{layer}(_\d+)*", z))]
            if pre:
                return pre[0], ("delta means dC/dz, the loss's derivative by a "
                                "pre-activation: write " + ", ".join(pre[:6]))
        return did_you_mean(name, self.symbols), None

    def parameters(self) -> list[str]:
        return [k for k, r in self.roles.items() if r == "parameter"]

    def symbol(self, name: str) -> sympy.Symbol:
        """A fresh symbol for an open namespace."""
        return sympy.Symbol(name)
