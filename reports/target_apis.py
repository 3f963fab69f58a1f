"""Targets and budgets: API (read: members; write: manage) and the settings page."""

from dataclasses import asdict

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import ReadOrManageApi
from accounts.principal import Access, Principal
from accounts.selectors import team_list, visible_team_or_404
from accounts.views import run_service, settings_context, settings_page, submit_form
from greenai_portal.errors import validated_input
from greenai_portal.openapi import error_responses
from reports.footprint_selectors import REPORTED_SCOPES
from reports.models import Target
from reports.target_services import target_create, target_delete
from reports.targets import target_progress, targets_progress, targets_visible

SCOPE_CHOICES = [(s.key, s.label) for s in REPORTED_SCOPES]


class TargetProgressSerializer(serializers.Serializer):
    target_id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Target.Kind.choices)
    team = serializers.CharField(allow_null=True, help_text="a team's slug; null: organisation")
    scope = serializers.CharField()
    basis = serializers.ChoiceField(choices=Target.Basis.choices)
    unit = serializers.CharField()
    period = serializers.CharField(help_text="2026-Q4 for a budget, 2026 for a reduction")
    period_start = serializers.DateField()
    period_end = serializers.DateField(help_text="exclusive")
    elapsed_days = serializers.IntegerField()
    period_days = serializers.IntegerField()
    used = serializers.FloatField(allow_null=True, help_text="null: not available yet")
    limit = serializers.FloatField(
        allow_null=True, help_text="the budget, or this year's allowance on the trajectory"
    )
    forecast = serializers.FloatField(allow_null=True, help_text="used ÷ elapsed × period days")
    status = serializers.ChoiceField(choices=["on_track", "forecast_over", "over", "not_available"])
    base_year = serializers.IntegerField(allow_null=True)
    target_year = serializers.IntegerField(allow_null=True)
    reduction_pct = serializers.FloatField(allow_null=True)
    base_value = serializers.FloatField(allow_null=True, help_text="the base year's total")
    target_value = serializers.FloatField(allow_null=True, help_text="base × (1 − reduction)")


class TargetInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    kind = serializers.ChoiceField(choices=Target.Kind.choices)
    team = serializers.SlugField(required=False, allow_null=True, default=None)
    scope = serializers.ChoiceField(choices=SCOPE_CHOICES)
    basis = serializers.ChoiceField(choices=Target.Basis.choices)
    base_year = serializers.IntegerField(
        min_value=2000, max_value=2100, required=False, allow_null=True
    )
    target_year = serializers.IntegerField(
        min_value=2000, max_value=2100, required=False, allow_null=True
    )
    reduction_pct = serializers.FloatField(required=False, allow_null=True)
    budget = serializers.FloatField(required=False, allow_null=True, help_text="per quarter")
    webhook_url = serializers.URLField(required=False, default="", allow_blank=True)


def _create(principal: Principal, data: dict, actor) -> Target:
    slug = data.pop("team", None)
    team = None
    if slug:
        team = visible_team_or_404(principal=principal, slug=slug)
    return target_create(organisation=principal.organisation, team=team, actor=actor, **data)


class TargetListApi(ReadOrManageApi, APIView):
    """Targets and budgets with their progress and forecast (a team-limited reader: their
    teams' only). POST (manage) sets one: a reduction from a base year to a target year, or a
    budget per quarter, on one reported scope; the answer carries the webhook's signing
    secret, shown once."""

    class CreatedSerializer(serializers.Serializer):
        progress = TargetProgressSerializer()
        webhook_secret = serializers.CharField(help_text="HMAC-SHA256 key of X-GreenAI-Signature")

    @extend_schema(responses=TargetProgressSerializer(many=True))
    def get(self, request):
        progress = targets_progress(principal=request.principal)
        return Response(TargetProgressSerializer([asdict(p) for p in progress], many=True).data)

    @extend_schema(
        request=TargetInputSerializer,
        responses={201: CreatedSerializer, **error_responses(400, 404)},
    )
    def post(self, request):
        data = validated_input(TargetInputSerializer, request.data)
        target = _create(request.principal, data, request.user)
        body = {
            "progress": asdict(target_progress(target, timezone.now().date())),
            "webhook_secret": target.webhook_secret,
        }
        return Response(self.CreatedSerializer(body).data, status=status.HTTP_201_CREATED)


class TargetDetailApi(ReadOrManageApi, APIView):
    @extend_schema(responses={200: TargetProgressSerializer, **error_responses(404)})
    def get(self, request, pk: int):
        target = self._target(pk)
        return Response(
            TargetProgressSerializer(asdict(target_progress(target, timezone.now().date()))).data
        )

    @extend_schema(responses={204: None, **error_responses(404)})
    def delete(self, request, pk: int):
        target_delete(target=self._target(pk), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _target(self, pk: int) -> Target:
        target = targets_visible(principal=self.request.principal).filter(pk=pk).first()
        if target is None:
            raise Http404("No such target")
        return target


class TargetForm(forms.Form):
    name = forms.CharField(max_length=120, label="Name")
    kind = forms.ChoiceField(choices=Target.Kind.choices, label="Kind")
    team = forms.ChoiceField(choices=(), required=False, label="Team")
    scope = forms.ChoiceField(choices=SCOPE_CHOICES, label="Scope")
    basis = forms.ChoiceField(choices=Target.Basis.choices, label="Basis")
    base_year = forms.IntegerField(
        min_value=2000, max_value=2100, required=False, label="Base year"
    )
    target_year = forms.IntegerField(
        min_value=2000, max_value=2100, required=False, label="Target year"
    )
    reduction_pct = forms.FloatField(required=False, label="Reduction %")
    budget = forms.FloatField(required=False, label="Budget per quarter")
    webhook_url = forms.URLField(required=False, assume_scheme="https", label="Alert webhook URL")

    def __init__(self, *args, principal: Principal, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        teams = team_list(principal=principal).order_by("name")
        self.fields["team"].choices = [
            ("", "whole organisation"),
            *((t.slug, t.name) for t in teams),
        ]


@settings_page()
def targets_page(request: HttpRequest, principal: Principal) -> HttpResponse:
    return render(
        request,
        "dashboard/settings/targets.html",
        settings_context(
            principal,
            "targets",
            targets=targets_visible(principal=principal),
            progress=targets_progress(principal=principal),
            form=TargetForm(principal=principal),
        ),
    )


@require_POST
@settings_page(Access.MANAGE)
def target_create_view(request: HttpRequest, principal: Principal) -> HttpResponse:
    submit_form(
        request,
        TargetForm(request.POST, principal=principal),
        lambda data: f"Target {data['name']} set",
        lambda data: _create(principal, data, request.user),
    )
    return redirect("settings-targets")


@require_POST
@settings_page(Access.MANAGE)
def target_delete_view(request: HttpRequest, principal: Principal, pk: int) -> HttpResponse:
    target = targets_visible(principal=principal).filter(pk=pk).first()
    if target is None:
        raise Http404("No such target")
    run_service(
        request,
        f"Target {target.name} removed",
        lambda: target_delete(target=target, actor=request.user),
    )
    return redirect("settings-targets")
