"""Parquet import: a generated FOCUS export imported as an upload is, rows/s and peak RSS.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/greenai_bench_parquet \\
        .venv/bin/python bench/import_parquet.py [--megabytes 20]

Writes a FOCUS 1.2 Parquet file of about --megabytes (AWS lines as its FOCUS export has them:
EC2 instance hours of several sizes with x_UsageType, EBS GB-months, data transfer, a tax line
every 50; Tags a map; the export's other columns too (accounts, billing period, list and
contracted prices, SKU ids, SkuPriceDetails, resource ARNs with their random ids, zones), so
that a megabyte holds about as many rows as a provider's export does; row groups of 100k rows,
snappy), in a child process so that its memory is not counted. Then runs the import job on it
in this process (the validating pass, then the stored pass) while a thread samples the job's
progress, and prints rows/s, the progress values seen and this process's peak RSS; writes
bench/results/import_parquet.json (--output to write elsewhere).

Target (issue 19): a 1 GB export imports under 300 MB RSS, with live progress.
"""

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "greenai_portal.settings")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
# As a production worker runs: DEBUG off, so no query log grows in memory.
os.environ.update(DJANGO_DEBUG="false", DJANGO_ALLOWED_HOSTS="localhost")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-import-parquet-" + "x" * 40)

TARGET_RSS_MB = 300
ROW_GROUP_ROWS = 100_000
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1"]
INSTANCES = ["m5.large", "m5.2xlarge", "c5.4xlarge", "r5.xlarge", "p4d.24xlarge", "t3.micro"]


def generate(path: Path, megabytes: float) -> int:
    """Write the FOCUS file, appending row groups until it reaches the size; its row count."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = random.Random(19)
    tags_type = pa.map_(pa.string(), pa.string())
    rows = 0
    with pq.ParquetWriter(path, _schema(pa, tags_type), compression="snappy") as writer:
        while path.stat().st_size < megabytes * 1024 * 1024:
            writer.write_table(_row_group(pa, tags_type, rng, rows), row_group_size=ROW_GROUP_ROWS)
            rows += ROW_GROUP_ROWS
    return rows


# The FOCUS 1.2 columns an AWS export fills besides those the import reads.
EXTRA_TEXT = ("BillingAccountId", "BillingAccountName", "SubAccountName", "InvoiceIssuerName",
              "PublisherName", "ChargeFrequency", "PricingCategory", "PricingUnit",
              "PricingCurrency", "ServiceSubcategory", "SkuId", "SkuPriceId", "SkuMeter",
              "SkuPriceDetails", "ResourceName", "ResourceType", "RegionName",
              "AvailabilityZone", "InvoiceId")  # fmt: skip
EXTRA_MONEY = ("ListCost", "ContractedCost", "ListUnitPrice", "ContractedUnitPrice",
               "PricingQuantity")  # fmt: skip


def _schema(pa, tags_type):
    text = pa.string()
    return pa.schema(
        [("ChargeCategory", text), ("ChargeClass", text), ("ChargeDescription", text)]
        + [("ChargePeriodStart", pa.timestamp("ms", tz="UTC"))]
        + [("ChargePeriodEnd", pa.timestamp("ms", tz="UTC"))]
        + [("BillingPeriodStart", pa.timestamp("ms", tz="UTC"))]
        + [("BillingPeriodEnd", pa.timestamp("ms", tz="UTC"))]
        + [(n, text) for n in ("ProviderName", "SubAccountId", "ServiceName", "ServiceCategory")]
        + [("RegionId", text), ("BilledCost", pa.float64()), ("EffectiveCost", pa.float64())]
        + [("BillingCurrency", text), ("ConsumedQuantity", pa.float64())]
        + [("ConsumedUnit", text), ("Tags", tags_type), ("ResourceId", text)]
        + [("x_ServiceCode", text), ("x_UsageType", text)]
        + [(n, text) for n in EXTRA_TEXT]
        + [(n, pa.float64()) for n in EXTRA_MONEY]
    )


def _row_group(pa, tags_type, rng: random.Random, first: int):
    from datetime import UTC, datetime, timedelta

    columns: dict[str, list] = {name: [] for name in _schema(pa, tags_type).names}
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(first, first + ROW_GROUP_ROWS):
        hour = start + timedelta(hours=n % (24 * 28))
        region = REGIONS[n % len(REGIONS)]
        kind = n % 10
        if n % 50 == 0:
            line = ("Tax", "VAT", "", "", 0.0, "", "")
        elif kind < 7:
            size = INSTANCES[n % len(INSTANCES)]
            line = ("Usage", size, "Compute", "Hrs", 1.0, f"USE1-BoxUsage:{size}", "AmazonEC2")
        elif kind < 9:
            line = ("Usage", "gp3", "Storage", "GB-Mo", rng.uniform(1, 500),
                    "USE1-EBS:VolumeUsage.gp3", "AmazonEC2")  # fmt: skip
        else:
            line = ("Usage", "transfer", "Networking", "GB", rng.uniform(0, 50),
                    "USE1-USW2-AWS-Out-Bytes", "AWSDataTransfer")  # fmt: skip
        category, description, service, unit, quantity, usage_type, code = line
        cost = round(quantity * rng.uniform(0.01, 0.5), 6)
        resource = f"{rng.getrandbits(68):017x}"
        values = {
            "ChargeCategory": category, "ChargeClass": None, "ChargeDescription": description,
            "ChargePeriodStart": hour, "ChargePeriodEnd": hour + timedelta(hours=1),
            "ProviderName": "AWS", "SubAccountId": f"{100000 + n % 7}",
            "ServiceName": code, "ServiceCategory": service, "RegionId": region,
            "BilledCost": cost, "EffectiveCost": cost, "BillingCurrency": "USD",
            "ConsumedQuantity": quantity if unit else None, "ConsumedUnit": unit or None,
            "Tags": [("team", ("research", "serving")[n % 2]), ("env", "prod")],
            "ResourceId": f"arn:aws:ec2:{region}:{100000 + n % 7}:instance/i-{resource}",
            "x_ServiceCode": code, "x_UsageType": usage_type,
            "BillingPeriodStart": start, "BillingPeriodEnd": start + timedelta(days=31),
            "BillingAccountId": "100000000001", "BillingAccountName": "Example Corp Payer",
            "SubAccountName": f"workload-{n % 7}", "InvoiceIssuerName": "AWS",
            "PublisherName": "AWS", "ChargeFrequency": "Usage-Based",
            "PricingCategory": "Standard", "PricingUnit": unit or None,
            "PricingCurrency": "USD", "ServiceSubcategory": description,
            "SkuId": f"{rng.getrandbits(64):016X}", "SkuPriceId": f"{rng.getrandbits(64):016X}",
            "SkuMeter": service, "ResourceName": f"i-{resource}", "ResourceType": service,
            "SkuPriceDetails": '{"x_OperatingSystem": "Linux", "x_Tenancy": "Shared"}',
            "RegionName": region, "AvailabilityZone": f"{region}{'abc'[n % 3]}",
            "InvoiceId": f"EUINGB26-{first // ROW_GROUP_ROWS:06d}",
            "ListCost": cost * 1.25, "ContractedCost": cost, "ListUnitPrice": 0.096,
            "ContractedUnitPrice": 0.096, "PricingQuantity": quantity,
        }  # fmt: skip
        for name, value in values.items():
            columns[name].append(value)
    return pa.table(columns, schema=_schema(pa, tags_type))


def setup_job(path: Path):
    from django.core.files import File
    from ingest import migrated_django

    from accounts.models import Organisation, Team
    from inventory.factors.library import factor_dataset_load
    from inventory.models import ImportJob, TeamMappingRule

    migrated_django()
    factor_dataset_load()
    slug = f"bench-parquet-{int(time.time())}"
    organisation = Organisation.objects.create(name=slug, slug=slug)
    for team in ("research", "serving"):
        Team.objects.create(organisation=organisation, slug=team, name=team)
    TeamMappingRule.objects.create(
        organisation=organisation, key="tag:team", value="research",
        team=Team.objects.get(organisation=organisation, slug="research"),
    )  # fmt: skip
    TeamMappingRule.objects.create(
        organisation=organisation, key="*", value="*", priority=1000,
        team=Team.objects.get(organisation=organisation, slug="serving"),
    )  # fmt: skip
    job = ImportJob(organisation=organisation, format="focus", original_name=path.name,
                    size_bytes=path.stat().st_size)  # fmt: skip
    with path.open("rb") as handle:
        job.file.save(path.name, File(handle), save=True)
    return job


def sample_progress(job_id: int, seen: list, stop: threading.Event, checkpoint) -> None:
    """Every half second the job's progress; every minute a checkpoint written to the output
    (how far a long run got, should it be stopped)."""
    from django.db import connection

    from inventory.models import ImportJob

    last = time.perf_counter()
    while not stop.wait(0.5):
        job = ImportJob.objects.get(pk=job_id)
        seen.append((job.status, round(job.progress, 3)))
        if time.perf_counter() - last >= 60:
            last = time.perf_counter()
            checkpoint(job)
    connection.close()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_s() -> float:
    """This process's CPU time (all its threads): on a shared machine, rows per CPU-second
    say what the code costs whatever else runs."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--megabytes", type=float, default=20.0)
    parser.add_argument("--generate-only", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--output", type=Path, default=ROOT / "bench" / "results" / "import_parquet.json"
    )
    args = parser.parse_args()
    if args.generate_only:
        print(generate(args.generate_only, args.megabytes))
        return
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("bench/import_parquet.py measures Postgres: set DATABASE_URL=postgres://…")

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "focus-export.parquet"
        began = time.perf_counter()
        child = [sys.executable, __file__, "--megabytes", str(args.megabytes),
                 "--generate-only", str(path)]  # fmt: skip
        rows = int(subprocess.run(child, check=True, capture_output=True, text=True).stdout)
        generated_s = time.perf_counter() - began

        import django

        django.setup()
        from django.conf import settings

        settings.MEDIA_ROOT = folder
        job = setup_job(path)
        before_mb = peak_rss_mb()
        seen: list = []
        stop = threading.Event()
        began, began_cpu = time.perf_counter(), cpu_s()

        def checkpoint(running) -> None:
            elapsed = time.perf_counter() - began
            partial = {
                "file_mb": round(running.size_bytes / 1024 / 1024, 1),
                "rows": rows,
                "status": f"{running.status} (checkpoint of a running import)",
                "elapsed_s": round(elapsed),
                "progress": round(running.progress, 3),
                "rows_processed": running.rows_processed,
                "rows_total": running.rows_total,
                "peak_rss_mb": round(peak_rss_mb()),
                "cpu_s": round(cpu_s() - began_cpu),
                "load_average_1min": round(os.getloadavg()[0], 1),
                "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            }
            args.output.write_text(json.dumps(partial, indent=2))

        sampler = threading.Thread(target=sample_progress, args=(job.id, seen, stop, checkpoint))
        sampler.start()
        from inventory.imports.services import import_job_run

        try:
            job = import_job_run(job_id=job.id)
        finally:
            stop.set()
            sampler.join()
        seconds = time.perf_counter() - began
        cpu_seconds = cpu_s() - began_cpu

    file_mb = job.size_bytes / 1024 / 1024
    result = {
        "file_mb": round(file_mb, 1),
        "rows": rows,
        "generated_s": round(generated_s, 1),
        "status": job.status,
        "message": job.message,
        "records_created": job.rows_created,
        "rows_skipped": job.rows_skipped,
        "import_s": round(seconds, 1),
        "rows_per_s": round(rows / seconds),
        "cpu_s": round(cpu_seconds, 1),
        "rows_per_cpu_s": round(rows / cpu_seconds),
        "load_average_1min_at_end": round(os.getloadavg()[0], 1),
        "peak_rss_mb_before_import": round(before_mb),
        "peak_rss_mb": round(peak_rss_mb()),
        "target_rss_mb": TARGET_RSS_MB,
        "progress_seen": sorted({p for _, p in seen}),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
    }
    print(json.dumps(result, indent=2))
    print(f"{rows} rows ({file_mb:.0f} MB): {seconds:.1f} s ({cpu_seconds:.0f} CPU-s), "
          f"peak RSS {result['peak_rss_mb']} MB")  # fmt: skip
    args.output.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
