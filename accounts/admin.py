from django.contrib import admin

from accounts.models import ApiToken, AuditEvent, Membership, Organisation, Team


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "factor_basis", "created_at")


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "organisation", "slug")
    list_filter = ("organisation",)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "organisation", "role")
    list_filter = ("organisation", "role")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "organisation",
        "team",
        "prefix",
        "scopes",
        "last_used_at",
        "revoked_at",
    )
    # The hash is not a secret to hide, but no one needs to edit it.
    readonly_fields = ("prefix", "key_hash", "last_used_at", "created_at")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "organisation",
        "actor_label",
        "action",
        "target_type",
        "target_id",
    )
    list_filter = ("organisation", "action")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
