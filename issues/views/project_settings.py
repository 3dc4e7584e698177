"""A project's settings page: detection, keys and the user's own API token (the alert rules tab
is issues.views.alert_rules).

Who may open it is who may see the project (``project_or_404``, the rule of every page and of
the API, which already lets the same members change alert rules): another organization's
project is 404, as everywhere.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from ingest.models import Project
from issues.api.tokens import api_token_create, api_token_hint, api_token_revoke
from issues.views.common import page_context, project_or_404
from replays.forms import DetectionSettingsForm
from replays.models import DetectionSettings
from replays.previews import DEFAULT_PREVIEW_DAYS, draft_of, preview_days, preview_request

TABS = [
    ("detection", "Detection", "issues:settings"),
    ("keys", "Keys", "issues:settings-keys"),
    ("alerts", "Alerts", "issues:settings-alerts"),
    ("token", "API token", "issues:settings-token"),
]


def settings_context(request: HttpRequest, project: Project, tab: str, **context) -> dict:
    return page_context(request, project, tabs=TABS, tab=tab, **context)


@login_required
def detection(request: HttpRequest, project_id: int) -> HttpResponse:
    """The detection settings, with the admin's form. Saving clears the cached settings of this
    process (replays.apps connects forget_cached_settings to the row's save); consumers in other
    processes read the change within REPLAYS_SETTINGS_CACHE_TTL_S.

    "Preview on the last N days" queues the valid draft as the admin does (unsaved; the page of
    the run is issues.views.settings_preview); an invalid one is shown with its errors."""
    project = project_or_404(request, project_id)
    row, _ = DetectionSettings.objects.get_or_create(project=project)
    form = DetectionSettingsForm(request.POST or None, instance=row)
    if request.method == "POST" and "_preview" in request.POST:
        days = preview_days(request.POST.get("preview_days"))
        if days is None:  # the browser keeps the field in range: no draft to keep
            messages.error(request, "Preview on 1 to 30 days: nothing saved, nothing run.")
            return redirect("issues:settings", project_id=project.pk)
        if form.is_valid():
            run = preview_request(project.pk, request.user, days, draft_of(form.cleaned_data))
            return redirect("issues:settings-preview", project_id=project.pk, run_id=run.pk)
    elif request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Detection settings saved: the next segments use them.")
        return redirect("issues:settings", project_id=project.pk)
    context = settings_context(
        request, project, "detection", form=form, preview_days=DEFAULT_PREVIEW_DAYS
    )
    return render(request, "issues/settings/detection.html", context)


@login_required
def keys(request: HttpRequest, project_id: int) -> HttpResponse:
    """The project's keys with their DSNs and rate limits (changed in the admin)."""
    project = project_or_404(request, project_id)
    context = settings_context(request, project, "keys", keys=list(project.keys.order_by("id")))
    return render(request, "issues/settings/keys.html", context)


@login_required
def token(request: HttpRequest, project_id: int) -> HttpResponse:
    """The user's own API token: made here and shown once (on the answer to the POST that made
    it, never stored in the session), or revoked."""
    project = project_or_404(request, project_id)
    context = settings_context(request, project, "token", hint=api_token_hint(request.user))
    return render(request, "issues/settings/token.html", context)


@login_required
@require_POST
def token_create(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_or_404(request, project_id)
    key = api_token_create(request.user)
    context = settings_context(request, project, "token", hint=None, new_key=key)
    response = render(request, "issues/settings/token.html", context)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_or_404(request, project_id)
    if api_token_revoke(request.user):
        messages.success(request, "API token revoked: requests with it are refused from now on.")
    return redirect("issues:settings-token", project_id=project.pk)
