"""Schemathesis against the app's own OpenAPI schema, over a real uvicorn on 127.0.0.1:
generated requests (valid and invalid) for every operation; no 5xx, and every response
matches the schema documented for its status (app/web/hosting/openapi_errors.py).

Bounded: a few examples per operation, short runs (max_run_seconds), a small queue."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from tests.web.service import LiveServer, make_settings, wait_for

EXAMPLES = 12  # per operation (measured: ~1 min for all of them on a quiet machine)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings_ = make_settings(
        tmp_path_factory.mktemp("schemathesis"),
        max_run_seconds=1.0,  # whatever valid spec is generated, it trains for 1 s at most
        max_queued=4,
        max_paused_seconds=2.0,
    )
    with LiveServer(settings_) as server:
        # /readyz answers 503 (documented, but a 5xx) until the workers are up.
        wait_for(lambda: httpx.get(server.http + "/readyz").status_code == 200, 120, "workers")
        yield server


@pytest.fixture(scope="module")
def api_schema(live: LiveServer) -> Any:
    return schemathesis.openapi.from_url(live.http + "/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,  # the same requests every run: a failure reproduces
)
def test_api_conforms_to_its_schema(case: Any) -> None:
    case.call_and_validate(
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
        timeout=30,
    )


def test_schema_documents_our_error_shapes(live: LiveServer) -> None:
    raw = httpx.get(live.http + "/openapi.json").json()
    pause = raw["paths"]["/api/v1/runs/{run_id}/pause"]["post"]["responses"]
    assert {"403", "404", "409", "422", "429"} <= set(pause)
    ref = pause["422"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("/FieldErrors")
