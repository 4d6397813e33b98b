"""Run lifecycle: execution in worker processes, events, limits, persistence. Never fastapi."""
