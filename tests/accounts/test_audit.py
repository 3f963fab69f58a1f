import pytest
from django.db import DatabaseError, connection, transaction

from accounts.audit import audit_event_list, audit_record
from accounts.models import AuditEvent, ImmutableRecordError


@pytest.mark.django_db
class TestAuditTrail:
    def test_it_records_who_did_what_to_which_object(self, tenant):
        admin = tenant.members["admin"].user
        team = tenant.teams["research"]
        event = audit_record(
            organisation=tenant.organisation,
            action="team.create",
            target=team,
            actor=admin,
            details={"name": "Research"},
        )
        assert (event.actor_label, event.action, event.target_type, event.target_id) == (
            "acme-admin",
            "team.create",
            "Team",
            str(team.pk),
        )

    def test_it_names_a_script_as_system(self, tenant):
        event = audit_record(
            organisation=tenant.organisation, action="x", target=tenant.organisation
        )
        assert event.actor is None and event.actor_label == "system"

    def test_an_event_cannot_be_changed_or_deleted_through_the_orm(self, tenant):
        event = audit_record(
            organisation=tenant.organisation, action="x", target=tenant.organisation
        )
        event.action = "forged"
        with pytest.raises(ImmutableRecordError):
            event.save()
        with pytest.raises(ImmutableRecordError):
            event.delete()

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is Postgres-only")
    def test_the_database_refuses_updates_and_deletes(self, tenant):
        audit_record(organisation=tenant.organisation, action="x", target=tenant.organisation)
        for statement in (
            "UPDATE accounts_auditevent SET action = 'forged'",
            "DELETE FROM accounts_auditevent",
        ):
            with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as c:
                c.execute(statement)
        assert AuditEvent.objects.get().action == "x"

    def test_each_organisation_reads_only_its_own_trail(self, tenant, outsider):
        audit_record(organisation=tenant.organisation, action="x", target=tenant.organisation)
        assert audit_event_list(organisation=outsider.organisation).count() == 0
        assert audit_event_list(organisation=tenant.organisation).count() == 1


def test_the_schema_declares_the_page_object_the_list_answers(client):
    schema = client.get("/api/schema/?format=json").json()
    answer = schema["paths"]["/api/v1/audit-events/"]["get"]["responses"]["200"]
    page = answer["content"]["application/json"]["schema"]
    assert page == {"$ref": "#/components/schemas/AuditEventPage"}
    declared = schema["components"]["schemas"]["AuditEventPage"]
    assert declared["type"] == "object"
    assert set(declared["required"]) == {"count", "next", "previous", "results"}
    assert declared["properties"]["results"]["type"] == "array"
    parameters = schema["paths"]["/api/v1/audit-events/"]["get"]["parameters"]
    assert {"limit", "offset", "action"} <= {p["name"] for p in parameters}
