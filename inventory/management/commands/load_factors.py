from pathlib import Path

from django.core.management.base import BaseCommand

from inventory.factors.library import DATA_DIR, factor_dataset_load
from inventory.pipeline.recalculation import recalculation_for_dataset


class Command(BaseCommand):
    help = "Load the shipped emission-factor library (a versioned dataset) and make it active."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--directory", type=Path, default=DATA_DIR)

    def handle(self, *args, directory: Path, **options) -> None:
        dataset, created = factor_dataset_load(directory=directory)
        verb = "Loaded" if created else "Already loaded"
        self.stdout.write(f"{verb} factor dataset {dataset.name} {dataset.version}")
        if created:
            # A new version recomputes every open period; locked quarters keep their figures.
            jobs = recalculation_for_dataset(dataset=dataset)
            self.stdout.write(f"Queued {len(jobs)} recalculation(s) of open periods")
