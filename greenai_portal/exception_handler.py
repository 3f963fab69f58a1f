"""The DRF exception handler: every error, ours or DRF's, as {message, errors?}."""

import sys
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.views.defaults import page_not_found, server_error
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from greenai_portal.errors import ApplicationError, flatten_validation_errors
from greenai_portal.parsers import too_large


def _body(message: str, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message}
    if errors:
        body["errors"] = errors
    return body


# A lost database (restart, failover, network) is a temporary condition: say so with a 503
# and when to retry, rather than a bare 500. The failed request's transaction rolled back, so
# nothing of it is stored and a retry (ingestion is idempotent by external_id) is safe.
DATABASE_RETRY_AFTER_SECONDS = 5
DATABASE_UNAVAILABLE = "The database is unavailable; nothing was stored. Retry shortly."
_RETRY = {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, OperationalError | InterfaceError):
        return Response(_body(DATABASE_UNAVAILABLE), status=503, headers=_RETRY)
    if isinstance(exc, RequestDataTooBig):
        exc = too_large()
    if isinstance(exc, ApplicationError):
        return Response(_body(exc.message, exc.errors), status=exc.status_code, headers=exc.headers)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = _body("Validation failed", flatten_validation_errors(exc.detail))
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = _body(str(response.data["detail"]))
    return response


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: a URL that matches no route answers in the API's JSON shape under /api/
    (a client parses it like every other error), and the HTML page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(_body("Not found"), status=404)
    return page_not_found(request, exception)


def unavailable_or_server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a lost database (on connect, in a middleware's session lookup or in a view)
    is a 503 with Retry-After, as the API's handler says; any other error stays a 500."""
    if not isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        return server_error(request)
    if request.path.startswith("/api/"):
        return JsonResponse(_body(DATABASE_UNAVAILABLE), status=503, headers=_RETRY)
    # Rendered without the request: its context processors would ask the database again.
    page = loader.render_to_string("503.html", {"retry_after": DATABASE_RETRY_AFTER_SECONDS})
    return HttpResponse(page, status=503, headers=_RETRY)
