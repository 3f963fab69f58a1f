from django.contrib import admin

from accounts.audit import audit_record
from accounts.models import ApiToken, AuditEvent, Membership, Organisation, Team


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never changed: append-only or immutable records (audit events, locked reports)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class AuditedAdmin(admin.ModelAdmin):
    """Writes through the Django admin (operators) enter the organisation's audit trail too."""

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        self._audit(request, obj, "change" if change else "add", sorted(form.changed_data))

    def delete_model(self, request, obj) -> None:
        self._audit(request, obj, "delete", [])
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset:
            self._audit(request, obj, "delete", [])
        super().delete_queryset(request, queryset)

    def _audit(self, request, obj, verb: str, fields: list[str]) -> None:
        audit_record(
            organisation=obj.organisation,
            action=f"admin.{obj._meta.model_name}.{verb}",
            target=obj,
            actor=request.user,
            details={"fields": fields, "object": str(obj)},
        )


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "factor_basis", "time_zone", "created_at")


@admin.register(Team)
class TeamAdmin(AuditedAdmin):
    list_display = ("name", "organisation", "slug")
    list_filter = ("organisation",)


@admin.register(Membership)
class MembershipAdmin(AuditedAdmin):
    list_display = ("user", "organisation", "role")
    list_filter = ("organisation", "role")


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdmin):
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
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "organisation",
        "actor_label",
        "action",
        "target_type",
        "target_id",
    )
    list_filter = ("organisation", "action")
