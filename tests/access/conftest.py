"""Two organizations, each with a member, a project, its issues, occurrences and a stored replay.

Acme (org 7) owns project 42 with the SDK's captured replay (``store_fixture_replay``: five
issues). Globex (org 8) owns project 43 with a replay of its own, one dead click. Alice is a member
of Acme only, Bob of Globex only. The tests try every page and API view with the ids of the
other organization.
"""

import uuid
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User

from ingest.models import Project
from issues.models import Issue
from organizations.models import Organization
from replays.detection.detect import DetectionSettings, decode_segment, detect_clicks
from replays.services import replay_mark_published, replay_record_segment
from tests.issues.builders import FIXTURE_REPLAY_ID, record, store_fixture_replay
from tests.replays.messages import (
    MAX_INFLATED_BYTES,
    RECEIVED,
    click_event,
    recording_message,
    snapshot_events,
)

GLOBEX_REPLAY_ID = "9b1e0c6d2f3a4b5c8d7e6f5a4b3c2d1e"


@dataclass(frozen=True)
class Tenant:
    """One organization's member and the ids of what they may see."""

    user: User
    project_id: int
    issue_id: int
    replay_id: str


def store_replay(project_id: int, org_id: int, replay_id: str) -> None:
    """Store one replay with one dead click and group it, as the two consumers do."""
    raw = recording_message(
        [*snapshot_events(), click_event("body > form > button#order.btn")],
        replay_id=replay_id,
        project_id=project_id,
        org_id=org_id,
    )
    segment = decode_segment(raw, MAX_INFLATED_BYTES)
    detection = detect_clicks(segment, DetectionSettings(), float(RECEIVED))
    replay_mark_published(replay_record_segment(segment, detection))
    for occurrence in detection.occurrences:
        record(occurrence.to_dict())


@pytest.fixture
def acme(sdk_project, organization, django_user_model) -> Tenant:
    store_fixture_replay(sdk_project.project_id)
    alice = django_user_model.objects.create_user("alice", password="alice-password")
    organization.members.add(alice)
    issue = Issue.objects.filter(project_id=sdk_project.project_id).order_by("pk").first()
    return Tenant(alice, sdk_project.project_id, issue.pk, FIXTURE_REPLAY_ID)


@pytest.fixture
def globex(db, django_user_model) -> Tenant:
    organization = Organization.objects.create(id=8, name="Globex", slug="globex")
    Project.objects.create(id=43, name="globex-storefront", org=organization)
    store_replay(43, organization.id, GLOBEX_REPLAY_ID)
    bob = django_user_model.objects.create_user("bob", password="bob-password")
    organization.members.add(bob)
    issue = Issue.objects.get(project_id=43)
    return Tenant(bob, 43, issue.pk, GLOBEX_REPLAY_ID)


def url_of(template: str, tenant: Tenant, **other: object) -> str:
    """``template`` filled with the tenant's ids; ``other`` replaces some of them."""
    ids = {
        "project": tenant.project_id,
        "issue": tenant.issue_id,
        "replay": uuid.UUID(tenant.replay_id).hex,
    }
    return template.format(**{**ids, **other})


# Every page of the web UI that shows a project's data, and every API view.
UI_URLS = [
    "/projects/{project}/issues/",
    "/projects/{project}/elements/",
    "/issues/{issue}/",
    "/projects/{project}/replays/{replay}/",
    "/projects/{project}/replays/{replay}/recording.json",
]
API_URLS = [
    "/api/0/projects/{project}/issues/",
    "/api/0/issues/{issue}/",
    "/api/0/issues/{issue}/occurrences/",
    "/api/0/projects/{project}/replays/{replay}/",
]
