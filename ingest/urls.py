from django.urls import path

from ingest.views import envelope_view

urlpatterns = [
    path("api/<int:project_id>/envelope/", envelope_view, name="envelope"),
]
