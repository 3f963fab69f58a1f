"""The computation pipeline: pending records → results → daily rollups → market allocation.

Set-based SQL that implements inventory.calculation's formulas with the same order of
operations, so both give the same floats (tests/inventory/test_pipeline*.py run both on the
same records). Modules: ``sql`` (factor picks, locks), ``workloads`` and ``cloud`` (the
compute UPDATEs), ``rollups``, ``market`` (market-based allocation), ``compute`` (windows and
transactions), ``recalculation`` (recomputing open periods after a factor change).
"""

from inventory.pipeline.compute import (
    ComputeResult,
    batch_compute,
    batches_waiting,
    pending_sweep,
    pending_windows,
    records_compute,
    window_compute,
)
from inventory.pipeline.market import market_allocations_rebuild
from inventory.pipeline.rollups import daily_rollups_rebuild, rollup_mismatches

# The name the foundation used: it computes cloud usage records too now.
workload_records_compute = records_compute

__all__ = [
    "ComputeResult",
    "batch_compute",
    "batches_waiting",
    "daily_rollups_rebuild",
    "market_allocations_rebuild",
    "pending_sweep",
    "pending_windows",
    "records_compute",
    "rollup_mismatches",
    "window_compute",
    "workload_records_compute",
]
