import math

import pytest

from inventory.calculation.cloud import (
    CloudCoefficients,
    UsageKind,
    cloud_usage_it_kwh,
    cloud_usage_kwh,
)
from inventory.calculation.energy import PowerProfile
from inventory.calculation.errors import CalculationError

# CCF's per-vCPU watts for an unknown AWS processor (cloud-coefficients.md).
AWS_VCPU = PowerProfile(idle_w=0.74, max_w=3.5)
A100 = PowerProfile(idle_w=46.0, max_w=407.0)


def test_it_estimates_compute_at_the_default_utilization():
    # (0.74 + 0.5 * 2.76) W = 2.12 W per vCPU; 1000 vCPU-hours = 2.12 kWh.
    assert cloud_usage_it_kwh(
        kind=UsageKind.COMPUTE, quantity=1000.0, power=AWS_VCPU
    ) == pytest.approx(2.12)


def test_it_estimates_gpu_hours_like_compute():
    # (46 + 0.8 * 361) W = 334.8 W; 10 GPU-hours = 3.348 kWh.
    assert cloud_usage_it_kwh(
        kind=UsageKind.GPU, quantity=10.0, power=A100, utilization=0.8
    ) == pytest.approx(3.348)


def test_it_evaluates_the_contract_expressions_bit_for_bit():
    coefficients = CloudCoefficients()
    compute = cloud_usage_it_kwh(
        kind="compute", quantity=7.3, power=AWS_VCPU, utilization=0.21, replication=3
    )
    assert compute == (0.74 + 0.21 * (3.5 - 0.74)) * 7.3 * 3.0 / 1000.0
    memory = cloud_usage_it_kwh(kind="memory", quantity=7.3, replication=2)
    assert memory == 7.3 * coefficients.memory_kwh_per_gb_hour * 2.0
    ssd = cloud_usage_it_kwh(kind="storage_ssd", quantity=7.3, replication=6)
    assert ssd == 7.3 * coefficients.ssd_wh_per_tb_hour * 6.0 / 1000.0
    hdd = cloud_usage_it_kwh(kind="storage_hdd", quantity=7.3, replication=6)
    assert hdd == 7.3 * coefficients.hdd_wh_per_tb_hour * 6.0 / 1000.0
    network = cloud_usage_it_kwh(kind="network", quantity=7.3)
    assert network == 7.3 * coefficients.network_kwh_per_gb


def test_it_uses_the_ccf_coefficients_by_default():
    assert CloudCoefficients() == CloudCoefficients(
        memory_kwh_per_gb_hour=0.000392,
        ssd_wh_per_tb_hour=1.2,
        hdd_wh_per_tb_hour=0.65,
        network_kwh_per_gb=0.001,
    )


def test_it_takes_other_coefficients_when_given():
    custom = CloudCoefficients(network_kwh_per_gb=0.002)
    assert cloud_usage_it_kwh(kind="network", quantity=100.0, coefficients=custom) == 0.2


def test_it_multiplies_by_the_pue_after_the_it_energy():
    it_kwh = cloud_usage_it_kwh(kind=UsageKind.MEMORY, quantity=1000.0)
    assert cloud_usage_kwh(kind=UsageKind.MEMORY, quantity=1000.0, pue=1.185) == it_kwh * 1.185


def test_replication_multiplies_storage_energy():
    once = cloud_usage_it_kwh(kind=UsageKind.STORAGE_HDD, quantity=10.0)
    six = cloud_usage_it_kwh(kind=UsageKind.STORAGE_HDD, quantity=10.0, replication=6)
    assert six == pytest.approx(6 * once)


def test_it_is_energy_only_with_no_embodied_emissions_added():
    # CCF adds embodied emissions converted to kWh; our compute kWh is the power model alone.
    kwh = cloud_usage_kwh(kind="compute", quantity=1.0, power=AWS_VCPU, utilization=1.0, pue=1.0)
    assert kwh == pytest.approx(3.5 / 1000.0)


def test_it_refuses_compute_without_a_power_profile():
    with pytest.raises(CalculationError, match="power profile"):
        cloud_usage_it_kwh(kind=UsageKind.GPU, quantity=1.0)


@pytest.mark.parametrize("kind", ["memory", "storage_ssd", "storage_hdd", "network"])
def test_it_refuses_power_or_utilization_where_they_mean_nothing(kind):
    with pytest.raises(CalculationError, match="compute and gpu"):
        cloud_usage_it_kwh(kind=kind, quantity=1.0, utilization=0.5)
    with pytest.raises(CalculationError, match="compute and gpu"):
        cloud_usage_it_kwh(kind=kind, quantity=1.0, power=AWS_VCPU)


def test_it_refuses_replication_on_network_transfer():
    with pytest.raises(CalculationError, match="network"):
        cloud_usage_it_kwh(kind="network", quantity=1.0, replication=2)


@pytest.mark.parametrize(
    "overrides",
    [
        {"quantity": -1.0},
        {"quantity": math.nan},
        {"utilization": 1.5},
        {"replication": 0.5},
        {"replication": math.inf},
        {"kind": "tpu"},
    ],
)
def test_it_refuses_invalid_usage(overrides):
    arguments = {"kind": "compute", "quantity": 1.0, "power": AWS_VCPU} | overrides
    with pytest.raises(CalculationError):
        cloud_usage_it_kwh(**arguments)


def test_it_refuses_a_pue_below_one():
    with pytest.raises(CalculationError, match="pue"):
        cloud_usage_kwh(kind="memory", quantity=1.0, pue=0.95)


def test_it_refuses_negative_coefficients():
    with pytest.raises(CalculationError):
        CloudCoefficients(ssd_wh_per_tb_hour=-1.2)


def test_usage_kinds_are_the_stored_strings():
    assert [k.value for k in UsageKind] == [
        "compute",
        "gpu",
        "memory",
        "storage_ssd",
        "storage_hdd",
        "network",
    ]
