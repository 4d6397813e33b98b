"""Schemathesis against the app's own OpenAPI schema, over a real uvicorn on 127.0.0.1:
generated requests (valid and invalid) for every operation; no 5xx, and every response
matches the schema documented for its status (app/web/hosting/openapi_errors.py).

In normal and in demo mode (lower bounds, ownership, rate limits). Besides what the schema
implies, hooks swap one query value or one body leaf for a value that broke servers before
(issue 14): integers beyond 64 bits, a 401-digit number, `true` where a number goes, a
string longer than csv's field limit. NaN and infinities cannot go through schemathesis's
client (it refuses to write them), so the last test sends them as raw JSON text (`NaN`,
`Infinity`, `1e999`) in place of every leaf of every documented JSON body. The schema
states the spec's real bounds and enums (app/web/runs/openapi_spec.py), so out-of-range values
are generated too.

Bounded: a few examples per operation, short runs (max_run_seconds), a small queue."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from tests.web.service import LiveServer, make_settings, wait_for

EXAMPLES = 8  # per operation and mode (measured: ~1 min for both modes on a quiet machine)
EDGES: tuple[Any, ...] = (
    2**63,
    -(2**63) - 1,
    10**400,
    -1e308,
    True,
    "9" * 401,
    "x" * 140_000,  # over csv.field_size_limit()
)
QUERY_EDGES = (str(2**63), "-1", "9" * 401, "nan", "inf", "true", "x" * 5000)


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaves(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _leaves(v, (*path, i))]
    return [path]


def _replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = json.loads(json.dumps(value))
    node = copy
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = new
    return copy


def flatmap_body(context: Any, body: Any) -> Any:
    if not isinstance(body, dict | list):
        return st.just(body)
    spots = _leaves(body) or [()]  # {} or []: the whole body becomes the edge value
    edged = st.tuples(st.sampled_from(spots), st.sampled_from(EDGES))
    return st.one_of(st.just(body), edged.map(lambda pe: _replaced(body, *pe)))


def flatmap_query(context: Any, query: Any) -> Any:
    if not query:
        return st.just(query)
    edged = st.tuples(st.sampled_from(sorted(query)), st.sampled_from(QUERY_EDGES))
    return st.one_of(st.just(query), edged.map(lambda ke: {**query, ke[0]: ke[1]}))


def serve(tmp: Any, **overrides: Any) -> Iterator[LiveServer]:
    settings_ = make_settings(
        tmp,
        max_run_seconds=1.0,  # whatever valid spec is generated, it trains for 1 s at most
        max_queued=4,
        max_paused_seconds=2.0,
        **overrides,
    )
    with LiveServer(settings_) as server:
        # /readyz answers 503 (documented, but a 5xx) until the workers are up.
        wait_for(lambda: httpx.get(server.http + "/readyz").status_code == 200, 120, "workers")
        yield server


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from serve(tmp_path_factory.mktemp("schemathesis"))


@pytest.fixture(scope="module")
def live_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # Demo caps and ownership; the per-address rate limits stay on but roomy enough that
    # generated cases reach the handlers (they come from one address).
    yield from serve(
        tmp_path_factory.mktemp("schemathesis-demo"),
        demo=True,
        create_per_minute=600.0,
        create_burst=50,
        max_runs_per_client=50,
    )


def load(server: LiveServer) -> Any:
    loaded = schemathesis.openapi.from_url(server.http + "/openapi.json")
    loaded.hook(flatmap_body)
    loaded.hook(flatmap_query)
    return loaded


@pytest.fixture(scope="module")
def api_schema(live: LiveServer) -> Any:
    return load(live)


@pytest.fixture(scope="module")
def demo_schema(live_demo: LiveServer) -> Any:
    return load(live_demo)


schema = schemathesis.pytest.from_fixture("api_schema")
demo = schemathesis.pytest.from_fixture("demo_schema")
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,  # the same requests every run: a failure reproduces
)
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@schema.parametrize()
@FUZZ
def test_api_conforms_to_its_schema(case: Any) -> None:
    case.call_and_validate(checks=CHECKS, timeout=30)


@pytest.mark.slow
@demo.parametrize()
@FUZZ
def test_api_conforms_to_its_schema_in_demo_mode(case: Any) -> None:
    case.call_and_validate(checks=CHECKS, timeout=30)


def test_schema_documents_our_error_shapes(live: LiveServer) -> None:
    raw = httpx.get(live.http + "/openapi.json").json()
    pause = raw["paths"]["/api/v1/runs/{run_id}/pause"]["post"]["responses"]
    assert {"403", "404", "409", "422", "429"} <= set(pause)
    ref = pause["422"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("/FieldErrors")


def test_schema_states_the_spec_bounds_and_enums(live: LiveServer, live_demo: LiveServer) -> None:
    for server, units in ((live, 128), (live_demo, 32)):
        doc = httpx.get(server.http + "/openapi.json").json()
        raw = doc["components"]["schemas"]
        assert raw["LayerSpec"]["properties"]["units"]["maximum"] == units
        assert "relu" in raw["LayerSpec"]["properties"]["activation"]["enum"]
        assert "spiral" in raw["DataSpec"]["properties"]["dataset"]["enum"]
        assert raw["OptimizerSpec"]["properties"]["lr"]["maximum"] == 10.0
        assert "adam" in raw["OptimizerSpec"]["properties"]["name"]["enum"]
        listing = doc["paths"]["/api/v1/runs"]["get"]["parameters"]
        offset = next(p for p in listing if p["name"] == "offset")
        assert offset["schema"]["maximum"] < 2**63


NON_FINITE = ("NaN", "Infinity", "-Infinity", "1e999")
SENTINEL = "__edge__"


def _bodies(doc: dict[str, Any], server: LiveServer) -> Iterator[tuple[str, str, Any]]:
    """(method, path, a JSON body) for every operation that takes one: its example, or the
    default spec for the Spec schema, or {}."""
    spec = httpx.get(server.http + "/api/spec/default").json()
    for path, item in doc["paths"].items():
        for method, op in item.items():
            content = (op.get("requestBody") or {}).get("content", {})
            if "application/json" not in content:
                continue
            media = content["application/json"]
            ref = (media.get("schema") or {}).get("$ref", "")
            body = media.get("example") or (spec if ref.endswith("/Spec") else {})
            yield method.upper(), path, body


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["normal", "demo"])
def test_non_finite_numbers_in_any_json_body_are_refused(
    mode: str, live: LiveServer, live_demo: LiveServer
) -> None:
    server = live if mode == "normal" else live_demo
    doc = httpx.get(server.http + "/openapi.json").json()
    http = httpx.Client(base_url=server.http, timeout=30)
    run = http.post("/api/v1/runs", params={"paused": "true"}, json={}).json().get("id", "x")
    sent = 0
    for method, path, body in _bodies(doc, server):
        url = path.replace("{run_id}", run)
        url = url.split("{")[0] + "x" if "{" in url else url
        for spot in _leaves(body) or [()]:
            for edge in NON_FINITE:
                text = json.dumps(_replaced(body, spot, SENTINEL)).replace(f'"{SENTINEL}"', edge)
                response = http.request(
                    method, url, content=text, headers={"content-type": "application/json"}
                )
                assert response.status_code < 500, (method, url, text[:200], response.text[:200])
                sent += 1
    assert sent > 100  # every numeric field of the spec, at least
    http.post(f"/api/v1/runs/{run}/stop")
