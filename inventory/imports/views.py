"""The upload page: pick a file and its format, watch the import's progress live."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from accounts.principal import Access
from accounts.selectors import principal_for_request
from inventory.models import ImportFormat
from inventory.selectors import import_jobs_recent


@login_required
def imports_page(request: HttpRequest) -> HttpResponse:
    principal = principal_for_request(request)
    jobs = import_jobs_recent(principal=principal, limit=20) if principal else []
    return render(
        request,
        "inventory/imports.html",
        {
            "can_import": bool(principal and principal.can(Access.INGEST)),
            "mapping_rules_url": reverse("settings-mapping-rules"),
            "formats": ImportFormat.choices,
            "jobs": jobs,
        },
    )
