from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.audit import audit_event_list
from accounts.models import ApiToken, AuditEvent, Membership, Organisation, Role, Scope, Team
from accounts.permissions import ReadOrManageApi
from accounts.principal import Access, Principal
from accounts.selectors import api_token_list, team_list, teams_by_slug
from accounts.services import (
    api_token_create,
    api_token_revoke,
    member_create,
    member_remove,
    member_update,
    organisation_fiscal_year_set,
    organisation_reporting_set,
    team_add,
    team_delete,
    team_update,
)
from greenai_portal.errors import (
    ApplicationError,
    flatten_validation_errors,
    validated_input,
    validated_patch,
)
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


# --- Teams and members: what the settings pages set, over the API -------------------------


def _one(rows: QuerySet, pk: int):
    """The row of `rows` (what the caller may see) with this pk, or 404."""
    row = rows.filter(pk=pk).first()
    if row is None:
        raise Http404
    return row


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ("id", "slug", "name", "created_at")


@extend_schema_serializer(component_name="TeamInput")
class TeamInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    slug = serializers.SlugField(
        max_length=60,
        required=False,
        default="",
        allow_blank=True,
        help_text="how records and URLs name the team; the name's slug when not given",
    )


class TeamListApi(ReadOrManageApi, APIView):
    """The organisation's teams (a team-limited caller sees its own); admins add one."""

    @extend_schema(responses=TeamSerializer(many=True))
    def get(self, request):
        teams = team_list(principal=request.principal).order_by("name")
        return Response(TeamSerializer(teams, many=True).data)

    @extend_schema(request=TeamInputSerializer, responses={201: TeamSerializer})
    def post(self, request):
        data = validated_input(TeamInputSerializer, request.data)
        team = team_add(organisation=request.principal.organisation, actor=request.user, **data)
        return Response(TeamSerializer(team).data, status=status.HTTP_201_CREATED)


class TeamDetailApi(ReadOrManageApi, APIView):
    """A team; admins rename it (name, slug) or delete one that no record, member or active
    token depends on (409 otherwise)."""

    def team(self, request, pk: int) -> Team:
        return _one(team_list(principal=request.principal), pk)

    @extend_schema(responses=TeamSerializer)
    def get(self, request, pk: int):
        return Response(TeamSerializer(self.team(request, pk)).data)

    @extend_schema(request=TeamInputSerializer(partial=True), responses=TeamSerializer)
    def patch(self, request, pk: int):
        team = self.team(request, pk)
        current = {"name": team.name, "slug": team.slug}
        data = validated_patch(TeamInputSerializer, current, request.data)
        team = team_update(team=team, actor=request.user, **data)
        return Response(TeamSerializer(team).data)

    @extend_schema(
        responses={
            204: None,
            **error_responses(409, m409="Records, members or active tokens depend on the team"),
        }
    )
    def delete(self, request, pk: int):
        team_delete(team=self.team(request, pk), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")
    email = serializers.CharField(source="user.email", help_text="may be empty")
    teams = serializers.SlugRelatedField(
        slug_field="slug",
        many=True,
        read_only=True,
        help_text="the teams an engineer is limited to; empty: every team",
    )

    class Meta:
        model = Membership
        fields = ("id", "username", "email", "role", "teams", "created_at")


@extend_schema_serializer(component_name="MemberInput")
class MemberInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    email = serializers.EmailField(required=False, default="", allow_blank=True)
    password = serializers.CharField(
        min_length=8, write_only=True, trim_whitespace=False, help_text="the initial password"
    )
    role = serializers.ChoiceField(choices=Role.choices)
    teams = serializers.ListField(
        child=serializers.SlugField(max_length=60),
        default=list,
        help_text="team slugs an engineer is limited to (ignored for other roles); empty: all",
    )


@extend_schema_serializer(component_name="MemberUpdateInput")
class MemberUpdateInputSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)
    teams = serializers.ListField(child=serializers.SlugField(max_length=60), default=list)


def _members(principal: Principal):
    """The organisation's members; a team-limited caller sees none (as on the teams page)."""
    members = principal.visible(Membership.objects.all(), team=None)
    return members.select_related("user").prefetch_related("teams").order_by("user__username")


def _teams(principal: Principal, data: dict) -> dict:
    slugs = data["teams"]
    return {**data, "teams": teams_by_slug(organisation=principal.organisation, slugs=slugs)}


class MemberListApi(ReadOrManageApi, APIView):
    """The organisation's members and roles; admins add a new login with a role (and, for an
    engineer, the teams they are limited to). A username already taken is refused."""

    @extend_schema(responses=MemberSerializer(many=True))
    def get(self, request):
        return Response(MemberSerializer(_members(request.principal), many=True).data)

    @extend_schema(request=MemberInputSerializer, responses={201: MemberSerializer})
    def post(self, request):
        principal = request.principal
        data = _teams(principal, validated_input(MemberInputSerializer, request.data))
        membership = member_create(organisation=principal.organisation, actor=request.user, **data)
        return Response(MemberSerializer(membership).data, status=status.HTTP_201_CREATED)


class MemberDetailApi(ReadOrManageApi, APIView):
    """A member; admins change their role and team limits (PATCH: the fields given) or remove
    them from the organisation. The last admin can be neither demoted nor removed (400)."""

    def member(self, request, pk: int) -> Membership:
        return _one(_members(request.principal), pk)

    @extend_schema(responses=MemberSerializer)
    def get(self, request, pk: int):
        return Response(MemberSerializer(self.member(request, pk)).data)

    @extend_schema(request=MemberUpdateInputSerializer(partial=True), responses=MemberSerializer)
    def patch(self, request, pk: int):
        membership = self.member(request, pk)
        current = {"role": membership.role, "teams": [t.slug for t in membership.teams.all()]}
        data = validated_patch(MemberUpdateInputSerializer, current, request.data)
        data = _teams(request.principal, data)
        membership = member_update(membership=membership, actor=request.user, **data)
        return Response(MemberSerializer(membership).data)

    @extend_schema(
        responses={204: None, **error_responses(400, m400="The organisation's last admin")}
    )
    def delete(self, request, pk: int):
        member_remove(membership=self.member(request, pk), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- API tokens -----------------------------------------------------------------------------


class ApiTokenSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, help_text="the team it is limited to; null: all"
    )

    class Meta:
        model = ApiToken
        fields = (
            "id",
            "name",
            "prefix",
            "scopes",
            "team",
            "created_at",
            "last_used_at",
            "revoked_at",
        )


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    key = serializers.CharField(help_text="the secret key: shown this once, never stored")

    class Meta(ApiTokenSerializer.Meta):
        fields = (*ApiTokenSerializer.Meta.fields, "key")


@extend_schema_serializer(component_name="ApiTokenInput")
class ApiTokenInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, help_text="where it is used")
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=Scope.choices),
        min_length=1,
        help_text="manage only when an admin creates it, and never with a team",
    )
    team = serializers.SlugField(
        max_length=60, required=False, allow_null=True, default=None, help_text="limit to a team"
    )


class ApiTokenListApi(APIView):
    """The organisation's API tokens (admins, and tokens with manage); a new one answers with
    its key, once. Only an admin creates a token with the manage scope."""

    required_access = Access.MANAGE

    @extend_schema(responses=ApiTokenSerializer(many=True))
    def get(self, request):
        tokens = api_token_list(organisation=request.principal.organisation)
        return Response(
            ApiTokenSerializer(tokens.order_by("revoked_at", "-created_at"), many=True).data
        )

    @extend_schema(request=ApiTokenInputSerializer, responses={201: ApiTokenCreatedSerializer})
    def post(self, request):
        organisation = request.principal.organisation
        data = validated_input(ApiTokenInputSerializer, request.data)
        slugs = [data["team"]] if data["team"] else []
        teams = teams_by_slug(organisation=organisation, slugs=slugs)
        token, key = api_token_create(
            organisation=organisation,
            name=data["name"],
            scopes=data["scopes"],
            team=teams[0] if teams else None,
            created_by=request.user,
        )
        token.key = key
        return Response(ApiTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)


class ApiTokenDetailApi(APIView):
    """A token; DELETE revokes it (it stops authenticating at once; the row stays, for the
    audit trail)."""

    required_access = Access.MANAGE

    def token(self, request, pk: int) -> ApiToken:
        return _one(api_token_list(organisation=request.principal.organisation), pk)

    @extend_schema(responses=ApiTokenSerializer)
    def get(self, request, pk: int):
        return Response(ApiTokenSerializer(self.token(request, pk)).data)

    @extend_schema(responses=ApiTokenSerializer)
    def delete(self, request, pk: int):
        token = api_token_revoke(token=self.token(request, pk), actor=request.user)
        return Response(ApiTokenSerializer(token).data)


class OrganisationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = (
            "id",
            "name",
            "slug",
            "factor_basis",
            "time_zone",
            "fiscal_year_start_month",
            "base_fiscal_year",
        )
        read_only_fields = fields


class OrganisationFiscalYearInputSerializer(serializers.Serializer):
    fiscal_year_start_month = serializers.IntegerField(
        min_value=1,
        max_value=12,
        help_text="the month fiscal years start in: 1, 4, 7 or 10 (whole calendar quarters)",
    )
    base_fiscal_year = serializers.IntegerField(
        allow_null=True,
        help_text="the base year, named by the calendar year it starts in; null for none",
    )


class OrganisationDetailApi(ReadOrManageApi, APIView):
    """The caller's organisation; admins (or a manage token) set its fiscal year's start month
    and its base year (audited)."""

    @extend_schema(responses=OrganisationSerializer)
    def get(self, request):
        return Response(OrganisationSerializer(request.principal.organisation).data)

    @extend_schema(
        request=OrganisationFiscalYearInputSerializer(partial=True),
        responses={200: OrganisationSerializer, **error_responses(400)},
    )
    def patch(self, request):
        organisation = request.principal.organisation
        current = {
            "fiscal_year_start_month": organisation.fiscal_year_start_month,
            "base_fiscal_year": organisation.base_fiscal_year,
        }
        data = validated_patch(OrganisationFiscalYearInputSerializer, current, request.data)
        organisation = organisation_fiscal_year_set(
            organisation=organisation,
            start_month=data["fiscal_year_start_month"],
            base_year=data["base_fiscal_year"],
            actor=request.user,
        )
        return Response(OrganisationSerializer(organisation).data)


class OrganisationReportingApi(ReadOrManageApi, APIView):
    """What the inventory covers, printed on the audit PDF's cover: the organisational
    boundary, the consolidation approach (GHG Protocol Corporate Standard, chapter 3) and the
    exclusions with their reasons. Members read it; admins and manage tokens change it."""

    @extend_schema_serializer(component_name="OrganisationReporting")
    class OutputSerializer(serializers.ModelSerializer):
        class Meta:
            model = Organisation
            fields = ("reporting_boundary", "consolidation_approach", "reporting_exclusions")

    @extend_schema_serializer(component_name="OrganisationReportingInput")
    class InputSerializer(serializers.Serializer):
        reporting_boundary = serializers.CharField(
            max_length=2000,
            allow_blank=True,
            trim_whitespace=False,
            help_text="the entities and facilities the inventory covers; empty: not stated",
        )
        consolidation_approach = serializers.ChoiceField(
            choices=Organisation.Consolidation.choices, allow_blank=True
        )
        reporting_exclusions = serializers.CharField(
            max_length=4000,
            allow_blank=True,
            trim_whitespace=False,
            help_text="what is left out of the inventory and why, one exclusion a line",
        )

    @extend_schema(operation_id="organisation_reporting_retrieve", responses=OutputSerializer)
    def get(self, request):
        return Response(self.OutputSerializer(request.principal.organisation).data)

    @extend_schema(
        operation_id="organisation_reporting_update",
        request=InputSerializer(partial=True),
        responses=OutputSerializer,
    )
    def patch(self, request):
        organisation = request.principal.organisation
        current = self.OutputSerializer(organisation).data
        data = validated_patch(self.InputSerializer, current, request.data)
        organisation = organisation_reporting_set(
            organisation=organisation, actor=request.user, **data
        )
        return Response(self.OutputSerializer(organisation).data)
