"""vCPUs of burstable sizes whose name does not tell them, as CCF's EC2_INSTANCE_TYPES lists
them (packages/aws AWSInstanceTypes.ts): what a Spot line, which has no product_vcpu, gets."""

import pytest

from inventory.imports.ec2 import burstable_vcpus


@pytest.mark.parametrize(
    ("family", "size", "vcpus"),
    [
        ("t2", "micro", None),  # 1, as the size name says: the generic table's
        ("t2", "medium", 2),  # t2.medium: [2, 4]
        ("t3", "micro", 2),  # t3.micro: [2, 1]
        ("t3a", "large", 2),
        ("t4g", "nano", 2),
        ("t3", "xlarge", None),  # 4, as the size name says
        ("m5", "large", None),
        ("", "", None),
    ],
)
def test_burstable_sizes_have_the_vcpus_ccf_lists(family, size, vcpus):
    assert burstable_vcpus(family, size) == vcpus
