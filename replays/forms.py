"""The one form of a project's detection settings: the admin and the web UI's settings page both
use it, so a value refused in one is refused in the other (the model's validators do the
checking; this says which fields an operator edits, and in which groups)."""

from django import forms

from replays.models import DetectionSettings

# (title, fields): the sections both the admin's fieldsets and the settings page show.
DETECTION_SECTIONS = (
    (
        "Issue types",
        (
            "dead_clicks_enabled",
            "rage_clicks_enabled",
            "slow_clicks_enabled",
            "hydration_errors_enabled",
            "error_clicks_enabled",
        ),
    ),
    (
        "Sampling (0 to 1; the same click always gets the same decision)",
        (
            "dead_click_sample_rate",
            "rage_click_sample_rate",
            "slow_click_sample_rate",
            "hydration_error_sample_rate",
            "error_click_sample_rate",
        ),
    ),
    ("Thresholds", ("dead_click_ms", "slow_click_ms", "rage_click_count", "error_click_ms")),
    ("Ignored elements", ("ignore_selectors",)),
    ("Noise", ("noise_threshold", "noise_threshold_users")),
    ("Creation quota", ("issue_quota", "issue_quota_window_s")),
)


class DetectionSettingsForm(forms.ModelForm):
    """A project's detection settings; the project itself is never a field of the form (the admin
    shows it read-only on a change, and adds it on a new row)."""

    class Meta:
        model = DetectionSettings
        fields = [name for _, names in DETECTION_SECTIONS for name in names]

    def sections(self) -> list[tuple[str, list[forms.BoundField]]]:
        """The bound fields grouped as the admin groups them, for the settings page."""
        return [(title, [self[name] for name in names]) for title, names in DETECTION_SECTIONS]
