"""Create organisations in a throwaway stack's database (run with its DATABASE_URL).

`python -m tests.hardening.stack_setup <slug>...` prints one JSON line:
{slug: {"organisation_id": ..., "key": <API token with ingest and read>, "username": ...}}.
"""

import json
import os
import sys


def main(slugs: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "greenai_portal.settings")
    import django

    django.setup()
    from django.conf import settings

    # Members are created for every role; PBKDF2 would cost seconds each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from accounts.services import api_token_create
    from tests.conftest import make_tenant

    found = {}
    for slug in slugs:
        tenant = make_tenant(slug)
        _, key = api_token_create(
            organisation=tenant.organisation, name=f"{slug}-stack", scopes=["ingest", "read"]
        )
        found[slug] = {
            "organisation_id": tenant.organisation.id,
            "key": key,
            "username": tenant.members["admin"].user.username,
        }
    print(json.dumps(found))


if __name__ == "__main__":
    main(sys.argv[1:])
