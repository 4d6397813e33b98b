"""Checkers of the fully-connected lessons on how training moves the weights: gradient flow
(backprop, vanishing, exploding, dying units, zig-zag) and optimizers and learning rates."""
