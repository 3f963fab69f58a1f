from datetime import date

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Organisation
from inventory.factors.library import active_dataset
from inventory.models import RecalculationTrigger
from inventory.pipeline.recalculation import (
    RecalculationScope,
    recalculation_for_dataset,
    recalculation_run,
    recalculation_start,
)


class Command(BaseCommand):
    help = (
        "Recalculate open periods: --dataset after loading a new factor dataset version (every "
        "organisation's records computed with another one), or one organisation's records "
        "(optionally a zone and a period). Locked periods are left alone."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dataset", action="store_true", help="the active dataset's records")
        parser.add_argument("--organisation", help="organisation slug")
        parser.add_argument("--zone")
        parser.add_argument("--from", dest="date_from", type=date.fromisoformat)
        parser.add_argument("--to", dest="date_to", type=date.fromisoformat)
        parser.add_argument(
            "--wait", action="store_true", help="run here and now rather than on a worker"
        )

    def handle(self, *args, dataset, organisation, zone, date_from, date_to, wait, **options):
        if dataset:
            jobs = recalculation_for_dataset(dataset=active_dataset())
        elif organisation:
            org = Organisation.objects.filter(slug=organisation).first()
            if org is None:
                raise CommandError(f"No organisation {organisation!r}")
            scope = RecalculationScope(zone=zone, date_from=date_from, date_to=date_to, market=True)
            jobs = [
                recalculation_start(
                    organisation=org,
                    trigger=RecalculationTrigger.MANUAL,
                    description="manage.py recalculate",
                    scope=scope,
                )
            ]
        else:
            raise CommandError("Give --dataset or --organisation")
        for job in jobs:
            if wait:
                job = recalculation_run(job_id=job.id)
            job.refresh_from_db()
            self.stdout.write(
                f"recalculation {job.id} ({job.organisation.slug}): {job.status}, "
                f"{job.processed_records}/{job.total_records} records"
            )
