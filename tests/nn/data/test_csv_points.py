"""CSV upload of a 2-D dataset: good files become custom points that train; bad files are
rejected with the line that is wrong."""

import math
import random

import pytest
import torch
from pydantic import ValidationError

from app.nn.data.csv_points import CsvError, parse_csv
from app.nn.spec.base import error_text
from app.nn.spec.experiment import validate_spec
from app.nn.training.trainer import Trainer

torch.set_num_threads(1)


def rows(n: int, label, seed: int = 0, spread: float = 5.0) -> list[tuple[float, float, float]]:
    r = random.Random(seed)
    out = []
    for i in range(n):
        x, y = r.uniform(-spread, spread), r.uniform(-spread, spread)
        out.append((x, y, label(x, y, i)))
    return out


def csv_text(data, header: str | None = "x1,x2,label", sep: str = ",") -> str:
    lines = [header] if header else []
    lines += [sep.join(repr(v) for v in row) for row in data]
    return "\n".join(lines) + "\n"


def test_binary_with_header_trains_as_a_custom_dataset() -> None:
    data = rows(80, lambda x, y, i: float(x * y > 0))
    parsed = parse_csv(csv_text(data).encode())
    assert (parsed.task, parsed.classes, parsed.scale) == ("binary", 2, 1.0)
    assert parsed.points == [list(r) for r in data]
    spec = validate_spec(
        {
            "data": {**parsed.data_spec(), "features": ["x1x2"]},
            "model": {"layers": []},
            "train": {"epochs": 30, "optimizer": {"name": "adam", "lr": 0.1}},
        }
    )
    assert spec.task == "binary" and spec.data.samples == 80
    end = Trainer(spec).run()
    assert end["final"]["test_acc"] >= 0.9  # x1·x2 separates the quadrants


def test_header_columns_in_any_order_and_no_header() -> None:
    data = rows(20, lambda x, y, i: float(i % 2))
    shuffled = csv_text([(t, y, x) for x, y, t in data], header="Label, X2 ,x1")
    assert parse_csv(shuffled).points == [list(r) for r in data]
    assert parse_csv(csv_text(data, header=None)).points == [list(r) for r in data]
    assert parse_csv(csv_text(data, header=None, sep=";")).points == [list(r) for r in data]
    odd = parse_csv(csv_text(data, header="a,b,c"))
    assert odd.points == [list(r) for r in data]
    assert any("not recognised" in n for n in odd.notes)


def test_label_kinds() -> None:
    pm = parse_csv(csv_text(rows(12, lambda x, y, i: 1.0 if x > 0 else -1.0)))
    assert pm.task == "binary"
    assert {p[2] for p in pm.points} == {0.0, 1.0}
    assert any("-1/1" in n for n in pm.notes)
    plain = parse_csv(csv_text(rows(12, lambda x, y, i: float(x > 0))))
    assert plain.task == "binary" and not any("regression" in n for n in plain.notes)
    multi = parse_csv(csv_text(rows(30, lambda x, y, i: float(i % 4))))
    assert (multi.task, multi.classes) == ("multiclass", 4)
    gap = parse_csv(csv_text(rows(30, lambda x, y, i: float(2 * (i % 2)))))
    assert gap.classes == 3 and any("[1]" in n for n in gap.notes)
    reg = parse_csv(csv_text(rows(30, lambda x, y, i: math.sin(x))))
    assert (reg.task, reg.classes) == ("regression", 1)
    many = parse_csv(csv_text(rows(30, lambda x, y, i: float(i % 12))))
    assert many.task == "regression" and any("regression targets" in n for n in many.notes)


def test_multiclass_and_regression_train() -> None:
    for label, task in (
        (lambda x, y, i: float(i % 3), "multiclass"),
        (lambda x, y, i: x / 5, "regression"),
    ):
        parsed = parse_csv(csv_text(rows(40, label)))
        spec = validate_spec({"data": parsed.data_spec(), "train": {"epochs": 2}})
        assert spec.task == task
        final = Trainer(spec).run()["final"]
        assert math.isfinite(final["train_loss"])


def test_large_coordinates_are_scaled_into_the_square() -> None:
    data = rows(20, lambda x, y, i: float(x > 0), spread=50.0)
    extent = max(max(abs(x), abs(y)) for x, y, _ in data)
    parsed = parse_csv(csv_text(data))
    assert parsed.scale == pytest.approx(6 / extent)
    assert max(max(abs(p[0]), abs(p[1])) for p in parsed.points) == pytest.approx(6.0)
    for (x, y, t), p in zip(data, parsed.points, strict=True):
        assert p == pytest.approx([x * parsed.scale, y * parsed.scale, t])
    assert any("scaled" in n for n in parsed.notes)
    with pytest.raises(CsvError, match="outside the"):
        parse_csv(csv_text(data), rescale=False)


GOOD = csv_text(rows(12, lambda x, y, i: float(i % 2))).splitlines()


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("\n".join([*GOOD[:4], "1.0,abc,0", *GOOD[4:]]), 5, "x2: 'abc' is not a number"),
        ("\n".join([*GOOD[:3], "1.0,2.0", *GOOD[3:]]), 4, "expected 3 values"),
        ("\n".join([*GOOD[:3], "1,2,3,4", *GOOD[3:]]), 4, "got 4"),
        ("\n".join([*GOOD[:6], "1.0,nan,0", *GOOD[6:]]), 7, "finite"),
        ("\n".join([*GOOD[:6], "inf,1,0", *GOOD[6:]]), 7, "x1"),
        ("\n".join([*GOOD[:2], "x1,x2,label", *GOOD[2:]]), 3, "not a number"),
        ("\n".join(GOOD[:8]), None, "at least 10"),
        ("x1,x2,label\n", None, "found 0 data rows"),
    ],
)
def test_bad_files_name_the_line(text: str, line: int | None, fragment: str) -> None:
    with pytest.raises(CsvError) as info:
        parse_csv(text)
    assert info.value.line == line
    assert fragment in str(info.value)
    if line:
        assert str(info.value).startswith(f"line {line}:")


def test_size_caps_and_encoding() -> None:
    text = csv_text(rows(50, lambda x, y, i: 0.0))
    with pytest.raises(CsvError, match="limit is 100"):
        parse_csv(text, max_bytes=100)
    with pytest.raises(CsvError, match="more than 20 data rows") as info:
        parse_csv(text, max_rows=20)
    assert info.value.line == 22  # the header, then 20 allowed rows
    with pytest.raises(CsvError, match="UTF-8"):
        parse_csv(b"\xff\xfe" + text.encode("utf-16-le"))
    bom = parse_csv("\ufeff" + text)  # Excel's byte-order mark is fine
    assert len(bom.points) == 50
    assert any("both classes" in n for n in bom.notes)


def test_spec_rejects_bad_points() -> None:
    good = [list(r) for r in rows(12, lambda x, y, i: 0.0)]
    cases = [
        ({"dataset": "custom"}, "needs points"),
        ({"points": good}, "need dataset 'custom'"),
        ({"dataset": "custom", "points": good[:9]}, "10 to 5000"),
        ({"dataset": "custom", "points": [*good, [1.0, 2.0]]}, "point 12"),
        ({"dataset": "custom", "points": [*good, [1.0, float("inf"), 0.0]]}, "finite"),
    ]
    for data, fragment in cases:
        with pytest.raises(ValidationError) as info:
            validate_spec({"data": data})
        assert "data.points" in error_text(info.value)
        assert fragment in error_text(info.value)
