"""Every primitive derivcheck knows, each declared once with all its facets.

:mod:`.registry` holds the :class:`Primitive` record and the lookups; the families
(:mod:`.base`, :mod:`.piecewise`, :mod:`.smooth`) define the SymPy classes and register
each beside its class. Importing this package registers them all.
"""
from .registry import (Param, Primitive, Side, ZeroSet, derivative, primitive_named,
                       primitive_of, primitives, register)
from . import base, piecewise, smooth  # noqa: F401  (registers every family)

__all__ = ["Param", "Primitive", "Side", "ZeroSet", "derivative", "primitive_named",
           "primitive_of", "primitives", "register"]
