"""The request bodies of the alert rules API, as JSON Schema: what the API accepts is exactly
what the OpenAPI document says. A rule's fields depend on its trigger (``frequency`` needs a
count or users) and its action's on the action's type, which a serializer's generated schema
cannot say: the body is checked against these schemas (fastjsonschema) before the serializer
reads it, and ``rule_request_bodies`` puts the same schemas into /api/schema/.
"""

import copy
import functools
from typing import Any

import fastjsonschema

from alerts.models import MAX_COUNT, MAX_WINDOW_S, Trigger
from issues.api.schema import NO_NUL
from issues.grouptypes import all_group_types

# http(s), a host name or IPv4 address, a port from 1 to 65535, a path of printable characters.
URL_PATTERN = (
    r"^https?://[A-Za-z0-9.-]+"
    r"(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?"
    r"(/[!-~]*)?$"
)
# Spelled out rather than ``\s``: Python's includes \x1c-\x1f, JSON Schema's (ECMA's) does not.
EMAIL_PATTERN = r"^[^@ \t\n\r\f\v\u0000]+@[^@ \t\n\r\f\v\u0000]+$"
MIN_SECRET_CHARS = 16


def _text(max_length: int, min_length: int = 0) -> dict[str, Any]:
    return {"type": "string", "minLength": min_length, "maxLength": max_length, "pattern": NO_NUL}


URL = {"type": "string", "minLength": 1, "maxLength": 2048, "pattern": URL_PATTERN}
SECRET = {
    **_text(200, MIN_SECRET_CHARS),
    "writeOnly": True,
    "description": "Signs each webhook body (HMAC-SHA256); never shown back.",
}
RECIPIENTS = {
    "type": "array",
    "minItems": 1,
    "maxItems": 50,
    "items": {"type": "string", "minLength": 3, "maxLength": 254, "pattern": EMAIL_PATTERN},
}


def _action(kind: str, required: list[str], **properties: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"type": {"type": "string", "enum": [kind]}, **properties},
        "required": ["type", *required],
        "additionalProperties": False,
    }


def _actions(secret_required: bool) -> dict[str, Any]:
    return {
        "oneOf": [
            _action(
                "webhook", ["url", "secret"] if secret_required else ["url"], url=URL, secret=SECRET
            ),
            _action("slack", ["url"], url=URL),
            _action("email", ["recipients"], recipients=RECIPIENTS),
        ]
    }


def _properties(triggers: list[str], secret_required: bool) -> dict[str, Any]:
    count = {"type": "integer", "minimum": 1, "maximum": MAX_COUNT}
    return {
        "name": _text(200, 1),
        "enabled": {"type": "boolean"},
        "trigger": {"type": "string", "enum": triggers},
        "issue_types": {
            "type": "array",
            "items": {"type": "string", "enum": [t.slug for t in all_group_types()]},
            "description": "Issue type slugs; empty: all.",
        },
        "environment": {**_text(200), "description": "Blank: every environment."},
        "count": count,
        "users": count,
        "window_s": {"type": "integer", "minimum": 1, "maximum": MAX_WINDOW_S},
        "action_interval_s": {"type": "integer", "minimum": 0, "maximum": MAX_WINDOW_S},
        "action": _actions(secret_required),
    }


def _create_variant(trigger: str) -> dict[str, Any]:
    variant: dict[str, Any] = {
        "type": "object",
        "properties": _properties([trigger], secret_required=True),
        "required": ["name", "trigger", "action"],
        "additionalProperties": False,
    }
    if trigger == Trigger.FREQUENCY:
        variant["anyOf"] = [{"required": ["count"]}, {"required": ["users"]}]
    if trigger == Trigger.PAGE_FREQUENCY:
        variant["required"].append("count")
    return variant


RULE_CREATE = {
    "description": "A new rule: `frequency` needs `count` or `users`, `page_frequency` a "
    "`count`; a webhook needs a `secret` of 16+ characters.",
    "oneOf": [_create_variant(trigger) for trigger in Trigger.values],
}
RULE_PATCH = {
    "description": "Any of a rule's fields; the others are kept (a webhook action without a "
    "`secret` keeps the rule's).",
    "type": "object",
    "properties": _properties(list(Trigger.values), secret_required=False),
    "additionalProperties": False,
}
ACTION_TYPES = ("webhook", "slack", "email")


@functools.cache
def _checker(trigger: str | None, action_type: str | None, secret_required: bool) -> Any:
    """A check of one variant of the body (one trigger, one action type): the oneOf of the
    published schema picks exactly one by these two values, so checking that one is the same
    test, with the error of the field at fault instead of "no variant matched"."""
    schema = copy.deepcopy(_create_variant(trigger) if trigger else RULE_PATCH)
    actions = schema["properties"]["action"]["oneOf"]
    # URLs and addresses are matched by the serializer with Python's ``re.search``, as clients'
    # JSON Schema validators do (fastjsonschema reads ``$`` as the very end: it refuses a final
    # newline that ``re.search`` and the published schema let through).
    for action in actions:
        action["properties"].get("url", {}).pop("pattern", None)
        action["properties"].get("recipients", {}).get("items", {}).pop("pattern", None)
    if action_type is not None:
        schema["properties"]["action"] = actions[ACTION_TYPES.index(action_type)]
    return fastjsonschema.compile(schema)


def body_errors(body: object, creating: bool) -> dict[str, list[str]] | None:
    """The body's first error against the schema, as DRF reports a field's (None if none)."""
    if not isinstance(body, dict):
        return {"non_field_errors": ["The body must be a JSON object."]}
    trigger = body.get("trigger")
    if (creating or "trigger" in body) and trigger not in Trigger.values:
        return {"trigger": [f"one of {', '.join(Trigger.values)}"]}
    action = body.get("action")
    action_type = None
    if "action" in body or creating:
        action_type = action.get("type") if isinstance(action, dict) else None
        if action_type not in ACTION_TYPES:
            return {"action": [f"an object whose type is one of {', '.join(ACTION_TYPES)}"]}
    check = _checker(trigger if creating else None, action_type, creating)
    try:
        check(body)
    except fastjsonschema.JsonSchemaValueException as exc:
        path = [str(part) for part in exc.path[1:]]  # exc.path starts with "data"
        field = path[0] if path else "non_field_errors"
        message = exc.message.removeprefix("data.").removeprefix("data ")
        if exc.rule == "anyOf" and not path:  # the one anyOf: frequency's count or users
            field, message = "count", "a frequency rule needs a count or users"
        return {field: [message]}
    return None


def flat_errors(detail: Any) -> dict[str, list[str]]:
    """A serializer's errors as the API's ``ValidationError`` schema has them: each top-level
    field with a list of messages (a nested field's path leads its message)."""
    if not isinstance(detail, dict):
        return {"non_field_errors": [str(each) for each in _messages(detail, "")]}
    return {str(field): _messages(value, "") for field, value in detail.items()}


def _messages(detail: Any, path: str) -> list[str]:
    if isinstance(detail, dict):
        return [
            message
            for key, value in detail.items()
            for message in _messages(value, f"{path}.{key}" if path else str(key))
        ]
    if isinstance(detail, list):
        return [message for each in detail for message in _messages(each, path)]
    return [f"{path}: {detail}" if path else str(detail)]


def rule_request_bodies(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """drf-spectacular's postprocessing hook: the rule bodies as the API checks them."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["AlertRuleCreate"] = RULE_CREATE
    schemas["AlertRulePatch"] = RULE_PATCH
    for path, operations in result.get("paths", {}).items():
        if not path.endswith("/alert-rules/") and not path.endswith("/alert-rules/{id}/"):
            continue
        for method, component in (("post", "AlertRuleCreate"), ("patch", "AlertRulePatch")):
            if method in operations:
                body = operations[method]["requestBody"]
                body["content"] = {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}
                }
    return result
