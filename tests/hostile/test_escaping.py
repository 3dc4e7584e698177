"""Markup from a click reaches every page as text: the web UI and the admin escape it, no URL of
the SDK's becomes a ``javascript:`` link, and no stored value makes a page answer 500.

tests/browser/test_escaping.py proves in Chromium that none of it runs; here the HTML itself is
read, for the admin's pages and the browsable API too.
"""

import re

import pytest
from django.urls import reverse
from django.utils.html import escape

from issues.models import Issue, Occurrence
from replays.models import Replay
from tests.hostile.inputs import XSS_PAYLOADS
from tests.hostile.stored import HOSTILE_REPLAY_ID, UNREADABLE_URL, store_hostile_replay

pytestmark = pytest.mark.django_db


@pytest.fixture
def hostile_issues(sdk_project) -> list[Issue]:
    return store_hostile_replay(sdk_project.project_id)


def ui_pages(issues: list[Issue]) -> list[str]:
    project_id = issues[0].project_id
    return [
        reverse("issues:issue-list", args=[project_id]) + "?status=all",
        *(reverse("issues:issue-detail", args=[issue.pk]) for issue in issues),
        reverse("issues:elements", args=[project_id]),
        reverse("issues:replay", args=[project_id, HOSTILE_REPLAY_ID]),
    ]


def admin_pages() -> list[str]:
    pages = []
    for model in (Issue, Occurrence, Replay):
        info = (model._meta.app_label, model._meta.model_name)
        pages.append(reverse("admin:{}_{}_changelist".format(*info)))
        for pk in model.objects.values_list("pk", flat=True):
            pages.append(reverse("admin:{}_{}_change".format(*info), args=[pk]))
    return pages


def assert_escaped(html: str, url: str) -> None:
    for payload in XSS_PAYLOADS:
        assert payload not in html, f"{url} renders {payload!r} as markup"
    assert not re.search(r"""href\s*=\s*["']?\s*javascript:""", html, re.IGNORECASE), url
    assert not re.search(r"<(img|svg|iframe)\b[^>]*\b(onerror|onload|srcdoc)\b", html), url
    assert "<script>window.__xss" not in html, url


def test_the_web_ui_renders_every_hostile_string_as_text(admin_client, hostile_issues):
    assert len(hostile_issues) == len(XSS_PAYLOADS)
    seen = ""
    for url in ui_pages(hostile_issues):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert_escaped(html, url)
        seen += html
    # The text is there, escaped: in selectors, element text, ids, components, release, user.
    for payload in XSS_PAYLOADS:
        assert escape(payload) in seen, payload
    assert escape(UNREADABLE_URL) in seen


def test_the_admin_renders_every_hostile_string_as_text(admin_client, hostile_issues):
    for url in admin_pages():
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert_escaped(response.content.decode(), url)


def test_the_browsable_api_renders_every_hostile_string_as_text(admin_client, hostile_issues):
    """The API answers HTML to a browser (DRF's browsable API), and turns URLs into links."""
    project_id = hostile_issues[0].project_id
    pages = [
        reverse("api:project-issue-list", args=[project_id]),
        reverse("api:replay-detail", args=[project_id, HOSTILE_REPLAY_ID]),
        *(reverse("api:issue-detail", args=[issue.pk]) for issue in hostile_issues),
        *(reverse("api:issue-occurrence-list", args=[issue.pk]) for issue in hostile_issues),
    ]
    for url in pages:
        response = admin_client.get(url, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("text/html")
        assert_escaped(response.content.decode(), url)


def test_a_url_that_cannot_be_split_does_not_break_the_pages(admin_client, hostile_issues):
    """``urlsplit("http://[::1/x")`` raises ValueError: the issue list, the issue and the replay
    page showed such a culprit or page URL through the ``url_path`` filter and answered 500."""
    unreadable = [issue for issue in hostile_issues if issue.culprit == UNREADABLE_URL]
    assert unreadable
    for url in ui_pages(unreadable):
        assert admin_client.get(url).status_code == 200, url
