"""A facility's settings by validity period (its WUE, its electricity tariff) share one rule:
refused for a cloud region or without a source, audited when added or removed, a removal
recalculating the period and refused while a computed figure names the row. The tariff's
removal is checked here (the WUE's is in test_water.py); figures from test_embodied_and_cost."""

from datetime import date

import pytest

from accounts.models import AuditEvent
from greenai_portal.errors import ApplicationError
from inventory.facility_services import (
    facility_wue_create,
    facility_wue_delete,
    tariff_create,
    tariff_delete,
)
from inventory.models import ElectricityTariff, FacilityWue, Location
from inventory.pipeline import records_compute
from tests.inventory.test_embodied_and_cost import COST_EUR, eight_h100s
from tests.inventory.test_pipeline import stored_batch
from tests.inventory.test_recalculation import fresh

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]

YEAR_2026 = {"valid_from": date(2026, 1, 1), "valid_to": date(2026, 12, 31)}
TARIFF = {**YEAR_2026, "price_per_kwh": 0.18, "currency": "eur", "source": " Contract 2026 "}
WUE = {**YEAR_2026, "wue_l_per_kwh": 1.8, "source": "Metered site water 2025"}


def facility(tenant, code: str = "lab-paris") -> Location:
    return Location.objects.get(organisation=tenant.organisation, code=code)


def admin(tenant):
    return tenant.members["admin"].user


class TestTariffDelete:
    def test_an_unused_tariff_is_deleted_audited_and_its_period_recalculated(
        self, tenant, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            tariff, _ = tariff_create(location=facility(tenant), created_by=admin(tenant), **TARIFF)
            job = tariff_delete(tariff=tariff, actor=admin(tenant))
        assert not ElectricityTariff.objects.exists()
        assert (job.trigger, job.organisation_id) == ("tariff", tenant.organisation.id)
        event = AuditEvent.objects.get(action="tariff.delete")
        # the currency upper-cased and the source stripped, as stored
        assert event.details == {
            "facility": "lab-paris",
            "valid_from": "2026-01-01",
            "valid_to": "2026-12-31",
            "price_per_kwh": 0.18,
            "currency": "EUR",
            "source": "Contract 2026",
        }

    def test_a_tariff_a_cost_was_computed_with_stays(
        self, tenant, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            tariff, _ = tariff_create(location=facility(tenant), created_by=admin(tenant), **TARIFF)
        record = eight_h100s(tenant, stored_batch(tenant))
        records_compute()
        assert fresh(record).energy_cost == pytest.approx(COST_EUR)  # 89.75232 kWh × 0.18
        with pytest.raises(ApplicationError, match=r"^Computed costs use this tariff; it stays"):
            tariff_delete(tariff=tariff, actor=admin(tenant))
        assert ElectricityTariff.objects.filter(pk=tariff.pk).exists()
        assert not AuditEvent.objects.filter(action="tariff.delete").exists()  # rolled back


class TestEitherSetting:
    @pytest.mark.parametrize(
        ("create", "fields", "message"),
        [
            (tariff_create, TARIFF, "Cloud usage keeps the cost its bill carries"),
            (facility_wue_create, WUE, "Cloud regions use the provider's published WUE"),
        ],
    )
    def test_a_cloud_region_takes_none(self, tenant, create, fields, message):
        region = Location.objects.filter(organisation__isnull=True).first()
        assert region is not None  # the factor library's cloud regions are loaded
        with pytest.raises(ApplicationError, match=message) as refused:
            create(location=region, **fields)
        assert refused.value.status_code == 404
        assert not ElectricityTariff.objects.exists() and not FacilityWue.objects.exists()

    @pytest.mark.parametrize(
        ("create", "fields", "message"),
        [
            (tariff_create, TARIFF, "Say where the price comes from"),
            (facility_wue_create, WUE, "Say where the WUE comes from"),
        ],
    )
    def test_a_row_without_a_source_is_refused(self, tenant, create, fields, message):
        with pytest.raises(ApplicationError, match=message):
            create(location=facility(tenant), **{**fields, "source": "  "})
        assert not ElectricityTariff.objects.exists() and not FacilityWue.objects.exists()

    def test_each_setting_audits_its_own_figures(self, tenant, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            row, _ = facility_wue_create(location=facility(tenant), actor=admin(tenant), **WUE)
            facility_wue_delete(row=row, actor=admin(tenant))
        created, deleted = (
            AuditEvent.objects.get(action=f"facility_wue.{verb}") for verb in ("create", "delete")
        )
        assert (
            created.details
            == deleted.details
            == {
                "facility": "lab-paris",
                "valid_from": "2026-01-01",
                "valid_to": "2026-12-31",
                "wue_l_per_kwh": 1.8,
                "source": "Metered site water 2025",
            }
        )
