"""Pages for the inventory: settings (facilities with their PUE, WUE, electricity tariffs and
yearly indicators, contractual instruments, factor overrides), the factor library browser and
the data page (batches, waiting records, quality).

Admins manage; ESG officers keep the contractual instruments too; other roles read.
Writes go through the services of what they manage (inventory.facility_services,
instrument_services, override_services, mapping_rule_services).
"""

from datetime import date
from typing import ClassVar

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.models import Organisation, Team
from accounts.principal import Access, Principal
from accounts.views import DATE_INPUT, run_service, settings_page, submit_form
from accounts.views import settings_context as _context
from inventory.facility_services import (
    FACILITY_KINDS,
    facility_create,
    facility_pue_update,
    facility_wue_create,
    facility_wue_delete,
    tariff_create,
    tariff_delete,
)
from inventory.instrument_services import instrument_create, instrument_delete
from inventory.mapping_rule_services import mapping_rule_create, mapping_rule_delete
from inventory.models import (
    CloudCoefficient,
    ContractualInstrument,
    ElectricityTariff,
    FacilityWue,
    FactorDataset,
    FactorKind,
    FactorOverride,
    GridFactor,
    Hardware,
    InstrumentKind,
    Location,
    MappingSource,
    Phase,
    ProviderPue,
    ReplicationFactor,
    Zone,
)
from inventory.override_services import factor_override_create, factor_override_delete
from inventory.selectors import (
    codecarbon_run_lines,
    facility_records_and_indicators,
    mapping_rule_list,
)


def _zones() -> list[tuple[str, str]]:
    return [(code, f"{code} — {name}") for code, name in Zone.objects.values_list("code", "name")]


class ZoneSelect(forms.Select):
    """The grid zones' select (~240 options), as Django renders it, kept per name, value,
    attributes and choices: Django renders each option through two templates (13 ms a
    select, on the facility, instrument and override forms of every settings page view)."""

    _rendered: ClassVar[dict[tuple, str]] = {}

    def render(self, name, value, attrs=None, renderer=None):
        key = (
            name,
            repr(value),
            repr(sorted({**self.attrs, **(attrs or {})}.items())),
            tuple(self.choices),
            type(renderer),
        )
        html = self._rendered.get(key)
        if html is None:
            if len(self._rendered) >= 64:  # a few forms' states; new zones make new keys
                self._rendered.clear()
            html = self._rendered[key] = super().render(name, value, attrs, renderer)
        return html


# --- Facilities and PUE -------------------------------------------------------------------


class FacilityForm(forms.Form):
    code = forms.SlugField(max_length=80, label="Code (records name it as location)")
    name = forms.CharField(max_length=160, label="Name")
    kind = forms.ChoiceField(
        choices=[(k, label) for k, label in Location.Kind.choices if k in FACILITY_KINDS],
        label="Kind",
    )
    zone = forms.ChoiceField(choices=(), label="Grid zone", widget=ZoneSelect)
    pue = forms.FloatField(required=False, min_value=1.0, max_value=5.0, label="PUE")
    pue_source = forms.CharField(max_length=300, required=False, label="PUE source")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["zone"].choices = _zones()


class PueForm(forms.Form):
    pue = forms.FloatField(required=False, min_value=1.0, max_value=5.0, label="PUE")
    pue_source = forms.CharField(max_length=300, required=False, label="PUE source")


class _FacilityPeriodForm(forms.Form):
    """A row a facility holds by validity period (its WUE, its electricity tariff): the
    facility is one of the organisation's, named by `facility_field`."""

    facility_field: str

    def __init__(self, *args, organisation: Organisation, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields[self.facility_field]
        field.queryset = Location.objects.filter(organisation=organisation).order_by("code")
        # The choices read once, as its iterator makes them: a ModelChoiceField reads its
        # queryset through a server-side cursor each time its widget iterates them (twice a
        # rendering). Validation still looks the value up in the queryset.
        options = field.iterator(field)
        blank = [] if field.empty_label is None else [("", field.empty_label)]
        field.choices = blank + [options.choice(location) for location in field.queryset]


class WueForm(_FacilityPeriodForm):
    facility_field = "facility"
    facility = forms.ModelChoiceField(
        queryset=Location.objects.none(), to_field_name="code", empty_label=None, label="Facility"
    )
    valid_from = forms.DateField(widget=DATE_INPUT, label="Valid from")
    valid_to = forms.DateField(widget=DATE_INPUT, label="Valid to (inclusive)")
    wue_l_per_kwh = forms.FloatField(min_value=0.0, max_value=10.0, label="WUE (L per IT kWh)")
    source = forms.CharField(max_length=300, label="Source (metered site water, report, year)")


def _facilities(principal: Principal) -> list[Location]:
    return list(Location.objects.filter(organisation=principal.organisation).order_by("code"))


def _indicator_year(request: HttpRequest) -> int:
    """?year= (2000-2100), else the current year."""
    year = request.GET.get("year", "")
    return int(year) if year.isdigit() and 2000 <= int(year) <= 2100 else date.today().year


@settings_page()
def facilities_page(request: HttpRequest, principal: Principal) -> HttpResponse:
    facilities = _facilities(principal)
    year = _indicator_year(request)
    computed, indicators = facility_records_and_indicators(principal=principal, year=year)
    for facility in facilities:
        facility.records = computed.get(facility.id, 0)
    providers = ProviderPue.objects.filter(dataset__is_active=True).order_by("provider")
    wue_rows = FacilityWue.objects.filter(organisation=principal.organisation).select_related(
        "location"
    )
    return render(
        request,
        "dashboard/settings/facilities.html",
        _context(
            principal,
            "facilities",
            facilities=facilities,
            providers=providers,
            form=FacilityForm(),
            wue_rows=wue_rows.order_by("location__code", "-valid_from"),
            wue_form=WueForm(organisation=principal.organisation),
            year=year,
            indicators=indicators,
        ),
    )


@require_POST
@settings_page(Access.MANAGE)
def facility_wue_create_view(request: HttpRequest, principal: Principal) -> HttpResponse:
    submit_form(
        request,
        WueForm(request.POST, organisation=principal.organisation),
        lambda data: f"WUE of {data['facility']} added; its open periods are being recomputed",
        lambda data: facility_wue_create(location=data.pop("facility"), actor=request.user, **data),
    )
    return redirect("settings-facilities")


@require_POST
@settings_page(Access.MANAGE)
def facility_wue_delete_view(request: HttpRequest, principal: Principal, pk: int) -> HttpResponse:
    row = get_object_or_404(FacilityWue, pk=pk, organisation=principal.organisation)
    run_service(
        request,
        f"WUE of {row.location.code} from {row.valid_from} deleted",
        lambda: facility_wue_delete(row=row, actor=request.user),
    )
    return redirect("settings-facilities")


@require_POST
@settings_page(Access.MANAGE)
def facility_create_view(request: HttpRequest, principal: Principal) -> HttpResponse:
    submit_form(
        request,
        FacilityForm(request.POST),
        lambda data: f"Facility {data['code']} added",
        lambda data: facility_create(
            organisation=principal.organisation, actor=request.user, **data
        ),
    )
    return redirect("settings-facilities")


@require_POST
@settings_page(Access.MANAGE)
def facility_pue_view(request: HttpRequest, principal: Principal, pk: int) -> HttpResponse:
    location = get_object_or_404(Location, pk=pk, organisation=principal.organisation)
    submit_form(
        request,
        PueForm(request.POST),
        lambda data: f"PUE of {location.code} saved; its open periods are being recomputed",
        lambda data: facility_pue_update(location=location, actor=request.user, **data),
    )
    return redirect("settings-facilities")


# --- Contractual instruments --------------------------------------------------------------


class InstrumentForm(forms.Form):
    kind = forms.ChoiceField(choices=InstrumentKind.choices, label="Kind")
    reference = forms.CharField(max_length=200, label="Certificate or contract reference")
    supplier = forms.CharField(max_length=200, required=False, label="Supplier")
    zone = forms.ChoiceField(choices=(), label="Market (grid zone)", widget=ZoneSelect)
    valid_from = forms.DateField(widget=DATE_INPUT, label="Valid from")
    valid_to = forms.DateField(widget=DATE_INPUT, label="Valid to (inclusive)")
    mwh = forms.FloatField(min_value=0.001, label="MWh")
    kg_per_kwh = forms.FloatField(
        min_value=0.0, initial=0.0, label="Emission rate (kg CO2e/kWh; 0 for renewables)"
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["zone"].choices = _zones()


@settings_page()
def instruments_page(request: HttpRequest, principal: Principal) -> HttpResponse:
    instruments = ContractualInstrument.objects.filter(
        organisation=principal.organisation
    ).order_by("-valid_from", "reference")
    return render(
        request,
        "dashboard/settings/instruments.html",
        _context(
            principal,
            "instruments",
            Access.INSTRUMENTS,
            instruments=instruments,
            form=InstrumentForm(),
        ),
    )


@require_POST
@settings_page(Access.INSTRUMENTS)
def instrument_create_view(request: HttpRequest, principal: Principal) -> HttpResponse:
    submit_form(
        request,
        InstrumentForm(request.POST),
        lambda data: f"Instrument {data['reference']} added",
        lambda data: instrument_create(
            organisation=principal.organisation, created_by=request.user, **data
        ),
    )
    return redirect("settings-instruments")


@require_POST
@settings_page(Access.INSTRUMENTS)
def instrument_delete_view(request: HttpRequest, principal: Principal, pk: int) -> HttpResponse:
    instrument = get_object_or_404(
        ContractualInstrument, pk=pk, organisation=principal.organisation
    )
    run_service(
        request,
        f"Instrument {instrument.reference} deleted",
        lambda: instrument_delete(instrument=instrument, actor=request.user),
    )
    return redirect("settings-instruments")


# --- Factor overrides ---------------------------------------------------------------------


class OverrideForm(forms.Form):
    zone = forms.ChoiceField(choices=(), label="Grid zone", widget=ZoneSelect)
    kind = forms.ChoiceField(choices=FactorKind.choices, label="Kind")
    valid_from = forms.DateField(widget=DATE_INPUT, label="Valid from")
    valid_to = forms.DateField(widget=DATE_INPUT, label="Valid to (inclusive)")
    kg_per_kwh = forms.FloatField(min_value=0.0, max_value=2.0, label="kg CO2e/kWh")
    source = forms.CharField(max_length=300, label="Source (publisher, document, year)")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["zone"].choices = _zones()


@settings_page()
def overrides_page(request: HttpRequest, principal: Principal) -> HttpResponse:
    overrides = FactorOverride.objects.filter(organisation=principal.organisation).order_by(
        "zone", "-valid_from"
    )
    return render(
        request,
        "dashboard/settings/overrides.html",
        _context(principal, "overrides", overrides=overrides, form=OverrideForm()),
    )


@require_POST
@settings_page(Access.MANAGE)
def override_create_view(request: HttpRequest, principal: Principal) -> HttpResponse:
    submit_form(
        request,
        OverrideForm(request.POST),
        lambda data: f"Override for {data['zone']} added",
        lambda data: factor_override_create(
            organisation=principal.organisation, created_by=request.user, **data
        ),
    )
    return redirect("settings-overrides")


@require_POST
@settings_page(Access.MANAGE)
def override_delete_view(request: HttpRequest, principal: Principal, pk: int) -> HttpResponse:
    override = get_object_or_404(FactorOverride, pk=pk, organisation=principal.organisation)
    run_service(
        request,
        f"Override for {override.zone} deleted",
        lambda: factor_override_delete(override=override, actor=request.user),
    )
    return redirect("settings-overrides")


# --- Electricity tariffs ------------------------------------------------------------------


class TariffForm(_FacilityPeriodForm):
    facility_field = "location"
    location = forms.ModelChoiceField(queryset=Location.objects.none(), label="Facility")
    valid_from = forms.DateField(widget=DATE_INPUT, label="Valid from")
    valid_to = forms.DateField(widget=DATE_INPUT, label="Valid to (inclusive)")
    price_per_kwh = forms.FloatField(min_value=0.0, max_value=100.0, label="Price per kWh")
    currency = forms.RegexField(r"^[A-Z]{3}$", max_length=3, label="Currency (ISO 4217)")
    source = forms.CharField(max_length=300, label="Source (contract, invoice, supplier)")


@settings_page()
def tariffs_page(request: HttpRequest, principal: Principal) -> HttpResponse:
    tariffs = (
        ElectricityTariff.objects.filter(organisation=principal.organisation)
        .select_related("location", "created_by")
        .order_by("location__code", "-valid_from")
    )
    form = TariffForm(organisation=principal.organisation)
    return render(
        request,
        "dashboard/settings/tariffs.html",
        _context(principal, "tariffs", tariffs=tariffs, form=form),
    )


@require_POST
@settings_page(Access.MANAGE)
def tariff_create_view(request: HttpRequest, principal: Principal) -> HttpResponse:
    submit_form(
        request,
        TariffForm(request.POST, organisation=principal.organisation),
        lambda data: (
            f"Tariff for {data['location'].code} added; its open periods are being recomputed"
        ),
        lambda data: tariff_create(created_by=request.user, **data),
    )
    return redirect("settings-tariffs")


@require_POST
@settings_page(Access.MANAGE)
def tariff_delete_view(request: HttpRequest, principal: Principal, pk: int) -> HttpResponse:
    tariff = get_object_or_404(ElectricityTariff, pk=pk, organisation=principal.organisation)
    run_service(
        request,
        f"Tariff for {tariff.location.code} deleted",
        lambda: tariff_delete(tariff=tariff, actor=request.user),
    )
    return redirect("settings-tariffs")


# --- Billing tag → team mapping rules ------------------------------------------------------


class MappingRuleForm(forms.Form):
    source = forms.ChoiceField(choices=MappingSource.choices, label="Source")
    key = forms.CharField(max_length=80, label="Match (e.g. tag:team, account, project_name)")
    value = forms.CharField(max_length=200, label="Value (* matches anything)")
    team = forms.ModelChoiceField(queryset=Team.objects.none(), label="Team")
    model_name = forms.CharField(max_length=160, required=False, label="Model (optional)")
    location_code = forms.CharField(
        max_length=80, required=False, label="Location code (CodeCarbon runs)"
    )
    phase = forms.ChoiceField(
        choices=[("", "—"), *Phase.choices], required=False, label="Phase (optional)"
    )
    priority = forms.IntegerField(initial=100, label="Priority (lower wins)")

    def __init__(self, *args, organisation, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.filter(organisation=organisation)


@settings_page()
def mapping_rules_page(request: HttpRequest, principal: Principal) -> HttpResponse:
    rules = mapping_rule_list(principal=principal)
    return render(
        request,
        "dashboard/settings/mapping_rules.html",
        _context(
            principal,
            "mapping-rules",
            rules=rules,
            form=MappingRuleForm(organisation=principal.organisation),
        ),
    )


@require_POST
@settings_page(Access.MANAGE)
def mapping_rule_create_view(request: HttpRequest, principal: Principal) -> HttpResponse:
    submit_form(
        request,
        MappingRuleForm(request.POST, organisation=principal.organisation),
        lambda data: f"Rule {data['key']}={data['value']} → {data['team'].name} added",
        lambda data: mapping_rule_create(
            organisation=principal.organisation, actor=request.user, **data
        ),
    )
    return redirect("settings-mapping-rules")


@require_POST
@settings_page(Access.MANAGE)
def mapping_rule_delete_view(request: HttpRequest, principal: Principal, pk: int) -> HttpResponse:
    rule = get_object_or_404(mapping_rule_list(principal=principal), pk=pk)
    run_service(
        request,
        f"Rule {rule.key}={rule.value} deleted",
        lambda: mapping_rule_delete(rule=rule, actor=request.user),
    )
    return redirect("settings-mapping-rules")


# --- Factor library -----------------------------------------------------------------------


@settings_page()
def factors_page(request: HttpRequest, principal: Principal) -> HttpResponse:
    """The shipped factor library, searchable, every row with its source and licence."""
    datasets = FactorDataset.objects.order_by("-is_active", "-loaded_at")
    active = datasets.filter(is_active=True).first()
    query = request.GET.get("q", "").strip()
    kind = request.GET.get("kind", "")
    year = request.GET.get("year", "")
    factors = GridFactor.objects.filter(dataset=active).order_by("zone", "kind", "year", "month")
    if query:
        zone_codes = Zone.objects.filter(Q(code__icontains=query) | Q(name__icontains=query))
        factors = factors.filter(Q(zone__icontains=query) | Q(zone__in=zone_codes.values("code")))
    if kind in FactorKind.values:
        factors = factors.filter(kind=kind)
    elif kind:
        messages.warning(
            request, f"The kind {kind!r} is not one of the choices; showing every kind."
        )
    if year.isdigit():
        factors = factors.filter(year=int(year))
    elif year:
        messages.warning(request, f"The year {year!r} is not a year; showing every year.")
    page = Paginator(factors, 50).get_page(request.GET.get("page"))
    zone_names = dict(
        Zone.objects.filter(code__in={f.zone for f in page}).values_list("code", "name")
    )
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "dashboard/factors.html",
        _context(
            principal,
            "factors",
            datasets=datasets,
            active=active,
            page=page,
            zone_names=zone_names,
            query=query,
            kind=kind,
            year=year,
            kinds=FactorKind.choices,
            years=GridFactor.objects.filter(dataset=active)
            .order_by("-year")
            .values_list("year", flat=True)
            .distinct(),
            page_query=params.urlencode(),
            hardware=Hardware.objects.filter(dataset=active).order_by("kind", "vendor", "name"),
            provider_pues=ProviderPue.objects.filter(dataset=active).order_by("provider"),
            coefficients=CloudCoefficient.objects.filter(dataset=active).order_by("key"),
            replication=ReplicationFactor.objects.filter(dataset=active).order_by(
                "provider", "service"
            ),
            overrides=FactorOverride.objects.filter(organisation=principal.organisation).count(),
        ),
    )


# --- Data ---------------------------------------------------------------------------------


@settings_page()
def codecarbon_runs_page(request: HttpRequest, principal: Principal) -> HttpResponse:
    """CodeCarbon runs, CodeCarbon's own kg beside the portal's, with both factors."""
    return render(
        request,
        "dashboard/codecarbon_runs.html",
        _context(principal, "data", runs=codecarbon_run_lines(principal=principal)),
    )
