"""Checks on the shipped factor library data files (inventory/factors/data).

Pure stdlib + pytest: no Django, no database. These tests guard the contract between the data
files and the loader (exact headers, parseable numbers, referential integrity) and the coverage
the product promises (countries, eGRID subregions, residual mixes, cloud regions, hardware).
"""

import csv
import json
import re
from collections import Counter
from importlib.metadata import version
from pathlib import Path

import pytest

DATA_DIR = Path(__file__).resolve().parents[2] / "inventory" / "factors" / "data"

HEADERS = {
    "zones": ["zone", "name", "country_iso", "kind"],
    "grid_factors": [
        "zone",
        "year",
        "month",
        "kind",
        "kg_co2e_per_kwh",
        "basis",
        "source",
        "source_url",
        "licence",
    ],
    "cloud_regions": [
        "provider",
        "region",
        "name",
        "zone",
        "pue",
        "pue_source",
        "source",
        "source_url",
        "licence",
    ],
    "provider_pue": ["provider", "pue", "year", "source", "source_url", "licence"],
    "cloud_wue": [
        "provider",
        "region",
        "wue_l_per_kwh",
        "year",
        "source",
        "source_url",
        "licence",
    ],
    "hardware": [
        "code",
        "name",
        "kind",
        "vendor",
        "unit",
        "idle_w",
        "max_w",
        "source",
        "source_url",
        "licence",
    ],
    "cloud_coefficients": ["key", "value", "unit", "source", "source_url", "licence"],
    "replication_factors": ["provider", "service", "factor", "source", "source_url", "licence"],
    "cloud_instance_embodied": [
        "provider",
        "instance_type",
        "vcpus",
        "family_vcpus",
        "kg_co2e",
        "lifetime_hours",
        "source",
        "source_url",
        "licence",
    ],
    "embodied": [
        "code",
        "device_kg",
        "host_share_kg",
        "kg_co2e",
        "lifetime_hours",
        "source",
        "source_url",
        "licence",
    ],
}

EU27 = {
    "AT",
    "BE",
    "BG",
    "HR",
    "CY",
    "CZ",
    "DK",
    "EE",
    "FI",
    "FR",
    "DE",
    "GR",
    "HU",
    "IE",
    "IT",
    "LV",
    "LT",
    "LU",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SK",
    "SI",
    "ES",
    "SE",
}
OTHER_REQUIRED_COUNTRIES = {
    "US",
    "CA",
    "GB",
    "NO",
    "CH",
    "IS",
    "JP",
    "KR",
    "CN",
    "IN",
    "AU",
    "NZ",
    "BR",
    "SG",
    "ZA",
    "MX",
    "AR",
    "CL",
    "ID",
    "TW",
    "HK",
    "IL",
    "AE",
    "SA",
    "TR",
}
# AIB prints "N/A" for Austria: full disclosure, so no residual mix exists (AIB European Residual
# Mixes 2023, Table 2, p. 7). Market-based accounting falls back to the grid average, flagged.
# See docs/factor-library.md, "Residual mixes".
EU_WITHOUT_RESIDUAL_MIX = {"AT"}

EGRID_SUBREGIONS = {
    "AKGD",
    "AKMS",
    "AZNM",
    "CAMX",
    "ERCT",
    "FRCC",
    "HIMS",
    "HIOA",
    "MROE",
    "MROW",
    "NEWE",
    "NWPP",
    "NYCW",
    "NYLI",
    "NYUP",
    "PRMS",
    "RFCE",
    "RFCM",
    "RFCW",
    "RMPA",
    "SPNO",
    "SPSO",
    "SRMV",
    "SRMW",
    "SRSO",
    "SRTV",
    "SRVC",
}

REQUIRED_HARDWARE = {
    "nvidia-v100",
    "nvidia-a100-40gb",
    "nvidia-a100-80gb",
    "nvidia-h100-pcie",
    "nvidia-h100-sxm",
    "nvidia-h200",
    "nvidia-b200",
    "nvidia-l4",
    "nvidia-l40s",
    "nvidia-t4",
    "nvidia-a10g",
    "nvidia-k80",
    "nvidia-p100",
    "nvidia-p4",
    "nvidia-m60",
    "amd-mi250x",
    "amd-mi300x",
    "google-tpu-v4",
    "google-tpu-v5e",
    "google-tpu-v5p",
    "intel-cascade-lake",
    "intel-skylake",
    "intel-broadwell",
    "intel-haswell",
    "intel-coffee-lake",
    "intel-sandy-bridge",
    "intel-ivy-bridge",
    "amd-epyc-1st-gen",
    "amd-epyc-2nd-gen",
    "amd-epyc-3rd-gen",
    "aws-graviton2",
    "unknown-cpu-aws",
    "unknown-cpu-gcp",
    "unknown-cpu-azure",
}

REQUIRED_COEFFICIENTS = {
    "memory_kwh_per_gb_hour",
    "storage_ssd_wh_per_tb_hour",
    "storage_hdd_wh_per_tb_hour",
    "network_kwh_per_gb",
    "default_cpu_utilization",
    "default_gpu_utilization",
}

# Field sizes of the loader's models (inventory/models.py), so a load never fails on length.
MAX_LENGTHS = {"source": 300, "source_url": 500, "licence": 120, "pue_source": 300}


def _manifest() -> dict:
    return json.loads((DATA_DIR / "manifest.json").read_text(encoding="utf-8"))


def _read(key: str) -> tuple[list[str], list[dict[str, str]]]:
    path = DATA_DIR / _manifest()["files"][key]
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def _rows(key: str) -> list[dict[str, str]]:
    return _read(key)[1]


def _grid_average_zones() -> set[str]:
    return {row["zone"] for row in _rows("grid_factors") if row["kind"] == "grid_average"}


def test_manifest_names_the_dataset_version_and_every_file():
    manifest = _manifest()
    assert manifest["name"] == "greenai-factors"
    assert manifest["version"] == "2026.6"
    # Off-site water is read from this EcoLogits at load time: a package upgrade needs a new
    # library version, or loading refuses it.
    assert manifest["offsite_water_ecologits"] == version("ecologits") == "0.11.3"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", manifest["published"])
    assert manifest["description"]
    assert set(manifest["files"]) == set(HEADERS)


@pytest.mark.parametrize("key", sorted(HEADERS))
def test_every_manifest_file_exists_with_the_documented_header(key):
    path = DATA_DIR / _manifest()["files"][key]
    assert path.is_file(), path
    header, rows = _read(key)
    assert header == HEADERS[key]
    assert rows, f"{path.name} has no rows"


@pytest.mark.parametrize("key", sorted(HEADERS))
def test_files_are_plain_utf8_csv_without_comments_or_ragged_rows(key):
    path = DATA_DIR / _manifest()["files"][key]
    text = path.read_text(encoding="utf-8")
    assert not text.startswith("\ufeff"), "no byte-order mark"
    with path.open(newline="", encoding="utf-8") as handle:
        records = list(csv.reader(handle))
    width = len(records[0])
    for number, record in enumerate(records[1:], start=2):
        assert len(record) == width, f"{path.name}:{number} has {len(record)} fields"
        assert not record[0].startswith("#"), f"{path.name}:{number} is a comment"


@pytest.mark.parametrize("key", sorted(set(HEADERS) - {"zones"}))
def test_every_row_names_its_source_and_licence(key):
    for number, row in enumerate(_rows(key), start=2):
        assert row["source"].strip(), f"{key}:{number} has no source"
        assert row["licence"].strip(), f"{key}:{number} has no licence"
        assert row["source_url"].startswith("https://"), f"{key}:{number} source_url"
        for field, limit in MAX_LENGTHS.items():
            if field in row:
                assert len(row[field]) <= limit, f"{key}:{number} {field} longer than {limit}"


def test_zone_codes_are_iso_countries_or_named_subregions():
    rows = _rows("zones")
    for row in rows:
        assert row["kind"] in {"country", "subregion"}, row
        assert re.fullmatch(r"[A-Z]{2}", row["country_iso"]), row
        assert row["name"].strip(), row
        if row["kind"] == "country":
            assert row["zone"] == row["country_iso"], row
        else:
            assert row["zone"].startswith(f"{row['country_iso']}-"), row
    duplicates = [z for z, n in Counter(r["zone"] for r in rows).items() if n > 1]
    assert not duplicates


def test_grid_factors_parse_and_lie_in_a_sane_range():
    zones = {row["zone"] for row in _rows("zones")}
    for number, row in enumerate(_rows("grid_factors"), start=2):
        where = f"grid_factors:{number}"
        assert row["zone"] in zones, f"{where} unknown zone {row['zone']}"
        assert 2015 <= int(row["year"]) <= 2030, where
        assert row["month"] == "" or 1 <= int(row["month"]) <= 12, where
        assert row["kind"] in {"grid_average", "residual_mix"}, where
        assert row["basis"] in {"direct", "lifecycle"}, where
        if not row["kg_co2e_per_kwh"]:
            # A residual mix the publisher prints as not available: said in its source.
            assert row["kind"] == "residual_mix" and ": NA for" in row["source"], where
            continue
        value = float(row["kg_co2e_per_kwh"])
        assert 0 <= value <= 1.5, f"{where} {value}"
        assert re.fullmatch(r"\d+(\.\d{1,6})?", row["kg_co2e_per_kwh"]), f"{where} precision"


def test_grid_factor_keys_are_unique():
    keys = Counter(
        (r["zone"], r["year"], r["month"], r["kind"], r["basis"]) for r in _rows("grid_factors")
    )
    assert [key for key, n in keys.items() if n > 1] == []


def test_at_least_seventy_countries_have_a_grid_average_including_the_required_ones():
    countries = {row["zone"] for row in _rows("zones") if row["kind"] == "country"}
    covered = _grid_average_zones() & countries
    assert len(covered) >= 70
    missing = (EU27 | OTHER_REQUIRED_COUNTRIES) - covered
    assert not missing, sorted(missing)


def test_required_countries_have_grid_averages_for_2021_to_2023():
    years: dict[str, set[int]] = {}
    for row in _rows("grid_factors"):
        if row["kind"] == "grid_average":
            years.setdefault(row["zone"], set()).add(int(row["year"]))
    for zone in sorted(EU27 | OTHER_REQUIRED_COUNTRIES):
        assert {2021, 2022, 2023} <= years.get(zone, set()), f"{zone}: {sorted(years[zone])}"


def test_eu_members_have_both_direct_and_lifecycle_grid_averages():
    bases: dict[str, set[str]] = {}
    for row in _rows("grid_factors"):
        if row["kind"] == "grid_average":
            bases.setdefault(row["zone"], set()).add(row["basis"])
    for zone in sorted(EU27 | {"US", "GB", "AU"}):
        assert bases[zone] == {"direct", "lifecycle"}, zone


def test_every_egrid_subregion_has_direct_factors_for_2022_and_2023():
    zones = {row["zone"] for row in _rows("zones") if row["kind"] == "subregion"}
    have = {
        (row["zone"], int(row["year"]))
        for row in _rows("grid_factors")
        if row["kind"] == "grid_average" and row["basis"] == "direct"
    }
    for code in sorted(EGRID_SUBREGIONS):
        zone = f"US-EGRID-{code}"
        assert zone in zones, zone
        assert (zone, 2022) in have and (zone, 2023) in have, zone


def test_egrid_figures_match_spot_checks_of_the_published_rates():
    # lb CO2e/MWh published by EPA (Power Profiler / eGRID SRL sheets), x 0.45359237 / 1000.
    expected = {
        ("US-EGRID-CAMX", "2022"): 499.278,
        ("US-EGRID-CAMX", "2023"): 429.983,
        ("US-EGRID-ERCT", "2022"): 774.298,
        ("US-EGRID-SRVC", "2023"): 596.326,
    }
    rows = {
        (r["zone"], r["year"]): float(r["kg_co2e_per_kwh"])
        for r in _rows("grid_factors")
        if r["kind"] == "grid_average" and r["basis"] == "direct"
    }
    for key, lb_per_mwh in expected.items():
        assert rows[key] == pytest.approx(lb_per_mwh * 0.45359237 / 1000, abs=1e-6), key


def test_france_direct_and_lifecycle_differ_as_the_sources_say():
    rows = {
        (r["basis"], r["year"]): float(r["kg_co2e_per_kwh"])
        for r in _rows("grid_factors")
        if r["zone"] == "FR" and r["kind"] == "grid_average"
    }
    assert rows[("lifecycle", "2023")] == pytest.approx(0.056, abs=0.002)
    assert rows[("direct", "2023")] < rows[("lifecycle", "2023")]


def test_every_eu_member_with_a_residual_mix_regime_has_one():
    residual = {row["zone"] for row in _rows("grid_factors") if row["kind"] == "residual_mix"}
    missing = EU27 - EU_WITHOUT_RESIDUAL_MIX - residual
    assert not missing, sorted(missing)
    assert not (EU_WITHOUT_RESIDUAL_MIX & residual), "a full-disclosure country got a residual mix"


def test_aib_residual_mixes_cover_production_years_2023_to_2025():
    figures: dict[str, dict[str, str]] = {}
    for row in _rows("grid_factors"):
        if row["kind"] == "residual_mix" and row["source"].startswith("AIB"):
            figures.setdefault(row["zone"], {})[row["year"]] = row["kg_co2e_per_kwh"]
    for zone in sorted(EU27 - EU_WITHOUT_RESIDUAL_MIX):
        assert set(figures[zone]) == {"2023", "2024", "2025"}, zone
    # AIB Table 2: Germany 719.90 (2023), 724.56 (2024), 701.47 (2025) g CO2/kWh; the
    # Netherlands 379.89 in 2023, then "NA" (full disclosure): no figure, not zero.
    assert figures["DE"] == {"2023": "0.7199", "2024": "0.72456", "2025": "0.70147"}
    assert figures["NL"] == {"2023": "0.37989", "2024": "", "2025": ""}


def test_residual_mixes_carry_the_aib_licence_terms_for_european_rows():
    for row in _rows("grid_factors"):
        if row["kind"] == "residual_mix" and "AIB" in row["source"]:
            assert row["licence"] == "AIB: published with permission, see terms"


def test_every_cloud_region_maps_to_a_zone_with_a_grid_factor():
    zones = {row["zone"] for row in _rows("zones")}
    with_factor = _grid_average_zones()
    for row in _rows("cloud_regions"):
        where = f"{row['provider']}:{row['region']}"
        assert row["zone"] in zones, f"{where} -> unknown zone {row['zone']}"
        assert row["zone"] in with_factor, f"{where} -> {row['zone']} has no grid_average"


def test_cloud_regions_cover_each_provider_and_are_unique():
    rows = _rows("cloud_regions")
    counts = Counter(row["provider"] for row in rows)
    assert set(counts) == {"aws", "gcp", "azure"}
    assert counts["aws"] >= 30 and counts["gcp"] >= 40 and counts["azure"] >= 55, counts
    keys = Counter((row["provider"], row["region"]) for row in rows)
    assert [key for key, n in keys.items() if n > 1] == []


def test_us_cloud_regions_use_egrid_subregions():
    regions = {(r["provider"], r["region"]): r["zone"] for r in _rows("cloud_regions")}
    assert regions[("aws", "us-east-1")] == "US-EGRID-SRVC"
    assert regions[("gcp", "us-central1")] == "US-EGRID-MROW"
    assert regions[("azure", "westus")] == "US-EGRID-CAMX"
    for (_provider, region), zone in regions.items():
        if region.startswith("us-") or region.endswith("us") or re.search(r"us\d$", region):
            assert zone.startswith("US-EGRID-"), (region, zone)


def test_region_pues_are_published_figures_in_range():
    for row in _rows("cloud_regions"):
        if row["pue"]:
            assert 1.0 <= float(row["pue"]) <= 2.5, row
            assert row["pue_source"].strip(), row
        else:
            assert row["pue_source"] == "", row


def test_provider_pues_cover_the_clouds_and_the_default_facility():
    rows = {row["provider"]: row for row in _rows("provider_pue")}
    assert set(rows) == {"aws", "gcp", "azure", "default"}
    assert float(rows["aws"]["pue"]) == pytest.approx(1.135)
    assert float(rows["gcp"]["pue"]) == pytest.approx(1.1)
    assert float(rows["azure"]["pue"]) == pytest.approx(1.185)
    assert float(rows["default"]["pue"]) == pytest.approx(1.56)
    for row in rows.values():
        assert 1.0 <= float(row["pue"]) <= 2.5
        assert 2000 <= int(row["year"]) <= 2030


def test_hardware_catalogue_has_every_required_part_with_sane_power():
    rows = _rows("hardware")
    codes = Counter(row["code"] for row in rows)
    assert [code for code, n in codes.items() if n > 1] == []
    missing = REQUIRED_HARDWARE - set(codes)
    assert not missing, sorted(missing)
    for row in rows:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", row["code"]), row["code"]
        assert row["kind"] in {"gpu", "tpu", "cpu"}, row
        assert row["unit"] == ("vcpu" if row["kind"] == "cpu" else "device"), row
        idle, peak = float(row["idle_w"]), float(row["max_w"])
        assert 0 <= idle < peak, row["code"]
        assert peak <= (20 if row["kind"] == "cpu" else 1500), row["code"]


def test_hardware_matches_the_cited_datasheet_and_ccf_figures():
    rows = {row["code"]: (float(row["idle_w"]), float(row["max_w"])) for row in _rows("hardware")}
    assert rows["nvidia-a100-40gb"] == (46, 407)
    assert rows["nvidia-t4"] == (8, 71)
    assert rows["intel-cascade-lake"] == (0.64, 3.97)
    assert rows["unknown-cpu-gcp"] == (0.68, 4.11)
    for code, tdp in {
        "nvidia-h100-sxm": 700,
        "nvidia-h100-pcie": 350,
        "nvidia-h200": 700,
        "nvidia-b200": 1000,
        "nvidia-l4": 72,
        "nvidia-l40s": 350,
        "amd-mi250x": 560,
        "amd-mi300x": 750,
    }.items():
        assert rows[code][1] == tdp, code


def test_tpu_v5_power_is_tpu_v4_measured_power_scaled_by_bf16_peak():
    rows = {row["code"]: (float(row["idle_w"]), float(row["max_w"])) for row in _rows("hardware")}
    v4_idle, v4_max = rows["google-tpu-v4"]
    assert (v4_idle, v4_max) == (90, 192)  # Jouppi et al. 2023, at 275 TFLOPS BF16
    for code, bf16_tflops in {"google-tpu-v5e": 197, "google-tpu-v5p": 459}.items():
        scale = bf16_tflops / 275
        assert rows[code] == pytest.approx((v4_idle * scale, v4_max * scale), abs=0.05), code


def test_cloud_coefficients_are_complete_and_positive():
    rows = {row["key"]: row for row in _rows("cloud_coefficients")}
    assert set(rows) == REQUIRED_COEFFICIENTS
    assert float(rows["memory_kwh_per_gb_hour"]["value"]) == pytest.approx(0.000392)
    for key in ("default_cpu_utilization", "default_gpu_utilization"):
        assert 0 < float(rows[key]["value"]) <= 1
    for row in rows.values():
        assert float(row["value"]) > 0 and row["unit"].strip()


def test_replication_factors_are_unique_with_a_default_per_provider():
    rows = _rows("replication_factors")
    keys = Counter((row["provider"], row["service"]) for row in rows)
    assert [key for key, n in keys.items() if n > 1] == []
    factors = {(row["provider"], row["service"]): float(row["factor"]) for row in rows}
    for provider in ("aws", "gcp", "azure"):
        assert factors[(provider, "default")] == 1
    assert factors[("aws", "s3")] == 6
    assert factors[("aws", "ebs_volume")] == 2
    assert factors[("azure", "storage_grs")] == 6
    assert all(1 <= value <= 10 for value in factors.values())


def test_embodied_rows_cover_the_hardware_catalogue_and_add_up():
    hardware = {row["code"] for row in _rows("hardware")}
    rows = {row["code"]: row for row in _rows("embodied")}
    assert set(rows) == hardware
    with_figure = {code for code, row in rows.items() if row["kg_co2e"]}
    assert with_figure == {"nvidia-h100-sxm", "nvidia-a100-40gb"}
    for code in with_figure:
        row = rows[code]
        # cradle-to-gate of the device plus its share of the host server, e.g. the H100:
        # 1312 kg / 8 GPUs = 164 kg, + 5700 kg / 8 = 712.5 kg of host, = 876.5 kg
        total = float(row["device_kg"]) + float(row["host_share_kg"])
        assert float(row["kg_co2e"]) == pytest.approx(total)
        assert float(row["lifetime_hours"]) == 3 * 365 * 24
    assert float(rows["nvidia-h100-sxm"]["kg_co2e"]) == 164 + 712.5
    assert float(rows["nvidia-a100-40gb"]["kg_co2e"]) == 181 + 712.5
    for code in hardware - with_figure:
        assert rows[code]["source"].startswith("Not available"), code
        assert not rows[code]["lifetime_hours"]


def test_cloud_instance_embodied_rows_are_ccf_coefficients_per_ec2_type():
    rows = {(r["provider"], r["instance_type"]): r for r in _rows("cloud_instance_embodied")}
    # ccf-coefficients @b0032d9 output/coefficients-aws-embodied.csv: one row per EC2 type
    # named family.size (414 of its 621; cache., db. and other service types are left out);
    # coefficients-azure-embodied.csv: 327 of its 393 sizes (the constrained-vCPU sizes, with
    # fractional vCPUs, and three sizes above their platform's vCPUs are left out).
    providers = Counter(provider for provider, _ in rows)
    assert providers == {"aws": 414, "azure": 327}
    # m5.large: total 1610.79 kg (510.79 additional memory + 100 additional CPU + 1000 base),
    # 2 vCPUs of the family's largest size m5.24xlarge (96 vCPUs); 4 years = 35,040 h.
    m5 = rows[("aws", "m5.large")]
    assert (m5["kg_co2e"], m5["vcpus"], m5["family_vcpus"]) == ("1610.79", "2", "96")
    # t2.micro: 1477.54 kg; burstable families divide by their own largest size, t2.2xlarge
    # (8 vCPUs), as CCF's CostAndUsageReports.getDataFromInstanceType does.
    t2 = rows[("aws", "t2.micro")]
    assert (t2["kg_co2e"], t2["vcpus"], t2["family_vcpus"]) == ("1477.54", "1", "8")
    # Azure D2 v3: 1483.12 kg (333.12 memory + 50 storage + 100 CPU + 1000 base), 2 vCPUs on
    # a platform of at most 64 (data/azure-instances.csv).
    d2 = rows[("azure", "D2 v3")]
    assert (d2["kg_co2e"], d2["vcpus"], d2["family_vcpus"]) == ("1483.12", "2", "64")
    assert ("azure", "E4-2s v3") not in rows  # constrained: 0.5 vCPUs in the published data
    for row in rows.values():
        assert row["lifetime_hours"] == "35040"
        assert 1 <= int(row["vcpus"]) <= int(row["family_vcpus"])
        assert float(row["kg_co2e"]) >= 1000  # CCF's base server, 1000 kg, is in every total
        assert "b0032d928c787cf76cecd7d1d611c5b46f366e29" in row["source_url"]
        assert row["licence"] == "Apache-2.0"
