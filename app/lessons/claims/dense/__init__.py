"""Checkers of the fully-connected lessons (points in the plane; CONCEPTS.md rows 1-25)."""
