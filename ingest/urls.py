from django.urls import re_path

from ingest.views import envelope_view, occurrence_view

urlpatterns = [
    # The trailing slash is optional, as on Sentry: a POST cannot follow APPEND_SLASH's redirect.
    re_path(r"^api/(?P<project_id>[0-9]+)/envelope/?$", envelope_view, name="envelope"),
    re_path(r"^api/(?P<project_id>[0-9]+)/occurrences/?$", occurrence_view, name="occurrences"),
]
