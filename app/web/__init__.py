"""HTTP + WebSocket layer: imports app.runs (and app.nn registries for dropdowns)."""
