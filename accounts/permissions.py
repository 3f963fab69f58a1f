from rest_framework.permissions import BasePermission

from accounts.principal import Access
from accounts.selectors import principal_for_request


class IsOrganisationMember(BasePermission):
    """The caller belongs to an organisation and has the access the view declares.

    Views set `required_access` (default read); the principal lands on `request.principal`.
    """

    message = "Your role or token scopes do not allow this action"

    def has_permission(self, request, view) -> bool:
        principal = principal_for_request(request)
        if principal is None:
            return False
        request.principal = principal
        return principal.can(getattr(view, "required_access", Access.READ))
