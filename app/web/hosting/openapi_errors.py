"""Document the API's error answers in its OpenAPI schema, so clients (and the schema
fuzzer, tests/web/test_openapi_fuzz.py) can check every response against it.

FastAPI documents 422 as its own HTTPValidationError ({"loc", "msg", "type"}); ours is
{"detail": [{"field", "message"}]} everywhere (app.web.runs.api.install_error_handlers), and
the other refusals are {"detail": "reason"}. Which statuses an operation can answer:
  - any operation with parameters or a body: 422
  - a path with an {id}: 404
  - a method with a body (POST, PUT, PATCH, DELETE): 413, 429
  - such a method on an {id} path (a control): 403 (not your run), 409, 503
"""

from __future__ import annotations

from typing import Any

DETAIL = {
    "type": "object",
    "required": ["detail"],
    "properties": {"detail": {"type": "string"}},
}
FIELD_ERRORS = {
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        }
    },
}
WHY = {
    "403": "This run belongs to another visitor (demo mode): watch it, do not control it.",
    "404": "Unknown id.",
    "409": "The run's state does not allow this.",
    "413": "Request body too large.",
    "422": "Invalid input: one message per field.",
    "429": "Queue full, too many runs for this visitor, or too many new runs (Retry-After).",
    "503": "The worker did not confirm in time.",
}
BODY_METHODS = {"post", "put", "patch", "delete"}


def _response(code: str, schema: dict[str, Any]) -> dict[str, Any]:
    ref = "FieldErrors" if schema is FIELD_ERRORS else "ErrorDetail"
    return {
        "description": WHY[code],
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
    }


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ErrorDetail"] = DETAIL
    components["FieldErrors"] = FIELD_ERRORS
    for path, operations in schema.get("paths", {}).items():
        per_item = "{" in path
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            has_input = bool(operation.get("parameters")) or "requestBody" in operation
            codes: dict[str, dict[str, Any]] = {}
            if has_input or method in BODY_METHODS or "422" in responses:
                codes["422"] = FIELD_ERRORS
            if per_item:
                codes["404"] = DETAIL
            if method in BODY_METHODS:
                codes.update({"413": DETAIL, "429": DETAIL})
                if per_item:
                    codes.update({"403": DETAIL, "409": DETAIL, "503": DETAIL})
            for code, shape in codes.items():
                if code == "422" or code not in responses:
                    responses[code] = _response(code, shape)
    return schema
