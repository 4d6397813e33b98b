"""The compact URL form round-trips any valid spec and rejects bad links clearly."""

from urllib.parse import parse_qsl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.nn.choices.layers import ACTIVATIONS, INITS, NORMS
from app.nn.choices.optimizers import OPTIMIZERS
from app.nn.choices.schedules import SCHEDULES
from app.nn.spec.experiment import validate_spec
from app.nn.spec.url import from_query, to_url_query

layer = st.fixed_dictionaries(
    {
        "units": st.integers(1, 32),
        "activation": st.sampled_from(ACTIVATIONS.keys()),
        "norm": st.sampled_from(NORMS.keys()),
        "dropout": st.sampled_from([0.0, 0.1, 0.25, 0.5]),
    }
)
specs = st.fixed_dictionaries(
    {
        "seed": st.integers(0, 10**6),
        "data": st.fixed_dictionaries(
            {
                "dataset": st.sampled_from(["circle", "xor", "spiral", "moons"]),
                "noise": st.sampled_from([0.0, 0.1, 0.35]),
                "features": st.sampled_from([["x1", "x2"], ["x1sq", "x2sq", "x1x2"], ["sin_x1"]]),
                "val_fraction": st.sampled_from([0.0, 0.2]),
            }
        ),
        "model": st.fixed_dictionaries(
            {"layers": st.lists(layer, max_size=4), "init": st.sampled_from(INITS.keys())}
        ),
        "train": st.fixed_dictionaries(
            {
                "optimizer": st.fixed_dictionaries(
                    {
                        "name": st.sampled_from(OPTIMIZERS.keys()),
                        "lr": st.sampled_from([0.001, 0.03, 0.3]),
                    }
                ),
                "schedule": st.fixed_dictionaries({"name": st.sampled_from(SCHEDULES.keys())}),
                "batch_size": st.integers(1, 64),
                "l2": st.sampled_from([0.0, 0.001]),
                "grad_clip": st.one_of(
                    st.none(),
                    st.fixed_dictionaries({"mode": st.just("value"), "max": st.just(2.5)}),
                ),
            }
        ),
    }
)


@settings(max_examples=60, deadline=None)
@given(specs)
def test_round_trip(data: dict) -> None:
    spec = validate_spec(data)
    query = dict(parse_qsl(to_url_query(spec), keep_blank_values=True))
    assert validate_spec(from_query(query)) == spec


def test_default_spec_is_the_empty_query() -> None:
    assert to_url_query(validate_spec({})) == ""


def test_optimizer_params_only_when_not_default() -> None:
    spec = validate_spec({"train": {"optimizer": {"name": "adam", "beta1": 0.8}}})
    assert "op=beta1:0.8" in to_url_query(spec)
    assert "beta2" not in to_url_query(spec)


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ({"zz": "1"}, "unknown URL key"),
        ({"l": "8:tanh:none:0:x"}, "'r'"),
        ({"op": "beta1"}, "pairs"),
    ],
)
def test_bad_links_say_what_is_wrong(query: dict, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        from_query(query)
