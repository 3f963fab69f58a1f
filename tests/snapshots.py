"""Copies of the test database's rows, kept in a schema of their own, to put back in one step.

Seeding the demo takes tens of seconds; putting a copy of its rows back takes about a second.
The copies live in schemas outside the search path, so Django's introspection, its flush and
the tests never see them.
"""

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.management.color import no_style
from django.db import connection, transaction

# Schemas of the test database that hold the rows before the demo was seeded and with it.
BEFORE_DEMO = "test_snapshot_before_demo"
DEMO = "test_snapshot_demo"


def _tables() -> list[str]:
    # The tables Django's flush empties: every model's, many-to-many ones included.
    return sorted(connection.introspection.django_table_names(only_existing=True))


def snapshot_take(schema: str) -> None:
    """Copy every model table's rows into `schema`, replacing what it held."""
    quote = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {quote(schema)} CASCADE")
        cursor.execute(f"CREATE SCHEMA {quote(schema)}")
        for table in _tables():
            cursor.execute(
                f"CREATE UNLOGGED TABLE {quote(schema)}.{quote(table)} AS TABLE {quote(table)}"
            )


def snapshot_restore(schema: str) -> None:
    """Replace every model table's rows with those copied into `schema`, in the current
    transaction (a test's rollback undoes it) or committed when there is none."""
    quote = connection.ops.quote_name
    tables = _tables()
    with transaction.atomic(), connection.cursor() as cursor:
        # TRUNCATE skips the row triggers (the audit log refuses DELETE), as Django's flush does;
        # foreign keys are DEFERRABLE INITIALLY DEFERRED, so the order of the copies is free.
        cursor.execute(f"TRUNCATE {', '.join(quote(t) for t in tables)}")
        for table in tables:
            cursor.execute(
                f"INSERT INTO {quote(table)} SELECT * FROM {quote(schema)}.{quote(table)}"
            )
        models = apps.get_models(include_auto_created=True)
        for statement in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(statement)
    # Content types came back with the copy's ids: the ORM's cache of them may be stale.
    ContentType.objects.clear_cache()
