import pytest
from django.core.management import call_command
from django.db.models import Sum

from accounts.models import Membership
from inventory.models import DailyRollup, WorkloadRecord


@pytest.mark.django_db
def test_the_demo_seed_computes_a_quarter_and_is_idempotent(factors, capsys):
    call_command("seed_demo")
    first = WorkloadRecord.objects.count()
    assert first >= 270  # 2 serving sites a day, 2 fine-tunes every other day, weekly pre-training
    assert set(Membership.objects.values_list("role", flat=True)) == {
        "admin",
        "esg_officer",
        "engineer",
        "auditor",
    }
    # Eager Celery computes on commit, which a test transaction never reaches: compute here.
    from inventory.pipeline import workload_records_compute

    workload_records_compute()
    assert not WorkloadRecord.objects.exclude(status="computed").exists()
    assert set(WorkloadRecord.objects.values_list("energy_tier", flat=True)) == {
        "measured",
        "metered",
        "modelled",
    }
    total = DailyRollup.objects.aggregate(kg=Sum("location_kg"))["kg"]
    assert total > 1000  # a quarter of a 64-GPU pre-training programme is tonnes, not grams
    call_command("seed_demo")
    assert WorkloadRecord.objects.count() == first
    assert "already there" in capsys.readouterr().out
