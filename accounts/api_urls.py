"""The API for people and access (under /api/v1/): audit trail, teams, members, API tokens."""

from django.urls import path

from accounts.apis import (
    ApiTokenDetailApi,
    ApiTokenListApi,
    AuditEventListApi,
    MemberDetailApi,
    MemberListApi,
    OrganisationDetailApi,
    OrganisationReportingApi,
    TeamDetailApi,
    TeamListApi,
)

urlpatterns = [
    path("audit-events/", AuditEventListApi.as_view(), name="audit-events"),
    path("organisation/", OrganisationDetailApi.as_view(), name="organisation-detail"),
    path(
        "organisation/reporting/",
        OrganisationReportingApi.as_view(),
        name="organisation-reporting",
    ),
    path("teams/", TeamListApi.as_view(), name="team-list"),
    path("teams/<int:pk>/", TeamDetailApi.as_view(), name="team-detail"),
    path("members/", MemberListApi.as_view(), name="member-list"),
    path("members/<int:pk>/", MemberDetailApi.as_view(), name="member-detail"),
    path("tokens/", ApiTokenListApi.as_view(), name="token-list"),
    path("tokens/<int:pk>/", ApiTokenDetailApi.as_view(), name="token-detail"),
]
