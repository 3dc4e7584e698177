"""Alert rules for the tests."""

from typing import Any

from alerts.models import AlertRule

SECRET = "s3cret-s3cret-s3cret"


def webhook_rule(project_id: int, url: str, trigger: str = "new_issue", **fields: Any) -> AlertRule:
    return AlertRule.objects.create(
        project_id=project_id,
        name=fields.pop("name", f"{trigger} hook"),
        trigger=trigger,
        action={"type": "webhook", "url": url, "secret": SECRET},
        **fields,
    )
