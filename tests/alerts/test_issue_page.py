"""The issue page lists the alerts decided for the issue, with their status."""

import pytest

from alerts.models import AlertDelivery
from issues.models import Issue
from tests.alerts.builders import webhook_rule
from tests.issues.builders import fixture_occurrences, record

pytestmark = pytest.mark.django_db


def test_the_issue_page_lists_its_alerts(client, django_user_model, organization, sdk_project):
    user = django_user_model.objects.create_user("member", password="pw")
    organization.members.add(user)
    client.force_login(user)
    webhook_rule(sdk_project.project_id, "http://127.0.0.1:9/", name="Pager", issue_types=[])
    occurrences = fixture_occurrences()
    record(occurrences[0])
    record(occurrences[1])
    issue, other = Issue.objects.order_by("pk")
    AlertDelivery.objects.filter(issue=issue).update(status="failed", attempts=3)

    page = client.get(f"/issues/{issue.pk}/").content.decode()
    assert page.count('data-testid="alert-row"') == 1
    assert "An issue becomes visible · Pager" in page
    assert "Failed · 3 attempts" in page

    quiet = Issue.objects.get(pk=other.pk)
    AlertDelivery.objects.filter(issue=quiet).delete()
    assert "No alert sent for this issue." in client.get(f"/issues/{quiet.pk}/").content.decode()
