"""Hypothesis-generated experiment specs through the API, against the engine's own
validator as the oracle: a spec `validate_spec` accepts gets 201 and trains to the end
(never "failed"); one it rejects gets 422 naming the same fields; the server stays up.

Specs are drawn from the registries with tight limits, so that about half break a bound
(too many layers or units, lr out of range, unknown names, dropout too high...)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from app.nn.choices.layers import ACTIVATIONS, NORMS
from app.nn.choices.optimizers import OPTIMIZERS
from app.nn.choices.schedules import SCHEDULES
from app.nn.data.points import DATASETS, FEATURES
from app.nn.spec.base import error_list
from app.nn.spec.experiment import validate_spec
from tests.web.service import TERMINAL, app_client, make_settings, wait_status

LIMITS = {"max_layers": 3, "max_units": 12, "max_samples": 300, "max_epochs": 20}


def names(registry: Any, *extra: str) -> st.SearchStrategy[str]:
    return st.sampled_from(sorted(k for k in registry if k != "custom") + list(extra))


LAYER = st.fixed_dictionaries(
    {
        "units": st.sampled_from([4, 8, 2, 12, 1, 6, 13, 0]),
        "activation": names(ACTIVATIONS, "swish?"),
    },
    optional={
        "norm": names(NORMS),
        "dropout": st.sampled_from([0.0, 0.1, 0.5, 0.99]),
        "residual": st.booleans(),
    },
)
SPEC = st.fixed_dictionaries(
    {
        "seed": st.integers(0, 1000),
        "data": st.fixed_dictionaries(
            {"dataset": names(DATASETS, "donut"), "samples": st.integers(20, 320)},
            optional={
                "noise": st.sampled_from([0.0, 0.2, 0.5]),
                "features": st.lists(names(FEATURES), min_size=1, max_size=3, unique=True),
            },
        ),
        "model": st.fixed_dictionaries({"layers": st.lists(LAYER, max_size=4)}),
        "train": st.fixed_dictionaries(
            {
                "optimizer": st.fixed_dictionaries(
                    {
                        "name": names(OPTIMIZERS, "adamm"),
                        "lr": st.sampled_from([0.03, 0.1, 0.01, 1.0, 0.3, 1e-3, 1e-5, 30.0, 1e-7]),
                    }
                ),
                "batch_size": st.integers(8, 64),
                "epochs": st.integers(1, 21),
            },
            optional={"schedule": st.fixed_dictionaries({"name": names(SCHEDULES)})},
        ),
    }
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings_ = make_settings(tmp_path_factory.mktemp("specs"), **LIMITS)
    with app_client(settings_) as c:
        yield c


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=SPEC)
def test_generated_specs_run_or_are_refused_field_by_field(
    client: TestClient, spec: dict[str, Any]
) -> None:
    limits = client.app.state.settings.limits()  # type: ignore[attr-defined]
    try:
        validate_spec(json.loads(json.dumps(spec)), limits)
    except ValidationError as exc:
        expected = {e["field"] for e in error_list(exc)}
    else:
        expected = set()
    response = client.post("/api/runs", json=spec)
    if expected:
        assert response.status_code == 422, (spec, response.text)
        got = {e["field"] for e in response.json()["detail"]}
        assert got == expected and all(e["message"] for e in response.json()["detail"])
        return
    assert response.status_code == 201, (spec, response.text)
    run = wait_status(client, response.json()["id"], TERMINAL)
    assert run["status"] in {"finished", "diverged"}, (spec, run["status"], run["reason"])
    assert run["step"] == run["total_steps"] or run["status"] == "diverged", run
    assert client.get("/healthz").json()["status"] == "ok"
