"""EC2 instance sizes: vCPUs of the small burstable sizes, and memory as Cloud Carbon Footprint
estimates it.

CCF (packages/aws AWSMemoryEstimatesBuilder, core calculateGigabyteHours) counts the memory an
instance has beyond what the processor's SPECpower figures already include: the largest size
of the family stands for whole physical chips (one per 96 vCPUs, two for m5zn and z1d), each
chip's power already covers the processor's GB per chip, and the rest is shared in
proportion to the instance's memory:

    gb_hours = (largest_gb / chips - chip_gb) * instance_gb / largest_gb * hours

Burstable (t*) families get none: their largest size is not a whole machine. Families absent
from the table get none either, as in CCF.
"""

import math
import re

# CCF AWS_CLOUD_CONSTANTS.MEMORY_BY_COMPUTE_PROCESSOR (GB per physical chip); MEMORY_AVG else.
_CHIP_GB = {
    "intel-cascade-lake": 98.12,
    "intel-skylake": 81.32,
    "intel-broadwell": 69.65,
    "intel-haswell": 27.71,
    "amd-epyc-1st-gen": 89.6,
    "amd-epyc-2nd-gen": 129.78,
    "aws-graviton2": 129.78,
}
_AVERAGE_CHIP_GB = 80.69

# Families whose memory is a fixed number of GB per vCPU: (largest size's vCPUs, its GB).
_FAMILIES = {
    **dict.fromkeys(("m5", "m5a", "m5d", "m5ad", "m5n", "g4dn"), (96, 384)),
    **dict.fromkeys(("c5", "c5a", "c5d", "c5ad"), (96, 192)),
    **dict.fromkeys(("r5", "r5a", "r5d", "r5n"), (96, 768)),
    "m4": (64, 256),
    **dict.fromkeys(("r4", "p3"), (64, 488)),
    "m6g": (64, 256),
    "c6g": (64, 128),
    "r6g": (64, 512),
    "m6a": (192, 768),
    "c6a": (192, 384),
    "r6a": (192, 1536),
    "g5": (192, 768),
    "p4d": (96, 1152),
    "p4de": (96, 1152),
    "z1d": (48, 384),
    "x1": (128, 1952),
}
_TWO_CHIPS = {"m5zn", "z1d"}
# t3, t3a and t4g sizes up to large all have 2 vCPUs (t3.micro is not 1 vCPU); t2.medium has 2
# (CCF EC2_INSTANCE_TYPES). Spot lines carry no product_vcpu, so the size must tell.
_BURSTABLE_TWO_VCPUS = {"t3", "t3a", "t4g"}
_SMALL_SIZES = {"nano", "micro", "small", "medium", "large"}


def burstable_vcpus(family: str, size: str) -> int | None:
    if family in _BURSTABLE_TWO_VCPUS and size in _SMALL_SIZES:
        return 2
    return 2 if (family, size) == ("t2", "medium") else None


def memory_gb(text: str) -> float | None:
    """The CUR's `product_memory` ("8 GiB", "0.5 GiB", "1,952 GiB") as a number."""
    match = re.match(r"\s*([\d,]+(?:\.\d+)?)\s*GiB", text or "")
    return float(match.group(1).replace(",", "")) if match else None


def memory_gb_hours(
    *, family: str, vcpus: float, hours: float, hardware: str | None, instance_gb: float | None
) -> float | None:
    """CCF's memory GB-hours of `hours` of one instance, or None where CCF counts none."""
    if family not in _FAMILIES:
        return None
    largest_vcpus, largest_gb = _FAMILIES[family]
    gb = instance_gb or vcpus * largest_gb / largest_vcpus
    chips = 2 if family in _TWO_CHIPS else math.ceil(largest_vcpus / 96)
    extra_per_chip = largest_gb / chips - _CHIP_GB.get(hardware or "", _AVERAGE_CHIP_GB)
    if extra_per_chip <= 0 or gb <= 0:
        return None
    return extra_per_chip * gb / largest_gb * hours
