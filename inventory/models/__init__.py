"""inventory models, one module per concern; import them from here."""

from inventory.models.factors import (
    CloudCoefficient,
    FactorBasis,
    FactorDataset,
    FactorKind,
    FactorOverride,
    GridFactor,
    Hardware,
    Provenance,
    ProviderPue,
    ReplicationFactor,
    Zone,
)
from inventory.models.locations import (
    Location,
)
from inventory.models.records import (
    AiModel,
    ComputeStatus,
    DailyRollup,
    EmissionScope,
    EnergyTier,
    IngestBatch,
    Phase,
    WorkloadRecord,
)

__all__ = [
    "AiModel",
    "CloudCoefficient",
    "CloudUsageRecord",
    "ComputeStatus",
    "ComputedResult",
    "ContractualInstrument",
    "DailyRollup",
    "EmissionScope",
    "EnergyTier",
    "FactorBasis",
    "FactorDataset",
    "FactorKind",
    "FactorOverride",
    "GridFactor",
    "Hardware",
    "IngestBatch",
    "InstrumentKind",
    "Location",
    "MarketAllocation",
    "MarketBasis",
    "Phase",
    "Provenance",
    "ProviderPue",
    "RecordKind",
    "ReplicationFactor",
    "UsageKind",
    "WorkloadRecord",
    "Zone",
]
