"""What a form field name may be, checked before anything is built from it.

Form posts come from anyone: a field name like `model.layers.99999999.units` must not make
the server grow a list to that index (a 29-byte post once took ~20 GB), and `model=1`
next to `model.layers.0.units=4` must not turn into a crash. Every list index in a name is
bounded by the limit of what it indexes (layers, members, racers) before any allocation,
and a name that contradicts another (a value where an object is needed) is refused with
the field's own message, shown by the page as a 422.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class FormFieldError(ValueError):
    """A form field name that cannot be part of the form (field, plain message)."""

    def __init__(self, field: str, message: str) -> None:
        field = field if len(field) <= 100 else field[:100] + "..."  # names can be 64 KB
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message

    def as_errors(self) -> list[dict[str, str]]:
        return [{"field": self.field, "message": self.message}]


def bounded_index(field: str, part: str, limit: int, what: str) -> int:
    """`part` (a digit string) as a list index, refused unless below `limit`; the error
    names the list (`field`), whose control shows it."""
    # Compare lengths first: int() of a very long digit string is itself costly.
    if len(part) > len(str(limit)) or int(part) >= limit:
        shown = part if len(part) <= 12 else part[:12] + "..."
        raise FormFieldError(field, f"at most {limit} {what}; the form names number {shown}")
    return int(part)


def small_int(text: str, default: int = -1) -> int:
    """A non-negative whole number of at most 6 digits (counts, indices in ui.* fields and
    button actions), else `default`: such values are never large, and int() of a long
    digit string costs time of its own."""
    return int(text) if text.isdigit() and len(text) <= 6 else default


def insert(tree: dict[str, Any], path: list[str], value: Any, lists: Mapping[str, int]) -> None:
    """Put `value` at the dotted `path` of `tree`. A digit part is a list index and is only
    allowed where `lists` names the list (dotted prefix -> most items), below that bound."""
    field = ".".join(path)
    node: Any = tree
    for i, part in enumerate(path):
        last = i == len(path) - 1
        if part.isdigit():
            prefix = ".".join(path[:i])
            if prefix not in lists or not isinstance(node, list):
                raise FormFieldError(field, "not a field of this form")
            index = bounded_index(prefix, part, lists[prefix], prefix.rsplit(".", 1)[-1])
            if last:  # list items are objects (a layer); a bare value there is no field
                raise FormFieldError(field, "not a field of this form")
            while len(node) <= index:
                node.append({})
            node = node[index]
            continue
        if not isinstance(node, dict):
            raise FormFieldError(field, f"{'.'.join(path[:i])} is not a group of fields")
        if last:
            old = node.get(part)
            if old is not None and isinstance(old, dict | list) != isinstance(value, dict | list):
                raise FormFieldError(field, f"{field} is given twice, differently")
            node[part] = value
            return
        want_list = path[i + 1].isdigit()
        child = node.setdefault(part, [] if want_list else {})
        if isinstance(child, list) != want_list or not isinstance(child, list | dict):
            raise FormFieldError(field, f"{'.'.join(path[: i + 1])} is given twice, differently")
        node = child
