"""Facilities over the API: the facility and its PUE, its WUE and electricity tariffs by
period, and its yearly indicators (inventory.managed_row_apis says who reads and writes)."""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.principal import Access
from greenai_portal.errors import validated_input
from inventory.facility_services import (
    facility_create,
    facility_pue_update,
    facility_wue_create,
    facility_wue_delete,
    tariff_create,
    tariff_delete,
)
from inventory.managed_row_apis import (
    ManagedApi,
    RowApi,
    RowsApi,
    recalculation_answer,
    rows_schema,
    with_recalculation,
)
from inventory.models import ElectricityTariff, FacilityWue, Location, RecalculationJob
from inventory.selectors import facility_indicators_for_year

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


@rows_schema(FacilitySerializer, FacilityInputSerializer, "FacilityCreated")
class FacilityListApi(RowsApi):
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


class FacilityDetailApi(ManagedApi):
    """A facility; admins change its PUE, which recomputes its records in open periods."""

    model = Location
    serializer_class = FacilitySerializer

    def get(self, request, pk: int):
        return Response(FacilitySerializer(self.owned(pk)).data)

    @extend_schema(
        request=FacilityPueInputSerializer,
        responses=with_recalculation(FacilitySerializer, "FacilityPueChange"),
    )
    def patch(self, request, pk: int):
        facility = self.owned(pk)
        data = validated_input(FacilityPueInputSerializer, request.data)
        job = facility_pue_update(location=facility, actor=request.user, **data)
        return recalculation_answer(FacilitySerializer(facility).data, job)


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


@rows_schema(FacilityWueSerializer, FacilityWueInputSerializer, "FacilityWueCreated")
class FacilityWueListApi(RowsApi):
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


class FacilityWueDetailApi(RowApi):
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


@rows_schema(TariffSerializer, TariffInputSerializer, "TariffCreated")
class TariffListApi(RowsApi):
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


class TariffDetailApi(RowApi):
    """A tariff; admins delete one that no computed cost has used yet."""

    model = ElectricityTariff
    serializer_class = TariffSerializer

    def remove(self, row, actor) -> RecalculationJob:
        return tariff_delete(tariff=row, actor=actor)
