"""FOCUS 1.0–1.2 billing exports (the clouds' FOCUS exports) → cloud usage records, CCF-style.

Only Usage lines hold energy: purchases (reservations, savings plans), credits, taxes and
adjustments are skipped and counted by category, as are corrections of earlier periods. A line
is mapped by its provider's own columns where the export carries them (AWS `x_UsageType`,
`x_ServiceCode`; Azure `x_SkuMeterCategory`, `x_SkuMeterName`, ...) through the same rules as
that provider's native export, else by `ConsumedUnit` and `ServiceCategory`. `Tags` go to
teams through the mapping rules (keys `tag:<name>`, plus `account`, `subscription`,
`resource_group` and `project` from the sub-account); the line's EffectiveCost is kept (its
BilledCost when the export has no EffectiveCost).

Rows come as (line, column → value, the line's digest if already made) so that CSV and
Parquet exports share this mapping; a Parquet export is read for READ_COLUMNS only.
"""

import csv
import re
from collections.abc import Iterable, Iterator
from typing import Any

from inventory.imports import readers
from inventory.imports.cur2 import map_value
from inventory.imports.readers import ReaderContext, Skip, SourceRow

# Columns every FOCUS 1.x export has and no native export does: how a file is recognised.
FOCUS_COLUMNS = {"ChargeCategory", "ChargePeriodStart", "BilledCost", "ServiceCategory"}

_PROVIDERS = (
    ("aws", ("amazon", "aws")),
    ("azure", ("microsoft", "azure")),
    ("gcp", ("google", "gcp")),
)
_VCPU_KEYS = ("vCPU", "VCPUs", "vCPUs", "CoreCount", "vcpu")
_DESCRIBING = ("ChargeDescription", "SkuMeter", "x_SkuDescription")
# Every column the mapping reads (tests/inventory/imports/test_focus.py checks it).
READ_COLUMNS = frozenset(
    {
        *("ChargeCategory", "ChargeClass", "ProviderName", "InvoiceIssuerName", "RegionId"),
        *("ChargePeriodStart", "ChargePeriodEnd", "ServiceName", "ServiceCategory"),
        *("ConsumedQuantity", "ConsumedUnit", "EffectiveCost", "BilledCost", "BillingCurrency"),
        *("SubAccountId", "SubAccountName", "x_ResourceGroupName", "Tags", "SkuPriceDetails"),
        *("x_ServiceCode", "x_UsageType", "x_SkuMeterCategory", "x_SkuMeterSubcategory"),
        *("x_SkuMeterName", "x_PricingUnitDescription", *_DESCRIBING),
    }
)


def is_focus(columns: Iterable[str]) -> bool:
    return set(columns) >= FOCUS_COLUMNS


def focus_rows(lines: Iterable[str], context: ReaderContext) -> Iterator[SourceRow]:
    """A FOCUS export in CSV."""
    reader = csv.DictReader(lines)
    return focus_records(((reader.line_num, row, None) for row in reader), context)


def focus_records(
    rows: Iterable[tuple[int, dict[str, Any], str | None]], context: ReaderContext
) -> Iterator[SourceRow]:
    """Rows as (line, column → value, digest of the line's cells or None to make it here)."""
    for line, row, digest in rows:
        result = _records(row, digest, context)
        if isinstance(result, Skip):
            yield SourceRow(line, "cloud_usage", result)
            continue
        for record in result:
            yield SourceRow(line, "cloud_usage", record)


def _text(row: dict[str, Any], name: str) -> str:
    return readers.cell_text(row.get(name))


def provider_code(name: str) -> str | None:
    lowered = name.lower()
    return next((code for code, words in _PROVIDERS if any(w in lowered for w in words)), None)


def _records(row: dict[str, Any], digest: str | None, context: ReaderContext) -> list | Skip:
    category = _text(row, "ChargeCategory")
    if category != "Usage":
        return Skip(f"charge category {category or 'missing'}")
    if _text(row, "ChargeClass") == "Correction":
        return Skip("correction of an earlier billing period")
    provider = provider_code(_text(row, "ProviderName") or _text(row, "InvoiceIssuerName"))
    if provider is None:
        return Skip(f"provider {_text(row, 'ProviderName') or 'missing'} is not a public cloud")
    quantity = readers._number(_text(row, "ConsumedQuantity"))
    if quantity is None:
        return Skip("no consumed quantity")
    region = _text(row, "RegionId").lower()
    # FOCUS lines carry no id of their own: the line's is a digest of all its cells.
    base = _base(row, digest or readers.cells_digest(row.values()), provider, region, context)
    result = _usages(provider, row, base, quantity, context)
    if not isinstance(result, Skip) and (not region or region == "global"):
        return Skip("no region (global service)")
    return result


def _base(
    row: dict[str, Any], digest: str, provider: str, region: str, context: ReaderContext
) -> dict[str, Any]:
    tags = {str(k): str(v) for k, v in map_value(row.get("Tags")).items() if v is not None}
    sub_account = _text(row, "SubAccountId") or None
    keys = {
        "account": sub_account,
        "project": sub_account,
        "subscription": _text(row, "SubAccountName") or sub_account,
        "resource_group": _text(row, "x_ResourceGroupName") or None,
        **{f"tag:{k}": v for k, v in tags.items()},
    }
    team, model = readers._team(context, keys)
    cost = readers._number(_text(row, "EffectiveCost"))
    base = {
        "external_id": f"focus:{digest}",
        "team": team,
        "model": model,
        "location": f"{provider}:{re.sub(r'[^a-z0-9-]', '', region)}" if region else None,
        "service": _text(row, "ServiceName") or provider.upper(),
        "usage_start": readers._iso(_text(row, "ChargePeriodStart")),
        "usage_end": readers._iso(_text(row, "ChargePeriodEnd")),
        "cost": cost if cost is not None else readers._number(_text(row, "BilledCost")),
        "tags": tags or None,
    }
    return readers.keep_currency(base, _text(row, "BillingCurrency"))


def _usages(
    provider: str, row: dict[str, Any], base: dict[str, Any], quantity: float, context
) -> list | Skip:
    unit = _text(row, "ConsumedUnit")
    start = base["usage_start"]
    if provider == "aws" and _text(row, "x_UsageType"):
        details = map_value(row.get("SkuPriceDetails"))
        native = {
            "line_item_product_code": _text(row, "x_ServiceCode"),
            "product_instance_type": str(details.get("InstanceType") or ""),
            "product_vcpu": _vcpus(details),
        }
        usage_type = _text(row, "x_UsageType")
        return readers._aws_usages(base, native, usage_type, unit, quantity, start, context)
    if provider == "azure" and _text(row, "x_SkuMeterCategory"):
        native = {
            "metercategory": _text(row, "x_SkuMeterCategory"),
            "metersubcategory": _text(row, "x_SkuMeterSubcategory"),
            "metername": _text(row, "x_SkuMeterName"),
            "unitofmeasure": _text(row, "x_PricingUnitDescription") or unit,
            "quantity": str(quantity),
        }
        return readers._azure_usages(base, native, start, context)
    return _by_unit(row, base, unit, quantity, start)


def _vcpus(details: dict[str, Any]) -> str:
    return next((str(details[k]) for k in _VCPU_KEYS if details.get(k) not in (None, "")), "")


def _by_unit(
    row: dict[str, Any], base: dict, unit: str, quantity: float, start: str
) -> list | Skip:
    """Lines of any provider by what their ConsumedUnit counts (vCPU-, GPU- or GB-hours, ...)."""
    service = _text(row, "ServiceCategory")
    described = " ".join(_text(row, n) for n in _DESCRIBING)
    lowered = unit.lower().replace("-", " ")
    if re.search(r"\bgpu", lowered) and "hour" in lowered:
        return Skip(f"GPU hours without a GPU model: {described.strip() or unit}")
    if re.search(r"\b(vcpu|vcore|core)s?\b", lowered) and "hour" in lowered:
        return [readers._usage(base, "vcpu", "compute", quantity)]
    if re.search(r"\b(gb|gib)s? hours?\b", lowered) and service == "Compute":
        return [readers._usage(base, "memory", "memory", quantity)]
    if re.search(r"\b(gb|gib)s?\s*(/|)\s*mo", lowered) and service == "Storage":
        kind = "storage_ssd" if re.search(r"ssd|premium", described, re.I) else "storage_hdd"
        tb_hours = quantity * readers._hours_in_month(start) / 1000
        return [readers._usage(base, "storage", kind, tb_hours)]
    if lowered in ("gb", "gib") and re.search(r"inter[- ]?region", described, re.I):
        return [readers._usage(base, "network", "network", quantity)]
    if "hour" in lowered and service == "Compute":
        return Skip("instance hours without a vCPU count")
    return Skip("not energy the CCF methodology counts")
