"""The optimizer race: real torch.optim optimizers on classic 2-D test functions.

    race = Race("rosenbrock", [{"name": "sgd", "lr": 0.001}, {"name": "adam", "lr": 0.05}])
    # or Race.from_spec(validate_race({"function": ..., "racers": [...], "start": [x, y]}))
    for rec in race.records():   # start, step 0 (everyone at the start point), 1..steps, end
        ...                      # step: {"step", "x": [...], "y": [...], "loss": [...]} per racer
    race.stop()                  # then records() ends with {"kind": "end", "status": "stopped"}

Also: FUNCTIONS (the registry), describe(key) and contour_grid(key, size) for the page.

Each racer is the optimizer the networks use (same OPTIMIZERS registry, same validated
hyper-parameters) on one float64 tensor of 2 parameters. A racer whose loss or position
becomes non-finite (or flies off beyond 1e6) stops and is flagged; the others race on.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
from pydantic import Field, field_validator

from app.nn.choices.optimizers import build_optimizer
from app.nn.choices.registry import Entry, Registry
from app.nn.records import Record
from app.nn.spec.base import Limits, _Model
from app.nn.spec.train import OptimizerSpec

Tensor = torch.Tensor
Point = tuple[float, float]
MAX_STEPS, MAX_RACERS = 5000, 8
ESCAPE = 1e6  # a racer beyond this distance has left the picture for good


@dataclass(frozen=True)
class FunctionInfo(Entry):
    fn: Callable[[Tensor, Tensor], Tensor] | None = None  # elementwise, so it also draws grids
    start: Point = (0.0, 0.0)
    x_range: Point = (-5.0, 5.0)
    y_range: Point = (-5.0, 5.0)
    minima: tuple[Point, ...] = ()  # every local minimum; the lowest first
    saddles: tuple[Point, ...] = ()
    min_value: float = 0.0  # the global minimum's value
    target: float = 1e-3  # "arrived" when f - min_value <= target
    log_scale: bool = True  # colour the contours by log(f - min_value)

    def __call__(self, x: Tensor, y: Tensor) -> Tensor:
        assert self.fn is not None
        return self.fn(x, y)


def _bowl(x: Tensor, y: Tensor) -> Tensor:
    # Condition number 25, axes rotated 45 degrees: no optimizer gets it per coordinate.
    u, v = (x + y) / math.sqrt(2), (x - y) / math.sqrt(2)
    return 0.5 * (u * u + 25 * v * v)


def _camel(x: Tensor, y: Tensor) -> Tensor:
    return (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2


_CAMEL_MINIMA = (
    (0.08984201310031806, -0.7126564030207396),
    (-0.08984201310031806, 0.7126564030207396),
    (1.7036067149699807, -0.7960835686726251),
    (-1.7036067149699807, 0.7960835686726251),
    (1.6071047529201974, 0.5686514548841314),
    (-1.6071047529201974, -0.5686514548841314),
)

FUNCTIONS: Registry[FunctionInfo] = Registry(
    "test function",
    [
        FunctionInfo(
            "bowl",
            "Ill-conditioned bowl",
            "A long narrow valley (curvatures 1 and 25): plain SGD zig-zags, momentum glides.",
            fn=_bowl,
            start=(-4.0, -3.0),
            minima=((0.0, 0.0),),
        ),
        FunctionInfo(
            "rosenbrock",
            "Rosenbrock",
            "A curved banana valley: easy to enter, slow to follow to (1, 1).",
            fn=lambda x, y: (1 - x) ** 2 + 100 * (y - x * x) ** 2,
            start=(-1.5, 2.0),
            x_range=(-2.0, 2.0),
            y_range=(-1.0, 3.0),
            minima=((1.0, 1.0),),
        ),
        FunctionInfo(
            "beale",
            "Beale",
            "Flat plateaus and steep walls; the minimum (3, 0.5) sits in a narrow arm.",
            fn=lambda x, y: (
                (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2
            ),
            start=(1.0, 1.4),
            x_range=(-4.5, 4.5),
            y_range=(-4.5, 4.5),
            minima=((3.0, 0.5),),
        ),
        FunctionInfo(
            "himmelblau",
            "Himmelblau",
            "Four equal minima: which one a racer reaches depends on its path.",
            fn=lambda x, y: (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2,
            start=(-0.5, -0.5),
            minima=(
                (3.0, 2.0),
                (-2.805118086952745, 3.131312518250573),
                (-3.779310253377747, -3.283185991286169),
                (3.5844283403304917, -1.8481265269644034),
            ),
            saddles=((-0.27084459, -0.92303856),),  # (the local maximum, also stationary)
        ),
        FunctionInfo(
            "saddle",
            "Saddle",
            "x² + y⁴/4 - y²/2: a saddle at the origin between minima at (0, ±1); started "
            "almost on the ridge, gradient methods crawl before they fall off.",
            fn=lambda x, y: x * x + y**4 / 4 - y * y / 2,
            start=(-1.8, 1e-3),
            x_range=(-2.0, 2.0),
            y_range=(-2.0, 2.0),
            minima=((0.0, 1.0), (0.0, -1.0)),
            saddles=((0.0, 0.0),),
            min_value=-0.25,
            log_scale=False,
        ),
        FunctionInfo(
            "camel",
            "Six-hump camel",
            "Six local minima, two of them global (-1.0316): a racer can settle in a worse one.",
            fn=_camel,
            start=(1.9, 1.1),
            x_range=(-2.0, 2.0),
            y_range=(-1.2, 1.2),
            minima=_CAMEL_MINIMA,
            min_value=-1.0316284534898774,
            log_scale=False,
        ),
    ],
)


def contour_grid(key: str, size: int = 80) -> Record:
    """f on a size x size grid over the function's plotting range, rows = y (for Plotly)."""
    info = FUNCTIONS[key]
    xs = torch.linspace(*info.x_range, size, dtype=torch.float64)
    ys = torch.linspace(*info.y_range, size, dtype=torch.float64)
    yy, xx = torch.meshgrid(ys, xs, indexing="ij")
    z = info(xx, yy)
    return {
        "x": xs.tolist(),
        "y": ys.tolist(),
        "z": z.tolist(),
        "zmin": float(z.min()),
        "zmax": float(z.max()),
        "min_value": info.min_value,
        "log": info.log_scale,
    }


def describe(key: str) -> Record:
    """What the page needs to draw a function before a race starts."""
    info = FUNCTIONS[key]
    return {
        **info.describe(),
        "start": list(info.start),
        "x_range": list(info.x_range),
        "y_range": list(info.y_range),
        "minima": [list(m) for m in info.minima],
        "saddles": [list(s) for s in info.saddles],
        "min_value": info.min_value,
        "target": info.target,
        "log": info.log_scale,
    }


class Racer:
    """One optimizer on one 2-parameter tensor."""

    def __init__(self, spec: OptimizerSpec, start: Point) -> None:
        self.spec = spec
        self.label = f"{spec.name} lr={spec.lr:g}"
        self.p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
        self.opt = build_optimizer(spec.name, spec.lr, spec.params(), [self.p], [], 0.0)
        self.diverged_at: int | None = None
        self.reached_at: int | None = None
        self.best = math.inf


class RaceSpec(_Model):
    """A race as the API takes it; errors name the field (e.g. "racers.1.lr")."""

    function: str = Field("bowl", description="test function key")
    racers: list[OptimizerSpec] = Field(description=f"1 to {MAX_RACERS} optimizers")
    start: tuple[float, float] | None = Field(None, description="null = the function's own")
    steps: int = Field(300, ge=1, le=MAX_STEPS, description="optimizer steps per racer")
    target: float | None = Field(None, gt=0.0, description="f - min counted as arrived")

    @field_validator("function")
    @classmethod
    def _function(cls, v: str) -> str:
        if v not in FUNCTIONS:
            raise ValueError(FUNCTIONS.unknown_message(v))
        return v

    @field_validator("racers")
    @classmethod
    def _racers(cls, v: list[OptimizerSpec]) -> list[OptimizerSpec]:
        if not 1 <= len(v) <= MAX_RACERS:
            raise ValueError(f"1 to {MAX_RACERS} optimizers (got {len(v)})")
        return v

    @field_validator("start")
    @classmethod
    def _start(cls, v: tuple[float, float] | None) -> tuple[float, float] | None:
        if v is not None and not all(math.isfinite(c) and abs(c) < ESCAPE for c in v):
            raise ValueError(f"expected a finite point within ±{ESCAPE:g}, got {list(v)}")
        return v


def validate_race(data: Any, limits: Limits | None = None) -> RaceSpec:
    """Validate a JSON-like race; raises pydantic.ValidationError (see spec.error_list)."""
    return RaceSpec.model_validate(data, context={"limits": limits or Limits()})


class Race:
    """Several optimizers from one start point on one function; see the module docstring."""

    def __init__(
        self,
        function: str,
        racers: list[dict[str, Any] | OptimizerSpec],
        start: Point | None = None,
        steps: int = 300,
        target: float | None = None,
        limits: Limits | None = None,
    ) -> None:
        raw = [r.model_dump() if isinstance(r, OptimizerSpec) else r for r in racers]
        spec = validate_race(
            {"function": function, "racers": raw, "start": start, "steps": steps, "target": target},
            limits,
        )
        self.spec = spec
        self.info = FUNCTIONS[spec.function]
        self.key = spec.function
        self.start: Point = spec.start if spec.start is not None else self.info.start
        self.racers = [Racer(s, self.start) for s in spec.racers]
        self.steps = spec.steps
        self.target = self.info.target if spec.target is None else spec.target
        self.step = 0
        self._stop = False

    @classmethod
    def from_spec(cls, spec: RaceSpec) -> Race:
        return cls(spec.function, list(spec.racers), spec.start, spec.steps, spec.target)

    def stop(self) -> None:
        self._stop = True

    def loss(self, point: Point) -> float:
        x, y = (torch.tensor(v, dtype=torch.float64) for v in point)
        return float(self.info(x, y))

    def records(self) -> Iterator[Record]:
        yield {
            "kind": "start",
            "function": self.key,
            **{k: v for k, v in describe(self.key).items() if k not in ("key", "params")},
            "start": list(self.start),
            "target": self.target,
            "steps": self.steps,
            "racers": [{"index": i, "label": r.label} for i, r in enumerate(self.racers)],
        }
        yield self._positions()  # step 0: every racer at the start point
        while self.step < self.steps and not self._stop:
            if all(r.diverged_at is not None for r in self.racers):
                break
            self.step += 1
            for r in self.racers:
                if r.diverged_at is None:
                    self._advance(r)
            yield self._positions()
        yield self._end("stopped" if self._stop else "finished")

    def _advance(self, r: Racer) -> None:
        r.opt.zero_grad(set_to_none=True)
        loss = self.info(r.p[0], r.p[1])
        loss.backward()
        r.opt.step()

    def _positions(self) -> Record:
        cols: list[tuple[float, float, float] | tuple[None, None, None]] = []
        events = []
        for i, r in enumerate(self.racers):
            if r.diverged_at is not None:
                cols.append((None, None, None))
                continue
            x, y = r.p.detach().tolist()
            loss = self.loss((x, y))
            if not all(math.isfinite(v) and abs(v) < ESCAPE for v in (x, y, loss)):
                r.diverged_at = self.step
                events.append({"racer": i, "event": "diverged"})
                cols.append((None, None, None))
                continue
            r.best = min(r.best, loss)
            if r.reached_at is None and loss - self.info.min_value <= self.target:
                r.reached_at = self.step
                events.append({"racer": i, "event": "reached"})
            cols.append((x, y, loss))
        xs, ys, losses = (list(c) for c in zip(*cols, strict=True))
        rec: Record = {"kind": "step", "step": self.step, "x": xs, "y": ys, "loss": losses}
        if events:
            rec["events"] = events
        return rec

    def summary(self) -> list[Record]:
        out = []
        for i, r in enumerate(self.racers):
            x, y = r.p.detach().tolist()
            nearest, dist = None, math.inf
            for j, m in enumerate(self.info.minima):
                d = math.hypot(x - m[0], y - m[1])
                if d < dist:
                    nearest, dist = j, d
            out.append(
                {
                    "index": i,
                    "label": r.label,
                    "optimizer": r.spec.name,
                    "lr": r.spec.lr,
                    "position": None if r.diverged_at is not None else [x, y],
                    "loss": None if r.diverged_at is not None else self.loss((x, y)),
                    "best_loss": r.best if math.isfinite(r.best) else None,
                    "steps_to_target": r.reached_at,
                    "diverged": r.diverged_at is not None,
                    "diverged_at": r.diverged_at,
                    "nearest_minimum": None if r.diverged_at is not None else nearest,
                    "distance": None if r.diverged_at is not None else dist,
                }
            )
        return out

    def _end(self, status: str) -> Record:
        return {"kind": "end", "status": status, "step": self.step, "racers": self.summary()}
