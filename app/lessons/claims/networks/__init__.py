"""Checkers of the fully-connected lessons on what a network is made of: depth and
nonlinearity, initialisation, normalisation and skips, losses and outputs."""
