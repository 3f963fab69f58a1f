from django.db import migrations

RECORD_TABLES = ("inventory_workloadrecord", "inventory_cloudusagerecord")


def fill_pages_to(percent: int):
    def apply(apps, schema_editor):
        """Postgres only: pages written from now on are filled to `percent` %. A computed row
        is about 100 bytes longer than the pending row it replaces (results, lineage and, since
        0006, the power model), so at 50 % a third of the updates no longer fitted on their
        page and were not HOT (bench/compute.py: 67 % HOT and 12.1 s for 1M records; at 40 %
        every update is HOT, 9.4 s)."""
        if schema_editor.connection.vendor != "postgresql":
            return
        for table in RECORD_TABLES:
            schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {percent})")

    return apply


class Migration(migrations.Migration):
    dependencies = [("inventory", "0007_records_without_fk_checks")]

    operations = [migrations.RunPython(fill_pages_to(40), fill_pages_to(50))]
