import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import Team
from greenai_portal.db import first_where, prepared_cursor, row_inserted, rows_where, table
from inventory.models import CodeCarbonRun, IngestBatch, Location

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are Postgres'"
)


@pytest.mark.django_db
class TestPreparedCursor:
    @needs_postgres
    def test_postgres_prepares_a_statement_once_and_reuses_it(self, tenant):
        sql = "SELECT slug FROM accounts_team WHERE organisation_id = %s ORDER BY slug"
        for _ in range(3):
            with prepared_cursor() as cursor:
                cursor.execute(sql, [tenant.organisation.id])
                assert [slug for (slug,) in cursor.fetchall()] == sorted(tenant.teams)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT generic_plans + custom_plans FROM pg_prepared_statements "
                "WHERE statement = %s",
                [sql.replace("%s", "$1")],
            )
            assert cursor.fetchone() == (3,)

    def test_it_runs_in_the_callers_transaction(self, tenant):
        team = tenant.teams["research"].id
        with transaction.atomic():
            with prepared_cursor() as cursor:
                cursor.execute("UPDATE accounts_team SET name = %s WHERE id = %s", ["R", team])
            transaction.set_rollback(True)
        assert Team.objects.get(pk=team).name != "R"

    def test_database_errors_are_djangos(self, tenant):
        other = tenant.teams["serving"].id
        with pytest.raises(IntegrityError), transaction.atomic(), prepared_cursor() as cursor:
            cursor.execute("UPDATE accounts_team SET slug = %s WHERE id = %s", ["research", other])


@pytest.mark.django_db
def test_rows_where_gives_model_instances_in_the_order_asked(tenant, outsider):
    teams = rows_where(Team, "organisation_id = %s ORDER BY slug DESC", [tenant.organisation.id])
    assert [t.slug for t in teams] == sorted(tenant.teams, reverse=True)
    assert all(t.organisation_id == tenant.organisation.id for t in teams)


@pytest.mark.django_db
def test_first_where_gives_the_lowest_id_or_none(tenant, outsider):
    where = "organisation_id = %s"
    first = first_where(Team, where, [tenant.organisation.id])
    assert first == Team.objects.filter(organisation=tenant.organisation).order_by("id").first()
    assert first_where(Team, "slug = %s", ["no-such-team"]) is None


@pytest.mark.django_db
class TestRowInserted:
    def test_it_writes_what_save_would_and_gives_the_key(self, tenant):
        values = {"organisation_id": tenant.organisation.id, "name": "Vision", "slug": "vision"}
        pk = row_inserted(Team, values)
        stored = Team.objects.get(pk=pk)
        assert (stored.name, stored.slug, stored.organisation_id) == (
            "Vision",
            "vision",
            tenant.organisation.id,
        )
        assert abs(timezone.now() - stored.created_at).total_seconds() < 60

    def test_it_stores_json_and_defaults(self, tenant):
        batch = IngestBatch.objects.create(organisation=tenant.organisation, source="api")
        location = Location.objects.create(organisation=tenant.organisation, code="dc", zone="FR")
        pk = row_inserted(
            CodeCarbonRun,
            {
                "organisation_id": tenant.organisation.id,
                "run_id": "r-1",
                "mode": "http",
                "batch_id": batch.id,
                "team_id": tenant.teams["research"].id,
                "location_id": location.id,
                "metadata": {"cpu_model": "AMD EPYC", "gpus": [1, 2]},
            },
        )
        stored = CodeCarbonRun.objects.get(pk=pk)
        assert stored.metadata == {"cpu_model": "AMD EPYC", "gpus": [1, 2]}
        assert (stored.phase, stored.posts, stored.energy_kwh, stored.token_id) == (
            "other",
            0,
            0.0,
            None,
        )

    def test_it_gives_way_to_a_stored_row_and_writes_nothing(self, tenant):
        before = Team.objects.count()
        clash = {"organisation_id": tenant.organisation.id, "name": "Again", "slug": "research"}
        with transaction.atomic():  # no error: the transaction goes on
            assert row_inserted(Team, clash) is None
        assert Team.objects.count() == before

    def test_it_refuses_a_column_the_model_lacks(self, tenant):
        with pytest.raises(TypeError, match="Team has no column organisation, slugg"):
            row_inserted(Team, {"organisation": tenant.organisation, "slugg": "x", "name": "X"})
        assert not Team.objects.filter(name="X").exists()


@pytest.mark.django_db
def test_a_pipeline_sends_writes_together_and_fetches_at_the_end(tenant):
    research, serving = tenant.teams["research"].id, tenant.teams["serving"].id
    with transaction.atomic(), prepared_cursor(pipeline=True) as cursor:
        cursor.execute("UPDATE accounts_team SET name = %s WHERE id = %s", ["R", research])
        cursor.execute(
            "UPDATE accounts_team SET name = %s WHERE id IN (%s, %s) AND name = %s RETURNING id",
            ["S", research, serving, "R"],
        )
        assert cursor.fetchall() == [(research,)]
    assert Team.objects.get(pk=research).name == "S"


@needs_postgres
def test_a_table_is_named_quoted_as_postgres_reads_it():
    # Team's db_table is accounts_team; Postgres quotes identifiers with double quotes.
    assert (table(Team), table(CodeCarbonRun)) == ('"accounts_team"', '"inventory_codecarbonrun"')
