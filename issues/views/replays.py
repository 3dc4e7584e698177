"""A replay with its clicks (and its other issues' occurrences), played by rrweb-player beside its
timeline, and the recording that the player loads. Why the timeline is built in the browser:
``issues.replay_timeline``."""

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.gzip import gzip_page

from issues.grouptypes import label_of
from issues.models import Issue, Occurrence
from issues.queries import issues_for, replay_clicks, replay_for, replay_recording
from issues.replay_timeline import MAX_ERROR_ENTRIES, click_window, error_entries
from issues.views.common import page_context, project_or_404
from pipeline.params import ascii_int
from replay_errors.queries import replay_error_events

# The player starts this long before the click, so the reader sees what led up to it.
LEAD_MS = 5000
# rrweb-player's ``tags``: the colour of each click kind's marker on the progress bar (other types
# get the player's own colour); the tag is the ``data.tag`` of the custom event that the page adds
# to the recording for each occurrence: its type's label, in lower case ("dead click").
TAG_COLORS = {"dead click": "#e5484d", "rage click": "#f76b15", "slow click": "#e2a336"}
MISSING_SEGMENTS_HEADER = "X-Replay-Missing-Segments"


def _click_ms(occurrence: Occurrence) -> int:
    return round(occurrence.timestamp.timestamp() * 1000)


def _focus_ms(request: HttpRequest, clicks: list[Occurrence]) -> tuple[int | None, str]:
    """The click to start at: ``?occurrence=<id>`` of this replay, or ``?t=<epoch ms>``."""
    wanted = request.GET.get("occurrence", "")
    if wanted:
        for click in clicks:
            if click.occurrence_id == wanted:
                return _click_ms(click), wanted
    moment = ascii_int(request.GET.get("t"))
    return moment, ""


def _came_from(request: HttpRequest, project_id: int, focused: Occurrence | None) -> Issue | None:
    """The issue the reader came from, for the breadcrumb trail: ``?issue=<id>`` (one of the
    project's shown issues), else the issue of the occurrence asked for (the issue page and the
    elements page link to a replay with ``?occurrence=``)."""
    wanted = ascii_int(request.GET.get("issue"))
    if wanted is not None:
        found = issues_for(request.user, project_id).filter(pk=wanted).first()
        if found is not None:
            return found
    return focused.issue if focused is not None else None


def _stored_error_events(replay) -> Iterable[Mapping[str, Any]]:
    """The SDK's error events stored for the replay (replay_errors), in the replay API's
    ``errors`` shape, the first ``MAX_ERROR_ENTRIES`` by time: the timeline shows them beside the
    recording's console errors."""
    rows = replay_error_events(replay.project_id, replay.replay_id).values(
        "event_id", "timestamp", "level", "type", "value", "culprit", "url"
    )[:MAX_ERROR_ENTRIES]
    return ({**row, "event_id": row["event_id"].hex} for row in rows)


def _replay_or_404(request: HttpRequest, project_id: int, replay_id: uuid.UUID):
    project = project_or_404(request, project_id)
    replay = replay_for(request.user, project.pk, replay_id)
    if replay is None:
        raise Http404("No such replay in this project.")
    return project, replay


@login_required
def replay(request: HttpRequest, project_id: int, replay_id: uuid.UUID) -> HttpResponse:
    project, found = _replay_or_404(request, project_id, replay_id)
    clicks = list(replay_clicks(found))
    focus_ms, focus_occurrence = _focus_ms(request, clicks)
    focused = next((click for click in clicks if click.occurrence_id == focus_occurrence), None)
    came_from = _came_from(request, project.pk, focused)
    started_ms = round(found.started_at.timestamp() * 1000) if found.started_at else None
    rows = [
        {
            "occurrence": click,
            "issue": click.issue,
            "ms": _click_ms(click),
            "offset_ms": _click_ms(click) - started_ms if started_ms is not None else None,
            "focused": click.occurrence_id == focus_occurrence,
        }
        for click in clicks
    ]
    player_config = {
        "recordingUrl": reverse("issues:replay-recording", args=[project.pk, found.replay_id.hex]),
        "focusMs": focus_ms,
        "startMs": focus_ms - LEAD_MS if focus_ms is not None else None,
        "leadMs": LEAD_MS,
        "missingSegmentsHeader": MISSING_SEGMENTS_HEADER,
        "tags": TAG_COLORS,
        # The focused click's window (click → click + the SDK's wait), highlighted on the timeline.
        "focusWindow": click_window(_click_ms(focused), focused.evidence) if focused else None,
        "errors": error_entries(_stored_error_events(found)),
        "issueParam": came_from.pk if came_from is not None else None,
        "clicks": [
            {
                "ms": row["ms"],
                "tag": label_of(row["issue"].type).lower(),
                "occurrence": row["occurrence"].occurrence_id,
                "issue": row["issue"].pk,
                "selector": row["issue"].selector,  # empty for a type without an element
            }
            for row in rows
        ],
    }
    context = page_context(
        request,
        project,
        replay=found,
        clicks=rows,
        player_config=player_config,
        focus_ms=focus_ms,
        came_from=came_from,
    )
    return render(request, "issues/replay.html", context)


@login_required
@gzip_page
def replay_recording_json(
    request: HttpRequest, project_id: int, replay_id: uuid.UUID
) -> HttpResponse:
    """All segments' rrweb events in order, as one JSON array. Segments whose file cannot be
    read are left out and named in the ``X-Replay-Missing-Segments`` header."""
    _, found = _replay_or_404(request, project_id, replay_id)
    recording = replay_recording(found)
    response = HttpResponse(orjson.dumps(recording.events), content_type="application/json")
    if recording.missing_segments:
        response[MISSING_SEGMENTS_HEADER] = ",".join(map(str, recording.missing_segments))
    response["Cache-Control"] = "private, no-cache"
    return response
