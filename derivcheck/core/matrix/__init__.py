"""Vectors, matrices and batches (CONTRACT section 5): shapes, expressions, networks.

:mod:`.shapes` (symbolic shapes, numpy broadcasting), :mod:`.expr` (the matrix AST the
grammar builds), :mod:`.network` (an MLP with matrix names per style, instantiated at
concrete sizes as a scalar network), :mod:`.bounds` (index-form bounds that let a few
sizes stand for all), :mod:`.equations` (explicit matrix equations with shapes, read as
that network: :mod:`.layers` recognizes the layers, :mod:`.declared` reads the shapes).
"""
