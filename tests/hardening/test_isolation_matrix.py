"""Isolation matrix: every endpoint and page × every caller → one declared status.

Routes come from the URL resolver at run time. Each must have a row in EXPECTATIONS (a new
route fails the test until its access rules are written down here). Callers are each role of
the organisation that owns the objects named in the URL ("same"), the same roles of another
organisation ("other"), API tokens of each scope in both, and nobody. In both organisations the
engineer and one token ("token:team") are limited to the team "serving".

For every cell the test asserts:
- the exact status;
- a refused call (and any GET) changed nothing: a fingerprint of every organisation-owned row is
  the same before and after;
- no response to one organisation contains the other's name (every object of the world carries
  its organisation's slug);
- no response to a caller limited to "serving" names an object of the team "research" (every
  such object carries RESEARCH_ONLY).
Each cell runs inside a savepoint that is rolled back, so cells do not see each other's writes.
"""

import copy
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.db import transaction
from django.test import override_settings

from accounts.principal import ROLE_ACCESS, SCOPE_ACCESS, Access
from tests.conftest import workload
from tests.hardening.discovery import Route, routes
from tests.hardening.world import (
    ANONYMOUS,
    CALLERS,
    OTHER,
    RESEARCH_ONLY,
    SAME,
    TOKEN_SCOPES,
    Caller,
    World,
    build_world,
    fingerprint,
    module_transaction,
)

# Marks the tests as database tests (so pytest-django sets the test database up); the world
# itself lives in a module-wide transaction, and each cell in a savepoint of that.
pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Expect:
    status: int
    allowed: bool  # False: the call must change nothing

    def __str__(self) -> str:
        return f"{self.status}{'' if self.allowed else ' (refused)'}"


def _access_of(caller: Caller) -> frozenset[str]:
    if caller.role:
        return ROLE_ACCESS[caller.role]
    if caller.is_token:
        return frozenset().union(*(SCOPE_ACCESS[scope] for scope in TOKEN_SCOPES[caller.scope]))
    return frozenset()


Table = dict[str, Expect]


def api(
    access: str,
    ok: int,
    *,
    object_url: bool = False,
    sessions: bool = True,
    overrides: dict[str, Expect] | None = None,
) -> Table:
    """An API operation: 401 without credentials, 403 without the access, 404 for another
    organisation's object, `ok` otherwise. `sessions=False`: only tokens authenticate."""
    table = {}
    for caller in CALLERS:
        if caller.org == ANONYMOUS or (caller.role and not sessions):
            expect = Expect(401, False)
        elif access not in _access_of(caller):
            expect = Expect(403, False)
        elif object_url and caller.org == OTHER:
            expect = Expect(404, False)
        else:
            expect = Expect(ok, True)
        table[caller.label] = expect
    table.update(overrides or {})
    return table


def page(
    access: str | None = None,
    ok: int = 200,
    *,
    object_url: bool = False,
    refused: int = 403,
    overrides: dict[str, Expect] | None = None,
) -> Table:
    """A page: tokens do not sign in to pages (302 to the login page, like nobody), 403 (or
    `refused`) without the access, 404 for another organisation's object, `ok` otherwise."""
    table = {}
    for caller in CALLERS:
        if caller.org == ANONYMOUS or caller.is_token:
            expect = Expect(302, False)
        elif access and access not in _access_of(caller):
            expect = Expect(refused, False)
        elif object_url and caller.org == OTHER:
            expect = Expect(404, False)
        else:
            expect = Expect(ok, True)
        table[caller.label] = expect
    table.update(overrides or {})
    return table


def public(ok: int = 200) -> Table:
    return {caller.label: Expect(ok, True) for caller in CALLERS}


def engineers(expect: Expect) -> dict[str, Expect]:
    """The engineers of both organisations are limited to the team "serving"."""
    return {f"{SAME}:engineer": expect, f"{OTHER}:engineer": expect}


def team_limited(expect: Expect, *, orgs: tuple[str, ...] = (SAME, OTHER)) -> dict[str, Expect]:
    """API callers limited to the team "serving": the engineers and the team tokens."""
    return {f"{org}:{kind}": expect for org in orgs for kind in ("engineer", "token:team")}


def preparers(expect: Expect) -> dict[str, Expect]:
    """The ESG officers of both organisations prepared their Q2 close (world.build_org)."""
    return {f"{org}:esg_officer": expect for org in (SAME, OTHER)}


def lock_holders(expect: Expect) -> dict[str, Expect]:
    return {f"{org}:{role}": expect for org in (SAME, OTHER) for role in ("admin", "esg_officer")}


NOT_FOUND = Expect(404, False)
REFUSED_BY_SERVICE = Expect(403, False)
TEAM_TOKENS_REFUSED = {f"{org}:token:team": Expect(400, False) for org in (SAME, OTHER)}


@dataclass(frozen=True)
class Call:
    """How to call an operation: query string, body and its format, URL values."""

    query: str = ""
    data: Callable[[World, Caller], object] | None = None
    format: str | None = "json"  # "multipart" for forms and uploads
    url: Callable[[World, Caller], dict] | None = None


@dataclass(frozen=True)
class Row:
    methods: dict[str, Table]
    calls: dict[str, Call] = field(default_factory=dict)


def _csv_upload(world: World, caller: Caller):
    body = (
        "external_id,team,phase,started_at,ended_at,location,energy_kwh\n"
        f"up-{caller.kind},research,training,2026-01-03T00:00:00Z,2026-01-03T01:00:00Z,"
        "lab-paris,2.0\n"
    )
    upload = io.BytesIO(body.encode())
    upload.name = "records.csv"
    return {"file": upload, "format": "portal_workloads_csv"}


def _emissions_data(world: World, caller: Caller) -> dict:
    return {
        "run_id": f"run-{caller.kind}",
        "timestamp": "2026-01-04T12:00:00",
        "project_name": "matrix",
        "experiment_id": "exp-1",
        "duration": 3600.0,
        "emissions": 0.05,
        "energy_consumed": 1.2,
        "country_iso_code": "FRA",
    }


def _otlp_export(world: World, caller: Caller) -> dict:
    """One chat call of the team "serving" (which team-limited callers may send for), as
    OTLP JSON."""
    text = lambda key, value: {"key": key, "value": {"stringValue": value}}  # noqa: E731
    count = lambda key, value: {"key": key, "value": {"intValue": str(value)}}  # noqa: E731
    span = {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "name": "chat gpt-4o-mini",
        "startTimeUnixNano": "1767340800000000000",  # 2026-01-02T08:00:00Z
        "endTimeUnixNano": "1767340801000000000",
        "attributes": [
            text("gen_ai.provider.name", "openai"),
            text("gen_ai.request.model", "gpt-4o-mini"),
            count("gen_ai.usage.input_tokens", 100),
            count("gen_ai.usage.output_tokens", 20),
        ],
    }
    resource = {"attributes": [text("greenai.team", "serving")]}
    return {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": [span]}]}]}


def _own_key(world: World, caller: Caller) -> dict:
    return {"key": world.key(caller) or "gai_000000000000_not-a-token"}


def _research_team(world: World, caller: Caller) -> dict:
    return {"pk": world.same.tenant.teams["research"].pk}


def _form(**values) -> Callable[[World, Caller], dict]:
    return lambda world, caller: values


def _tariff_form(world: World, caller: Caller) -> dict:
    return {
        "location": world.same.objects["facility"],
        "valid_from": "2027-01-01",
        "valid_to": "2027-12-31",
        "price_per_kwh": "0.2",
        "currency": "EUR",
        "source": "matrix",
    }


FORM = "multipart"
MANAGE, READ, INGEST, LOCK, AUDIT, INSTRUMENTS, TOKENS = (
    Access.MANAGE,
    Access.READ,
    Access.INGEST,
    Access.LOCK,
    Access.AUDIT,
    Access.INSTRUMENTS,
    Access.TOKENS,
)
INSTRUMENT = {
    "kind": "eac",
    "zone": "FR",
    "valid_from": "2026-01-01",
    "valid_to": "2026-12-31",
    "mwh": 5,
    "kg_per_kwh": 0,
    "reference": "GO-123",
}
OVERRIDE = {
    "zone": "FR",
    "kind": "grid_average",
    "valid_from": "2027-01-01",
    "valid_to": "2027-12-31",
    "kg_per_kwh": 0.04,
    "source": "RTE 2027",
}
FACILITY_WUE = {
    "facility": "lab-paris",
    "valid_from": "2027-01-01",
    "valid_to": "2027-12-31",
    "wue_l_per_kwh": 1.1,
    "source": "meter 2027",
}
Q1 = {"year": 2026, "quarter": 1}  # locked in the world
Q2 = {"year": 2026, "quarter": 2}  # computed, open
WORKLOADS = {"kind": "workloads"}  # the record browser's kind in a URL
BUDGET = {"name": "Budget", "kind": "budget", "scope": "scope2", "basis": "energy", "budget": 1.0}
# The world's model (used by "research" only) and target (organisation-wide) are not for those
# limited to the team "serving".
LIMITED_TO_SERVING_NOT_FOUND = {"same:engineer": NOT_FOUND, "same:token:team": NOT_FOUND}

EXPECTATIONS: dict[str, Row] = {
    # --- pages ---------------------------------------------------------------------------
    "overview": Row({"GET": page()}),
    "dashboard-team": Row({"GET": page(overrides=engineers(NOT_FOUND))}),
    "dashboard-model": Row({"GET": page(object_url=True, overrides={"same:engineer": NOT_FOUND})}),
    "settings-teams": Row({"GET": page()}),
    "settings-audit": Row({"GET": page(AUDIT)}),
    "data-imports": Row({"GET": page()}),
    "audit-events": Row({"GET": api(AUDIT, 200)}),
    "settings-time-zone": Row(
        {"POST": page(MANAGE, 302)}, {"POST": Call(data=_form(time_zone="Asia/Tokyo"), format=FORM)}
    ),
    "settings-fiscal-year": Row(
        {"POST": page(MANAGE, 302)},
        {"POST": Call(data=_form(fiscal_year_start_month="4"), format=FORM)},
    ),
    "settings-team-create": Row(
        {"POST": page(MANAGE, 302)}, {"POST": Call(data=_form(name="Platform"), format=FORM)}
    ),
    "settings-reporting": Row(
        {"POST": page(MANAGE, 302)},
        {"POST": Call(data=_form(reporting_boundary="The lab"), format=FORM)},
    ),
    "settings-member-create": Row(
        {"POST": page(MANAGE, 302)},
        {
            "POST": Call(
                data=lambda w, c: {
                    "username": f"new-{c.org}-{c.kind}",
                    "password": "a-long-enough-passphrase-42",
                    "role": "auditor",
                },
                format=FORM,
            )
        },
    ),
    "settings-member-update": Row(
        {"POST": page(MANAGE, 302, object_url=True)},
        {"POST": Call(data=_form(role="esg_officer"), format=FORM)},
    ),
    "settings-member-remove": Row({"POST": page(MANAGE, 302, object_url=True)}),
    # Engineers make their own tokens, limited to their team ("serving"): the form's token for
    # all teams is refused on the page, and the admin's token is not theirs to revoke.
    "settings-tokens": Row({"GET": page(TOKENS)}),
    "settings-token-create": Row(
        {"POST": page(TOKENS, 302, overrides=engineers(Expect(302, False)))},
        {"POST": Call(data=_form(name="ci", scopes="ingest"), format=FORM)},
    ),
    "settings-token-revoke": Row(
        {"POST": page(TOKENS, 302, object_url=True, overrides={f"{SAME}:engineer": NOT_FOUND})}
    ),
    "settings-facilities": Row({"GET": page()}),
    "settings-facility-create": Row(
        {"POST": page(MANAGE, 302)},
        {
            "POST": Call(
                data=_form(
                    code="dc-2", name="DC 2", kind="owned", zone="FR", pue=1.3, pue_source="meter"
                ),
                format=FORM,
            )
        },
    ),
    "settings-facility-pue": Row(
        {"POST": page(MANAGE, 302, object_url=True)},
        {"POST": Call(data=_form(pue=1.4, pue_source="meter 2026"), format=FORM)},
    ),
    "settings-facility-wue-create": Row(
        {"POST": page(MANAGE, 302)},
        {"POST": Call(data=_form(**FACILITY_WUE), format=FORM)},
    ),
    "settings-facility-wue-delete": Row({"POST": page(MANAGE, 302, object_url=True)}),
    "settings-instruments": Row({"GET": page()}),
    "settings-instrument-create": Row(
        {"POST": page(INSTRUMENTS, 302)},
        {"POST": Call(data=_form(**INSTRUMENT), format=FORM)},
    ),
    "settings-instrument-delete": Row({"POST": page(INSTRUMENTS, 302, object_url=True)}),
    "settings-tariffs": Row({"GET": page()}),
    "settings-tariff-create": Row(
        {"POST": page(MANAGE, 302)},
        {"POST": Call(data=_tariff_form, format=FORM)},
    ),
    "settings-tariff-delete": Row({"POST": page(MANAGE, 302, object_url=True)}),
    "settings-overrides": Row({"GET": page()}),
    "settings-override-create": Row(
        {"POST": page(MANAGE, 302)},
        {"POST": Call(data=_form(**OVERRIDE), format=FORM)},
    ),
    "settings-override-delete": Row({"POST": page(MANAGE, 302, object_url=True)}),
    "settings-mapping-rules": Row({"GET": page()}),
    "settings-mapping-rule-create": Row(
        {"POST": page(MANAGE, 302)},
        {
            "POST": Call(
                data=lambda w, c: {
                    "source": "aws",
                    "key": "account",
                    "value": "123456789012",
                    "team": w.org(c).tenant.teams["serving"].pk if w.org(c) else 0,
                    "priority": 10,
                },
                format=FORM,
            )
        },
    ),
    "settings-mapping-rule-delete": Row({"POST": page(MANAGE, 302, object_url=True)}),
    "settings-prometheus-sources": Row({"GET": page()}),
    "settings-prometheus-source-create": Row(
        {"POST": page(MANAGE, 302)},
        {"POST": Call(data=_form(name="dc", url="http://127.0.0.1:9/", location="lab-paris"))},
    ),
    "settings-prometheus-source-delete": Row({"POST": page(MANAGE, 302, object_url=True)}),
    "factor-library": Row({"GET": page()}),
    "data": Row({"GET": page()}),
    "settings-models": Row({"GET": page()}),
    "settings-targets": Row({"GET": page()}),
    "what-if-page": Row({"GET": page()}),
    # Each organisation has its own team "research"; a member limited to "serving" has not.
    "what-if": Row(
        {
            "GET": api(
                READ,
                200,
                overrides={
                    f"{org}:{kind}": NOT_FOUND
                    for org in (SAME, OTHER)
                    for kind in ("engineer", "token:team")
                },
            )
        },
        {"GET": Call(query="team=research&start=2026-01-01&end=2026-04-01")},
    ),
    "settings-target-create": Row(
        {"POST": page(MANAGE, 302)}, {"POST": Call(data=_form(**BUDGET), format=FORM)}
    ),
    "settings-target-delete": Row({"POST": page(MANAGE, 302, object_url=True)}),
    "target-list": Row(
        {"GET": api(READ, 200), "POST": api(MANAGE, 201)}, {"POST": Call(data=_form(**BUDGET))}
    ),
    # The world's target is the whole organisation's: not followed by those limited to a team.
    "target-detail": Row(
        {
            "GET": api(READ, 200, object_url=True, overrides=LIMITED_TO_SERVING_NOT_FOUND),
            "DELETE": api(MANAGE, 204, object_url=True),
        }
    ),
    "settings-model-variant": Row(
        {"POST": page(MANAGE, 302, object_url=True)},
        {"POST": Call(data=_form(**{"base_model": ""}), format=FORM)},
    ),
    # The world's model is used by the team "research" only: not the serving engineer's.
    "model-variants": Row(
        {"GET": page(object_url=True, overrides={"same:engineer": NOT_FOUND})},
        {"GET": Call(query="start=2026-01-01&end=2026-04-01")},
    ),
    "model-documentation-pdf": Row(
        {"GET": page(object_url=True, overrides={"same:engineer": NOT_FOUND})}
    ),
    "model-list": Row({"GET": api(READ, 200)}),
    "model-variant": Row(
        {
            "GET": api(READ, 200, object_url=True, overrides=LIMITED_TO_SERVING_NOT_FOUND),
            "PUT": api(MANAGE, 200, object_url=True),
        },
        {"PUT": Call(data=_form(base_model=None))},
    ),
    "model-documentation": Row(
        {"GET": api(READ, 200, object_url=True, overrides=LIMITED_TO_SERVING_NOT_FOUND)}
    ),
    "model-lifecycle": Row(
        {"GET": api(READ, 200, object_url=True, overrides=LIMITED_TO_SERVING_NOT_FOUND)}
    ),
    "model-variant-comparison": Row(
        {"GET": api(READ, 200, object_url=True, overrides=LIMITED_TO_SERVING_NOT_FOUND)},
        {"GET": Call(query="start=2026-01-01&end=2026-04-01")},
    ),
    "codecarbon-runs-page": Row({"GET": page()}),
    "login": Row({"GET": public()}),
    "logout": Row({"POST": public(302)}),
    "reports": Row({"GET": page()}),
    "report-quarter": Row({"GET": page()}, {"GET": Call(url=lambda w, c: Q1)}),
    "report-annual-latest": Row({"GET": page(ok=302)}),
    "report-annual": Row({"GET": page()}, {"GET": Call(url=lambda w, c: {"fiscal_year": 2025})}),
    # The report forms answer every refusal with a message on the report page (302); the
    # fingerprint proves that nothing was locked, restated or exported.
    # GET shows what the lock freezes and the close of Q2 waiting for approval; POST prepares
    # a close (refused here: Q2 already waits). Only a second person approves or sends back.
    "report-lock-page": Row(
        {
            "GET": page(LOCK),
            "POST": page(LOCK, 302, refused=302, overrides=lock_holders(Expect(302, False))),
        },
        {
            "GET": Call(url=lambda w, c: Q2),
            "POST": Call(url=lambda w, c: Q2, data=_form(note="checked"), format=FORM),
        },
    ),
    "report-close-approve-page": Row(
        {"POST": page(LOCK, 302, refused=302, overrides=preparers(Expect(302, False)))},
        {"POST": Call(url=lambda w, c: Q2, data=_form(comment="ok"), format=FORM)},
    ),
    "report-close-send-back-page": Row(
        {"POST": page(LOCK, 302, refused=302, overrides=preparers(Expect(302, False)))},
        {"POST": Call(url=lambda w, c: Q2, data=_form(comment="PUE missing"), format=FORM)},
    ),
    "report-restate-page": Row(
        {"POST": page(LOCK, 302, refused=302)},
        {"POST": Call(url=lambda w, c: Q1, data=_form(reason="late records"), format=FORM)},
    ),
    "report-export-create-page": Row(
        {"POST": page(READ, 302, overrides=engineers(Expect(302, False)))},
        {"POST": Call(url=lambda w, c: Q1, format=FORM)},
    ),
    "report-export-page": Row(
        {"GET": page(object_url=True, overrides={"same:engineer": NOT_FOUND})}
    ),
    "report-export-download": Row(
        {"GET": page(object_url=True, overrides={"same:engineer": NOT_FOUND})}
    ),
    "records": Row({"GET": page()}),
    "records-csv": Row({"GET": page()}),
    "record-batch": Row({"GET": page(object_url=True, overrides={"same:engineer": NOT_FOUND})}),
    "record-detail": Row(
        {"GET": page(object_url=True, overrides={"same:engineer": NOT_FOUND})},
        {"GET": Call(url=lambda w, c: WORKLOADS)},
    ),
    "health": Row({"GET": public()}),
    "schema": Row({"GET": public()}),
    "api-docs": Row({"GET": public()}),
    # Django's admin: for staff only; no member of an organisation is staff.
    "admin:index": Row({"GET": public(302)}),
    # --- API -----------------------------------------------------------------------------
    # The engineers may only send records of their team ("serving"): "research" is refused.
    "workload-ingest": Row(
        {"POST": api(INGEST, 201, overrides=team_limited(Expect(400, False)))},
        {
            "POST": Call(
                data=lambda w, c: [
                    workload(external_id=f"m-{c.kind}", team="research", avg_power_w=300.0)
                ]
            )
        },
    ),
    "cloud-usage-ingest": Row(
        {"POST": api(INGEST, 201)},
        {
            "POST": Call(
                data=lambda w, c: {
                    "external_id": f"cu-{c.kind}",
                    "team": "serving",
                    "location": "aws:us-east-1",
                    "service": "AmazonS3",
                    "usage_kind": "storage_hdd",
                    "quantity": 10.0,
                    "usage_start": "2026-01-01T00:00:00Z",
                    "usage_end": "2026-01-02T00:00:00Z",
                }
            )
        },
    ),
    "hardware-list": Row({"GET": api(READ, 200)}),
    "facility-list": Row(
        {"GET": api(READ, 200), "POST": api(MANAGE, 201)},
        {"POST": Call(data=_form(code="dc-9", kind="owned", zone="FR", pue=1.3, pue_source="m"))},
    ),
    "facility-detail": Row(
        {
            "GET": api(READ, 200, object_url=True),
            "PATCH": api(MANAGE, 200, object_url=True),
        },
        {"PATCH": Call(data=_form(pue=1.4, pue_source="meter 2026"))},
    ),
    "facility-wue-list": Row(
        {"GET": api(READ, 200), "POST": api(MANAGE, 201)},
        {"POST": Call(data=_form(**FACILITY_WUE))},
    ),
    "facility-wue-detail": Row(
        {"GET": api(READ, 200, object_url=True), "DELETE": api(MANAGE, 200, object_url=True)}
    ),
    "facility-indicators": Row({"GET": api(READ, 200)}, {"GET": Call(query="year=2026")}),
    "instrument-list": Row(
        {"GET": api(READ, 200), "POST": api(INSTRUMENTS, 201)},
        {"POST": Call(data=_form(**INSTRUMENT))},
    ),
    "instrument-detail": Row(
        {
            "GET": api(READ, 200, object_url=True),
            "DELETE": api(INSTRUMENTS, 200, object_url=True),
        }
    ),
    "override-list": Row(
        {"GET": api(READ, 200), "POST": api(MANAGE, 201)},
        {"POST": Call(data=_form(**OVERRIDE))},
    ),
    "override-detail": Row(
        {"GET": api(READ, 200, object_url=True), "DELETE": api(MANAGE, 200, object_url=True)}
    ),
    "tariff-list": Row(
        {"GET": api(READ, 200), "POST": api(MANAGE, 201)},
        {
            "POST": Call(
                data=_form(
                    facility="lab-paris",
                    valid_from="2027-01-01",
                    valid_to="2027-12-31",
                    price_per_kwh=0.2,
                    currency="EUR",
                    source="matrix",
                )
            )
        },
    ),
    "tariff-detail": Row(
        {"GET": api(READ, 200, object_url=True), "DELETE": api(MANAGE, 200, object_url=True)}
    ),
    "mapping-rule-list": Row(
        {"GET": api(READ, 200), "POST": api(MANAGE, 201)},
        {"POST": Call(data=_form(source="aws", key="account", value="1", team="serving"))},
    ),
    # The rule is research's: team-limited callers ("serving") do not see it.
    "mapping-rule-detail": Row(
        {
            "GET": api(READ, 200, object_url=True, overrides=team_limited(NOT_FOUND)),
            "PATCH": api(MANAGE, 200, object_url=True),
            "DELETE": api(MANAGE, 204, object_url=True),
        },
        {"PATCH": Call(data=_form(priority=5))},
    ),
    "prometheus-source-list": Row(
        {"GET": api(READ, 200), "POST": api(MANAGE, 201)},
        {"POST": Call(data=_form(name="dc", url="http://127.0.0.1:9/", location="lab-paris"))},
    ),
    "prometheus-source-detail": Row(
        {
            "GET": api(READ, 200, object_url=True),
            "PATCH": api(MANAGE, 200, object_url=True),
            "DELETE": api(MANAGE, 204, object_url=True),
        },
        {"PATCH": Call(data=_form(enabled=False))},
    ),
    # The team "research" (team-limited callers have "serving"); it has records, so deleting
    # it is refused (409).
    "organisation-reporting": Row(
        {"GET": api(READ, 200), "PATCH": api(MANAGE, 200)},
        {"PATCH": Call(data=_form(reporting_boundary="The lab"))},
    ),
    "team-list": Row(
        {"GET": api(READ, 200), "POST": api(MANAGE, 201)},
        {"POST": Call(data=_form(name="Platform"))},
    ),
    "team-detail": Row(
        {
            "GET": api(READ, 200, object_url=True, overrides=team_limited(NOT_FOUND)),
            "PATCH": api(MANAGE, 200, object_url=True),
            "DELETE": api(MANAGE, 409, object_url=True),
        },
        {
            method: Call(url=_research_team, data=_form(name="Research 2") if data else None)
            for method, data in (("GET", False), ("PATCH", True), ("DELETE", False))
        },
    ),
    # Team-limited callers see no members (as on the teams page).
    "member-list": Row(
        {"GET": api(READ, 200), "POST": api(MANAGE, 201)},
        {
            "POST": Call(
                data=lambda w, c: {
                    "username": f"api-{c.org}-{c.kind}".replace(":", "-"),
                    "password": "a-long-enough-passphrase-42",
                    "role": "auditor",
                }
            )
        },
    ),
    "member-detail": Row(
        {
            "GET": api(READ, 200, object_url=True, overrides=team_limited(NOT_FOUND)),
            "PATCH": api(MANAGE, 200, object_url=True),
            "DELETE": api(MANAGE, 204, object_url=True),
        },
        {"PATCH": Call(data=_form(role="esg_officer"))},
    ),
    "token-list": Row(
        {"GET": api(MANAGE, 200), "POST": api(MANAGE, 201)},
        {"POST": Call(data=_form(name="ci", scopes=["ingest"]))},
    ),
    "token-detail": Row(
        {"GET": api(MANAGE, 200, object_url=True), "DELETE": api(MANAGE, 200, object_url=True)}
    ),
    "import-create": Row({"POST": api(INGEST, 202)}, {"POST": Call(data=_csv_upload, format=FORM)}),
    # The job the URL names is an upload of the whole organisation: team-limited callers do
    # not see it, and an ingest-only token reads only the imports it uploaded itself.
    "import-detail": Row(
        {
            "GET": api(
                READ,
                200,
                object_url=True,
                overrides={
                    **team_limited(NOT_FOUND, orgs=(SAME,)),
                    **{f"{org}:token:ingest": NOT_FOUND for org in (SAME, OTHER)},
                },
            )
        }
    ),
    # CodeCarbon's clients authenticate with a token only (no session, no cookies). The
    # organisation's rule sends every run to "research", but a token limited to "serving"
    # keeps its own team: its emissions are stored under "serving" (never "research").
    "codecarbon-output": Row(
        {"POST": api(INGEST, 201, sessions=False)},
        {"POST": Call(data=_emissions_data, url=_own_key)},
    ),
    "codecarbon-output-query": Row(
        {"POST": api(INGEST, 201, sessions=False)},
        {"POST": Call(data=_emissions_data)},
    ),
    "codecarbon-runs": Row(
        {"POST": api(INGEST, 201, sessions=False, overrides=TEAM_TOKENS_REFUSED)},
        {"POST": Call(data=_form(experiment_id="exp-1", os="Linux"))},
    ),
    "codecarbon-emissions": Row(
        {"POST": api(INGEST, 201, sessions=False)},
        {"POST": Call(data=_emissions_data)},
    ),
    "llm-usage-ingest": Row(
        {"POST": api(INGEST, 201, overrides=team_limited(Expect(400, False)))},
        {
            "POST": Call(
                data=lambda w, c: [
                    {
                        "external_id": f"l-{c.kind}",
                        "team": "research",
                        "provider": "openai",
                        "model": "gpt-4o-mini",
                        "output_tokens": 120,
                        "started_at": "2026-05-01T00:00:00Z",
                        "ended_at": "2026-05-01T01:00:00Z",
                    }
                ]
            )
        },
    ),
    "custom-llm-list": Row(
        {"GET": api(READ, 200), "POST": api(MANAGE, 201)},
        {
            "POST": Call(
                data=lambda w, c: {
                    "provider": "mistralai",
                    "name": f"ft-{c.org}-{c.kind}",
                    "active_parameters_b": 7,
                    "total_parameters_b": 7,
                    "source_note": "model card",
                }
            )
        },
    ),
    "custom-llm-detail": Row(
        {
            "GET": api(READ, 200, object_url=True),
            "PATCH": api(MANAGE, 200, object_url=True),
            "DELETE": api(MANAGE, 204, object_url=True),
        },
        {"PATCH": Call(data=_form(source_note="vendor page"))},
    ),
    # OpenTelemetry exporters send a token header, never a session.
    "otlp-traces": Row(
        {"POST": api(INGEST, 200, sessions=False)},
        {"POST": Call(data=_otlp_export)},
    ),
    "recalculation-list": Row(
        {"GET": api(READ, 200), "POST": api(MANAGE, 202)},
        {"POST": Call(data=_form(zone="FR", reason="matrix"))},
    ),
    "recalculation-detail": Row({"GET": api(READ, 200, object_url=True)}),
    "footprint": Row(
        {"GET": api(READ, 200)}, {"GET": Call(query="start=2026-01-01&end=2026-07-01")}
    ),
    "costs": Row({"GET": api(READ, 200)}, {"GET": Call(query="start=2026-01-01&end=2026-07-01")}),
    # The model is research's: team-limited callers ("serving") do not see it.
    "model-sci": Row(
        {"GET": api(READ, 200, object_url=True, overrides=team_limited(NOT_FOUND, orgs=(SAME,)))},
        {"GET": Call(query="start=2026-01-01&end=2026-07-01")},
    ),
    "scope2-report": Row({"GET": api(READ, 200)}, {"GET": Call(query="year=2026&quarter=1")}),
    "scope2-factors": Row({"GET": api(READ, 200)}, {"GET": Call(query="year=2026&quarter=1")}),
    "scope2-trace": Row({"GET": api(READ, 200)}, {"GET": Call(query="year=2026&quarter=1")}),
    "scope2-csv": Row({"GET": api(READ, 200)}, {"GET": Call(query="year=2026&quarter=1")}),
    "scope2-xlsx": Row({"GET": api(READ, 200)}, {"GET": Call(query="year=2026&quarter=1")}),
    # The annual report reads like the Scope 2 report: every member, a team-limited one
    # their teams' live figures.
    **{
        name: Row({"GET": api(READ, 200)}, {"GET": Call(query="fiscal_year=2025")})
        for name in ("annual-report", "annual-xlsx", "annual-pdf")
    },
    "organisation-detail": Row(
        {"GET": api(READ, 200), "PATCH": api(MANAGE, 200)},
        {"PATCH": Call(data=_form(fiscal_year_start_month=4, base_fiscal_year=2024))},
    ),
    "report-restate": Row(
        {"POST": api(LOCK, 201)}, {"POST": Call(data=_form(**Q1, reason="late records"))}
    ),
    # Q2 of each organisation waits for approval, prepared by its ESG officer: preparing it
    # again is refused, and only a second person (the admin) approves or sends it back.
    "quarter-closes": Row({"GET": api(READ, 200)}, {"GET": Call(query="year=2026&quarter=2")}),
    "quarter-close-prepare": Row(
        {"POST": api(LOCK, 409, overrides=lock_holders(Expect(409, False)))},
        {"POST": Call(data=_form(**Q2, note="checked"))},
    ),
    "quarter-close-approve": Row(
        {"POST": api(LOCK, 200, overrides=preparers(REFUSED_BY_SERVICE))},
        {"POST": Call(data=_form(**Q2))},
    ),
    "quarter-close-send-back": Row(
        {"POST": api(LOCK, 200, overrides=preparers(REFUSED_BY_SERVICE))},
        {"POST": Call(data=_form(**Q2, comment="PUE of May missing"))},
    ),
    "report-versions": Row({"GET": api(READ, 200)}, {"GET": Call(query="year=2026&quarter=1")}),
    "record-list-api": Row({"GET": api(READ, 200)}, {"GET": Call(url=lambda w, c: WORKLOADS)}),
    "record-detail-api": Row(
        {"GET": api(READ, 200, object_url=True, overrides=team_limited(NOT_FOUND, orgs=(SAME,)))},
        {"GET": Call(url=lambda w, c: WORKLOADS)},
    ),
    "record-batch-api": Row(
        {"GET": api(READ, 200, object_url=True, overrides=team_limited(NOT_FOUND, orgs=(SAME,)))}
    ),
    "report-version": Row(
        {"GET": api(READ, 200, object_url=True, overrides=team_limited(NOT_FOUND, orgs=(SAME,)))}
    ),
    "report-exports": Row(
        {"POST": api(READ, 202, overrides=team_limited(REFUSED_BY_SERVICE))},
        {"POST": Call(data=_form(**Q1))},
    ),
    "report-export": Row(
        {"GET": api(READ, 200, object_url=True, overrides=team_limited(NOT_FOUND, orgs=(SAME,)))}
    ),
    "report-export-pdf": Row(
        {"GET": api(READ, 200, object_url=True, overrides=team_limited(NOT_FOUND, orgs=(SAME,)))}
    ),
}

# URL parameter → the world object it names (always the "same" organisation's).
URL_OBJECTS = {
    "slug": "slug",
    "model_id": "model_id",
    "job_id": None,  # import or recalculation: by route, below
    "pk": None,
}
PK_OBJECTS = {
    "settings-member-update": "member",
    "settings-member-remove": "member",
    "settings-token-revoke": "token",
    "settings-facility-pue": "facility",
    "settings-instrument-delete": "instrument",
    "settings-override-delete": "override",
    "settings-facility-wue-delete": "facility_wue",
    "facility-wue-detail": "facility_wue",
    "settings-tariff-delete": "tariff",
    "settings-mapping-rule-delete": "mapping_rule",
    "settings-prometheus-source-delete": "prometheus_source",
    "settings-model-variant": "model_id",
    "settings-target-delete": "target",
    "target-detail": "target",
    "custom-llm-detail": "custom_llm",
    "report-export-page": "report_export",
    "report-export-download": "report_export",
    "import-detail": "import_job",
    "facility-detail": "facility",
    "instrument-detail": "instrument",
    "override-detail": "override",
    "tariff-detail": "tariff",
    "recalculation-detail": "recalculation",
    "mapping-rule-detail": "mapping_rule",
    "prometheus-source-detail": "prometheus_source",
    "member-detail": "member",
    "token-detail": "token",
    "report-version": "report_version",
    "report-export": "report_export",
    "report-export-pdf": "report_export",
    "record-batch": "batch",
    "record-detail": "workload_record",
    "record-batch-api": "batch",
    "record-detail-api": "workload_record",
}


def _url_values(route: Route, world: World, caller: Caller, call: Call) -> dict:
    values = dict(call.url(world, caller)) if call.url else {}
    for name in route.parameters:
        if name in values:
            continue
        if name in ("pk", "job_id"):
            values[name] = world.same.objects[PK_OBJECTS[route.name]]
        elif name in URL_OBJECTS:
            values[name] = world.same.objects[URL_OBJECTS[name]]
        else:
            raise AssertionError(f"{route.name}: no value for URL parameter {name!r}")
    return values


# A CSRF token is 64 random letters and digits: now and then it spells a slug ("acme").
CSRF_TOKEN_VALUE = re.compile(rb'name="csrfmiddlewaretoken" value="[A-Za-z0-9]+"')


def _leaks(world: World, caller: Caller, content: bytes) -> str | None:
    """The other organisation's slug in a response, or the other team's marker in a response
    to a caller limited to a team: a leak."""
    foreign = {SAME: world.other.slug, OTHER: world.same.slug}.get(caller.org)
    text = CSRF_TOKEN_VALUE.sub(b"", content).lower()
    for secret in (foreign, RESEARCH_ONLY if caller.team_limited else None):
        if secret and secret.encode() in text:
            return secret
    return None


ALL_ROUTES = routes()


def test_every_route_has_a_name_and_a_row_and_every_row_a_route():
    names = [r.name for r in ALL_ROUTES]
    assert all(names), f"unnamed routes: {[r.route for r in ALL_ROUTES if not r.name]}"
    missing = sorted(set(names) - set(EXPECTATIONS))
    stale = sorted(set(EXPECTATIONS) - set(names))
    assert not missing, (
        f"new routes without expectations: {missing}; add a row for each to "
        "tests/hardening/test_isolation_matrix.py EXPECTATIONS"
    )
    assert not stale, f"rows for routes that no longer exist: {stale}"


def test_api_rows_declare_exactly_the_methods_the_views_implement():
    wrong = {
        r.name: (sorted(EXPECTATIONS[r.name].methods), sorted(r.api_methods()))
        for r in ALL_ROUTES
        if r.is_api and r.name in EXPECTATIONS
        if set(EXPECTATIONS[r.name].methods) != set(r.api_methods())
    }
    assert not wrong, f"declared vs implemented methods: {wrong}"


def test_every_row_covers_every_caller():
    for name, row in EXPECTATIONS.items():
        for method, table in row.methods.items():
            assert set(table) == {c.label for c in CALLERS}, (name, method)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """One world for the whole module, in a transaction rolled back at the end; every cell
    runs in a savepoint of its own."""
    with module_transaction(django_db_blocker):
        yield build_world()


@pytest.mark.parametrize("route", ALL_ROUTES, ids=lambda r: r.name or r.route)
def test_isolation_matrix(route: Route, world: World, django_db_blocker):
    row = EXPECTATIONS.get(route.name)
    if row is None:
        pytest.fail(f"{route.name} ({route.route}) has no row in EXPECTATIONS")
    _check_row(route, row, world, django_db_blocker)


LLM_USAGE = {"kind": "llm-usage"}


def _llm_usage_record(world: World, caller: Caller) -> dict:
    return {**LLM_USAGE, "pk": world.same.objects["llm_usage_record"]}


def _llm_usage_batch(world: World, caller: Caller) -> dict:
    return {"pk": world.same.objects["llm_usage_batch"]}


# The record browser's routes again for LLM usage records (EXPECTATIONS calls them for
# workloads): research's record and its batch are not for those limited to "serving".
LLM_USAGE_ROWS: dict[str, Row] = {
    "records": Row({"GET": page()}, {"GET": Call(query="kind=llm-usage")}),
    "records-csv": Row({"GET": page()}, {"GET": Call(query="kind=llm-usage")}),
    "record-detail": Row(
        {"GET": page(object_url=True, overrides={"same:engineer": NOT_FOUND})},
        {"GET": Call(url=_llm_usage_record)},
    ),
    "record-batch": Row(
        {"GET": page(object_url=True, overrides={"same:engineer": NOT_FOUND})},
        {"GET": Call(url=_llm_usage_batch)},
    ),
    "record-list-api": Row({"GET": api(READ, 200)}, {"GET": Call(url=lambda w, c: LLM_USAGE)}),
    "record-detail-api": Row(
        {"GET": api(READ, 200, object_url=True, overrides=team_limited(NOT_FOUND, orgs=(SAME,)))},
        {"GET": Call(url=_llm_usage_record)},
    ),
    "record-batch-api": Row(
        {"GET": api(READ, 200, object_url=True, overrides=team_limited(NOT_FOUND, orgs=(SAME,)))},
        {"GET": Call(url=_llm_usage_batch)},
    ),
}


@pytest.mark.parametrize(
    "route", [r for r in ALL_ROUTES if r.name in LLM_USAGE_ROWS], ids=lambda r: r.name
)
def test_isolation_matrix_of_llm_usage_records(route: Route, world: World, django_db_blocker):
    _check_row(route, LLM_USAGE_ROWS[route.name], world, django_db_blocker)


def _check_row(route: Route, row: Row, world: World, django_db_blocker) -> None:
    # /health/ reports "eager" instead of pinging workers.
    failures = []
    with django_db_blocker.unblock(), override_settings(CELERY_TASK_ALWAYS_EAGER=True):
        for method, table in row.methods.items():
            seen = []
            for caller in CALLERS:
                status, found = _cell(route, world, method, table[caller.label], caller, row)
                seen.append(f"{caller.label}={status}")
                failures.extend(found)
            print(f"{method} /{route.route}: {' '.join(seen)}")
    assert not failures, "\n".join(failures)


def _cell(
    route: Route, world: World, method: str, expect: Expect, caller: Caller, row: Row
) -> tuple[int, list[str]]:
    """Make one call; its status and what was wrong with it."""
    found: list[str] = []
    call = row.calls.get(method, Call())
    path = route.path(_url_values(route, world, caller, call))
    if call.query:
        path += "?" + call.query
    data = call.data(world, caller) if call.data else None
    kwargs = {"format": call.format} if data is not None else {}
    client = world.client(caller)
    cookies = copy.deepcopy(client.cookies)  # logging out or a message must not carry over
    checks_world = not expect.allowed or method == "GET"
    sid = transaction.savepoint()
    try:
        before = fingerprint() if checks_world else None
        response = getattr(client, method.lower())(path, data, **kwargs)
        after = fingerprint() if checks_world else None
    finally:
        transaction.savepoint_rollback(sid)
        client.cookies = cookies
    cell = f"{method} {path} as {caller.label}"
    if response.status_code != expect.status:
        detail = b"" if response.streaming else response.content[:300]
        found.append(f"{cell}: {response.status_code}, expected {expect} {detail!r}")
    if before != after:
        found.append(f"{cell}: changed stored data although {expect}")
    content = b"".join(response.streaming_content) if response.streaming else response.content
    leaked = _leaks(world, caller, content)
    if leaked:
        found.append(f"{cell}: the response names {leaked!r}")
    anonymous_page = not route.is_api and (caller.org == ANONYMOUS or caller.is_token)
    if anonymous_page and expect.status == 302 and not expect.allowed:
        location = response.get("Location", "")
        if not location.startswith("/login/"):
            found.append(f"{cell}: redirected to {location!r}, not the login page")
    return response.status_code, found
