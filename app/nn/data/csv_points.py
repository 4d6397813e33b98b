"""Parse an uploaded 2-D dataset (CSV rows x1, x2, label) into the custom dataset's points.

Rules (every rejection names the line, and the column where it helps):
- at most `max_bytes` bytes and `max_rows` data rows; at least 10 rows (the spec's minimum);
- UTF-8 text; blank lines and lines starting with '#' are skipped; the delimiter is a comma,
  a semicolon or a tab (whichever the first row uses);
- an optional header: the names x1, x2, label (any order, any case) pick the columns;
  any other three names are read positionally as x1, x2, label, and a note says so;
- every value is a finite number;
- labels: 0/1 -> binary; -1/1 -> binary with -1 read as 0; whole numbers 0..K-1 with K <= 8
  -> K classes; anything else -> regression (see `infer_task`);
- coordinates must fit the plot square [-6, 6]^2: larger ones are scaled down by one factor
  for both axes, about the origin (shape, aspect ratio and quadrants kept), unless
  `rescale=False`, which rejects the first point outside instead.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from typing import Any

from app.nn.data.points import CUSTOM, DOMAIN, MAX_CUSTOM_CLASSES, infer_task

MIN_ROWS = 10
COLUMNS = ("x1", "x2", "label")
DELIMITERS = (",", ";", "\t")


class CsvError(ValueError):
    """A rejected upload; `line` is the 1-based line it is about (None: the whole file)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line, self.message = line, message


@dataclass(frozen=True)
class CsvDataset:
    points: list[list[float]]  # [x1, x2, label] rows, ready for DataSpec.points
    task: str  # binary | multiclass | regression
    classes: int  # 2, K, or 1 for regression
    scale: float = 1.0  # the factor the coordinates were multiplied by
    notes: list[str] = field(default_factory=list)

    def data_spec(self) -> dict[str, Any]:
        """The `data` fields that select these points (merge into a spec's data)."""
        return {"dataset": CUSTOM, "points": self.points}


def _number(text: str, line: int, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise CsvError(f"{column}: {text.strip()[:40]!r} is not a number", line) from None
    if not math.isfinite(value):
        raise CsvError(f"{column}: {text.strip()[:40]!r} is not a finite number", line)
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _decode(content: bytes | str, max_bytes: int) -> str:
    raw = content.encode() if isinstance(content, str) else content
    if len(raw) > max_bytes:
        raise CsvError(f"the file is {len(raw):,} bytes; the limit is {max_bytes:,}")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvError(f"not UTF-8 text (byte {exc.start}): save the file as CSV") from None


def _header_order(names: list[str], line: int, notes: list[str]) -> list[int]:
    """Column index of x1, x2 and label."""
    lowered = [n.strip().lower() for n in names]
    if sorted(lowered) == sorted(COLUMNS):
        return [lowered.index(c) for c in COLUMNS]
    notes.append(
        f"header {', '.join(n.strip() for n in names)} (line {line}) not recognised: "
        f"read the columns in order as x1, x2, label"
    )
    return [0, 1, 2]


def _rows(text: str, max_rows: int, notes: list[str]) -> list[tuple[int, list[float]]]:
    delimiter: str | None = None
    order: list[int] | None = None
    rows: list[tuple[int, list[float]]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if delimiter is None:
            delimiter = next((d for d in DELIMITERS if d in line), ",")
        try:
            fields = next(csv.reader([line], delimiter=delimiter))
        except csv.Error as exc:  # a field over csv.field_size_limit() (131,072 characters)
            raise CsvError(f"not a CSV line ({exc})", number) from None
        if len(fields) != 3:
            raise CsvError(
                f"expected 3 values (x1, x2, label) separated by {delimiter!r}, got {len(fields)}",
                number,
            )
        if order is None:
            if not all(_is_number(f) for f in fields):
                order = _header_order(fields, number, notes)
                continue
            order = [0, 1, 2]
        if len(rows) == max_rows:
            raise CsvError(f"more than {max_rows:,} data rows", number)
        rows.append(
            (number, [_number(fields[i], number, c) for i, c in zip(order, COLUMNS, strict=True)])
        )
    return rows


def _labels(labels: list[float], notes: list[str]) -> tuple[list[float], str, int]:
    values = set(labels)
    if values <= {-1.0, 1.0} and -1.0 in values:
        labels = [0.0 if v < 0 else 1.0 for v in labels]
        notes.append("labels -1/1 read as classes 0/1")
    task, classes = infer_task(labels)
    if task == "binary" and len(set(labels)) == 1:
        notes.append(f"every label is {labels[0]:g}: a classifier needs both classes to learn")
    elif task == "multiclass":
        missing = sorted(set(range(classes)) - {int(v) for v in labels})
        if missing:
            notes.append(f"classes 0..{classes - 1}, but none labelled {missing}")
    elif task == "regression" and all(v == int(v) for v in labels):
        notes.append(
            f"whole-number labels outside 0..{MAX_CUSTOM_CLASSES - 1} (or 0/1, -1/1) are "
            f"read as regression targets"
        )
    if task == "regression" and (min(labels) < -1 or max(labels) > 1):
        notes.append(
            f"targets span {min(labels):g}..{max(labels):g}; the built-in regression sets "
            f"stay within [-1, 1], so a smaller learning rate may be needed"
        )
    return labels, task, classes


def _fit_square(
    rows: list[tuple[int, list[float]]], rescale: bool, notes: list[str]
) -> tuple[list[list[float]], float]:
    limit = DOMAIN[1]
    extent = max(max(abs(r[0]), abs(r[1])) for _, r in rows)
    coords = [[r[0], r[1]] for _, r in rows]
    if extent <= limit:
        if extent < 1:
            notes.append(
                f"the points span only ±{extent:g} of the [-6, 6] plot square (kept as they are)"
            )
        return coords, 1.0
    if not rescale:
        line = next(n for n, r in rows if max(abs(r[0]), abs(r[1])) > limit)
        raise CsvError("the point lies outside the [-6, 6] square (rescaling is off)", line)
    scale = limit / extent
    notes.append(
        f"coordinates reach ±{extent:g}: both axes scaled by {scale:.4g} about the origin "
        f"to fit the [-6, 6] square"
    )
    return [[x * scale, y * scale] for x, y in coords], scale


def parse_csv(
    content: bytes | str,
    *,
    max_bytes: int = 1_000_000,
    max_rows: int = 5000,
    rescale: bool = True,
) -> CsvDataset:
    """Validate and convert an uploaded CSV; raises CsvError (a ValueError) with the line."""
    notes: list[str] = []
    rows = _rows(_decode(content, max_bytes), max_rows, notes)
    if len(rows) < MIN_ROWS:
        raise CsvError(f"found {len(rows)} data rows; at least {MIN_ROWS} are needed")
    labels, task, classes = _labels([r[2] for _, r in rows], notes)
    coords, scale = _fit_square(rows, rescale, notes)
    points = [[x, y, t] for (x, y), t in zip(coords, labels, strict=True)]
    return CsvDataset(points, task, classes, scale, notes)
