"""Turn uploaded files into raw records, one streamed row at a time (constant memory).

Each reader yields `SourceRow(line, kind, raw)`: `kind` is the record schema name
("workload" / "cloud_usage") and `raw` a record for that schema, a RowProblem, or a `Skip`
(a line that is not AI or cloud energy, e.g. a tax line of a bill, counted by reason).
Team attribution of billing lines uses the organisation's TeamMappingRules.
"""

import csv
import hashlib
import json
import re
from calendar import monthrange
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from inventory.imports import ec2
from inventory.ingestion.mapping import match_rule
from inventory.ingestion.parsers import csv_rows
from inventory.models import ImportFormat


@dataclass(frozen=True)
class Skip:
    reason: str


@dataclass(frozen=True)
class SourceRow:
    line: int
    kind: str
    raw: Any


@dataclass
class ReaderContext:
    """What readers need besides the file: mapping rules and replication factors."""

    rules: list
    default_team: str | None
    replication: dict[tuple[str, str], float]


# --- which format a header is ---------------------------------------------------------

# The columns that mark each format's header, as its reader reads the names.
_HEADER_MARKS = (
    (ImportFormat.PORTAL_WORKLOADS_CSV, "plain", {"external_id"}, {"phase", "started_at"}),
    (ImportFormat.PORTAL_CLOUD_USAGE_CSV, "plain", {"external_id"}, {"usage_kind", "usage_start"}),
    (ImportFormat.CODECARBON_CSV, "plain", {"timestamp", "run_id", "duration"}, set()),
    (ImportFormat.AWS_CUR, "snake", {"line_item_usage_start_date", "line_item_usage_type"}, set()),
    (ImportFormat.GCP_BILLING, "plain", {"sku.description", "usage_start_time"}, set()),
    # Azure's current and older (UsageQuantity) schemas.
    (ImportFormat.AZURE_USAGE, "lower", {"metercategory"}, {"quantity", "usagequantity"}),
)


def header_formats(header: list[str]) -> list[str]:
    """The import formats whose header this is (every column of `all_of`, one of `any_of`)."""
    names = {
        "plain": {h.strip() for h in header},
        "snake": {snake(h) for h in header},
        "lower": {azure_column(h) for h in header},
    }
    return [
        file_format
        for file_format, spelling, all_of, any_of in _HEADER_MARKS
        if all_of <= names[spelling] and (not any_of or any_of & names[spelling])
    ]


# --- the portal's own CSV ---------------------------------------------------------------


def portal_rows(lines: Iterable[str], kind: str, field_names) -> Iterator[SourceRow]:
    for line, record in csv_rows(lines, field_names):
        yield SourceRow(line, kind, record)


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


# --- billing exports (CCF methodology) ---------------------------------------------------

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def snake(name: str) -> str:
    """'lineItem/UsageStartDate' → 'line_item_usage_start_date' (legacy CUR headers)."""
    name = name.strip().replace("/", "_").replace(":", "_").replace(".", "_").replace(" ", "_")
    return _CAMEL.sub("_", name).lower()


CELL_SEPARATOR = "\x1f"


def _digest(cells: Iterable[str]) -> str:
    return text_digest(CELL_SEPARATOR.join(cells))


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def cell_text(value: Any) -> str:
    """A cell as text: empty for a missing value or "null", stripped."""
    if value is None or value == "null":
        return ""
    return value.strip() if type(value) is str else str(value).strip()


def cells_digest(cells: Iterable[Any]) -> str:
    """The id of a line that carries none: a hash of every cell as cell_text reads it
    (parquet.ParquetExport.digested_records makes the same in arrow)."""
    return _digest(cell_text(cell) for cell in cells)


def _iso(value: str) -> str:
    value = value.strip()
    if value.endswith(" UTC"):
        value = value[:-4] + "+00:00"
    return value


def _hours_in_month(stamp: str) -> float:
    try:
        moment = datetime.fromisoformat(_iso(stamp))
    except ValueError:
        return 730.0
    return monthrange(moment.year, moment.month)[1] * 24.0


def _team(context: ReaderContext, keys: dict[str, str | None]) -> tuple[str | None, str | None]:
    rule = match_rule(context.rules, keys)
    if rule:
        return rule.team.slug, rule.model_name or None
    return context.default_team, None


def keep_currency(base: dict[str, Any], value: str | None) -> dict[str, Any]:
    """A three-letter code goes in `currency`; any other text is kept in the tags
    (`billing_currency`) instead of rejecting the line."""
    text = (value or "").strip()
    if not text or re.fullmatch(r"[A-Za-z]{3}", text):
        return {**base, "currency": text.upper() or None}
    return {**base, "currency": None, "tags": {**(base["tags"] or {}), "billing_currency": text}}


def _usage(
    base: dict[str, Any], suffix: str, kind: str, quantity: float, **extra: Any
) -> dict[str, Any]:
    record = {**base, "external_id": f"{base['external_id']}:{suffix}", "usage_kind": kind}
    record["quantity"] = quantity
    record.update({k: v for k, v in extra.items() if v is not None})
    return record


# AWS instance families: GPU (code, GPUs per size) and CPU microarchitecture (CCF tables, short).
_AWS_GPUS = {
    "p2": ("nvidia-k80", {"xlarge": 1, "8xlarge": 8, "16xlarge": 16}),
    "p3": ("nvidia-v100", {"2xlarge": 1, "8xlarge": 4, "16xlarge": 8}),
    "p3dn": ("nvidia-v100", {"24xlarge": 8}),
    "p4d": ("nvidia-a100-40gb", {"24xlarge": 8}),
    "p4de": ("nvidia-a100-80gb", {"24xlarge": 8}),
    "p5": ("nvidia-h100-sxm", {"48xlarge": 8}),
    "p5e": ("nvidia-h200", {"48xlarge": 8}),
    "p5en": ("nvidia-h200", {"48xlarge": 8}),
    "g4dn": ("nvidia-t4", {"12xlarge": 4, "metal": 8}),
    "g5": ("nvidia-a10g", {"12xlarge": 4, "24xlarge": 4, "48xlarge": 8}),
    "g6": ("nvidia-l4", {"12xlarge": 4, "24xlarge": 4, "48xlarge": 8}),
    "g6e": ("nvidia-l40s", {"12xlarge": 4, "24xlarge": 4, "48xlarge": 8}),
}
# CCF AWSInstanceTypes.ts INSTANCE_TYPE_COMPUTE_PROCESSOR_MAPPING (@0656d555). Where CCF
# averages two (c5/r5 sizes: Cascade Lake and Skylake; m4: Broadwell and Haswell) one is kept:
# Skylake, Broadwell (docs/methodology.md).
_AWS_CPUS = {
    **dict.fromkeys(("c4", "x1", "x1e", "d2"), "intel-haswell"),
    **dict.fromkeys(("m4", "r4", "p2", "p3", "h1"), "intel-broadwell"),
    **dict.fromkeys(("m5", "c5", "r5", "m5d", "c5d", "r5d", "p3dn"), "intel-skylake"),
    **dict.fromkeys(("t2", "t3", "z1d", "m5n", "m5dn", "m5zn", "c5n"), "intel-cascade-lake"),
    **dict.fromkeys(("r5n", "r5dn", "r5b", "p4d", "p4de", "g4dn"), "intel-cascade-lake"),
    **dict.fromkeys(("m5a", "r5a", "t3a", "m5ad", "r5ad"), "amd-epyc-1st-gen"),
    **dict.fromkeys(("c5a", "c5ad", "g4ad", "g5"), "amd-epyc-2nd-gen"),
    **dict.fromkeys(("m6a", "c6a", "r6a"), "amd-epyc-3rd-gen"),
    **dict.fromkeys(
        ("m6g", "c6g", "r6g", "t4g", "m6gd", "c6gd", "r6gd", "c6gn", "g5g", "x2gd"),
        "aws-graviton2",
    ),
}
_SIZE_VCPUS = {"nano": 1, "micro": 1, "small": 1, "medium": 1, "large": 2, "xlarge": 4}
_AWS_USAGE_LINES = {"Usage", "DiscountedUsage", "SavingsPlanCoveredUsage"}


_AWS_INSTANCE_HOURS = ("BoxUsage", "SpotUsage", "DedicatedUsage", "HostUsage")
# Byte-month storage by CCF's lists (packages/aws CostAndUsageTypes.ts SSD_SERVICES,
# SSD_USAGE_TYPES, HDD_USAGE_TYPES): usage types are matched on their ending, after the
# region prefix ("USW2-TimedStorage-ByteHrs"); services whose disks are unknown count as SSD.
_AWS_SSD_SERVICES = {
    "AmazonDocDB", "AmazonDynamoDB", "AmazonEFS", "AmazonES", "AmazonSimpleDB", "AmazonSageMaker",
    "AWSIoTAnalytics", "AmazonKinesisAnalytics", "AmazonMQ", "AmazonECS", "AmazonLightsail",
    "AmazonNeptune",
}  # fmt: skip
_AWS_SSD_USAGE_TYPES = (
    "VolumeUsage.gp2", "VolumeUsage.gp3", "VolumeUsage.io1", "VolumeUsage.io2",
    "VolumeUsage.piops", "GP2-Storage", "PIOPS-Storage", "Aurora:StorageUsage",
    "TimedPITRStorage-ByteHrs", "RDS:Multi-AZ-StorageUsage",
)  # fmt: skip
_AWS_HDD_USAGE_TYPES = (
    "VolumeUsage.st1", "VolumeUsage.sc1", "VolumeUsage", "SnapshotUsage", "TimedStorage-ByteHrs",
    "RDS:StorageUsage", "GlacierByteHrs", "Aurora:BackupUsage", "RDS:ChargedBackupUsage",
    "TimedStorage-RRS-ByteHrs", "ElastiCache:BackupUsage", "BackupUsage",
    "TimedStorage-SIA-ByteHrs", "EarlyDelete-SIA", "TimedStorage-GlacierStaging",
    "TimedStorage-SIA-SmObjects", "TimedStorage-GDA-ByteHrs", "TimedStorage-GDA-Staging",
    "TimedStorage-ZIA-ByteHrs", "TimedStorage-INT-FA-ByteHrs", "TimedStorage-INT-IA-ByteHrs",
    "EarlyDelete-GDA", "EarlyDelete-ZIA", "EarlyDelete-ByteHrs", "TimedStorage-ZIA-SmObjects",
    "EarlyDelete-SIA-SmObjects", "EarlyDelete-ZIA-SmObjects", "ProcessedStorage-ByteHrs",
    "TimedBackupStorage-ByteHrs",
)  # fmt: skip
# CCF ReplicationFactors.ts: (product code, marks in the usage type, the factor dataset's
# service); the first row whose product matches and whose usage type holds a mark wins.
_AWS_REPLICATED = (
    ("AmazonS3", ("TimedStorage-ZIA", "EarlyDelete-ZIA", "TimedStorage-RRS"),
     "s3_one_zone_or_reduced_redundancy"),
    ("AmazonS3", ("TimedStorage", "EarlyDelete"), "s3"),
    ("AmazonEC2", ("VolumeUsage",), "ebs_volume"),
    ("AmazonEC2", ("SnapshotUsage",), "ebs_snapshot"),
    ("AmazonEFS", ("ZIA",), "efs_one_zone"),
    ("AmazonEFS", ("",), "efs"),
    ("AmazonRDS", ("BackupUsage",), "rds_backup"),
    ("AmazonRDS", ("Aurora",), "rds_aurora"),
    ("AmazonRDS", ("Multi-AZ",), "rds_multi_az"),
    ("AmazonDocDB", ("BackupUsage",), "documentdb_backup"),
    ("AmazonDocDB", ("",), "documentdb_storage"),
    ("AmazonDynamoDB", ("",), "dynamodb"),
    ("AmazonECR", ("TimedStorage",), "ecr_storage"),
    ("AmazonElastiCache", ("BackupUsage",), "elasticache_backup"),
)  # fmt: skip


def _aws_cost(row: dict[str, Any]) -> float | None:
    """The unblended cost, or the blended one where the export has no unblended column; a
    zero unblended cost (free tier, reserved hours) stays zero."""
    unblended = _number(row.get("line_item_unblended_cost"))
    return unblended if unblended is not None else _number(row.get("line_item_blended_cost"))


def _aws_unit(unit: str, usage_type: str) -> str:
    """`pricing/unit`, or the unit the usage type names where the CUR leaves it empty: lines
    it prices at nothing (free tier) and Spot hours have no pricing columns."""
    if unit:
        return unit
    if any(k in usage_type for k in _AWS_INSTANCE_HOURS):
        return "Hrs"
    if usage_type.endswith(_AWS_SSD_USAGE_TYPES + _AWS_HDD_USAGE_TYPES):
        return "GB-Mo"
    return "GB" if usage_type.endswith("-Bytes") else ""


def _aws_storage_kind(product: str, usage_type: str) -> str | None:
    if usage_type.endswith(_AWS_SSD_USAGE_TYPES) or product in _AWS_SSD_SERVICES:
        return "storage_ssd"
    return "storage_hdd" if usage_type.endswith(_AWS_HDD_USAGE_TYPES) else None


def _aws_replicated_service(product: str, usage_type: str) -> str | None:
    return next(
        (
            service
            for code, marks, service in _AWS_REPLICATED
            if code == product and any(mark in usage_type for mark in marks)
        ),
        None,
    )


def _aws_vcpus(size: str) -> float | None:
    if size in _SIZE_VCPUS:
        return _SIZE_VCPUS[size]
    match = re.fullmatch(r"(\d+)xlarge", size)
    return int(match.group(1)) * 4 if match else None


def aws_rows(lines: Iterable[str], context: ReaderContext) -> Iterator[SourceRow]:
    """A CUR (legacy `lineItem/...` or CUR 2.0 snake_case headers) in CSV."""
    reader = csv.reader(lines)
    header = [snake(h) for h in next(reader, [])]
    rows = ((reader.line_num, dict(zip(header, cells, strict=False))) for cells in reader)
    return aws_records(rows, context)


def aws_records(
    rows: Iterable[tuple[int, dict[str, Any]]], context: ReaderContext
) -> Iterator[SourceRow]:
    """CUR rows as (line, column → value), from CSV or Parquet; CUR 2.0's `product` and
    `resource_tags` map columns are read as the legacy flat columns they replace."""
    from inventory.imports.cur2 import flatten_maps

    for line, raw in rows:
        row = flatten_maps(raw)
        if row.get("line_item_line_item_type", "Usage") not in _AWS_USAGE_LINES:
            yield SourceRow(
                line, "cloud_usage", Skip(f"line item type {row.get('line_item_line_item_type')}")
            )
            continue
        tags = {
            name.removeprefix("resource_tags_").removeprefix("user_"): value
            for name, value in row.items()
            if name.startswith("resource_tags_") and value
        }
        account = row.get("line_item_usage_account_id") or None
        team, model = _team(
            context, {"account": account, **{f"tag:{k}": v for k, v in tags.items()}}
        )
        region = row.get("product_region_code") or row.get("product_region") or ""
        item = row.get("identity_line_item_id")
        ident = (
            f"aws:{item}:{row.get('identity_time_interval', '')}"
            if item
            else f"aws:{_digest(str(v) for v in raw.values())}"
        )
        start = _iso(row.get("line_item_usage_start_date", ""))
        base = {
            "external_id": ident,
            "team": team,
            "model": model,
            "location": f"aws:{region}" if region else None,
            "service": row.get("line_item_product_code") or "AWS",
            "usage_start": start,
            "usage_end": _iso(row.get("line_item_usage_end_date", "")),
            "cost": _aws_cost(row),
            "currency": row.get("line_item_currency_code") or "USD",
            "tags": tags or None,
        }
        usage_type = row.get("line_item_usage_type", "")
        amount = _number(row.get("line_item_usage_amount"))
        unit = _aws_unit(row.get("pricing_unit") or "", usage_type)
        records = _aws_usages(base, row, usage_type, unit, amount, start, context)
        if isinstance(records, Skip):
            yield SourceRow(line, "cloud_usage", records)
            continue
        if not region:
            yield SourceRow(line, "cloud_usage", Skip("no region (global service)"))
            continue
        for record in records:
            yield SourceRow(line, "cloud_usage", record)


def _aws_usages(base, row, usage_type, unit, amount, start, context) -> list | Skip:
    if amount is None:
        return Skip("no usage amount")
    product = row.get("line_item_product_code", "")
    if "Fargate-vCPU-Hours" in usage_type:
        return [_usage(base, "vcpu", "compute", amount)]
    if "Fargate-GB-Hours" in usage_type:
        return [_usage(base, "memory", "memory", amount)]
    if unit in ("Hrs", "Hours") and any(k in usage_type for k in _AWS_INSTANCE_HOURS):
        instance = row.get("product_instance_type") or usage_type.partition(":")[2]
        family, _, size = instance.partition(".")
        vcpus = (
            _number(row.get("product_vcpu"))
            or ec2.burstable_vcpus(family, size)
            or _aws_vcpus(size)
        )
        if not vcpus:
            return Skip("instance type without a vCPU count")
        hardware = _AWS_CPUS.get(family)
        records = [
            _usage(
                base, "vcpu", "compute", amount * vcpus, hardware=hardware, instance_type=instance
            )
        ]
        memory = ec2.memory_gb_hours(
            family=family,
            vcpus=vcpus,
            hours=amount,
            hardware=hardware,
            instance_gb=ec2.memory_gb(row.get("product_memory") or ""),
        )
        if memory:
            records.append({**_usage(base, "memory", "memory", memory), "cost": None})
        if family in _AWS_GPUS:
            code, sizes = _AWS_GPUS[family]
            gpus = sizes.get(size, 1)
            gpu = _usage(base, "gpu", "gpu", amount * gpus, hardware=code)
            gpu["cost"] = None  # the line's cost stays on the vCPU record, not counted twice
            records.append(gpu)
        return records
    if unit in ("GB-Mo", "GB-month", "GB-Month"):
        kind = _aws_storage_kind(product, usage_type)
        if kind is None:
            return Skip(f"storage usage type {usage_type}")
        tb_hours = amount * _hours_in_month(start) / 1000
        replication = _rep(context, "aws", _aws_replicated_service(product, usage_type))
        return [_usage(base, "storage", kind, tb_hours, replication=replication)]
    if unit == "GB" and usage_type.endswith("-AWS-Out-Bytes"):
        return [_usage(base, "network", "network", amount)]
    if unit == "GB" and usage_type.endswith("-AWS-In-Bytes"):
        # CCF counts a transfer between regions once, on the sender's -AWS-Out-Bytes line
        # (whoever pays it); this is the receiving region's free line for those bytes.
        return Skip("inter-region transfer in (CCF counts the sending side)")
    return Skip("not energy the CCF methodology counts")


def _rep(context: ReaderContext, provider: str, service: str | None) -> float | None:
    return context.replication.get((provider, service)) if service else None


# GCP ------------------------------------------------------------------------------------

_GCP_GPUS = [
    ("H100", "nvidia-h100-sxm"),
    ("A100 80GB", "nvidia-a100-80gb"),
    ("A100", "nvidia-a100-40gb"),
    ("L4", "nvidia-l4"),
    ("T4", "nvidia-t4"),
    ("V100", "nvidia-v100"),
    ("P100", "nvidia-p100"),
    ("P4", "nvidia-p4"),
    ("K80", "nvidia-k80"),
]
_GCP_CPUS = {
    "N1": "intel-skylake",
    "N2": "intel-cascade-lake",
    "C2": "intel-cascade-lake",
    "N2D": "amd-epyc-2nd-gen",
    "T2D": "amd-epyc-3rd-gen",
    "C2D": "amd-epyc-3rd-gen",
}


def _labels(raw: str | None) -> dict[str, str]:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        return {}
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, list):
        return {str(i.get("key")): str(i.get("value")) for i in value if isinstance(i, dict)}
    return {}


def gcp_rows(lines: Iterable[str], context: ReaderContext) -> Iterator[SourceRow]:
    reader = csv.reader(lines)
    header = [h.strip() for h in next(reader, [])]
    for cells in reader:
        row = dict(zip(header, cells, strict=False))
        line = reader.line_num
        labels = _labels(row.get("labels"))
        project = row.get("project.id") or None
        team, model = _team(
            context, {"project": project, **{f"label:{k}": v for k, v in labels.items()}}
        )
        region = row.get("location.region") or ""
        base = {
            "external_id": f"gcp:{_digest(cells)}",
            "team": team,
            "model": model,
            "location": f"gcp:{region}",
            "service": row.get("service.description") or "GCP",
            "usage_start": _iso(row.get("usage_start_time", "")),
            "usage_end": _iso(row.get("usage_end_time", "")),
            "cost": _number(row.get("cost")),
            "currency": row.get("currency") or None,
            "tags": labels or None,
        }
        result = _gcp_usages(base, row, context)
        if not isinstance(result, Skip) and (not region or region == "global"):
            result = Skip("no region (global service)")
        if isinstance(result, Skip):
            yield SourceRow(line, "cloud_usage", result)
            continue
        for record in result:
            yield SourceRow(line, "cloud_usage", record)


def _gcp_usages(base, row, context) -> list | Skip:
    sku = row.get("sku.description", "")
    unit = row.get("usage.unit", "")
    amount = _number(row.get("usage.amount"))
    if amount is None:
        return Skip("no usage amount")
    if unit == "seconds" and "GPU" in sku:
        code = next((c for name, c in _GCP_GPUS if name in sku), None)
        if code is None:
            return Skip(f"GPU not in the catalogue: {sku}")
        return [_usage(base, "gpu", "gpu", amount / 3600, hardware=code)]
    if unit == "seconds" and ("Core" in sku or "vCPU" in sku):
        family = sku.split(" ", 1)[0]
        return [_usage(base, "vcpu", "compute", amount / 3600, hardware=_GCP_CPUS.get(family))]
    if unit == "byte-seconds" and "Ram" in sku:
        return [_usage(base, "memory", "memory", amount / 1024**3 / 3600)]
    if unit == "byte-seconds" and ("Capacity" in sku or "Storage" in sku):
        kind = "storage_ssd" if "SSD" in sku else "storage_hdd"
        if "Regional" in sku:
            service = "compute_engine_regional_disks"
        elif "Multi-Region" in sku or "Multi-region" in sku:
            service = "cloud_storage_multi_region"
        elif "Dual-Region" in sku or "Dual-region" in sku:
            service = "cloud_storage_dual_region"
        else:
            service = "default"
        tb_hours = amount / 1024**4 / 3600
        return [_usage(base, "storage", kind, tb_hours, replication=_rep(context, "gcp", service))]
    if unit == "bytes" and ("Inter Region" in sku or "Inter-region" in sku):
        return [_usage(base, "network", "network", amount / 1024**3)]
    return Skip("not energy the CCF methodology counts")


# Azure ----------------------------------------------------------------------------------

_AZURE_GPU_SERIES = [
    # (pattern on the VM size, GPU code, GPUs by vCPU count)
    (r"^ND\d+isr H100", "nvidia-h100-sxm", {96: 8}),
    (r"^ND\d+amsr A100", "nvidia-a100-80gb", {96: 8}),
    (r"^ND\d+asr", "nvidia-a100-40gb", {96: 8}),
    (r"^NC\d+ads A100", "nvidia-a100-80gb", {24: 1, 48: 2, 96: 4}),
    (r"^NC\d+as T4", "nvidia-t4", {4: 1, 8: 1, 16: 1, 64: 4}),
    (r"^NC\d+s v3", "nvidia-v100", {6: 1, 12: 2, 24: 4}),
    (r"^NC\d+s v2", "nvidia-p100", {6: 1, 12: 2, 24: 4}),
    (r"^NC\d+$", "nvidia-k80", {6: 1, 12: 2, 24: 4}),
    (r"^NV\d+$", "nvidia-m60", {6: 1, 12: 2, 24: 4}),
]
# Managed disk tiers (P premium SSD, E standard SSD, S standard HDD) → GiB.
_DISK_GIB = {
    "1": 4, "2": 8, "3": 16, "4": 32, "6": 64, "10": 128, "15": 256, "20": 512, "30": 1024,
    "40": 2048, "50": 4096, "60": 8192, "70": 16384, "80": 32767,
}  # fmt: skip


_LOCALIZED = re.compile(r"\(([A-Za-z0-9]+)\)\s*$")


def azure_column(name: str) -> str:
    """An Azure export's column as the reader names it: lower case, and a localized header's
    own English name ('Name der Verbrauchseinheit (MeterName)' → 'metername')."""
    localized = _LOCALIZED.search(name)
    return (localized.group(1) if localized else name).strip().lower()


@cache
def _azure_region_codes() -> dict[str, str]:
    """How exports name a region ('US East', 'useast', 'East US') → its code ('eastus'):
    the FinOps toolkit's open data (inventory/imports/data/README.md)."""
    with (Path(__file__).parent / "data" / "azure_regions.csv").open(encoding="utf-8") as data:
        return {row["OriginalValue"]: row["RegionId"] for row in csv.DictReader(data)}


def _azure_region(location: str) -> str:
    named = location.strip().lower()
    return _azure_region_codes().get(named) or re.sub(r"[^a-z0-9]", "", named)


def _azure_vcpus(additional_info: str | None) -> int | None:
    """The VM's vCPU count as the line's AdditionalInfo gives it ("VCPUs": 2), braces or not."""
    match = re.search(r'"VCPUs"\s*:\s*(\d+)', additional_info or "")
    return int(match.group(1)) if match and int(match.group(1)) > 0 else None


def _azure_tags(raw: str | None) -> dict[str, str]:
    if not raw:
        return {}
    raw = raw.strip()
    return _labels(raw if raw.startswith("{") else "{" + raw + "}")


def _azure_date(value: str) -> str:
    value = value.strip()
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", value)
    if match:
        month, day, year = (int(g) for g in match.groups())
        return datetime(year, month, day, tzinfo=UTC).isoformat()
    return value


def azure_rows(lines: Iterable[str], context: ReaderContext) -> Iterator[SourceRow]:
    reader = csv.reader(lines)
    header = [azure_column(h) for h in next(reader, [])]
    for cells in reader:
        row = dict(zip(header, cells, strict=False))
        line = reader.line_num
        tags = _azure_tags(row.get("tags"))
        keys = {
            "subscription": row.get("subscriptionname") or row.get("subscriptionid") or None,
            "resource_group": row.get("resourcegroup") or row.get("resourcegroupname") or None,
            **{f"tag:{k}": v for k, v in tags.items()},
        }
        team, model = _team(context, keys)
        start = _azure_date(row.get("date") or row.get("usagedatetime") or "")
        try:
            end = (datetime.fromisoformat(start) + timedelta(days=1)).isoformat()
        except ValueError:
            end = start
        region = _azure_region(row.get("resourcelocation") or "")
        base = {
            "external_id": f"azure:{_digest(cells)}",
            "team": team,
            "model": model,
            "location": f"azure:{region}",
            "service": row.get("metercategory") or "Azure",
            "usage_start": start,
            "usage_end": end,
            "cost": _number(
                row.get("costinbillingcurrency")
                or row.get("costinusd")
                or row.get("cost")
                or row.get("pretaxcost")  # the older UsageQuantity schema
            ),
            "tags": tags or None,
        }
        base = keep_currency(
            base,
            row.get("billingcurrency")
            or row.get("billingcurrencycode")
            or row.get("currency")
            or "USD",
        )
        charge = row.get("chargetype") or "Usage"
        result = (
            _azure_usages(base, row, start, context)
            if charge == "Usage"
            else Skip(f"charge type {charge}")  # Purchase, UnusedReservation, Refund, ...
        )
        if not isinstance(result, Skip) and not region:
            result = Skip("no resource location")
        if isinstance(result, Skip):
            yield SourceRow(line, "cloud_usage", result)
            continue
        for record in result:
            yield SourceRow(line, "cloud_usage", record)


def _azure_usages(base, row, start, context) -> list | Skip:
    category = row.get("metercategory", "")
    meter = row.get("metername", "")
    sub = row.get("metersubcategory", "")
    unit = row.get("unitofmeasure", "")
    # Quantity counts single units whatever the pricing block ("10 Hours", "100 Hours"):
    # Microsoft's FinOps toolkit, docs-mslearn/focus/validate.md (docs/methodology.md).
    amount = _number(row.get("quantity") or row.get("usagequantity"))  # older schema
    if amount is None:
        return Skip("no quantity")
    if category == "Virtual Machines" and "Hour" in unit:
        size = meter.split("/")[0].strip().removeprefix("Standard_").replace("_", " ")
        match = re.match(r"^[A-Z]+(\d+)", size)
        vcpus = _azure_vcpus(row.get("additionalinfo")) or (int(match.group(1)) if match else None)
        if not vcpus:
            return Skip(f"VM size without a vCPU count: {meter}")
        records = [_usage(base, "vcpu", "compute", amount * vcpus, instance_type=size)]
        for pattern, code, gpus in _AZURE_GPU_SERIES:
            if re.search(pattern, size):
                gpu = _usage(base, "gpu", "gpu", amount * gpus.get(vcpus, 1), hardware=code)
                gpu["cost"] = None
                records.append(gpu)
                break
        return records
    if category == "Storage" and "GB/Month" in unit:
        text = f"{sub} {meter}"
        kind = "storage_ssd" if ("Premium" in text or "SSD" in text) else "storage_hdd"
        service = next(
            (f"storage_{r.lower()}" for r in ("GZRS", "GRS", "ZRS", "LRS") if r in text),
            "storage_lrs",
        )
        tb_hours = amount * _hours_in_month(start) / 1000
        return [
            _usage(
                base,
                "storage",
                kind,
                tb_hours,
                replication=_rep(context, "azure", service.replace("ra-", "")),
            )
        ]
    disk = re.match(r"^([PES])(\d+)\b", meter)
    if category == "Storage" and disk and "Month" in unit and disk.group(2) in _DISK_GIB:
        kind = "storage_hdd" if disk.group(1) == "S" else "storage_ssd"
        gib = _DISK_GIB[disk.group(2)]
        tb_hours = amount * gib * 1.073741824 * _hours_in_month(start) / 1000
        return [
            _usage(
                base, "disk", kind, tb_hours, replication=_rep(context, "azure", "managed_disks")
            )
        ]
    between_regions = ("Inter-Region", "Inter Continent", "Intra Continent")
    if category == "Bandwidth" and any(k in f"{sub} {meter}" for k in between_regions):
        return [_usage(base, "network", "network", amount)]
    return Skip("not energy the CCF methodology counts")
