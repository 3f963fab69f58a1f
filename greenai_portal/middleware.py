"""Requests refused before any view reads them."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

NUL_REFUSED = "The address may not contain a NUL character (%00)"


def refuse_nul_in_address(get_response: Callable[[HttpRequest], HttpResponse]):
    """A NUL in the path or query string is a 400: Postgres stores no NUL in text, so a view
    filtering on it (a search box's ?q=%00) would fail with a 500; no address needs one."""

    def middleware(request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "%00" in query or "\x00" in query:
            if request.path.startswith("/api/"):
                return JsonResponse({"message": NUL_REFUSED}, status=400)
            return HttpResponseBadRequest(NUL_REFUSED)
        return get_response(request)

    return middleware
