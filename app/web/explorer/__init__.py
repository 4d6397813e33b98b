"""The backprop explorer page (/explore): a tiny network stepped through forward, backward
(edge by edge) and one update, with the engine's numbers (app/nn/explain)."""
