"""Every query parameter of every page and API view, with whatever a client may send (any text,
NUL and control characters, other scripts' digits, huge numbers, repeated keys): never a 500.

Hypothesis draws the query strings; the views run on the test database (SQLite, or PostgreSQL in
CI's second pass, which refuses NUL characters in a query where SQLite takes them)."""

from urllib.parse import urlencode

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from issues.models import Issue
from tests.issues.builders import FIXTURE_REPLAY_ID, store_fixture_replay

pytestmark = pytest.mark.django_db

FILTERS = ["status", "type", "environment", "release", "browser", "query", "sort"]
PAGES = ["page", "per_page", "format"]
# Each view, by a path with {issue} for an issue's id, and the query parameters it reads.
VIEWS = {
    "/": [],
    "/accounts/login/": ["next"],
    "/projects/42/issues/": [*FILTERS, "page"],
    "/issues/{issue}/": ["page"],
    "/projects/42/elements/": ["sort", "page"],
    f"/projects/42/replays/{FIXTURE_REPLAY_ID}/": ["occurrence", "t"],
    f"/projects/42/replays/{FIXTURE_REPLAY_ID}/recording.json": [],
    "/api/schema/": ["format", "lang"],
    "/api/0/projects/": PAGES,
    "/api/0/projects/42/issues/": [*FILTERS, *PAGES],
    "/api/0/issues/{issue}/": ["format"],
    "/api/0/issues/{issue}/occurrences/": PAGES,
    f"/api/0/projects/42/replays/{FIXTURE_REPLAY_ID}/": ["format"],
}

NUMBER_LIKE = st.sampled_from(
    ["0", "1", "-1", "1.5", "²", "١٢", "1_000", " 1", "+1", "1e3", "9" * 19, "9" * 5000, "last"]
)
KNOWN = st.sampled_from(
    [
        *("all", "unresolved", "resolved", "ignored", "replay_dead_click", "last_seen", "users"),
        *("staging", "Chrome", "null", "", "json", "api", "yaml", "\x00", "button cart"),
    ]
)
VALUES = st.one_of(
    NUMBER_LIKE, KNOWN, st.text(max_size=40), st.text(alphabet=st.characters(), max_size=300)
)


def query_strings(parameters: list[str]) -> st.SearchStrategy[str]:
    if not parameters:
        return st.just("")
    return st.dictionaries(
        st.sampled_from(parameters), st.lists(VALUES, min_size=1, max_size=3), max_size=5
    ).map(lambda chosen: urlencode(chosen, doseq=True))


@pytest.fixture
def signed_in(client: Client, django_user_model, organization, sdk_project) -> Client:
    store_fixture_replay(sdk_project.project_id)
    member = django_user_model.objects.create_user("prober", password="not-a-secret")
    organization.members.add(member)
    client.force_login(member)
    client.raise_request_exception = True
    return client


@pytest.mark.parametrize("path", list(VIEWS))
def test_no_query_string_gives_a_500(signed_in, path):
    issue = Issue.objects.order_by("pk").first()
    url = path.format(issue=issue.pk)

    @settings(
        max_examples=60,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(query=query_strings(VIEWS[path]))
    def probe(query: str) -> None:
        response = signed_in.get(f"{url}?{query}")
        assert response.status_code < 500, (url, query, response.status_code)

    probe()
