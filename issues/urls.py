"""The web UI's pages (issues.views)."""

app_name = "issues"
urlpatterns: list = []
