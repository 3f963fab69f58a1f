"""The portal's own error pages for people, whatever DJANGO_DEBUG says.

Under DEBUG (the bare-machine default) Django answers a 404 with its technical page, which
lists every URL pattern, and a refused method (405) with an empty body. A person opening a
page they may not see, or following an old link, gets the portal's page instead. The API
keeps its JSON errors (greenai_portal.exception_handler).
"""

from collections.abc import Callable

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from greenai_portal.exception_handler import not_found


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def method_not_allowed(request: HttpRequest, refused: HttpResponse) -> HttpResponse:
    """The 405 page, keeping the Allow header that names the methods the page takes."""
    response = render(
        request,
        "405.html",
        {"method": request.method, "allowed": refused.get("Allow", "")},
        status=405,
    )
    response["Allow"] = refused.get("Allow", "")
    return response


class ErrorPagesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # No route matched: under DEBUG Django drew its technical page listing every pattern
        # (not_found answers the API's JSON under /api/).
        if response.status_code == 404 and settings.DEBUG and request.resolver_match is None:
            return not_found(request, Http404())
        if response.status_code == 405 and not response.content and not _is_api(request):
            return method_not_allowed(request, response)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A page's own 404 (another team's page, another organisation's object)."""
        if isinstance(exception, Http404) and settings.DEBUG and not _is_api(request):
            return not_found(request, exception)
        return None
