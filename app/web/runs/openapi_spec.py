"""The Spec's JSON schema as the server really validates it: bounds from the settings'
Limits (demo mode lowers them) and enums from the registries.

pydantic only states what a Field declares; the spec's bounds that depend on the settings
(units, samples, epochs, batch size, grid, lr, layers) and its registry keys are checked by
validators, so they are added here. Clients (and the schemathesis test) then see the real
ranges, and values outside them are what an invalid request looks like.
"""

from __future__ import annotations

from typing import Any

from app.nn.choices.layers import ACTIVATIONS, INITS, NORMS
from app.nn.choices.losses import LOSSES
from app.nn.choices.optimizers import OPTIMIZERS
from app.nn.choices.positions import POSITIONS
from app.nn.choices.schedules import SCHEDULES
from app.nn.data.points import DATASETS, FEATURES
from app.nn.data.tokens import TASKS
from app.nn.spec.base import Limits
from app.nn.spec.experiment import Spec
from app.nn.spec.transformer import FFN_ACTIVATIONS


def spec_schema(limits: Limits, ref_template: str = "#/$defs/{model}") -> dict[str, Any]:
    """The Spec schema (with its `$defs`) carrying the limits' bounds and the enums."""
    schema = Spec.model_json_schema(ref_template=ref_template)
    defs: dict[str, Any] = schema["$defs"]

    def field(model: str, name: str, **facts: Any) -> None:
        defs[model]["properties"][name].update(facts)

    field("LayerSpec", "units", minimum=1, maximum=limits.max_units)
    field("LayerSpec", "activation", enum=list(ACTIVATIONS))
    field("LayerSpec", "norm", enum=list(NORMS))
    field("DataSpec", "dataset", enum=list(DATASETS))
    field("DataSpec", "samples", minimum=10, maximum=limits.max_samples)
    features = defs["DataSpec"]["properties"]["features"]
    features["items"]["enum"] = list(FEATURES)
    features.update(minItems=1, maxItems=len(FEATURES), uniqueItems=True)
    points = defs["DataSpec"]["properties"]["points"]["anyOf"][0]
    points.update(minItems=10, maxItems=limits.max_samples)
    points["items"].update(minItems=3, maxItems=3)
    field("ModelSpec", "layers", maxItems=limits.max_layers)
    field("ModelSpec", "init", enum=list(INITS))
    field("OptimizerSpec", "name", enum=list(OPTIMIZERS))
    field("OptimizerSpec", "lr", minimum=limits.min_lr, maximum=limits.max_lr)
    field("ScheduleSpec", "name", enum=list(SCHEDULES))
    field("TrainSpec", "loss", enum=list(LOSSES))
    field("TrainSpec", "batch_size", minimum=1, maximum=limits.max_batch_size)
    field("TrainSpec", "epochs", minimum=1, maximum=limits.max_epochs)
    field("StreamSpec", "grid_size", maximum=limits.max_grid)
    if "TransformerPart" in defs:  # the transformer family's part (app/nn/spec/transformer.py)
        field("TransformerPart", "dataset", enum=list(TASKS))
        field("TransformerPart", "positions", enum=list(POSITIONS))
        field("TransformerPart", "activation", enum=list(FFN_ACTIVATIONS))
        field("TransformerPart", "length", minimum=2, maximum=limits.max_seq_len)
        field("TransformerPart", "examples", minimum=10, maximum=limits.max_samples)
        field("TransformerPart", "blocks", minimum=1, maximum=limits.max_blocks)
        field("TransformerPart", "heads", minimum=1, maximum=limits.max_heads)
        field("TransformerPart", "d_model", minimum=16, maximum=limits.max_d_model)
        field("TransformerPart", "ffn", minimum=1, maximum=limits.max_ffn)
    return schema
