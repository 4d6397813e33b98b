"""The backprop explorer's engine: a tiny network's forward pass, chain rule and update,
written out number by number (no autograd), for /explore and the backprop lesson."""

from app.nn.explain.spec import EXPLAINED_OPTIMIZERS, ExplainSpec
from app.nn.explain.trace import Explained, explain, symmetry, vanishing

__all__ = ["EXPLAINED_OPTIMIZERS", "ExplainSpec", "Explained", "explain", "symmetry", "vanishing"]
