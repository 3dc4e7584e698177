from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from organizations.models import Organization


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "slug", "member_count", "project_count", "created_at")
    search_fields = ("name", "slug", "=id", "members__username", "members__email")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("members",)
    readonly_fields = ("created_at",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Organization]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                member_total=Count("members", distinct=True),
                project_total=Count("projects", distinct=True),
            )
        )

    @admin.display(description="Members", ordering="member_total")
    def member_count(self, organization: Organization) -> int:
        return organization.member_total

    @admin.display(description="Projects", ordering="project_total")
    def project_count(self, organization: Organization) -> int:
        return organization.project_total
