"""Residues modulo the prime P = 2^61 - 1: the arithmetic of the formal evaluation.

Every quantity of a formal evaluation (:mod:`derivcheck.decide.formal`) is a tuple of K
residues modulo P, its values at K random points. Small fractions are recovered from a
residue by rational reconstruction, and tuples are compared up to a constant factor
through their projective form.
"""
from __future__ import annotations

__all__ = ["P", "K", "rational_reconstruct", "projective"]

P = (1 << 61) - 1
K = 3  # evaluation points


def rational_reconstruct(r: int, bound: int = 1 << 28):
    """The small fraction n/d with n = r d (mod P), or None.

    >>> rational_reconstruct((-2 * pow(3, -1, P)) % P)
    (-2, 3)
    """
    r0, r1, s0, s1 = P, r % P, 0, 1
    while r1 > bound:
        q = r0 // r1
        r0, r1, s0, s1 = r1, r0 - q * r1, s1, s0 - q * s1
    if s1 == 0 or abs(s1) > bound:
        return None
    n, d = (r1, s1) if s1 > 0 else (-r1, -s1)
    return (n, d) if (n - r * d) % P == 0 else None



def projective(v: tuple):
    """(``v`` scaled so its first nonzero residue is 1, that residue).

    >>> projective((0, 2, 4)) == ((0, 1, 2), 2)
    True
    """
    j = next(i for i, x in enumerate(v) if x)
    inv = pow(v[j], -1, P)
    return tuple(x * inv % P for x in v), v[j]
