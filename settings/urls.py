from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("ingest.urls")),
    # The issues UI takes this place once it exists; until then the admin is the way in.
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]
