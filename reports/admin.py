from django.contrib import admin

from reports.models import ReportExport, ReportVersion


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never changed: locked versions are immutable, exports are written by the task."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ReportVersion)
class ReportVersionAdmin(ReadOnlyAdmin):
    list_display = (
        "organisation",
        "year",
        "quarter",
        "version",
        "locked_by_name",
        "locked_at",
        "record_count",
        "content_hash",
    )
    list_filter = ("organisation", "year", "quarter")


@admin.register(ReportExport)
class ReportExportAdmin(ReadOnlyAdmin):
    list_display = ("organisation", "year", "quarter", "report_version", "status", "progress")
    list_filter = ("organisation", "status")
    exclude = ("pdf",)
