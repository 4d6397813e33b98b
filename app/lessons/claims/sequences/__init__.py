"""Checkers of the recurrent lessons (RNN, GRU, LSTM; CONCEPTS.md rows 29-30), with their
shared through-time measurements (`through_time.py`)."""
