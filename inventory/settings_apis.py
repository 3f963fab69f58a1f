"""The settings over the API: facilities (their PUE, WUE and electricity tariffs, their
yearly indicators), contractual instruments, factor overrides, team mapping rules. Members
read them; admins (and tokens with the manage scope) write them, through the same services
as the settings pages, so each write is audited and queues the recalculation of exactly the
open periods it affects. A write that moves figures answers with that recalculation (null
when nothing moved), whose progress is at /api/v1/recalculations/<id>/.
"""

from django.db.models import Model
from django.http import Http404
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import ReadOrManageApi
from accounts.principal import Access
from accounts.selectors import teams_by_slug
from greenai_portal.errors import validated_input, validated_patch
from inventory.models import (
    ContractualInstrument,
    ElectricityTariff,
    FacilityWue,
    FactorKind,
    FactorOverride,
    InstrumentKind,
    Location,
    MappingSource,
    Phase,
    RecalculationJob,
    TeamMappingRule,
)
from inventory.pipeline.apis import RecalculationOutputSerializer
from inventory.selectors import facility_indicators_for_year, mapping_rule_list
from inventory.settings_services import (
    facility_create,
    facility_pue_update,
    facility_wue_create,
    facility_wue_delete,
    factor_override_create,
    factor_override_delete,
    instrument_create,
    instrument_delete,
    mapping_rule_create,
    mapping_rule_delete,
    mapping_rule_update,
    tariff_create,
    tariff_delete,
)


def _recalculation_field() -> RecalculationOutputSerializer:
    return RecalculationOutputSerializer(
        allow_null=True, help_text="The recalculation this change queued (null: nothing moved)"
    )


class RecalculationQueuedSerializer(serializers.Serializer):
    recalculation = _recalculation_field()


def _with_recalculation(serializer_class, name: str) -> type[serializers.Serializer]:
    """`serializer_class`'s fields plus the recalculation the write queued (for the schema)."""

    class Meta(serializer_class.Meta):
        fields = (*serializer_class.Meta.fields, "recalculation")

    return type(name, (serializer_class,), {"Meta": Meta, "recalculation": _recalculation_field()})


def _answer(data: dict, job: RecalculationJob | None, code: int = status.HTTP_200_OK) -> Response:
    if job is not None:
        job.refresh_from_db()  # eager Celery may have run it already
    recalculation = RecalculationOutputSerializer(job).data if job else None
    return Response({**data, "recalculation": recalculation}, status=code)


class _ManagedApi(ReadOrManageApi, APIView):
    """The organisation's rows of `model`: reads need read access, writes `write_access`
    (manage unless a view says otherwise)."""

    model: type[Model]
    serializer_class: type[serializers.ModelSerializer]

    def rows(self):
        return self.model.objects.filter(organisation=self.request.principal.organisation)

    def owned(self, pk: int):
        """The organisation's row, or 404 (another organisation's rows do not exist here)."""
        row = self.rows().filter(pk=pk).first()
        if row is None:
            raise Http404
        return row


class _RowsApi(_ManagedApi):
    """GET lists the rows (by `ordering`); POST adds one through `create`."""

    ordering: tuple[str, ...]
    input_serializer: type[serializers.Serializer]

    def create(self, request, data: dict) -> tuple[Model, RecalculationJob | None]:
        raise NotImplementedError

    def get(self, request):
        rows = self.rows().order_by(*self.ordering)
        return Response(self.serializer_class(rows, many=True).data)

    def post(self, request):
        row, job = self.create(request, validated_input(self.input_serializer, request.data))
        return _answer(self.serializer_class(row).data, job, status.HTTP_201_CREATED)


class _RowApi(_ManagedApi):
    """GET one row; DELETE it through `remove`."""

    def remove(self, row, actor) -> RecalculationJob:
        raise NotImplementedError

    def get(self, request, pk: int):
        return Response(self.serializer_class(self.owned(pk)).data)

    @extend_schema(responses={200: RecalculationQueuedSerializer})
    def delete(self, request, pk: int):
        return _answer({}, self.remove(self.owned(pk), request.user))


def _schema(serializer_class, input_serializer, created: str):
    """The list/create operations' schema: the rows, the input, the created row."""
    return extend_schema_view(
        get=extend_schema(responses=serializer_class(many=True)),
        post=extend_schema(
            request=input_serializer,
            responses={201: _with_recalculation(serializer_class, created)},
        ),
    )


# --- Facilities ---------------------------------------------------------------------------


class FacilitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Location
        fields = ("id", "code", "name", "kind", "zone", "pue", "pue_source")


@extend_schema_serializer(component_name="FacilityInput")
class FacilityInputSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=80)
    name = serializers.CharField(max_length=160, required=False, default="")
    # Cloud regions are the library's, never an organisation's: the service refuses them.
    kind = serializers.ChoiceField(choices=Location.Kind.choices, help_text="owned or colocation")
    zone = serializers.CharField(max_length=40, help_text="a grid zone of the factor library")
    pue = serializers.FloatField(min_value=1.0, max_value=5.0, required=False, allow_null=True)
    pue_source = serializers.CharField(max_length=200, required=False, default="")


@extend_schema_serializer(component_name="FacilityPueInput")
class FacilityPueInputSerializer(serializers.Serializer):
    pue = serializers.FloatField(min_value=1.0, max_value=5.0, allow_null=True)
    pue_source = serializers.CharField(max_length=200, required=False, default="")


@_schema(FacilitySerializer, FacilityInputSerializer, "FacilityCreated")
class FacilityListApi(_RowsApi):
    """The organisation's own facilities (owned, colocation); admins add one (a new facility
    has no records yet: nothing is recalculated)."""

    model = Location
    serializer_class = FacilitySerializer
    input_serializer = FacilityInputSerializer
    ordering = ("code",)

    def create(self, request, data: dict) -> tuple[Location, None]:
        organisation = request.principal.organisation
        data = {"pue": None, **data}
        return facility_create(organisation=organisation, actor=request.user, **data), None


class FacilityDetailApi(_ManagedApi):
    """A facility; admins change its PUE, which recomputes its records in open periods."""

    model = Location
    serializer_class = FacilitySerializer

    def get(self, request, pk: int):
        return Response(FacilitySerializer(self.owned(pk)).data)

    @extend_schema(
        request=FacilityPueInputSerializer,
        responses=_with_recalculation(FacilitySerializer, "FacilityPueChange"),
    )
    def patch(self, request, pk: int):
        facility = self.owned(pk)
        data = validated_input(FacilityPueInputSerializer, request.data)
        job = facility_pue_update(location=facility, actor=request.user, **data)
        return _answer(FacilitySerializer(facility).data, job)


# --- Facility WUE -------------------------------------------------------------------------


class FacilityWueSerializer(serializers.ModelSerializer):
    facility = serializers.SlugRelatedField(slug_field="code", source="location", read_only=True)

    class Meta:
        model = FacilityWue
        fields = ("id", "facility", "valid_from", "valid_to", "wue_l_per_kwh", "source")


@extend_schema_serializer(component_name="FacilityWueInput")
class FacilityWueInputSerializer(serializers.Serializer):
    facility = serializers.CharField(max_length=80, help_text="the facility's code")
    valid_from = serializers.DateField()
    valid_to = serializers.DateField(help_text="inclusive")
    wue_l_per_kwh = serializers.FloatField(
        min_value=0.0, max_value=10.0, help_text="site water (L) per IT kWh (The Green Grid)"
    )
    source = serializers.CharField(
        max_length=300, help_text="where the figure comes from (metered site water, report)"
    )


@_schema(FacilityWueSerializer, FacilityWueInputSerializer, "FacilityWueCreated")
class FacilityWueListApi(_RowsApi):
    """The WUE of the organisation's facilities by period; admins add one, which recomputes
    that facility's records of the period in open quarters (locked ones keep their figures).
    Records in a facility and day without a WUE have on-site water "not available"."""

    model = FacilityWue
    serializer_class = FacilityWueSerializer
    input_serializer = FacilityWueInputSerializer
    ordering = ("location__code", "valid_from", "id")

    def create(self, request, data: dict) -> tuple[FacilityWue, RecalculationJob]:
        organisation = request.principal.organisation
        facility = Location.objects.filter(organisation=organisation, code=data.pop("facility"))
        if not facility.exists():
            raise Http404
        return facility_wue_create(location=facility.get(), actor=request.user, **data)


class FacilityWueDetailApi(_RowApi):
    """A facility WUE row; admins delete one that no computed figure has used yet."""

    model = FacilityWue
    serializer_class = FacilityWueSerializer

    def remove(self, row, actor) -> RecalculationJob:
        return facility_wue_delete(row=row, actor=actor)


# --- Facility indicators ------------------------------------------------------------------


class FacilityIndicatorsQuerySerializer(serializers.Serializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100)


class FacilityIndicatorsSerializer(serializers.Serializer):
    facility = serializers.CharField(source="facility.code")
    name = serializers.CharField(source="facility.name")
    kind = serializers.CharField(source="facility.kind")
    zone = serializers.CharField(source="facility.zone")
    year = serializers.IntegerField()
    records = serializers.IntegerField(help_text="computed records of the year")
    water_records = serializers.IntegerField(help_text="of which with on-site water")
    it_mwh = serializers.FloatField(source="indicators.it_mwh")
    facility_mwh = serializers.FloatField(source="indicators.facility_mwh")
    pue = serializers.FloatField(
        source="indicators.pue", allow_null=True, help_text="facility ÷ IT energy of the records"
    )
    pue_setting = serializers.FloatField(source="facility.pue", allow_null=True)
    pue_setting_source = serializers.CharField(source="facility.pue_source")
    water_onsite_m3 = serializers.FloatField(
        source="indicators.water_m3",
        allow_null=True,
        help_text="null: no record of the year has on-site water",
    )
    wue = serializers.FloatField(
        source="indicators.wue",
        allow_null=True,
        help_text="L per IT kWh, over the records whose water is known",
    )
    wue_settings = FacilityWueSerializer(many=True)
    renewable_mwh = serializers.FloatField(source="indicators.renewable_mwh", allow_null=True)
    non_renewable_mwh = serializers.FloatField(
        source="indicators.non_renewable_mwh", allow_null=True
    )
    ref = serializers.FloatField(
        source="indicators.ref",
        allow_null=True,
        help_text="renewable energy factor; null until the year's months are allocated, or for "
        "a member limited to teams (instruments are organisation-wide)",
    )


class FacilityIndicatorsApi(APIView):
    """Per facility and year: PUE, WUE, renewable energy factor and energy by source
    (renewable / non-renewable MWh), as Delegated Regulation (EU) 2024/1364 and ESRS E1-5
    read them, from the principal's computed records and the market allocation."""

    required_access = Access.READ

    @extend_schema(
        parameters=[OpenApiParameter("year", int, required=True)],
        responses=FacilityIndicatorsSerializer(many=True),
    )
    def get(self, request):
        year = validated_input(FacilityIndicatorsQuerySerializer, request.query_params)["year"]
        lines = facility_indicators_for_year(principal=request.principal, year=year)
        return Response(FacilityIndicatorsSerializer(lines, many=True).data)


# --- Contractual instruments --------------------------------------------------------------


class InstrumentSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContractualInstrument
        fields = (
            "id",
            "kind",
            "zone",
            "valid_from",
            "valid_to",
            "mwh",
            "kg_per_kwh",
            "reference",
            "supplier",
        )


@extend_schema_serializer(component_name="InstrumentInput")
class InstrumentInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=InstrumentKind.choices)
    zone = serializers.CharField(max_length=40, help_text="the market: a grid zone")
    valid_from = serializers.DateField()
    valid_to = serializers.DateField(help_text="inclusive")
    mwh = serializers.FloatField(min_value=0.001, max_value=1e9)
    kg_per_kwh = serializers.FloatField(
        min_value=0.0, max_value=2.0, help_text="0 for renewable certificates"
    )
    reference = serializers.CharField(max_length=200)
    supplier = serializers.CharField(max_length=200, required=False, default="")


@_schema(InstrumentSerializer, InstrumentInputSerializer, "InstrumentCreated")
class InstrumentListApi(_RowsApi):
    """The organisation's contractual instruments (market-based method); admins and ESG
    officers add one, which rebuilds the market allocation of its market over its validity."""

    model = ContractualInstrument
    write_access = Access.INSTRUMENTS
    serializer_class = InstrumentSerializer
    input_serializer = InstrumentInputSerializer
    ordering = ("valid_from", "id")

    def create(self, request, data: dict) -> tuple[ContractualInstrument, RecalculationJob]:
        organisation = request.principal.organisation
        return instrument_create(organisation=organisation, created_by=request.user, **data)


class InstrumentDetailApi(_RowApi):
    """An instrument; admins and ESG officers delete one that no market-based figure has
    used yet."""

    model = ContractualInstrument
    write_access = Access.INSTRUMENTS
    serializer_class = InstrumentSerializer

    def remove(self, row, actor) -> RecalculationJob:
        return instrument_delete(instrument=row, actor=actor)


# --- Electricity tariffs ------------------------------------------------------------------


class TariffSerializer(serializers.ModelSerializer):
    facility = serializers.CharField(source="location.code", read_only=True)

    class Meta:
        model = ElectricityTariff
        fields = (
            "id",
            "facility",
            "valid_from",
            "valid_to",
            "price_per_kwh",
            "currency",
            "source",
        )


@extend_schema_serializer(component_name="TariffInput")
class TariffInputSerializer(serializers.Serializer):
    facility = serializers.CharField(max_length=80, help_text="the facility's code")
    valid_from = serializers.DateField()
    valid_to = serializers.DateField(help_text="inclusive")
    price_per_kwh = serializers.FloatField(min_value=0.0, max_value=100.0)
    currency = serializers.RegexField(r"^[A-Z]{3}$", help_text="ISO 4217, e.g. EUR")
    source = serializers.CharField(max_length=300, help_text="contract, invoice or supplier")


@_schema(TariffSerializer, TariffInputSerializer, "TariffCreated")
class TariffListApi(_RowsApi):
    """The electricity price per kWh of each facility by period; admins add one, which
    recomputes the energy cost of that facility's records in the open quarters it covers."""

    model = ElectricityTariff
    serializer_class = TariffSerializer
    input_serializer = TariffInputSerializer
    ordering = ("location__code", "valid_from", "id")

    def rows(self):
        return super().rows().select_related("location")

    def create(self, request, data: dict) -> tuple[ElectricityTariff, RecalculationJob]:
        facility = Location.objects.filter(
            organisation=request.principal.organisation, code=data.pop("facility")
        ).first()
        if facility is None:
            raise Http404
        return tariff_create(location=facility, created_by=request.user, **data)


class TariffDetailApi(_RowApi):
    """A tariff; admins delete one that no computed cost has used yet."""

    model = ElectricityTariff
    serializer_class = TariffSerializer

    def remove(self, row, actor) -> RecalculationJob:
        return tariff_delete(tariff=row, actor=actor)


# --- Factor overrides ---------------------------------------------------------------------


class FactorOverrideSerializer(serializers.ModelSerializer):
    class Meta:
        model = FactorOverride
        fields = ("id", "zone", "kind", "valid_from", "valid_to", "kg_per_kwh", "source")


@extend_schema_serializer(component_name="FactorOverrideInput")
class FactorOverrideInputSerializer(serializers.Serializer):
    zone = serializers.CharField(max_length=40)
    kind = serializers.ChoiceField(choices=FactorKind.choices)
    valid_from = serializers.DateField()
    valid_to = serializers.DateField(help_text="inclusive")
    kg_per_kwh = serializers.FloatField(min_value=0.0, max_value=2.0)
    source = serializers.CharField(
        max_length=300, help_text="the cited source (publisher, document, year)"
    )


@_schema(FactorOverrideSerializer, FactorOverrideInputSerializer, "FactorOverrideCreated")
class OverrideListApi(_RowsApi):
    """The organisation's own factors for a zone and period (never another organisation's);
    admins add one, which recomputes the open periods it covers."""

    model = FactorOverride
    serializer_class = FactorOverrideSerializer
    input_serializer = FactorOverrideInputSerializer
    ordering = ("zone", "valid_from", "id")

    def create(self, request, data: dict) -> tuple[FactorOverride, RecalculationJob]:
        organisation = request.principal.organisation
        return factor_override_create(organisation=organisation, created_by=request.user, **data)


class OverrideDetailApi(_RowApi):
    """An override; admins delete one that no computed figure has used yet."""

    model = FactorOverride
    serializer_class = FactorOverrideSerializer

    def remove(self, row, actor) -> RecalculationJob:
        return factor_override_delete(override=row, actor=actor)


# --- Team mapping rules -------------------------------------------------------------------


class MappingRuleSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = TeamMappingRule
        fields = (
            "id",
            "source",
            "key",
            "value",
            "team",
            "model_name",
            "location_code",
            "phase",
            "priority",
            "created_at",
        )


@extend_schema_serializer(component_name="MappingRuleInput")
class MappingRuleInputSerializer(serializers.Serializer):
    source = serializers.ChoiceField(choices=MappingSource.choices, default=MappingSource.ANY)
    key = serializers.CharField(
        max_length=80,
        help_text="what is matched: tag:<name>, label:<name>, account, project, subscription, "
        "resource_group, project_name, experiment_id",
    )
    value = serializers.CharField(max_length=200, help_text="matched exactly; * matches anything")
    team = serializers.SlugField(max_length=60, help_text="the team's slug")
    model_name = serializers.CharField(max_length=160, allow_blank=True, default="")
    location_code = serializers.CharField(
        max_length=80, allow_blank=True, default="", help_text="CodeCarbon runs: where they run"
    )
    phase = serializers.ChoiceField(choices=Phase.choices, allow_blank=True, default="")
    priority = serializers.IntegerField(default=100, help_text="lower wins")


def _rule_fields(organisation, data: dict) -> dict:
    """The input with its team slug turned into the organisation's team."""
    (team,) = teams_by_slug(organisation=organisation, slugs=[data["team"]])
    return {**data, "team": team}


class _MappingRuleApi(_ManagedApi):
    model = TeamMappingRule
    serializer_class = MappingRuleSerializer

    def rows(self):
        return mapping_rule_list(principal=self.request.principal)


class MappingRuleListApi(_MappingRuleApi):
    """The rules that give records naming no team (billing lines, CodeCarbon runs) a team, the
    first match by (priority, id) winning; admins add one. A rule applies to records that
    arrive from then on. A member limited to teams reads its teams' rules."""

    @extend_schema(responses=MappingRuleSerializer(many=True))
    def get(self, request):
        return Response(MappingRuleSerializer(self.rows(), many=True).data)

    @extend_schema(request=MappingRuleInputSerializer, responses={201: MappingRuleSerializer})
    def post(self, request):
        organisation = request.principal.organisation
        data = validated_input(MappingRuleInputSerializer, request.data)
        rule = mapping_rule_create(
            organisation=organisation, actor=request.user, **_rule_fields(organisation, data)
        )
        return Response(MappingRuleSerializer(rule).data, status=status.HTTP_201_CREATED)


class MappingRuleDetailApi(_MappingRuleApi):
    """A mapping rule; admins change it (PATCH: the fields given) or delete it."""

    @extend_schema(responses=MappingRuleSerializer)
    def get(self, request, pk: int):
        return Response(MappingRuleSerializer(self.owned(pk)).data)

    @extend_schema(
        request=MappingRuleInputSerializer(partial=True), responses=MappingRuleSerializer
    )
    def patch(self, request, pk: int):
        rule = self.owned(pk)
        current = {**MappingRuleInputSerializer(rule).data, "team": rule.team.slug}
        data = validated_patch(MappingRuleInputSerializer, current, request.data)
        organisation = request.principal.organisation
        rule = mapping_rule_update(
            rule=rule, actor=request.user, **_rule_fields(organisation, data)
        )
        return Response(MappingRuleSerializer(rule).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        mapping_rule_delete(rule=self.owned(pk), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
