from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from ingest.models import Project
from replays.forms import DETECTION_SECTIONS, DetectionSettingsForm
from replays.models import DetectionSettings, PreviewRun, Replay, ReplaySegment
from replays.previews import (
    DEFAULT_PREVIEW_DAYS,
    apply_request,
    draft_changes,
    draft_form_data,
    draft_of,
    preview_days,
    preview_request,
    progress_of,
)
from replays.queries import may_edit_detection_settings


class ReplaySegmentInline(admin.TabularInline):
    model = ReplaySegment
    extra = 0
    can_delete = False
    fields = (
        "segment_id",
        "timestamp",
        "size",
        "compressed_size",
        "dead_clicks",
        "rage_clicks",
        "slow_clicks",
        "multi_clicks",
        "hydration_errors",
        "occurrences_published",
        "recording",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Replay)
class ReplayAdmin(admin.ModelAdmin):
    """Replays are written by the consumer only: the admin reads and deletes them."""

    list_display = (
        "replay_id",
        "project",
        "user_id",
        "browser",
        "os",
        "environment",
        "release",
        "segment_count",
        "dead_clicks",
        "rage_clicks",
        "slow_clicks",
        "multi_clicks",
        "hydration_errors",
        "last_seen_at",
    )
    list_filter = ("project", "environment", "browser", "os", "release")
    search_fields = ("=replay_id", "user_id", "user_email", "user_name", "release")
    date_hierarchy = "last_seen_at"
    list_select_related = ("project",)
    inlines = [ReplaySegmentInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Replay | None = None) -> list[str]:
        return [field.name for field in Replay._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def view_on_site(self, replay: Replay) -> str:
        """The admin's "View on site" plays the replay in the web UI."""
        return reverse("issues:replay", args=[replay.project_id, replay.replay_id])


@admin.register(DetectionSettings)
class DetectionSettingsAdmin(admin.ModelAdmin):
    """Per-project detection: consumers pick a change up within REPLAYS_SETTINGS_CACHE_TTL_S.

    Beside Save, "Preview on the last N days" validates the draft (the form as edited, unsaved)
    and queues a ``PreviewRun`` for the ``run_previews`` worker; its page shows the progress, then
    the draft's effect on the stored replays against the current settings, and saves the draft
    (optionally applying it to the last N days) when asked."""

    change_form_template = "admin/replays/detectionsettings/change_form.html"

    list_display = (
        "project",
        "dead_clicks_enabled",
        "rage_clicks_enabled",
        "slow_clicks_enabled",
        "dead_click_sample_rate",
        "rage_click_sample_rate",
        "slow_click_sample_rate",
        "hydration_errors_enabled",
        "hydration_error_sample_rate",
        "error_clicks_enabled",
        "error_click_sample_rate",
        "noise_threshold",
        "issue_quota",
        "updated_at",
    )
    list_editable = (
        "dead_clicks_enabled",
        "rage_clicks_enabled",
        "slow_clicks_enabled",
        "hydration_errors_enabled",
        "error_clicks_enabled",
    )
    search_fields = ("project__name", "=project__id")
    autocomplete_fields = ("project",)
    form = DetectionSettingsForm
    fieldsets = (
        (None, {"fields": ("project", "updated_at")}),
        *((title, {"fields": names}) for title, names in DETECTION_SECTIONS),
    )

    def get_readonly_fields(
        self, request: HttpRequest, obj: DetectionSettings | None = None
    ) -> tuple[str, ...]:
        """A project's settings stay its own: the project is chosen when a row is added only."""
        return ("updated_at",) if obj is None else ("project", "updated_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Every project gets its row when it is made: "Add" only for a project without one
        (made before this app, say), not a form whose every choice would be refused."""
        without_settings = Project.objects.filter(detection_settings__isnull=True)
        return super().has_add_permission(request) and without_settings.exists()

    # --- the settings preview ------------------------------------------------------------------
    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path(
                "<int:object_id>/preview/<int:run_id>/",
                view(self.preview_view),
                name="replays_detectionsettings_preview",
            ),
            path(
                "<int:object_id>/preview/<int:run_id>/progress.json",
                view(self.preview_progress_view),
                name="replays_detectionsettings_preview_progress",
            ),
            path(
                "<int:object_id>/preview/<int:run_id>/apply/",
                view(require_POST(self.preview_apply_view)),
                name="replays_detectionsettings_preview_apply",
            ),
            *super().get_urls(),
        ]

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        """ "Preview" queues a run with the draft once it is valid; an invalid draft is shown with
        its errors as Save shows them (Save saves nothing invalid either)."""
        if request.method == "POST" and "_preview" in request.POST and object_id:
            row = self._editable(request, object_id)
            form = self.get_form(request, row, change=True)(request.POST, instance=row)
            days = preview_days(request.POST.get("preview_days"))
            if days is None:  # the browser keeps the field in range: no draft to keep
                messages.error(request, "Preview on 1 to 30 days: nothing saved, nothing run.")
                return redirect(reverse("admin:replays_detectionsettings_change", args=[row.pk]))
            if form.is_valid():
                draft = draft_of(form.cleaned_data)
                run = preview_request(row.project_id, request.user, days, draft)
                return redirect(self._preview_url(row, run))
        extra_context = {
            **(extra_context or {}),
            "preview_days": DEFAULT_PREVIEW_DAYS,
            "can_preview": object_id is not None,
        }
        return super().changeform_view(request, object_id, form_url, extra_context)

    def preview_view(self, request: HttpRequest, object_id: int, run_id: int) -> HttpResponse:
        row, run = self._run(request, object_id, run_id)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Preview of a settings change: {row.project}",
            "settings_row": row,
            "run": run,
            "result": run.result if run.kind == PreviewRun.Kind.PREVIEW else None,
            "progress_url": reverse(
                "admin:replays_detectionsettings_preview_progress", args=[row.pk, run.pk]
            ),
            "apply_url": reverse(
                "admin:replays_detectionsettings_preview_apply", args=[row.pk, run.pk]
            ),
            "change_url": reverse("admin:replays_detectionsettings_change", args=[row.pk]),
            "draft_changes": draft_changes(row, run.draft_settings),
        }
        return TemplateResponse(request, "admin/replays/detectionsettings/preview.html", context)

    def preview_progress_view(
        self, request: HttpRequest, object_id: int, run_id: int
    ) -> JsonResponse:
        _, run = self._run(request, object_id, run_id)
        return JsonResponse(progress_of(run))

    def preview_apply_view(self, request: HttpRequest, object_id: int, run_id: int) -> HttpResponse:
        """Save the previewed draft as Save would (the same form, validated again, logged), then
        queue "apply to the last N days" when asked."""
        row, run = self._run(request, object_id, run_id)
        if run.kind != PreviewRun.Kind.PREVIEW:
            raise Http404("not a preview")
        form_class = self.get_form(request, row, change=True)
        form = form_class(
            {**draft_form_data(run.draft_settings), "project": row.project_id}, instance=row
        )
        if not form.is_valid():
            messages.error(request, f"The draft is no longer valid: {form.errors.as_text()}")
            return redirect(self._preview_url(row, run))
        saved = self.save_form(request, form, change=True)
        self.save_model(request, saved, form, change=True)
        self.log_change(request, saved, self.construct_change_message(request, form, None))
        messages.success(request, "The draft is saved: new segments are detected with it.")
        if request.POST.get("apply"):
            days = preview_days(request.POST.get("apply_days")) or run.days
            applied = apply_request(row.project_id, request.user, days)
            return redirect(self._preview_url(row, applied))
        return redirect(reverse("admin:replays_detectionsettings_change", args=[row.pk]))

    def _editable(self, request: HttpRequest, object_id: str | int) -> DetectionSettings:
        """The row, if this user may change it and sees its project; else not found (another
        organization's project is not told to exist) or forbidden."""
        row = get_object_or_404(DetectionSettings.objects.select_related("project"), pk=object_id)
        if not may_edit_detection_settings(request.user, row.project_id):
            raise Http404("no such project")
        if not self.has_change_permission(request, row):
            raise PermissionDenied
        return row

    def _run(
        self, request: HttpRequest, object_id: int, run_id: int
    ) -> tuple[DetectionSettings, PreviewRun]:
        row = self._editable(request, object_id)
        return row, get_object_or_404(PreviewRun, pk=run_id, project_id=row.project_id)

    def _preview_url(self, row: DetectionSettings, run: PreviewRun) -> str:
        return reverse("admin:replays_detectionsettings_preview", args=[row.pk, run.pk])
