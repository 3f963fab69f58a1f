"""What the APIs of the rows an organisation manages (facilities, their WUE and tariffs,
instruments, factor overrides, mapping rules) share. Members read them; admins (and tokens with
the manage scope) write them, through the same services as the settings pages, so each write is
audited and queues the recalculation of exactly the open periods it affects. A write that moves
figures answers with that recalculation (null when nothing moved), whose progress is at
/api/v1/recalculations/<id>/.
"""

from django.db.models import Model
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import ReadOrManageApi
from greenai_portal.errors import validated_input
from inventory.models import RecalculationJob
from inventory.pipeline.apis import RecalculationOutputSerializer


def _recalculation_field() -> RecalculationOutputSerializer:
    return RecalculationOutputSerializer(
        allow_null=True, help_text="The recalculation this change queued (null: nothing moved)"
    )


class RecalculationQueuedSerializer(serializers.Serializer):
    recalculation = _recalculation_field()


def with_recalculation(serializer_class, name: str) -> type[serializers.Serializer]:
    """`serializer_class`'s fields plus the recalculation the write queued (for the schema)."""

    class Meta(serializer_class.Meta):
        fields = (*serializer_class.Meta.fields, "recalculation")

    return type(name, (serializer_class,), {"Meta": Meta, "recalculation": _recalculation_field()})


def recalculation_answer(
    data: dict, job: RecalculationJob | None, code: int = status.HTTP_200_OK
) -> Response:
    if job is not None:
        job.refresh_from_db()  # eager Celery may have run it already
    recalculation = RecalculationOutputSerializer(job).data if job else None
    return Response({**data, "recalculation": recalculation}, status=code)


class ManagedApi(ReadOrManageApi, APIView):
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


class RowsApi(ManagedApi):
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
        return recalculation_answer(self.serializer_class(row).data, job, status.HTTP_201_CREATED)


class RowApi(ManagedApi):
    """GET one row; DELETE it through `remove`."""

    def remove(self, row, actor) -> RecalculationJob:
        raise NotImplementedError

    def get(self, request, pk: int):
        return Response(self.serializer_class(self.owned(pk)).data)

    @extend_schema(responses={200: RecalculationQueuedSerializer})
    def delete(self, request, pk: int):
        return recalculation_answer({}, self.remove(self.owned(pk), request.user))


def rows_schema(serializer_class, input_serializer, created: str):
    """The list/create operations' schema: the rows, the input, the created row."""
    return extend_schema_view(
        get=extend_schema(responses=serializer_class(many=True)),
        post=extend_schema(
            request=input_serializer,
            responses={201: with_recalculation(serializer_class, created)},
        ),
    )
