"""Registries: one per family of choices, each entry a stable key plus its metadata.

A registry feeds the UI dropdowns, spec validation, URL state, CLI flags and docs, so a new
optimizer or dataset is one entry, not five edits.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar


class FieldError(ValueError):
    """A validation error about a sub-field (path relative to where it is raised)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field, self.message = field, message


@dataclass(frozen=True)
class Param:
    """A numeric/bool hyper-parameter with its default and bounds."""

    name: str
    default: float | int | bool
    lo: float | None = None
    hi: float | None = None
    kind: str = "float"  # float | int | bool
    help: str = ""
    log: bool = False  # a log-scale slider suits it

    def check(self, value: Any) -> float | int | bool:
        """Coerce and bound-check a value; raise ValueError naming the allowed range."""
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "on", "off"):
                return value.lower() in ("true", "1", "on")
            if value in (0, 1):
                return bool(value)
            raise ValueError(f"expected true or false, got {value!r}")
        if isinstance(value, bool):  # JSON true is not the number 1
            raise ValueError(f"expected a number, got {value!r}")
        try:
            num = float(value)
        except (TypeError, ValueError, OverflowError):
            shown = "a huge integer" if isinstance(value, int) else repr(value)
            raise ValueError(f"expected a number, got {shown}") from None
        if num != num or num in (float("inf"), float("-inf")):
            raise ValueError(f"expected a finite number, got {value!r}")
        if self.kind == "int":
            if num != int(num):
                raise ValueError(f"expected a whole number, got {value!r}")
            num = int(num)
        if (self.lo is not None and num < self.lo) or (self.hi is not None and num > self.hi):
            raise ValueError(f"{value!r} is out of range [{self.lo}, {self.hi}]")
        return num

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "default": self.default,
            "min": self.lo,
            "max": self.hi,
            "kind": self.kind,
            "help": self.help,
            "log": self.log,
        }


@dataclass(frozen=True)
class Entry:
    """Base metadata shared by every registry entry."""

    key: str
    label: str
    help: str = ""
    params: tuple[Param, ...] = field(default_factory=tuple)

    def param_defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def resolve_params(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults filled in, unknown names rejected with the allowed ones listed."""
        known = {p.name: p for p in self.params}
        unknown = sorted(set(given) - set(known))
        if unknown:
            allowed = ", ".join(known) or "none"
            raise FieldError(unknown[0], f"not a parameter of {self.key!r}; allowed: {allowed}")
        resolved = {}
        for name, p in known.items():
            try:
                resolved[name] = p.check(given[name]) if name in given else p.default
            except ValueError as exc:
                raise FieldError(name, str(exc)) from None
        return resolved

    def describe(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "help": self.help,
            "params": [p.describe() for p in self.params],
        }


E = TypeVar("E", bound=Entry)


class Registry(Generic[E]):
    """An ordered mapping key -> entry with a clear error for unknown keys."""

    def __init__(self, family: str, entries: list[E]) -> None:
        self.family = family
        self._entries: dict[str, E] = {}
        for entry in entries:
            if entry.key in self._entries:
                raise ValueError(f"duplicate {family} key {entry.key!r}")
            self._entries[entry.key] = entry

    def add(self, entry: E) -> None:
        """Register one more entry (a plug-in's own choice); every reader of the registry
        (validation, dropdowns, URL form, CLI, export) sees it from then on."""
        if entry.key in self._entries:
            raise ValueError(f"duplicate {self.family} key {entry.key!r}")
        self._entries[entry.key] = entry

    def remove(self, key: str) -> None:
        self._entries.pop(key, None)

    def __getitem__(self, key: str) -> E:
        try:
            return self._entries[key]
        except KeyError:
            raise ValueError(self.unknown_message(key)) from None

    def valid(self, key: str) -> str:
        """The key itself, or ValueError naming the allowed keys (for pydantic validators)."""
        if key not in self._entries:
            raise ValueError(self.unknown_message(key))
        return key

    def unknown_message(self, key: object) -> str:
        return f"unknown {self.family} {key!r}; allowed: {', '.join(self._entries)}"

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def keys(self) -> list[str]:
        return list(self._entries)

    def values(self) -> list[E]:
        return list(self._entries.values())

    def check_key(self, key: str, where: str) -> str:
        if key not in self._entries:
            raise ValueError(f"{where}: {self.unknown_message(key)}")
        return key

    def describe(self) -> list[dict[str, Any]]:
        return [e.describe() for e in self._entries.values()]
