"""Locking a quarter in tests as the product does: two people close it.

There is no one-step lock API: `client` prepares the close (POST .../closes/prepare/), a
second person of its organisation with lock access approves it (the admin, or the ESG officer
when the admin prepared), which locks the quarter.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from accounts.models import Membership, Role

CLOSES = "/api/v1/reports/scope2/closes/"


@dataclass
class Locked:
    """The approved close's outcome: 201 and the version locked (as the versions API lists
    it), or the refusal of the step that failed."""

    status_code: int
    body: dict

    def json(self) -> dict:
        return self.body

    @property
    def content(self) -> bytes:
        return repr(self.body).encode()


def _second_person(preparer_id: int) -> APIClient:
    membership = Membership.objects.select_related("organisation").get(user_id=preparer_id)
    role = Role.ESG_OFFICER if membership.role == Role.ADMIN else Role.ADMIN
    approver = (
        Membership.objects.filter(organisation=membership.organisation, role=role)
        .exclude(user_id=preparer_id)
        .select_related("user")
        .first()
    )
    client = APIClient()
    client.force_login(approver.user if approver else get_user_model()())
    return client


def close_quarter(client, *, year: int = 2026, quarter: int = 1, reason: str = "") -> Locked:
    """Prepare the quarter's close as `client`, approve it as a second person."""
    period = {"year": year, "quarter": quarter}
    prepared = client.post(
        CLOSES + "prepare/", {**period, "note": "checked", "reason": reason}, format="json"
    )
    if prepared.status_code != 201:
        return Locked(prepared.status_code, prepared.json())
    preparer_id = int(client.session["_auth_user_id"])
    approved = _second_person(preparer_id).post(CLOSES + "approve/", period, format="json")
    if approved.status_code != 200:
        return Locked(approved.status_code, approved.json())
    versions = client.get("/api/v1/reports/scope2/versions/", period).json()
    return Locked(201, versions[-1])
