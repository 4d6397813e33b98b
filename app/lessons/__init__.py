"""Lessons: presets that reproduce one concept each, stored as data (see registry.py)."""
