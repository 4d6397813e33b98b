"""Checkers of the fully-connected lessons on generalisation: overfitting, L1 / L2, early
stopping, dropout, and the train / validation / test splits."""
