"""Checkers of the convolutional lessons (tiny images; CONCEPTS.md rows 26-28)."""
