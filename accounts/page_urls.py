"""Pages of people and access: signing in and out, and the settings of the organisation, teams,
members and API tokens."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts import views

settings_pages = [
    path("teams/", views.teams_page, name="settings-teams"),
    path("teams/create/", views.team_create_view, name="settings-team-create"),
    path("time-zone/", views.time_zone_set_view, name="settings-time-zone"),
    path("fiscal-year/", views.fiscal_year_set_view, name="settings-fiscal-year"),
    path("reporting/", views.reporting_set_view, name="settings-reporting"),
    path("members/add/", views.member_create_view, name="settings-member-create"),
    path("members/<int:pk>/", views.member_update_view, name="settings-member-update"),
    path("members/<int:pk>/remove/", views.member_remove_view, name="settings-member-remove"),
    path("tokens/", views.tokens_page, name="settings-tokens"),
    path("audit/", views.audit_page, name="settings-audit"),
    path("tokens/create/", views.token_create_view, name="settings-token-create"),
    path("tokens/<int:pk>/revoke/", views.token_revoke_view, name="settings-token-revoke"),
]

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("settings/", include(settings_pages)),
]
