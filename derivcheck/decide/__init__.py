"""Deciding: exact and certified evaluation, identity testing, the search over sign
regions, the equivalence decision, diagnoses, and the ``check`` that ties them together."""
