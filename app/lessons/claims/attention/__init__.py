"""Checkers of the transformer lessons (CONCEPTS.md rows 31-34, and 35: grokking, which
issue 19 asks for beyond CONCEPTS.md)."""
