"""The REST API of ARCHITECTURE.md's operator interface, under /api/0/."""

app_name = "api"
urlpatterns: list = []
