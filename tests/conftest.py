"""Test-suite settings: hypothesis runs derandomized, so every CI run sees the same
examples (a failure is reproducible, never a coin toss)."""
from hypothesis import settings

settings.register_profile("derivcheck", derandomize=True, print_blob=True)
settings.load_profile("derivcheck")
