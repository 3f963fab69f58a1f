from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.views import APIView

from accounts.audit import audit_event_list
from accounts.models import AuditEvent
from accounts.principal import Access
from greenai_portal.errors import ApplicationError, flatten_validation_errors
from greenai_portal.openapi import error_responses


class AuditEventListApi(APIView):
    """The organisation's audit trail of administrative actions, newest first (admins and
    auditors). Append-only: there is no way to change or delete an event."""

    required_access = Access.AUDIT

    class AuditFilterSerializer(serializers.Serializer):
        action = serializers.CharField(required=False, max_length=60, help_text="prefix")
        actor = serializers.CharField(required=False, max_length=160)
        date_from = serializers.DateField(required=False)
        date_to = serializers.DateField(required=False)

    class AuditEventSerializer(serializers.ModelSerializer):
        class Meta:
            model = AuditEvent
            fields = [
                "id",
                "created_at",
                "actor_label",
                "action",
                "target_type",
                "target_id",
                "details",
            ]

    class Pagination(LimitOffsetPagination):
        default_limit = 100
        max_limit = 1000

    @extend_schema(
        parameters=[
            AuditFilterSerializer,
            OpenApiParameter("limit", int, description="events a page (default 100, at most 1000)"),
            OpenApiParameter("offset", int, description="events to skip"),
        ],
        # One page of events, as LimitOffsetPagination shapes it.
        responses={
            200: inline_serializer(
                "AuditEventPage",
                fields={
                    "count": serializers.IntegerField(),
                    "next": serializers.URLField(allow_null=True),
                    "previous": serializers.URLField(allow_null=True),
                    "results": AuditEventSerializer(many=True),
                },
            ),
            **error_responses(400, 401, 403),
        },
        examples=[
            OpenApiExample(
                "A revoked token",
                response_only=True,
                value={
                    "count": 1,
                    "next": None,
                    "previous": None,
                    "results": [
                        {
                            "id": 7,
                            "created_at": "2026-04-02T09:15:00Z",
                            "actor_label": "alice",
                            "action": "token.revoke",
                            "target_type": "ApiToken",
                            "target_id": "12",
                            "details": {"name": "ci", "prefix": "gai_3f9a", "scopes": ["ingest"]},
                        }
                    ],
                },
            )
        ],
    )
    def get(self, request):
        filters = self.AuditFilterSerializer(data=request.query_params)
        if not filters.is_valid():
            raise ApplicationError(
                "Validation failed", errors=flatten_validation_errors(filters.errors)
            )
        events = audit_event_list(
            organisation=request.principal.organisation, **filters.validated_data
        )
        paginator = self.Pagination()
        page = paginator.paginate_queryset(events, request, view=self)
        return paginator.get_paginated_response(self.AuditEventSerializer(page, many=True).data)
