"""A replay with its clicks (and its other issues' occurrences), played by rrweb-player, and the
recording that the player loads."""

import uuid

import orjson
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.gzip import gzip_page

from issues.grouptypes import label_of
from issues.models import Occurrence
from issues.queries import replay_clicks, replay_for, replay_recording
from issues.views.common import page_context, project_or_404
from pipeline.params import ascii_int

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
        duration_ms=(
            (found.last_seen_at - found.started_at).total_seconds() * 1000
            if found.started_at and found.last_seen_at
            else None
        ),
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
