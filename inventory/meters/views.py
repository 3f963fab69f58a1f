"""The settings page of the Prometheus sources: members read them, admins add and delete."""

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.principal import Access, Principal
from accounts.views import run_service, settings_page, submit_form
from inventory.meters.selectors import prometheus_source_list
from inventory.meters.sources import prometheus_source_create, prometheus_source_delete
from inventory.models import Location
from inventory.views import _context as settings_context  # the settings pages' one context


class PrometheusSourceForm(forms.Form):
    name = forms.CharField(max_length=120, label="Name")
    url = forms.URLField(
        max_length=500, assume_scheme="https", label="Prometheus URL (e.g. https://prometheus:9090)"
    )
    bearer_token = forms.CharField(
        max_length=500,
        required=False,
        label="Bearer token (optional, never shown again)",
        widget=forms.PasswordInput(render_value=False),
    )
    location = forms.ChoiceField(label="Facility the GPUs run in")
    hardware_by_gpu_model = forms.CharField(
        required=False,
        label="GPU models (one per line: DCGM modelName = hardware code)",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, organisation, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        facilities = Location.objects.filter(organisation=organisation).order_by("code")
        self.fields["location"].choices = [(f.code, f"{f.code} · {f.name}") for f in facilities]

    def clean_hardware_by_gpu_model(self) -> dict[str, str]:
        """'NVIDIA A100-SXM4-80GB = nvidia-a100-80gb' lines as a dict."""
        mapping = {}
        for line in self.cleaned_data["hardware_by_gpu_model"].splitlines():
            if not line.strip():
                continue
            model, sep, code = line.rpartition("=")
            if not sep or not model.strip() or not code.strip():
                raise forms.ValidationError(f"Write 'model name = hardware code', not {line!r}")
            mapping[model.strip()] = code.strip()
        return mapping


@settings_page()
def prometheus_sources_page(request: HttpRequest, principal: Principal) -> HttpResponse:
    return render(
        request,
        "dashboard/settings/prometheus_sources.html",
        settings_context(
            principal,
            "prometheus-sources",
            sources=prometheus_source_list(principal=principal).order_by("name"),
            form=PrometheusSourceForm(organisation=principal.organisation),
        ),
    )


@require_POST
@settings_page(Access.MANAGE)
def prometheus_source_create_view(request: HttpRequest, principal: Principal) -> HttpResponse:
    submit_form(
        request,
        PrometheusSourceForm(request.POST, organisation=principal.organisation),
        lambda data: (
            f"Prometheus source {data['name']} added: its complete hours are pulled "
            "every few minutes"
        ),
        lambda data: prometheus_source_create(
            organisation=principal.organisation, actor=request.user, **data
        ),
    )
    return redirect("settings-prometheus-sources")


@require_POST
@settings_page(Access.MANAGE)
def prometheus_source_delete_view(
    request: HttpRequest, principal: Principal, pk: int
) -> HttpResponse:
    source = get_object_or_404(prometheus_source_list(principal=principal), pk=pk)
    run_service(
        request,
        f"Prometheus source {source.name} deleted (its records stay)",
        lambda: prometheus_source_delete(source=source, actor=request.user),
    )
    return redirect("settings-prometheus-sources")
