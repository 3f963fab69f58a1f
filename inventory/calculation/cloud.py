"""Energy of cloud usage records (billing exports), Cloud Carbon Footprint-compatible.

Coefficients and formulas follow the Cloud Carbon Footprint methodology
(cloudcarbonfootprint.org, "Methodology"); its energy-only part, that is: CCF also turns
embodied emissions into kWh and adds them, which we never do (energy is electricity only).
"""

from dataclasses import dataclass
from enum import StrEnum

from inventory.calculation import validation
from inventory.calculation.energy import PowerProfile
from inventory.calculation.errors import CalculationError
from inventory.calculation.methodology import DEFAULT_REPLICATION, DEFAULT_UTILIZATION


class UsageKind(StrEnum):
    """What a usage quantity counts, and so its unit."""

    COMPUTE = "compute"  # vCPU-hours
    GPU = "gpu"  # GPU-hours
    MEMORY = "memory"  # GB-hours
    STORAGE_SSD = "storage_ssd"  # TB-hours
    STORAGE_HDD = "storage_hdd"  # TB-hours
    NETWORK = "network"  # GB transferred between regions


@dataclass(frozen=True)
class CloudCoefficients:
    """CCF energy coefficients (CCF Methodology, Appendix I; the same for AWS, GCP, Azure)."""

    memory_kwh_per_gb_hour: float = 0.000392
    ssd_wh_per_tb_hour: float = 1.2
    hdd_wh_per_tb_hour: float = 0.65
    network_kwh_per_gb: float = 0.001

    def __post_init__(self) -> None:
        for name in (
            "memory_kwh_per_gb_hour",
            "ssd_wh_per_tb_hour",
            "hdd_wh_per_tb_hour",
            "network_kwh_per_gb",
        ):
            object.__setattr__(self, name, validation.non_negative(name, getattr(self, name)))


# One shared default: frozen, so sharing it is safe, and no call sits in the signature.
_CCF_COEFFICIENTS = CloudCoefficients()

_POWERED = (UsageKind.COMPUTE, UsageKind.GPU)


@validation.finite_result
def cloud_usage_it_kwh(
    *,
    kind: UsageKind,
    quantity: float,
    power: PowerProfile | None = None,
    utilization: float | None = None,
    replication: float = DEFAULT_REPLICATION,
    coefficients: CloudCoefficients = _CCF_COEFFICIENTS,
) -> float:
    """IT energy in kWh of one usage quantity, before PUE.

    - compute, gpu (vCPU- or GPU-hours; power is per vCPU or per GPU, idle_w standing for
      CCF's min watts), with ``u = utilization`` if given, else DEFAULT_UTILIZATION:
      ``(power.idle_w + u * (power.max_w - power.idle_w)) * quantity * replication / 1000.0``
    - memory (GB-hours): ``quantity * coefficients.memory_kwh_per_gb_hour * replication``
    - storage_ssd (TB-hours): ``quantity * coefficients.ssd_wh_per_tb_hour * replication
      / 1000.0``; storage_hdd likewise with hdd_wh_per_tb_hour
    - network (GB): ``quantity * coefficients.network_kwh_per_gb``

    Raises CalculationError for compute or gpu without a power profile, for power or
    utilisation given with another kind (they would be silently ignored), for a replication
    factor other than 1 on network (CCF counts a transfer once), and for invalid numbers
    (negative, NaN, utilisation outside 0..1, replication below 1).
    """
    try:
        usage = UsageKind(kind)
    except ValueError:
        raise CalculationError(f"unknown usage kind {kind!r}") from None
    if power is not None and not isinstance(power, PowerProfile):
        raise CalculationError(f"power must be a PowerProfile, got {power!r}")
    amount = validation.non_negative("quantity", quantity)
    copies = validation.number("replication", replication)
    if copies < 1.0:
        raise CalculationError(f"replication must be at least 1, got {replication!r}")
    given_u = None if utilization is None else validation.fraction("utilization", utilization)

    if usage in _POWERED:
        if power is None:
            raise CalculationError(f"{usage} usage needs the processor's power profile")
        u = given_u if given_u is not None else DEFAULT_UTILIZATION
        return (power.idle_w + u * (power.max_w - power.idle_w)) * amount * copies / 1000.0

    if power is not None or given_u is not None:
        raise CalculationError(f"power and utilization apply to compute and gpu, not {usage}")
    if usage is UsageKind.MEMORY:
        return amount * coefficients.memory_kwh_per_gb_hour * copies
    if usage is UsageKind.STORAGE_SSD:
        return amount * coefficients.ssd_wh_per_tb_hour * copies / 1000.0
    if usage is UsageKind.STORAGE_HDD:
        return amount * coefficients.hdd_wh_per_tb_hour * copies / 1000.0
    if copies != DEFAULT_REPLICATION:
        raise CalculationError("replication does not apply to network transfer")
    return amount * coefficients.network_kwh_per_gb


@validation.finite_result
def cloud_usage_kwh(
    *,
    kind: UsageKind,
    quantity: float,
    pue: float,
    power: PowerProfile | None = None,
    utilization: float | None = None,
    replication: float = DEFAULT_REPLICATION,
    coefficients: CloudCoefficients = _CCF_COEFFICIENTS,
) -> float:
    """Facility energy of one usage quantity: ``cloud_usage_it_kwh(...) * pue``."""
    factor = validation.pue("pue", pue)
    it_kwh = cloud_usage_it_kwh(
        kind=kind,
        quantity=quantity,
        power=power,
        utilization=utilization,
        replication=replication,
        coefficients=coefficients,
    )
    return it_kwh * factor
