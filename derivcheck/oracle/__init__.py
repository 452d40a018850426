"""The test oracle: exact gradients at points, test vectors, sampled points (kinks
included), adapters for numpy and torch, and the pytest plugin."""
from .exact import Oracle

__all__ = ["Oracle"]
