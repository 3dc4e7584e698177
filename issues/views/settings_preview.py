"""The page of a detection settings preview (or of an apply run) on the web UI's settings page:
the run the Detection tab queued (issues.views.project_settings.detection), its progress for the
page's polling script, its comparison, and "Save this draft".

The admin has the same pages (replays.admin.DetectionSettingsAdmin); both queue and save through
replays.previews and show replays/_preview_result.html. Who may use them is who may Save on the
settings page (``project_or_404``): another organization's project, or a run of another project,
is 404.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from ingest.models import Project
from issues.views.common import project_or_404
from issues.views.project_settings import settings_context
from replays.forms import DetectionSettingsForm
from replays.models import DetectionSettings, PreviewRun
from replays.previews import (
    apply_request,
    draft_changes,
    draft_form_data,
    preview_days,
    progress_of,
)


def _run(request: HttpRequest, project_id: int, run_id: int) -> tuple[Project, PreviewRun]:
    project = project_or_404(request, project_id)
    return project, get_object_or_404(PreviewRun, pk=run_id, project_id=project.pk)


@login_required
def preview(request: HttpRequest, project_id: int, run_id: int) -> HttpResponse:
    """The run's progress (followed by replays/preview.js, a static script under the CSP), then
    its result."""
    project, run = _run(request, project_id, run_id)
    row, _ = DetectionSettings.objects.get_or_create(project=project)
    context = settings_context(
        request,
        project,
        "detection",
        run=run,
        result=run.result if run.kind == PreviewRun.Kind.PREVIEW else None,
        draft_changes=draft_changes(row, run.draft_settings or {}),
    )
    return render(request, "issues/settings/preview.html", context)


@login_required
def preview_progress(request: HttpRequest, project_id: int, run_id: int) -> JsonResponse:
    _, run = _run(request, project_id, run_id)
    return JsonResponse(progress_of(run))


@login_required
@require_POST
def preview_apply(request: HttpRequest, project_id: int, run_id: int) -> HttpResponse:
    """Save the previewed draft as Save does (the same form, validated again), then queue "apply
    to the last N days" when asked."""
    project, run = _run(request, project_id, run_id)
    if run.kind != PreviewRun.Kind.PREVIEW:
        raise Http404("not a preview")
    row, _ = DetectionSettings.objects.get_or_create(project=project)
    form = DetectionSettingsForm(draft_form_data(run.draft_settings), instance=row)
    if not form.is_valid():
        messages.error(request, f"The draft is no longer valid: {form.errors.as_text()}")
        return redirect("issues:settings-preview", project_id=project.pk, run_id=run.pk)
    form.save()
    messages.success(request, "The draft is saved: the next segments use it.")
    if request.POST.get("apply"):
        days = preview_days(request.POST.get("apply_days")) or run.days
        applied = apply_request(project.pk, request.user, days)
        return redirect("issues:settings-preview", project_id=project.pk, run_id=applied.pk)
    return redirect("issues:settings", project_id=project.pk)
