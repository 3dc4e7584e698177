from django.contrib import admin

from ingest.models import Project, ProjectKey


class ProjectKeyInline(admin.TabularInline):
    model = ProjectKey
    extra = 0
    fields = ("public_key", "label", "is_active", "dsn", "created_at")
    readonly_fields = ("dsn", "created_at")

    @admin.display(description="DSN")
    def dsn(self, key: ProjectKey) -> str:
        return key.dsn() if key.pk else "-"


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "org_id", "active_keys", "created_at")
    list_filter = ("org_id",)
    search_fields = ("name", "=id", "keys__public_key")
    inlines = [ProjectKeyInline]

    @admin.display(description="Active keys")
    def active_keys(self, project: Project) -> int:
        return project.keys.filter(is_active=True).count()


@admin.register(ProjectKey)
class ProjectKeyAdmin(admin.ModelAdmin):
    list_display = ("public_key", "project", "label", "is_active", "created_at")
    list_filter = ("is_active",)
    list_editable = ("is_active",)
    search_fields = ("public_key", "label", "project__name")
    autocomplete_fields = ("project",)
    readonly_fields = ("created_at",)
