"""Question files shipped with the package: ``derivcheck run --example seed``.

``examples/seed_003.toml`` in the source tree is a copy of the seed question kept here
(a test keeps the two identical).

>>> sorted(EXAMPLES)
['seed']
>>> example_path("seed").name
'seed_003.toml'
>>> "[[formulas]]" in example_path("seed").read_text()
True
"""
from __future__ import annotations

from importlib import resources

__all__ = ["EXAMPLES", "example_path"]

#: example name -> file in this package
EXAMPLES = {"seed": "seed_003.toml"}


def example_path(name: str):
    """The shipped question file called ``name`` (a path-like with ``read_text``)."""
    from ..errors import SpecError
    if name not in EXAMPLES:
        raise SpecError(f"no example called {name!r}", hint="known: " + ", ".join(EXAMPLES))
    return resources.files(__name__).joinpath(EXAMPLES[name])
