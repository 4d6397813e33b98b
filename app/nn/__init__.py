"""The training engine: torch + stdlib (+ pydantic for the spec); knows nothing of runs or web."""
