"""Bounds of every integer query parameter: a number a client sends must fit what it is
compared with (SQLite integers are 64-bit; a larger offset was a 500), so each one is
refused with a 422 beyond a bound no real client reaches."""

from __future__ import annotations

MAX_OFFSET = 1_000_000_000  # rows skipped in a listing
MAX_SEQ = 2**53 - 1  # event sequence numbers (also the largest integer JavaScript holds exactly)
