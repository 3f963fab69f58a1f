from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from inventory.pipeline import daily_rollups_rebuild, market_allocations_rebuild
from inventory.pipeline.rollups import rollup_mismatches
from inventory.pipeline.sql import month_start, organisation_lock, window_lock


class Command(BaseCommand):
    help = (
        "Compare the daily rollups with the raw sums of the computed records, and the monthly "
        "rollups with the sums of the daily ones (counts exact, kWh and kg to the half gram); "
        "--repair rebuilds the days (months) that differ. Exit 1 if any differ (after repair: "
        "if any still do)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--repair", action="store_true")

    def handle(self, *args, repair: bool, **options) -> None:
        mismatches = rollup_mismatches()
        for m in mismatches:
            self.stdout.write(
                f"organisation {m['organisation_id']} {m['grain']} {m['day']}: "
                f"records {m['records']}, facility kWh {m['facility_kwh']}, "
                f"location kg {m['location_kg']}"
            )
        if mismatches and repair:
            for m in mismatches:
                organisation, day = m["organisation_id"], m["day"]
                with transaction.atomic():
                    window_lock(organisation, month_start(day), wait=True)
                    organisation_lock(organisation)
                    daily_rollups_rebuild(organisation_id=organisation, days=[day])
                    market_allocations_rebuild(
                        organisation_id=organisation, months=[month_start(day)]
                    )
            mismatches = rollup_mismatches()
            self.stdout.write(f"repaired; {len(mismatches)} day(s) or month(s) still differ")
        if mismatches:
            raise CommandError(f"{len(mismatches)} day(s) or month(s) differ from their sums")
        self.stdout.write("rollups equal the raw sums")
