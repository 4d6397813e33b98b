"""The spec part of a model family other than the MLP: its data and its architecture.

A family beside the MLP adds one optional field to `Spec` named after its key (`cnn`,
`rnn`, `transformer`), typed by a subclass of `FamilyPart` in `app/nn/spec/<family>.py`.
The MLP keeps `spec.data` (2-D points) and `spec.model` (the dense layers); another
family's part says what it trains on (its own dataset registry) and how its net is built;
`spec.model.layers` stays the dense head every family may end in, and `spec.train`,
`spec.stream` and the seed mean the same for every family. `Spec` fills a missing part
with its defaults, refuses a part that does not match `family`, and asks the part for the
task, the number of examples and its cross-field checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from app.nn.choices.registry import FieldError
from app.nn.spec.base import Limits, _Model

if TYPE_CHECKING:
    from app.nn.spec.experiment import LayerSpec, Spec


def check_skips(layers: Sequence[LayerSpec], width: int) -> None:
    """A residual skip adds a dense layer's input to its output: the widths must match.
    `width` is what the first dense layer receives (the MLP's features, a CNN's flat maps)."""
    for i, layer in enumerate(layers):
        if layer.residual and width != layer.units:
            raise FieldError(
                f"model.layers.{i}.residual",
                f"a skip needs the layer's input width ({width}) to equal its units "
                f"({layer.units})",
            )
        width = layer.units


class FamilyPart(_Model):
    """What `Spec` asks of a family's part; subclasses are pydantic models (extra=forbid)."""

    # `train` fields this family starts from when the spec leaves them out (e.g. AdamW for
    # attention); Spec fills them in before validation, the spec's own values win.
    train_defaults: ClassVar[dict[str, Any]] = {}
    # The part's fields that decide the examples themselves (not the net): members of a
    # comparison that differ in one of them train on different data.
    data_fields: ClassVar[tuple[str, ...]] = ()

    def task(self) -> str:
        """'binary', 'multiclass' or 'regression' (the loss registry's tasks)."""
        raise NotImplementedError

    def n_examples(self) -> int:
        """How many examples the dataset has in all (the splits divide these)."""
        raise NotImplementedError

    def check(self, spec: Spec, limits: Limits) -> None:
        """Cross-field checks needing the whole spec; raise FieldError naming the field
        (its path from the spec's root, e.g. 'cnn.conv.0.kernel')."""
