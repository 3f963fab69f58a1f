"""Contractual instruments over the API (inventory.managed_row_apis says who reads and
writes)."""

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from accounts.principal import Access
from inventory.instrument_services import instrument_create, instrument_delete
from inventory.managed_row_apis import RowApi, RowsApi, rows_schema
from inventory.models import ContractualInstrument, InstrumentKind, RecalculationJob


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


@rows_schema(InstrumentSerializer, InstrumentInputSerializer, "InstrumentCreated")
class InstrumentListApi(RowsApi):
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


class InstrumentDetailApi(RowApi):
    """An instrument; admins and ESG officers delete one that no market-based figure has
    used yet."""

    model = ContractualInstrument
    write_access = Access.INSTRUMENTS
    serializer_class = InstrumentSerializer

    def remove(self, row, actor) -> RecalculationJob:
        return instrument_delete(instrument=row, actor=actor)
