"""The issue list's counts and pages at volume (issue 23): counts exact from the status counts
when only the status filters, else bounded (``ISSUES_COUNT_BOUND``, made small here); pages by
cursor from the position of the issue before them, for every sort, through ties; the API's
``Link``, ``X-Hits`` and ``X-Max-Hits`` headers; the web UI's page numbers then cursors.

The issues are grouped from the SDK's captured clicks by the real service (one per element),
then given equal counts, times and impacts, so every sort has ties to page through."""

import html
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse

from issues import cursors
from issues.filters import SORTS
from issues.models import Issue, IssueStatus
from issues.services import issues_set_status
from tests.issues.builders import another_click, fixture_occurrences, record

PROJECT_ID = 42
ISSUES = f"/api/0/projects/{PROJECT_ID}/issues/"
SEEN = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


# --- Pure: the cursor's form ---------------------------------------------------------------------


def test_every_sort_has_the_kinds_of_its_columns_and_none_is_nullable():
    assert set(cursors.KINDS) == set(SORTS)
    for sort, ordering in SORTS.items():
        assert len(cursors.KINDS[sort]) == len(ordering), sort
        assert ordering[-1] == "-id"
        assert all(column.startswith("-") for column in ordering)
        for column in ordering:
            # A nullable column would need NULLs placed explicitly (PostgreSQL and SQLite put
            # them at opposite ends of a descending order): the keyset assumes none is.
            assert not Issue._meta.get_field(column.removeprefix("-")).null, column


@pytest.mark.parametrize(
    "cursor",
    [
        cursors.IssueCursor("last_seen", (SEEN, 7)),
        cursors.IssueCursor("times_seen", (3, SEEN + timedelta(microseconds=1), 12), before=True),
        cursors.IssueCursor("users", (0, SEEN, 1)),
        cursors.IssueCursor("first_seen", (datetime(1970, 1, 1, tzinfo=UTC), 10**18 - 1)),
        cursors.IssueCursor("impact", (0.1 + 0.2, SEEN, 5)),
        cursors.IssueCursor("impact", (0.0, SEEN, 5), before=True),
    ],
)
def test_a_cursor_spells_its_position_exactly_and_matches_the_schemas_pattern(cursor):
    text = cursors.encode(cursor)

    assert re.fullmatch(cursors.CURSOR_PATTERN, text)
    assert cursors.decode(text) == cursor


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage",
        "last_seen.n.1",  # a value short
        "last_seen.n.1.2.3",  # a value more
        "last_seen.x.1.2",
        "title.n.1.2",
        "last_seen.n.-1.2",
        "last_seen.n.1.2\n",
        "last_seen.n.\uff11.2",  # a fullwidth digit one
        "times_seen.n.1.2.9999999999999999999",  # past a 64-bit column
        "last_seen.n.999999999999999999.2",  # past the year 5138
        "impact.n.0.2.3",  # a float is its 16 hex digits
        "bGFzdF9zZWVu",
    ],
)
def test_what_is_not_a_cursor_is_refused(text):
    assert cursors.decode(text) is None
    assert not re.fullmatch(cursors.CURSOR_PATTERN, text)


# --- The data: issues with ties in every sort ----------------------------------------------------


@pytest.fixture
def user(django_user_model, organization):
    user = django_user_model.objects.create_user("lists", password="not-a-secret")
    organization.members.add(user)
    return user


@pytest.fixture
def signed_in(client: Client, user) -> Client:
    client.force_login(user)
    return client


def make_issues(count: int) -> list[Issue]:
    """``count`` issues, one per element, through the grouping service."""
    click = fixture_occurrences()[0]
    for number in range(count):
        another = another_click(click)
        another["fingerprint"] = ["replay_dead_click", f"body > button#b{number}", "/index.html"]
        record(another)
    return list(Issue.objects.filter(project_id=PROJECT_ID).order_by("pk"))


@pytest.fixture
def tied(sdk_project) -> list[Issue]:
    """13 issues; times seen, users, impact, first and last seen in groups of equal values (and
    impact 0.0 for most, as issues of pages without sessions have); 3 resolved (through the
    service, which keeps the project's status counts)."""
    issues = make_issues(13)
    for index, issue in enumerate(issues):
        Issue.objects.filter(pk=issue.pk).update(
            times_seen=index % 3 + 1,
            users_seen=index % 2,
            impact=0.0 if index % 4 else 0.25,
            last_seen=SEEN - timedelta(hours=index // 3),
            first_seen=SEEN - timedelta(days=index // 5 + 1),
        )
    resolved = [issues[index].pk for index in (2, 7, 11)]
    issues_set_status(Issue.objects.filter(pk__in=resolved), IssueStatus.RESOLVED)
    return issues


def ordered_ids(sort: str, **filters) -> list[int]:
    issues = Issue.objects.filter(project_id=PROJECT_ID, is_visible=True, **filters)
    return list(issues.order_by(*SORTS[sort]).values_list("pk", flat=True))


def link_of(response, rel: str) -> str | None:
    """The URL of ``rel`` in the Link header, when it says there are results there."""
    for part in response["Link"].split(", "):
        url, rel_param, results, _cursor = part.split("; ")
        if rel_param == f'rel="{rel}"':
            return url.strip("<>") if results == 'results="true"' else None
    raise AssertionError(f"no {rel} in {response['Link']}")


# --- The API: every issue once, in order, by cursor ----------------------------------------------


@pytest.mark.parametrize("sort", list(SORTS))
def test_the_api_walks_every_issue_once_in_order_by_cursor_both_ways(signed_in, tied, sort):
    expected = ordered_ids(sort)
    response = signed_in.get(ISSUES + f"?sort={sort}&per_page=3")
    seen = [issue["id"] for issue in response.json()["results"]]
    pages = [response]
    while (following := link_of(response, "next")) is not None:
        response = signed_in.get(following)
        assert response.status_code == 200, response.content
        body = response.json()
        seen += [issue["id"] for issue in body["results"]]
        assert body["next"] == (link_of(response, "next"))  # a cursor page links by cursor
        pages.append(response)
    assert seen == expected
    assert len(pages) == 5  # 13 issues, 3 a page

    # And back from the last page by its previous links, to the first.
    back: list[int] = []
    while (preceding := link_of(response, "previous")) is not None:
        response = signed_in.get(preceding)
        back = [issue["id"] for issue in response.json()["results"]] + back
    assert back == expected[:12]
    assert response.json()["previous"] is None


def test_a_cursor_page_keeps_the_lists_filters(signed_in, tied):
    expected = ordered_ids("times_seen", status=IssueStatus.UNRESOLVED)
    response = signed_in.get(ISSUES + "?sort=times_seen&status=unresolved&per_page=4")
    seen = [issue["id"] for issue in response.json()["results"]]
    while (following := response.json()["next"]) is not None:
        if "cursor=" not in following:  # the first page links by number; its Link by cursor
            following = link_of(response, "next")
        response = signed_in.get(following)
        seen += [issue["id"] for issue in response.json()["results"]]
    assert seen == expected


def test_a_page_number_page_links_by_number_and_its_link_header_by_cursor(signed_in, tied):
    response = signed_in.get(ISSUES + "?per_page=5&page=2")
    body = response.json()

    assert parse_qs(urlsplit(body["next"]).query) == {"per_page": ["5"], "page": ["3"]}
    assert parse_qs(urlsplit(body["previous"]).query) == {"per_page": ["5"]}
    following = parse_qs(urlsplit(link_of(response, "next")).query)
    assert cursors.decode(following["cursor"][0]).values[-1] == body["results"][-1]["id"]
    assert 'rel="previous"; results="true"; cursor="last_seen.p.' in response["Link"]
    cursor_page = signed_in.get(link_of(response, "next")).json()
    assert [issue["id"] for issue in cursor_page["results"]] == ordered_ids("last_seen")[10:]
    assert cursor_page["next"] is None

    first = signed_in.get(ISSUES + "?per_page=5")
    assert 'rel="previous"; results="false"; cursor=""' in first["Link"]


def test_a_garbage_cursor_is_400_and_one_of_another_sort_is_404(signed_in, tied):
    garbage = signed_in.get(ISSUES + "?cursor=not-a-cursor")
    assert garbage.status_code == 400
    assert "cursor" in garbage.json()

    times_seen = cursors.encode(cursors.IssueCursor("times_seen", (2, SEEN, 1)))
    other_sort = signed_in.get(ISSUES + f"?sort=users&cursor={times_seen}")
    assert other_sort.status_code == 404
    assert "sort=times_seen" in other_sort.json()["detail"]
    assert signed_in.get(ISSUES + f"?sort=times_seen&cursor={times_seen}").status_code == 200


def test_a_well_formed_cursor_past_every_issue_is_an_empty_page(signed_in, tied):
    nowhere = cursors.encode(cursors.IssueCursor("last_seen", (SEEN - timedelta(days=400), 1)))
    body = signed_in.get(ISSUES + f"?cursor={nowhere}").json()
    assert body["results"] == []
    assert (body["next"], body["previous"]) == (None, None)


# --- Counts: exact from the status counts, else bounded ------------------------------------------


def test_without_another_filter_the_count_is_exact_past_the_bound(signed_in, tied, settings):
    settings.ISSUES_COUNT_BOUND = 4
    response = signed_in.get(ISSUES + "?per_page=2")
    assert response.json()["count"] == 13
    assert response["X-Hits"] == "13"
    assert "X-Max-Hits" not in response
    unresolved = signed_in.get(ISSUES + "?status=unresolved")
    assert unresolved.json()["count"] == 10
    assert "X-Max-Hits" not in unresolved


def test_with_a_filter_the_count_stops_at_the_bound_or_the_asked_page(signed_in, tied, settings):
    settings.ISSUES_COUNT_BOUND = 4
    searched = signed_in.get(ISSUES + "?query=button&per_page=2")
    assert searched.json()["count"] == 4
    assert (searched["X-Hits"], searched["X-Max-Hits"]) == ("4", "4")

    # Page 3 of 2 needs 6 issues: counted up to 6, and 13 are more.
    third = signed_in.get(ISSUES + "?query=button&per_page=2&page=3")
    assert (third.json()["count"], third["X-Max-Hits"]) == (6, "6")
    # Page 7 of 2 needs 14: all 13 counted, exactly.
    last = signed_in.get(ISSUES + "?query=button&per_page=2&page=7")
    assert last.json()["count"] == 13
    assert "X-Max-Hits" not in last
    assert len(last.json()["results"]) == 1
    assert signed_in.get(ISSUES + "?query=button&per_page=2&page=8").status_code == 404

    few = signed_in.get(ISSUES + "?query=button&status=resolved")
    assert (few.json()["count"], few["X-Hits"]) == (3, "3")
    assert "X-Max-Hits" not in few


def test_the_ui_says_bounded_counts_with_a_plus_and_exact_ones_whole(signed_in, tied, settings):
    settings.ISSUES_COUNT_BOUND = 4
    settings.ISSUES_PAGE_SIZE = 2
    url = reverse("issues:issue-list", args=[PROJECT_ID])

    plain = signed_in.get(url).content.decode()
    assert tab_count(plain, "unresolved") == "10"
    assert tab_count(plain, "resolved") == "3"
    assert tab_count(plain, "all") == "13"
    assert "1\N{EN DASH}2 of 10" in plain
    assert "all 10 matching" in plain

    searched = signed_in.get(url + "?query=button").content.decode()
    assert tab_count(searched, "unresolved") == "4+"
    assert tab_count(searched, "resolved") == "3"
    assert tab_count(searched, "all") == "7+"  # 4+ and 3: more than 7
    assert "1\N{EN DASH}2 of 4+" in searched
    assert "all 4+ matching" in searched


def test_select_all_matching_changes_every_match_whatever_the_count_said(signed_in, tied, settings):
    settings.ISSUES_COUNT_BOUND = 4
    response = signed_in.post(
        reverse("issues:issue-bulk-status", args=[PROJECT_ID]),
        {"status": "ignored", "all": "1", "filters": "query=button&status=unresolved"},
    )
    assert response.status_code == 302
    assert Issue.objects.filter(status=IssueStatus.IGNORED).count() == 10


def tab_count(page: str, status: str) -> str:
    match = re.search(rf'status-tab-{status}".*?<span class="count">([^<]*)</span>', page)
    assert match, status
    return match.group(1)


# --- The web UI: page numbers, then cursors ------------------------------------------------------


def row_ids(page: str) -> list[int]:
    return [
        int(pk) for pk in re.findall(r'data-testid="issue-row"[^>]*data-issue-id="(\d+)"', page)
    ]


def nav_link(page: str, rel: str) -> str | None:
    match = re.search(rf'rel="{rel}" href="([^"]+)"', page)
    return html.unescape(match.group(1)) if match else None


@pytest.mark.parametrize("sort", ["last_seen", "impact"])
def test_the_ui_pages_by_number_within_the_bound_then_by_cursor(signed_in, tied, settings, sort):
    settings.ISSUES_COUNT_BOUND = 4
    settings.ISSUES_PAGE_SIZE = 2
    url = reverse("issues:issue-list", args=[PROJECT_ID])
    expected = ordered_ids(sort, status=IssueStatus.UNRESOLVED)

    page = signed_in.get(url + f"?sort={sort}").content.decode()
    seen, links = row_ids(page), []
    while (following := nav_link(page, "next")) is not None:
        links.append(following)
        page = signed_in.get(url + following).content.decode()
        seen += row_ids(page)
    assert seen == expected
    # Two pages by number (4 issues: the bound), the other three by cursor.
    assert ["page=2" in link for link in links] == [True, False, False, False]
    assert all(f"sort={sort}" in link for link in links)

    # Back from the last, by cursor, then by number.
    back = row_ids(page)
    while (preceding := nav_link(page, "prev")) is not None:
        page = signed_in.get(url + preceding).content.decode()
        back = row_ids(page) + back
    assert back == expected


def test_the_ui_reads_a_cursor_that_is_not_one_or_of_another_sort_as_the_first_page(
    signed_in, tied, settings
):
    settings.ISSUES_PAGE_SIZE = 2
    url = reverse("issues:issue-list", args=[PROJECT_ID])
    first = row_ids(signed_in.get(url).content.decode())
    of_users = cursors.encode(cursors.IssueCursor("users", (0, SEEN, 1)))
    for cursor in ("garbage", of_users):
        response = signed_in.get(url + f"?cursor={cursor}")
        assert response.status_code == 200
        assert row_ids(response.content.decode()) == first


def test_a_page_number_past_the_bound_is_the_last_numbered_page(signed_in, tied, settings):
    settings.ISSUES_COUNT_BOUND = 4
    settings.ISSUES_PAGE_SIZE = 2
    url = reverse("issues:issue-list", args=[PROJECT_ID])
    deep = signed_in.get(url + "?page=1000").content.decode()
    assert row_ids(deep) == ordered_ids("last_seen", status=IssueStatus.UNRESOLVED)[2:4]
    assert "3\N{EN DASH}4 of 10" in deep


# --- PostgreSQL reads a page after a cursor as one range of the sort's index ---------------------


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the plan of PostgreSQL")
@pytest.mark.parametrize("sort", list(SORTS))
def test_on_postgresql_a_page_after_a_cursor_is_a_range_of_the_sorts_index(tied, sort):
    issues = Issue.objects.filter(project_id=PROJECT_ID, is_visible=True).order_by(*SORTS[sort])
    middle = issues[6]
    cursor = cursors.decode(cursors.cursor_of(middle, sort, SORTS[sort]))
    with connection.cursor() as db:
        db.execute("SET LOCAL enable_seqscan = off")
        db.execute("SET LOCAL enable_sort = off")
        plan = issues.filter(cursors.keyset(SORTS[sort], cursor))[:26].explain()
    assert "Index Cond" in plan, plan
    assert "ROW(" in plan, plan
    assert "Sort" not in plan.replace("Sort Key", ""), plan


# --- The migration: indexes only -----------------------------------------------------------------

BEFORE = [("issues", "0013_element_weeks")]


@pytest.mark.django_db(transaction=True)
def test_the_index_migration_keeps_the_issues(sdk_project):
    try:
        executor = MigrationExecutor(connection)
        executor.migrate(BEFORE)
        old_issue = executor.loader.project_state(BEFORE).apps.get_model("issues", "Issue")
        for number, status in enumerate(["unresolved", "ignored"]):
            old_issue.objects.create(
                project_id=sdk_project.project_id,
                fingerprint_hash=f"{number:032x}",
                type="replay_dead_click",
                title="Dead Click",
                status=status,
                first_seen=SEEN,
                last_seen=SEEN,
                times_seen=number + 1,
                short_number=number + 1,
                ignore_until=SEEN if status == "ignored" else None,
            )
    finally:
        MigrationExecutor(connection).migrate(
            MigrationExecutor(connection).loader.graph.leaf_nodes()
        )

    assert list(Issue.objects.order_by("pk").values_list("status", "times_seen")) == [
        ("unresolved", 1),
        ("ignored", 2),
    ]
    with connection.cursor() as db:
        indexes = connection.introspection.get_constraints(db, Issue._meta.db_table)
    assert {
        "issue_last_seen_idx",
        "issue_impact_idx",
        "issue_ignored_until_idx",
        "issue_settled_status_idx",
    } <= set(indexes)
    if connection.vendor == "postgresql":
        with connection.cursor() as db:
            db.execute("SELECT stxname FROM pg_statistic_ext")
            assert ("issue_value_field_value_stats",) in db.fetchall()


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the plan of PostgreSQL")
def test_on_postgresql_a_status_tabs_count_finds_the_settled_issues_by_their_index(tied):
    resolved = Issue.objects.filter(project_id=PROJECT_ID, is_visible=True, status="resolved")
    with connection.cursor() as db:
        db.execute("SET LOCAL enable_seqscan = off")
        plan = resolved.order_by()[:1001].explain()
    assert "issue_settled_status_idx" in plan, plan
