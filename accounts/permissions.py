from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.principal import Access
from accounts.selectors import principal_for_request


class IsOrganisationMember(BasePermission):
    """The caller belongs to an organisation and has the access the view declares.

    Views set `required_access` (default read), or a tuple of accesses any one of which will
    do (the view then narrows what each may see); the principal lands on `request.principal`.
    """

    message = "Your role or token scopes do not allow this action"

    def has_permission(self, request, view) -> bool:
        principal = principal_for_request(request)
        if principal is None:
            return False
        request.principal = principal
        required = getattr(view, "required_access", Access.READ)
        if isinstance(required, tuple):
            return any(principal.can(access) for access in required)
        return principal.can(required)


class ReadOrManageApi:
    """An APIView mixin for settings: members read them, writes need `write_access`: manage
    (admins and tokens with the manage scope) unless a view names another."""

    write_access = Access.MANAGE

    def get_permissions(self):
        read = self.request.method in SAFE_METHODS
        self.required_access = Access.READ if read else self.write_access
        return super().get_permissions()
