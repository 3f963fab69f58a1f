"""OpenAPI description of the token scheme (loaded by AccountsConfig.ready)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiTokenAuthentication"
    name = "ApiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`; create keys in Settings → API tokens or with "
            "`manage.py create_api_token`. Scopes: ingest (send records and uploads, and "
            "poll the imports this token uploaded), read (footprint, reports, settings), "
            "manage (write teams, members, mapping rules, facilities, instruments, factor "
            "overrides, recalculations; only an admin creates it, never for one team). "
            "Every write is in the audit trail (/api/v1/audit-events/).",
        }


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.BearerTokenAuthentication"
    name = "BearerToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A portal API token as `Bearer <key>` (what OpenTelemetry "
            "exporters send with `headers={'Authorization': 'Bearer <key>'}`); the same "
            "tokens and scopes as `Token <key>`.",
        }
