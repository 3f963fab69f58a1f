from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"

    def ready(self) -> None:
        from inventory.pipeline.locks import locked_periods_source_set
        from reports.models import locked_quarters

        locked_periods_source_set(locked_quarters)
