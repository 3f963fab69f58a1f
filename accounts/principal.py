"""Who is asking, for which organisation, with what rights: one shape for users and tokens."""

from dataclasses import dataclass

from accounts.models import ApiToken, Organisation, Role, Scope


class Access:
    READ = "read"
    INGEST = "ingest"
    LOCK = "lock"
    MANAGE = "manage"
    AUDIT = "audit"  # read the audit trail of administrative actions


ROLE_ACCESS: dict[str, frozenset[str]] = {
    Role.ADMIN: frozenset({Access.READ, Access.INGEST, Access.LOCK, Access.MANAGE, Access.AUDIT}),
    Role.ESG_OFFICER: frozenset({Access.READ, Access.LOCK}),
    Role.ENGINEER: frozenset({Access.READ, Access.INGEST}),
    # Auditors check the controls: who changed tokens, factors, instruments and locks, and when.
    Role.AUDITOR: frozenset({Access.READ, Access.AUDIT}),
}

SCOPE_ACCESS: dict[str, str] = {
    Scope.READ: Access.READ,
    Scope.INGEST: Access.INGEST,
    Scope.MANAGE: Access.MANAGE,
}


@dataclass(frozen=True)
class Principal:
    organisation: Organisation
    access: frozenset[str]
    # None: every team of the organisation; otherwise only these team ids.
    team_ids: frozenset[int] | None
    role: str | None = None
    token: ApiToken | None = None

    def can(self, access: str) -> bool:
        return access in self.access

    @property
    def sees_audit_trail(self) -> bool:
        return Access.AUDIT in self.access

    def sees_team(self, team_id: int) -> bool:
        return self.team_ids is None or team_id in self.team_ids


def principal_for_token(token: ApiToken) -> Principal:
    return Principal(
        organisation=token.organisation,
        access=frozenset(SCOPE_ACCESS[s] for s in token.scopes if s in SCOPE_ACCESS),
        team_ids=None if token.team_id is None else frozenset({token.team_id}),
        token=token,
    )


def principal_for_membership(membership) -> Principal:
    team_ids = None
    if membership.role == Role.ENGINEER:
        limited = frozenset(membership.teams.values_list("id", flat=True))
        team_ids = limited or None
    return Principal(
        organisation=membership.organisation,
        access=ROLE_ACCESS[membership.role],
        team_ids=team_ids,
        role=membership.role,
    )
