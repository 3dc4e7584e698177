"""What an alert says (pure): the webhook body of the contract (ARCHITECTURE.md, "Alerts"), its
signature, and the Slack and e-mail renderings of that same body.

The body is built once, when the alert is decided, and stored with the delivery: every attempt
sends the same bytes under the same delivery id, and Slack and e-mail show what the webhook says.
"""

import hashlib
import hmac
from datetime import datetime
from typing import Any

import orjson

from issues.presentation import page_url

TRIGGER_TITLES = {
    "new_issue": "New issue",
    "regression": "Regression",
    "frequency": "Issue seen often",
    "page_frequency": "Frustration on a page",
    "test": "Test alert",
}
# Block Kit's documented limits (api.slack.com/reference/block-kit/blocks).
SLACK_HEADER_MAX = 150
SLACK_FIELD_MAX = 2000
SLACK_BUTTON_TEXT_MAX = 75
SLACK_URL_MAX = 3000


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def issue_body(issue: Any, short_id: str, web_url: str, replay_url: str | None) -> dict[str, Any]:
    """The ``issue`` of a webhook body, from an issue row (read for its attributes only)."""
    return {
        "id": issue.pk,
        "short_id": short_id,
        "type": issue.type,
        "title": issue.title,
        "culprit": issue.culprit,
        "status": issue.status,
        "times_seen": issue.times_seen,
        "users_seen": issue.users_seen,
        "first_seen": _iso(issue.first_seen),
        "last_seen": _iso(issue.last_seen),
        "metadata": issue.metadata,
        "web_url": web_url,
        "replay_url": replay_url,
    }


def webhook_body(
    *,
    delivery_id: str,
    trigger: str,
    rule: tuple[int, str],
    project: tuple[int, str],
    issue: dict[str, Any] | None,
    page: dict[str, Any] | None,
    triggered_at: datetime,
) -> dict[str, Any]:
    return {
        "id": delivery_id,
        "action": trigger,
        "rule": {"id": rule[0], "name": rule[1]},
        "project": {"id": project[0], "name": project[1]},
        "issue": issue,
        "page": page,
        "triggered_at": _iso(triggered_at),
    }


def encode(body: dict[str, Any]) -> bytes:
    return orjson.dumps(body)


def signature(secret: str, raw_body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of the body with the secret>``, as the receiver recomputes it."""
    digest = hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def webhook_headers(delivery_id: str, secret: str, raw_body: bytes) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "replay-issues-alerts/1",
        "X-Replay-Issues-Delivery": delivery_id,
    }
    if secret:
        headers["X-Replay-Issues-Signature"] = signature(secret, raw_body)
    return headers


def headline(body: dict[str, Any]) -> str:
    """One line: what happened, and to what."""
    what = TRIGGER_TITLES.get(body["action"], body["action"])
    if body.get("issue"):
        issue = body["issue"]
        element = (issue.get("metadata") or {}).get("selector") or issue["culprit"]
        return f"{what}: {issue['title']} on {element}" if element else f"{what}: {issue['title']}"
    page = body.get("page")
    if not page:  # a test alert: neither an issue nor a page
        return f"{what} of rule {body['rule']['name']}"
    return f"{what}: {page.get('count')} clicks on {page.get('page')}"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _facts(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) pairs shown by Slack and e-mail."""
    issue, page = body.get("issue"), body.get("page")
    facts = [("Project", str(body["project"]["name"]))]
    if issue:
        metadata = issue.get("metadata") or {}
        facts += [
            ("Element", metadata.get("selector") or issue["title"]),
            # The page as the issue page shows it (/cart#cart is /cart); the body keeps the URL.
            (
                "Page",
                metadata.get("route") or page_url(metadata.get("url") or issue["culprit"]) or "?",
            ),
            ("Events", str(issue["times_seen"])),
            ("Users", str(issue["users_seen"])),
        ]
    if page:
        facts += [
            ("Page", str(page["page"])),
            ("Clicks", f"{page['count']} within {page['window_s']} s"),
        ]
    facts.append(("Rule", str(body["rule"]["name"])))
    return facts


def _links(body: dict[str, Any]) -> list[tuple[str, str]]:
    issue = body.get("issue") or {}
    links = []
    if issue.get("web_url"):
        links.append(("Open issue", issue["web_url"]))
    if issue.get("replay_url"):
        links.append(("Watch the replay at the click", issue["replay_url"]))
    return links


def slack_message(body: dict[str, Any]) -> dict[str, Any]:
    """A Slack incoming-webhook message in Block Kit: a header, the facts as fields, buttons to
    the issue and to the replay at the click; ``text`` is the notification's fallback."""
    title = headline(body)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(title, SLACK_HEADER_MAX)}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": _cut(f"*{label}*\n{value}", SLACK_FIELD_MAX)}
                for label, value in _facts(body)[:10]
            ],
        },
    ]
    links = [(text, url) for text, url in _links(body) if len(url) <= SLACK_URL_MAX]
    if links:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": _cut(text, SLACK_BUTTON_TEXT_MAX)},
                        "url": url,
                    }
                    for text, url in links
                ],
            }
        )
    return {"text": _cut(title, 3000), "blocks": blocks}


def email_message(body: dict[str, Any]) -> tuple[str, str]:
    """The subject and plain-text body of an alert e-mail."""
    lines = [headline(body), ""]
    lines += [f"{label}: {value}" for label, value in _facts(body)]
    lines += [""] + [f"{text}: {url}" for text, url in _links(body)]
    lines += ["", f"Delivery {body['id']}"]
    return f"[replay-issues] {headline(body)}"[:200], "\n".join(lines) + "\n"
