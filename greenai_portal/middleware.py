"""What every request and answer goes through before and after the views: addresses no view
can read are refused, and every answer carries a Content-Security-Policy and, when fetched with
credentials, Cache-Control: private, no-store (pages, CSV/XLSX/PDF downloads, API answers), so
that no shared cache or back button keeps an organisation's figures."""

import secrets
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.cache import patch_cache_control


def content_security_policy(nonce: str) -> str:
    """Scripts only from the app itself (plotly.js is self-hosted) or inline with this nonce."""
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            # plotly.js writes its own <style> rules and positions hover labels with style
            # attributes; styles cannot run code.
            "style-src 'self' 'unsafe-inline'",
            # plotly.js's "download as PNG" draws the chart through a data: or blob: image.
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def _with_credentials(request: HttpRequest) -> bool:
    # Read from the request as sent: asking request.user would query the session table, which
    # may be the very thing that is down.
    return (
        request.path.startswith("/api/")
        or "HTTP_AUTHORIZATION" in request.META
        or settings.SESSION_COOKIE_NAME in request.COOKIES
    )


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.csp_nonce = secrets.token_urlsafe(16)  # templates: <script nonce="...">
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", content_security_policy(request.csp_nonce))
        if _with_credentials(request):
            patch_cache_control(response, private=True, no_store=True)
        return response


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
