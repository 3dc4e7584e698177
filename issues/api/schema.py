"""What the OpenAPI document (drf-spectacular, /api/schema/) adds to each operation: the errors
it can answer, and the bounds of the query parameters that the code enforces.

A hook over the generated document rather than a decorator per view, so a new operation gets
its errors from the same rules:

- 400 (``ValidationError``): an operation that reads query parameters or a body refuses a value
  outside their schema, with the reasons per field;
- 401 (``Error``): every operation wants a token or a session;
- 403 (``Error``): a write with a session but without its CSRF token;
- 404 (``Error``): an id that is not yours or does not exist, or a page past the last one;
- 415 (``Error``): a body that is not JSON;
- 503 (``Error``): a statement past WEB_STATEMENT_TIMEOUT_MS, or no search slot free in time.

The API throttles nothing, so no operation answers 429.
"""

from typing import Any

from django.conf import settings

from issues.filters import search_pattern

ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string", "description": "What was wrong."}},
    "required": ["detail"],
}
VALIDATION_ERROR = {
    "description": "Each refused field (or ``non_field_errors``) with its reasons; a body that "
    'is not JSON answers ``{"detail": ...}`` instead.',
    "oneOf": [
        {
            "type": "object",
            "properties": {},
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "minProperties": 1,
            "not": {"required": ["detail"]},
        },
        {"$ref": "#/components/schemas/Error"},
    ],
}
# No database here stores a NUL character: a string parameter with one is refused (400).
NO_NUL = "^[^\\u0000]*$"
ERRORS = {
    "400": ("ValidationError", "A query parameter or the body is outside this schema."),
    "401": ("Error", "No token or session, or one that is not valid (any more)."),
    "403": ("Error", "A session without its CSRF token."),
    "404": ("Error", "Not found: not yours, no such id, or a page past the last one."),
    "415": ("Error", "A body that is not JSON (its Content-Type)."),
    "503": (
        "Error",
        "A database statement ran past WEB_STATEMENT_TIMEOUT_MS, or every search slot stayed "
        "taken (ISSUES_SEARCH_CONCURRENCY): try again.",
    ),
}
WRITE_METHODS = {"post", "put", "patch", "delete"}
# The issue list's custom time range: days, YYYY-MM-DD.
DATE_PARAMETERS = {"since", "until"}
DATE_PATTERN = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
# The status change's conditions, each only with its status (IssueStatusSerializer refuses the
# others: 400); with neither status, no condition.
STATUS_CONDITIONS = {
    "resolved": ["in_next_release"],
    "ignored": ["ignore_until", "ignore_duration", "ignore_count", "ignore_user_count"],
    "unresolved": [],
}


def _error_response(component: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}},
    }


def _bound_parameters(parameters: list[dict[str, Any]]) -> None:
    for parameter in parameters:
        schema = parameter.get("schema", {})
        if parameter["in"] != "query":
            continue
        if parameter["name"] == "query":
            schema["maxLength"] = settings.ISSUES_SEARCH_MAX_CHARS
            schema["pattern"] = search_pattern(settings.ISSUES_SEARCH_MAX_TERMS)
        elif parameter["name"] in DATE_PARAMETERS:
            schema.update(type="string", format="date", pattern=DATE_PATTERN)
        elif schema.get("type") == "string" and "enum" not in schema:
            schema.setdefault("pattern", NO_NUL)


def _refuse_other_fields(operation: dict[str, Any], schemas: dict[str, Any]) -> None:
    """The API's one write (IssueStatusSerializer) refuses a field it does not take: 400."""
    for media in operation.get("requestBody", {}).get("content", {}).values():
        reference = media.get("schema", {}).get("$ref", "")
        if reference.startswith("#/components/schemas/"):
            schemas[reference.rsplit("/", 1)[-1]]["additionalProperties"] = False


def _status_variants(schemas: dict[str, Any]) -> None:
    """The status change as one object per status, each with only its own conditions."""
    change = schemas.get("IssueStatus")
    if change is None or "oneOf" in change:
        return
    properties = change["properties"]
    schemas["IssueStatus"] = {
        "description": change.get("description", ""),
        "oneOf": [
            {
                "type": "object",
                "properties": {
                    "status": {"type": "string", "enum": [status]},
                    **{name: properties[name] for name in conditions},
                },
                "required": ["status"],
                "additionalProperties": False,
            }
            for status, conditions in STATUS_CONDITIONS.items()
        ],
    }


def document_errors(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """drf-spectacular's postprocessing hook (``SPECTACULAR_SETTINGS``)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR
    schemas["ValidationError"] = VALIDATION_ERROR
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            parameters = operation.get("parameters", [])
            _bound_parameters(parameters)
            codes = ["401", "503"]
            if any(p["in"] == "query" for p in parameters) or "requestBody" in operation:
                codes.append("400")
            if method in WRITE_METHODS:
                codes.append("403")
            if "requestBody" in operation:
                codes.append("415")
            if "{" in path or any(p["name"] == "page" for p in parameters):
                codes.append("404")
            _refuse_other_fields(operation, schemas)
            responses = operation.setdefault("responses", {})
            for code in sorted(codes):
                component, description = ERRORS[code]
                response = responses.setdefault(code, _error_response(component, description))
                response.setdefault("content", _error_response(component, "")["content"])
    _status_variants(schemas)
    return result
