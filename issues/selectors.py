"""Reads of the issues stage, shared by the consumer, the HTML views and the API."""

import time

from django.conf import settings
from django.db.models import QuerySet

from ingest.models import Project
from issues.filters import SORTS
from issues.models import Issue
from issues.services import NoiseThreshold
from replays.models import DetectionSettings

_noise_cache: dict[int, tuple[float, NoiseThreshold | None]] = {}


def forget_cached_noise_thresholds(**_signal_kwargs: object) -> None:
    _noise_cache.clear()


def noise_threshold_for(project_id: int) -> NoiseThreshold | None:
    """The project's noise threshold (set with its detection settings in the admin), cached for
    ``ISSUES_SETTINGS_CACHE_TTL_S`` seconds so the admin's changes reach running consumers;
    None when there is no such project."""
    now = time.monotonic()
    cached = _noise_cache.get(project_id)
    if cached is not None and cached[0] > now:
        return cached[1]
    row = (
        DetectionSettings.objects.filter(project_id=project_id)
        .values("noise_threshold", "noise_threshold_users")
        .first()
    )
    if row is not None:
        noise = NoiseThreshold(row["noise_threshold"] or 1, row["noise_threshold_users"])
    elif Project.objects.filter(id=project_id).exists():
        noise = NoiseThreshold()
    else:
        noise = None
    ttl = settings.ISSUES_SETTINGS_CACHE_TTL_S
    if ttl > 0:
        _noise_cache[project_id] = (now + ttl, noise)
    return noise


def projects_for(user) -> QuerySet[Project]:
    """The projects a signed-in user may see. Every project, until organizations have members."""
    if not user.is_authenticated:
        return Project.objects.none()
    return Project.objects.all()


def issues_for(user, project_id: int | None = None) -> QuerySet[Issue]:
    """The visible issues (past the noise threshold) of the user's projects, newest first."""
    issues = Issue.objects.filter(project__in=projects_for(user), is_visible=True)
    if project_id is not None:
        issues = issues.filter(project_id=project_id)
    return issues.order_by(*SORTS["last_seen"])
