"""Occurrence lists paged by cursor: the API's ``next``/``previous`` and ``Link`` header (Sentry's
form), and the issue page's older/newer links."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from issues.models import Issue
from tests.issues.builders import another_click, record, store_fixture_replay


@pytest.fixture
def api(client: Client, django_user_model, organization) -> Client:
    user = django_user_model.objects.create_user("operator")
    organization.members.add(user)
    client.force_login(user)
    return client


@pytest.fixture
def hot(sdk_project) -> tuple[Issue, list[str]]:
    """An issue with 11 occurrences: the fixture's, then ten a minute apart, later the same day;
    its occurrence ids, newest first."""
    base = store_fixture_replay()[0]
    clicks = [another_click(base, timestamp=1796000000.0 + 60 * n) for n in range(10)]
    for click in clicks:
        record(click)
    issue = Issue.objects.get(occurrences__occurrence_id=base["id"])
    newest_first = [click["id"] for click in reversed(clicks)] + [base["id"]]
    return issue, newest_first


def links(response) -> dict[str, dict[str, str]]:
    """The Link header's links by rel: url, results, cursor."""
    parsed = {}
    for part in response["Link"].split(", <"):
        url = re.search(r"<?([^>]+)>", part).group(1)
        fields = dict(re.findall(r'(\w+)="([^"]*)"', part))
        parsed[fields["rel"]] = {"url": url, **fields}
    return parsed


@pytest.mark.django_db
def test_api_occurrences_page_by_cursor_with_link_headers(api, hot):
    issue, newest_first = hot
    url = f"/api/0/issues/{issue.pk}/occurrences/?per_page=4"
    seen = []
    response = api.get(url)
    first_links = links(response)
    assert first_links["previous"]["results"] == "false"
    assert first_links["previous"]["cursor"] == ""
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["count"] == 11
        seen += [occurrence["id"] for occurrence in body["results"]]
        header = links(response)
        assert (header["next"]["results"] == "true") == (body["next"] is not None)
        if body["next"] is None:
            break
        assert header["next"]["url"] == body["next"]
        assert parse_qs(urlsplit(body["next"]).query)["cursor"] == [header["next"]["cursor"]]
        response = api.get(body["next"])
    assert seen == newest_first
    # Back from the last page.
    assert links(response)["previous"]["results"] == "true"
    back = api.get(response.json()["previous"]).json()
    assert [occurrence["id"] for occurrence in back["results"]] == newest_first[4:8]
    assert api.get(url + "&cursor=not-a-cursor").status_code == 404
    assert api.get(f"/api/0/issues/{issue.pk}/occurrences/?per_page=0").status_code == 400


@pytest.mark.django_db
def test_the_issue_page_lists_occurrences_by_cursor(api, hot, settings):
    issue, newest_first = hot
    settings.ISSUE_OCCURRENCES_PAGE_SIZE = 4
    page = api.get(f"/issues/{issue.pk}/").content.decode()
    ids = re.findall(r'data-occurrence-id="([0-9a-f]{32})"', page)
    assert ids == newest_first[:4]
    older = re.search(r'href="(\?cursor=[^"]+)"[^>]*data-testid="occurrences-older"', page)
    assert older, "a link to the older occurrences"
    page = api.get(f"/issues/{issue.pk}/" + older.group(1).replace("&amp;", "&")).content.decode()
    assert re.findall(r'data-occurrence-id="([0-9a-f]{32})"', page) == newest_first[4:8]
    assert 'data-testid="occurrences-newer"' in page


@pytest.mark.django_db
@pytest.mark.parametrize("cursor", ["", "x", "12_", "_3", "1" * 30 + "_1", "١٢_3", "5_5_5"])
def test_a_cursor_that_is_not_one_shows_the_newest_page(api, hot, cursor):
    issue, newest_first = hot
    page = api.get(f"/issues/{issue.pk}/", {"cursor": cursor}).content.decode()
    assert re.findall(r'data-occurrence-id="([0-9a-f]{32})"', page)[0] == newest_first[0]
