"""Embodied (cradle-to-gate) hardware emissions amortised over the hours a record used.

A device's embodied kg (its share of the host server included) is spread evenly over its
expected lifetime: a record's share is ``kg_co2e / lifetime_hours * device_hours`` (a cloud
instance's vCPU-hours count as ``instance_host_hours`` of its platform). Reported
as Scope 3 category 2 (capital goods) for owned and colocated hardware, beside Scope 2 and
never added to it. The SQL pipeline (inventory/pipeline/workloads.py and cloud.py) computes
the same expression in the same order of operations.
"""

from inventory.calculation import validation
from inventory.calculation.errors import CalculationError


def device_hours(*, device_count: int, duration_s: float) -> float:
    """Device-hours of a record: ``device_count * duration_s / 3600.0``."""
    devices = validation.count("device_count", device_count, minimum=1)
    seconds = validation.non_negative("duration_s", duration_s)
    return devices * seconds / 3600.0


def instance_host_hours(*, vcpu_hours: float, family_vcpus: int) -> float:
    """Host-hours of a cloud instance's vCPU-hours (Cloud Carbon Footprint): the instance's
    share of the platform is its vCPUs over those of its family's largest size, for the hours
    it ran, so ``vcpu_hours / family_vcpus`` (the instance's own vCPUs cancel out)."""
    used = validation.non_negative("vcpu_hours", vcpu_hours)
    largest = validation.count("family_vcpus", family_vcpus, minimum=1)
    return used / largest


@validation.finite_result
def amortised_embodied_kg(*, kg_co2e: float, lifetime_hours: float, device_hours: float) -> float:
    """kg CO2e of embodied emissions for the device-hours used:
    ``kg_co2e / lifetime_hours * device_hours``."""
    embodied = validation.non_negative("kg_co2e", kg_co2e)
    lifetime = validation.non_negative("lifetime_hours", lifetime_hours)
    if lifetime == 0:
        raise CalculationError("lifetime_hours must be above 0")
    used = validation.non_negative("device_hours", device_hours)
    return embodied / lifetime * used
