"""AWS CUR 2.0 (Data Exports): its map columns read as the legacy CUR's flat columns.

CUR 2.0 puts the product attributes and the cost allocation tags in two map columns,
`product` ({"instance_type": "t3.micro", "vcpu": "2", ...}) and `resource_tags`
({"user_team": "serving"}): JSON text in a CSV export, a map in Parquet. The CUR reader
reads flat columns (`product_vcpu`, `resource_tags_user_team`), as the legacy CUR and
CUR 2.0's own flat columns (`product_region_code`, ...) name them.
"""

import json
from typing import Any

MAP_COLUMNS = ("product", "resource_tags", "cost_category", "discount")


def map_value(value: Any) -> dict[str, Any]:
    """A map cell as a dict: JSON text (CSV), a dict, or Parquet's list of (key, value)."""
    if isinstance(value, dict):
        return value
    if isinstance(value, list):
        return {str(k): v for k, v in value if k is not None}
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def flatten_maps(row: dict[str, Any]) -> dict[str, Any]:
    """`row` with each map column's entries added as `<column>_<key>` (flat columns win)."""
    present = [name for name in MAP_COLUMNS if row.get(name)]
    if not present:
        return row
    flat = dict(row)
    for name in present:
        for key, value in map_value(row[name]).items():
            flat.setdefault(f"{name}_{key}", "" if value is None else str(value))
    return flat
