"""How CodeCarbon's clients present a portal API token, and its OpenAPI description."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication

from accounts.authentication import TokenUser, token_authenticate


class CodeCarbonKeyAuthentication(BaseAuthentication):
    """CodeCarbon's HTTP output sends no header: the portal token is in the URL
    (`/codecarbon/emissions/<key>/`) or its query (`?key=`). Its API client sends the token in
    `x-api-token`. Both are the portal's own API tokens (scope ingest)."""

    def authenticate(self, request):
        kwargs = (request.parser_context or {}).get("kwargs", {})
        key = (
            request.META.get("HTTP_X_API_TOKEN")
            or kwargs.get("key")
            or request.query_params.get("key")
        )
        if not key:
            return None
        token = token_authenticate(key)
        return TokenUser(token), token

    def authenticate_header(self, request) -> str:
        return "x-api-token"


class CodeCarbonKeyScheme(OpenApiAuthenticationExtension):
    target_class = "inventory.ingestion.authentication.CodeCarbonKeyAuthentication"
    name = "CodeCarbonKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "x-api-token",
            "description": "A portal API token (scope ingest), as CodeCarbon's API client sends "
            "it. CodeCarbon's HTTP output sends no header: put the token in the URL "
            "(`/api/v1/codecarbon/emissions/<token>/`) or in `?key=`.",
        }
