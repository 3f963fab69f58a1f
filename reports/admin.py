from django.contrib import admin

from accounts.admin import ReadOnlyAdmin
from reports.models import ReportExport, ReportVersion


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
