from django.conf import settings
from rest_framework import authentication, exceptions

from accounts import tokens
from accounts.models import ApiToken
from accounts.selectors import api_token_by_prefix
from accounts.services import api_token_touch


class TokenUser:
    """The request.user of a token call: authenticated, but not a person."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None
    username = ""

    def __init__(self, token: ApiToken) -> None:
        self.token = token

    def __str__(self) -> str:
        return f"token:{self.token.prefix}"


def token_authenticate(key: str) -> ApiToken:
    prefix = tokens.prefix_of(key)
    token = api_token_by_prefix(prefix=prefix) if prefix else None
    if token is None or not tokens.key_matches(key, token.key_hash) or not token.is_active:
        raise exceptions.AuthenticationFailed("Invalid or revoked API token")
    api_token_touch(token=token, min_interval_s=settings.GREENAI_TOKEN_TOUCH_SECONDS)
    return token


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <key>`."""

    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                f"Authorization header must be '{self.keyword} <key>'"
            )
        token = token_authenticate(header[1].decode("latin-1"))
        return TokenUser(token), token

    def authenticate_header(self, request) -> str:
        return self.keyword


class BearerTokenAuthentication(ApiTokenAuthentication):
    """`Authorization: Bearer <key>`: the same portal API tokens, in the form OpenTelemetry
    exporters and most HTTP clients are configured with."""

    keyword = "Bearer"
