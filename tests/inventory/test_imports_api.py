"""File imports: upload, background job, progress and errors; billing exports CCF-style."""

import gzip

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from inventory.models import CloudUsageRecord, ImportJob, TeamMappingRule, WorkloadRecord

URL = "/api/v1/imports/"

WORKLOADS_CSV = (
    "external_id,team,model,phase,started_at,ended_at,location,hardware,device_count,tag:run\n"
    "job-1,research,atlas-7b,training,2026-01-10T00:00:00Z,2026-01-10T10:00:00Z,lab-paris,"
    "nvidia-h100-sxm,8,a\n"
    "job-2,serving,atlas-7b,inference,2026-01-11T00:00:00Z,2026-01-11T01:00:00Z,aws:us-east-1,"
    "nvidia-a100-40gb,1,b\n"
)

CODECARBON_HEADER = (
    "timestamp,project_name,run_id,experiment_id,duration,emissions,emissions_rate,cpu_power,"
    "gpu_power,ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,water_consumed,"
    "country_name,country_iso_code,region,cloud_provider,cloud_region,os,python_version,"
    "codecarbon_version,cpu_count,cpu_model,gpu_count,gpu_model,longitude,latitude,"
    "ram_total_size,tracking_mode,cpu_utilization_percent,gpu_utilization_percent,"
    "ram_utilization_percent,ram_used_gb,on_cloud,pue,wue"
)
CODECARBON_CSV = CODECARBON_HEADER + (
    "\n2026-01-10T10:00:00,atlas-7b,run-1,exp-1,1800.0,0.02,1.1e-05,40.0,0.0,10.0,0.4,0.0,0.1,"
    "0.5,0.0,France,FRA,,,,Linux,3.11.7,3.3.2,2,AMD EPYC,0,,,,24.0,machine,50.0,0.0,10.0,2.0,"
    "N,1.0,0.0"
    "\n2026-01-10T10:30:00,atlas-7b,run-1,exp-1,3600.0,0.05,1.4e-05,40.0,0.0,10.0,1.0,0.0,0.2,"
    "1.2,0.0,France,FRA,,,,Linux,3.11.7,3.3.2,2,AMD EPYC,0,,,,24.0,machine,50.0,0.0,10.0,2.0,"
    "N,1.0,0.0"
    "\n2026-01-11T09:00:00,codecarbon,run-2,exp-1,600.0,0.01,1e-05,40.0,0.0,10.0,0.1,0.0,0.05,"
    "0.15,0.0,United States,USA,virginia,aws,us-east-1,Linux,3.11.7,3.3.2,2,AMD EPYC,0,,,,"
    "24.0,machine,50.0,0.0,10.0,2.0,Y,1.0,0.0\n"
)
# CodeCarbon 2.x wrote fewer columns (no experiment_id, water, utilisation, wue).
CODECARBON_V2_CSV = (
    "timestamp,project_name,run_id,duration,emissions,emissions_rate,cpu_power,gpu_power,"
    "ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,country_name,country_iso_code,"
    "region,cloud_provider,cloud_region,os,python_version,codecarbon_version,cpu_count,"
    "cpu_model,gpu_count,gpu_model,longitude,latitude,ram_total_size,tracking_mode,on_cloud,pue\n"
    "2024-03-01T12:00:00,bert,run-v2,120.0,0.001,8e-06,30.0,0.0,5.0,0.001,0.0,0.0002,0.0012,"
    "Germany,DEU,,,,Linux,3.10.0,2.3.4,8,Intel,0,,,,16.0,machine,N,1.0\n"
)

AWS_CUR = (
    "identity_line_item_id,identity_time_interval,line_item_line_item_type,"
    "line_item_usage_start_date,line_item_usage_end_date,line_item_usage_account_id,"
    "product_region,line_item_product_code,line_item_usage_type,pricing_unit,product_vcpu,"
    "product_instance_type,line_item_usage_amount,line_item_unblended_cost,"
    "line_item_currency_code,resource_tags_user_team\n"
    "a1,2026-01-10/2026-01-11,Usage,2026-01-10T00:00:00Z,2026-01-10T01:00:00Z,111,us-east-1,"
    "AmazonEC2,USE1-BoxUsage:m5.xlarge,Hrs,4,m5.xlarge,1.0,0.192,USD,serving\n"
    "a2,2026-01-10/2026-01-11,SavingsPlanCoveredUsage,2026-01-10T00:00:00Z,"
    "2026-01-10T01:00:00Z,111,us-east-1,AmazonEC2,USE1-BoxUsage:p4d.24xlarge,Hrs,96,"
    "p4d.24xlarge,2.0,65.5,USD,research\n"
    "a3,2026-01-10/2026-01-11,Usage,2026-01-10T00:00:00Z,2026-01-11T00:00:00Z,111,us-east-1,"
    "AmazonEC2,USE1-EBS:VolumeUsage.gp3,GB-Mo,,,100.0,8.0,USD,\n"
    "a4,2026-01-10/2026-01-11,Usage,2026-01-10T00:00:00Z,2026-01-11T00:00:00Z,222,eu-west-1,"
    "AmazonS3,EU-TimedStorage-ByteHrs,GB-Mo,,,31.0,0.7,USD,\n"
    "a5,2026-01-10/2026-01-11,Tax,2026-01-10T00:00:00Z,2026-01-11T00:00:00Z,111,,"
    "AmazonEC2,,,,,,1.5,USD,\n"
    "a6,2026-01-10/2026-01-11,Usage,2026-01-10T00:00:00Z,2026-01-11T00:00:00Z,111,us-east-1,"
    "AWSDataTransfer,USE1-USW2-AWS-Out-Bytes,GB,,,50.0,1.0,USD,serving\n"
)

GCP_BILLING = (
    "service.description,sku.description,usage_start_time,usage_end_time,project.id,"
    "location.region,usage.amount,usage.unit,cost,currency,labels\n"
    "Compute Engine,N1 Predefined Instance Core running in Americas,2026-01-10 00:00:00 UTC,"
    '2026-01-10 01:00:00 UTC,ml-research,us-central1,28800,seconds,0.3,USD,"[{""key"": '
    '""team"", ""value"": ""serving""}]"\n'
    "Compute Engine,N1 Predefined Instance Ram running in Americas,2026-01-10 00:00:00 UTC,"
    "2026-01-10 01:00:00 UTC,ml-research,us-central1,107374182400,byte-seconds,0.1,USD,[]\n"
    "Compute Engine,Nvidia Tesla V100 GPU running in Americas,2026-01-10 00:00:00 UTC,"
    "2026-01-10 01:00:00 UTC,ml-research,us-central1,7200,seconds,4.9,USD,[]\n"
    "Compute Engine,SSD backed PD Capacity,2026-01-10 00:00:00 UTC,2026-01-10 01:00:00 UTC,"
    "ml-research,us-central1,3958241859993600,byte-seconds,0.2,USD,[]\n"
    "BigQuery,Analysis,2026-01-10 00:00:00 UTC,2026-01-10 01:00:00 UTC,ml-research,"
    "us-central1,1000,bytes,0.0,USD,[]\n"
)

AZURE_USAGE = (
    "date,subscriptionName,resourceGroup,resourceLocation,meterCategory,meterSubCategory,"
    "meterName,unitOfMeasure,quantity,costInBillingCurrency,billingCurrency,tags\n"
    "01/10/2026,prod,rg-serving,EastUS,Virtual Machines,Dv3/DSv3 Series,D2s v3,1 Hour,24,2.3,"
    'USD,"""team"": ""serving"""\n'
    "01/10/2026,prod,rg-train,westeurope,Virtual Machines,NC A100 v4 Series,NC24ads A100 v4,"
    "1 Hour,10,36.7,USD,\n"
    "01/10/2026,prod,rg-train,westeurope,Storage,General Block Blob,LRS Data Stored,"
    "1 GB/Month,100,0.02,USD,\n"
    "01/10/2026,prod,rg-train,westeurope,Bandwidth,Rtn Preference: MGN,Data Transfer Out,"
    "1 GB,5,0.4,USD,\n"
)


def upload(client, name: str, content: bytes, file_format: str | None):
    data = {"file": SimpleUploadedFile(name, content)}
    if file_format is not None:
        data["format"] = file_format
    return client.post(URL, data, format="multipart")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def eager_tasks():
    """The import task runs in-process here, with or without a broker configured."""
    from greenai_portal.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def run(client, name, content, file_format, capture):
    with capture(execute=True):
        response = upload(client, name, content, file_format)
    assert response.status_code == 202, response.json()
    job = client.get(f"{URL}{response.json()['id']}/")
    assert job.status_code == 200
    return job.json()


def failed_portal_import(client, csv_text: str, capture) -> dict:
    """A portal workloads CSV that must fail whole: the job, having stored nothing."""
    job = run(client, "w.csv", csv_text.encode(), "portal_workloads_csv", capture)
    assert job["status"] == "failed", job
    assert "nothing was stored" in job["message"]
    assert WorkloadRecord.objects.count() == 0
    return job


@pytest.fixture
def default_team(tenant):
    TeamMappingRule.objects.create(
        organisation=tenant.organisation, key="*", value="*", team=tenant.teams["research"],
        priority=1000,
    )  # fmt: skip


@pytest.mark.django_db
class TestPortalCsv:
    def test_it_imports_a_file_and_reports_progress(
        self, tenant, django_capture_on_commit_callbacks
    ):
        client = tenant.token_client()
        job = run(client, "w.csv", WORKLOADS_CSV.encode(), "portal_workloads_csv",
                  django_capture_on_commit_callbacks)  # fmt: skip
        assert job["status"] == "completed", job
        assert (job["rows_total"], job["rows_created"], job["progress"]) == (2, 2, 1.0)
        assert WorkloadRecord.objects.get(external_id="job-1").tags == {"run": "a"}
        assert WorkloadRecord.objects.get(external_id="job-1").batch.source == "import"

    def test_it_counts_a_reimported_file_as_duplicates(
        self, tenant, django_capture_on_commit_callbacks
    ):
        client = tenant.token_client()
        for _ in range(2):
            job = run(client, "w.csv", WORKLOADS_CSV.encode(), "portal_workloads_csv",
                      django_capture_on_commit_callbacks)  # fmt: skip
        assert (job["rows_created"], job["rows_duplicates"]) == (0, 2)
        assert WorkloadRecord.objects.count() == 2

    def test_it_reads_gzipped_files(self, tenant, django_capture_on_commit_callbacks):
        job = run(tenant.token_client(), "w.csv.gz", gzip.compress(WORKLOADS_CSV.encode()),
                  "portal_workloads_csv", django_capture_on_commit_callbacks)  # fmt: skip
        assert job["status"] == "completed"
        assert WorkloadRecord.objects.count() == 2

    def test_it_stores_nothing_of_a_file_with_a_bad_row_and_names_its_line(
        self, tenant, django_capture_on_commit_callbacks
    ):
        bad = WORKLOADS_CSV + (
            "job-3,research,,training,2026-01-10T00:00:00Z,2026-01-09T00:00:00Z,lab-paris,"
            "nvidia-h100-sxm,1,\n"
            "job-4,nobody,,training,2026-01-10T00:00:00Z,2026-01-10T01:00:00Z,lab-paris,"
            "nvidia-h100-sxm,1,\n"
        )
        job = failed_portal_import(tenant.token_client(), bad, django_capture_on_commit_callbacks)
        # line 4's end before its start, line 5's unknown team: both named in one go
        assert [(e["line"], e["field"]) for e in job["errors"]] == [(4, "ended_at"), (5, "team")]

    def test_it_names_every_problem_of_every_row_in_one_run(
        self, tenant, django_capture_on_commit_callbacks
    ):
        nine = (
            "external_id,team,phase,started_at,ended_at,location,hardware,device_count,"
            "utilization\n"
            "a,research,training,2026-01-10T08:00:00Z,2026-01-10T07:00:00Z,lab-paris,"
            "nvidia-h100-sxm,0,1.5\n"
            "b,nope,pretraining,yesterday,2026-01-10T07:00:00Z,mars:1,gpu-9000,eight,\n"
        )
        job = failed_portal_import(tenant.token_client(), nine, django_capture_on_commit_callbacks)
        # line 2: device_count, utilization, end before start = 3; line 3: phase, started_at,
        # device_count (bad values) + team, location, hardware (unknown) = 6; 3 + 6 = 9
        assert job["error_count"] == 9
        assert [(e["row"], e["line"], e["field"]) for e in job["errors"]] == [
            (0, 2, "device_count"),
            (0, 2, "utilization"),
            (0, 2, "ended_at"),
            (1, 3, "phase"),
            (1, 3, "started_at"),
            (1, 3, "device_count"),
            (1, 3, "team"),
            (1, 3, "location"),
            (1, 3, "hardware"),
        ]

    def test_it_names_a_stored_conflict_beside_other_rows_problems(
        self, tenant, django_capture_on_commit_callbacks
    ):
        client = tenant.token_client()
        run(client, "w.csv", WORKLOADS_CSV.encode(), "portal_workloads_csv",
            django_capture_on_commit_callbacks)  # fmt: skip
        changed = (
            WORKLOADS_CSV.replace("nvidia-h100-sxm,8,a", "nvidia-h100-sxm,4,a")
            .replace("job-2,", "job-3,")
            .replace("aws:us-east-1", "mars:1")
        )
        job = run(client, "w.csv", changed.encode(), "portal_workloads_csv",
                  django_capture_on_commit_callbacks)  # fmt: skip
        assert [(e["line"], e["field"]) for e in job["errors"]] == [
            (2, "external_id"),  # job-1 stored with 8 devices, now 4
            (3, "location"),
        ]

    def test_it_names_unknown_teams_when_values_are_fine(
        self, tenant, django_capture_on_commit_callbacks
    ):
        bad = WORKLOADS_CSV.replace("serving,atlas-7b,inference", "nobody,atlas-7b,inference")
        job = run(tenant.token_client(), "w.csv", bad.encode(), "portal_workloads_csv",
                  django_capture_on_commit_callbacks)  # fmt: skip
        assert job["status"] == "failed"
        assert [(e["line"], e["field"]) for e in job["errors"]] == [(3, "team")]

    def test_it_refuses_an_unknown_format_and_a_missing_file(self, tenant):
        client = tenant.token_client()
        assert upload(client, "w.csv", b"x", "excel").status_code == 400
        assert client.post(URL, {"format": "aws_cur"}, format="multipart").status_code == 400

    def test_it_refuses_a_file_over_the_limit(self, tenant, settings):
        settings.GREENAI_MAX_IMPORT_BYTES = 10
        response = upload(tenant.token_client(), "w.csv", WORKLOADS_CSV.encode(),
                          "portal_workloads_csv")  # fmt: skip
        assert response.status_code == 413

    def test_it_hides_jobs_of_other_organisations(self, tenant, outsider):
        response = upload(
            tenant.token_client(), "w.csv", WORKLOADS_CSV.encode(), "portal_workloads_csv"
        )
        job_id = response.json()["id"]
        assert outsider.token_client().get(f"{URL}{job_id}/").status_code == 404

    def test_it_imports_cloud_usage_csv(self, tenant, django_capture_on_commit_callbacks):
        body = (
            "external_id,team,location,service,usage_kind,quantity,usage_start,usage_end\n"
            "u1,research,gcp:europe-west4,GCS,storage_hdd,720,2026-01-10T00:00:00Z,"
            "2026-01-11T00:00:00Z\n"
        )
        job = run(tenant.token_client(), "u.csv", body.encode(), "portal_cloud_usage_csv",
                  django_capture_on_commit_callbacks)  # fmt: skip
        assert job["status"] == "completed"
        assert CloudUsageRecord.objects.get().quantity == 720


@pytest.mark.django_db
class TestCodeCarbonCsv:
    def test_it_imports_the_current_header_as_deltas_of_each_run(
        self, tenant, default_team, django_capture_on_commit_callbacks
    ):
        job = run(tenant.token_client(), "emissions.csv", CODECARBON_CSV.encode(),
                  "codecarbon_csv", django_capture_on_commit_callbacks)  # fmt: skip
        assert job["status"] == "completed", job
        run1 = WorkloadRecord.objects.filter(tags__codecarbon_run_id="run-1").order_by("started_at")
        assert [r.energy_kwh for r in run1] == [0.5, pytest.approx(0.7)]
        assert {r.location.code for r in run1} == {"country:FR"}
        assert all(r.energy_includes_pue for r in run1)
        assert run1[0].ai_model.name == "atlas-7b"
        run2 = WorkloadRecord.objects.get(tags__codecarbon_run_id="run-2")
        assert (run2.location.code, run2.ai_model) == ("aws:us-east-1", None)

    def test_it_imports_an_older_shorter_header(
        self, tenant, default_team, django_capture_on_commit_callbacks
    ):
        job = run(tenant.token_client(), "emissions.csv", CODECARBON_V2_CSV.encode(),
                  "codecarbon_csv", django_capture_on_commit_callbacks)  # fmt: skip
        assert job["status"] == "completed", job
        record = WorkloadRecord.objects.get()
        assert (record.energy_kwh, record.location.code) == (0.0012, "country:DE")

    def test_it_refuses_a_file_that_is_not_codecarbon(self, tenant):
        response = upload(tenant.token_client(), "x.csv", WORKLOADS_CSV.encode(), "codecarbon_csv")
        assert response.status_code == 400
        assert response.json()["message"] == (
            "This file is not a CodeCarbon emissions.csv: it looks like a Portal workloads CSV"
        )


@pytest.mark.django_db
class TestBillingExports:
    def test_it_maps_an_aws_cur_to_usage_kinds_ccf_style(
        self, tenant, default_team, django_capture_on_commit_callbacks
    ):
        TeamMappingRule.objects.create(
            organisation=tenant.organisation, source="aws", key="tag:team", value="serving",
            team=tenant.teams["serving"], model_name="atlas-7b-chat",
        )  # fmt: skip
        job = run(tenant.token_client(), "cur.csv", AWS_CUR.encode(), "aws_cur",
                  django_capture_on_commit_callbacks)  # fmt: skip
        assert job["status"] == "completed", job
        assert job["skipped_reasons"] == {"line item type Tax": 1}
        # a1 vCPU + memory, a2 vCPU + GPU + memory, a3 EBS, a4 S3, a6 network: 8 records;
        # a5 (Tax) skipped
        assert job["message"] == (
            "8 records stored, 0 already known, 1 lines skipped: line item type Tax (1)"
        )
        rows = {r.external_id: r for r in CloudUsageRecord.objects.all()}
        m5 = rows["aws:a1:2026-01-10/2026-01-11:vcpu"]
        assert (m5.usage_kind, m5.quantity, m5.hardware.code, m5.team.slug) == (
            "compute", 4.0, "intel-skylake", "serving",
        )  # fmt: skip
        assert m5.ai_model.name == "atlas-7b-chat"
        gpu = rows["aws:a2:2026-01-10/2026-01-11:gpu"]
        assert (gpu.quantity, gpu.hardware.code, gpu.cost) == (16.0, "nvidia-a100-40gb", None)
        assert rows["aws:a2:2026-01-10/2026-01-11:vcpu"].quantity == 192.0
        ebs = rows["aws:a3:2026-01-10/2026-01-11:storage"]
        # 100 GB-months in a 31-day month = 100 × 744 / 1000 TB-hours, replicated twice
        assert (ebs.usage_kind, ebs.quantity, ebs.replication) == ("storage_ssd", 74.4, 2.0)
        s3 = rows["aws:a4:2026-01-10/2026-01-11:storage"]
        assert (s3.usage_kind, s3.replication, s3.location.code) == (
            "storage_hdd", 6.0, "aws:eu-west-1",
        )  # fmt: skip
        network = rows["aws:a6:2026-01-10/2026-01-11:network"]
        assert (network.usage_kind, network.quantity) == ("network", 50.0)

    def test_it_maps_a_gcp_export(self, tenant, default_team, django_capture_on_commit_callbacks):
        TeamMappingRule.objects.create(
            organisation=tenant.organisation, source="gcp", key="label:team", value="serving",
            team=tenant.teams["serving"],
        )  # fmt: skip
        job = run(tenant.token_client(), "gcp.csv", GCP_BILLING.encode(), "gcp_billing",
                  django_capture_on_commit_callbacks)  # fmt: skip
        assert job["status"] == "completed", job
        by_kind = {r.usage_kind: r for r in CloudUsageRecord.objects.all()}
        assert (by_kind["compute"].quantity, by_kind["compute"].team.slug) == (8.0, "serving")
        assert by_kind["compute"].tags == {"team": "serving"}
        assert by_kind["memory"].quantity == pytest.approx(100 / 3600)
        assert (by_kind["gpu"].quantity, by_kind["gpu"].hardware.code) == (2.0, "nvidia-v100")
        assert by_kind["storage_ssd"].quantity == pytest.approx(3958241859993600 / 1024**4 / 3600)
        assert by_kind["compute"].usage_start.isoformat() == "2026-01-10T00:00:00+00:00"
        assert job["rows_skipped"] == 1

    def test_it_maps_azure_usage_details(
        self, tenant, default_team, django_capture_on_commit_callbacks
    ):
        TeamMappingRule.objects.create(
            organisation=tenant.organisation, source="azure", key="resource_group",
            value="rg-serving", team=tenant.teams["serving"],
        )  # fmt: skip
        job = run(tenant.token_client(), "az.csv", AZURE_USAGE.encode(), "azure_usage",
                  django_capture_on_commit_callbacks)  # fmt: skip
        assert job["status"] == "completed", job
        records = list(CloudUsageRecord.objects.order_by("location__code", "usage_kind"))
        summary = [(r.location.code, r.usage_kind, r.quantity, r.team.slug) for r in records]
        assert summary == [
            ("azure:eastus", "compute", 48.0, "serving"),
            ("azure:westeurope", "compute", 240.0, "research"),
            ("azure:westeurope", "gpu", 10.0, "research"),
            ("azure:westeurope", "storage_hdd", 74.4, "research"),
        ]
        assert job["skipped_reasons"] == {"not energy the CCF methodology counts": 1}

    def test_it_fails_billing_rows_no_rule_attributes(
        self, tenant, django_capture_on_commit_callbacks
    ):
        job = run(tenant.token_client(), "cur.csv", AWS_CUR.encode(), "aws_cur",
                  django_capture_on_commit_callbacks)  # fmt: skip
        assert job["status"] == "failed"
        assert {e["field"] for e in job["errors"]} == {"team"}
        assert CloudUsageRecord.objects.count() == 0

    def test_it_lets_a_team_token_import_for_its_team_only(
        self, tenant, django_capture_on_commit_callbacks
    ):
        job = run(tenant.token_client(team="serving"), "w.csv", WORKLOADS_CSV.encode(),
                  "portal_workloads_csv", django_capture_on_commit_callbacks)  # fmt: skip
        assert job["status"] == "failed"
        assert [e["field"] for e in job["errors"]] == ["team"]


def test_a_job_has_a_readable_name():
    assert "aws_cur" in str(ImportJob(format="aws_cur", status="queued"))


@pytest.mark.django_db
class TestHostileFiles:
    def fails(self, tenant, capture, name: str, content: bytes) -> dict:
        job = run(tenant.token_client(), name, content, "portal_workloads_csv", capture)
        assert job["status"] == "failed", job
        assert "Internal error" not in job["message"]
        assert WorkloadRecord.objects.count() == 0
        return job

    def test_it_names_a_line_past_the_limit_without_reading_it_whole(
        self, tenant, settings, django_capture_on_commit_callbacks
    ):
        import tracemalloc

        # 1 MB of gzip expanding to one 64 MB line: the limit (default 1 MiB) stops it
        bomb = gzip.compress(b"a" * (64 * 1024**2), compresslevel=9)
        assert len(bomb) < 1024**2
        tracemalloc.start()
        job = self.fails(tenant, django_capture_on_commit_callbacks, "w.csv.gz", bomb)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert "Line 1 is longer than 1048576 characters" in job["errors"][0]["message"]
        assert peak < 16 * 1024**2, peak  # a few MiB of line, never the 64 MB of it

    def test_it_stops_at_the_expanded_size_limit(
        self, tenant, settings, django_capture_on_commit_callbacks
    ):
        # the header (106 characters) and 2 rows (~130 each) pass 200 characters
        settings.GREENAI_MAX_IMPORT_EXPANDED_BYTES = 200
        job = self.fails(
            tenant, django_capture_on_commit_callbacks, "w.csv.gz",
            gzip.compress(WORKLOADS_CSV.encode()),
        )  # fmt: skip
        assert "more than 200 characters of text once decompressed" in job["message"] + str(
            job["errors"]
        )

    @pytest.mark.parametrize(
        "content",
        [gzip.compress(WORKLOADS_CSV.encode())[:40], b"\x1f\x8b" + b"not gzip at all" * 10],
        ids=["cut short", "damaged"],
    )
    def test_it_names_damaged_gzip(self, tenant, content, django_capture_on_commit_callbacks):
        job = self.fails(tenant, django_capture_on_commit_callbacks, "w.csv.gz", content)
        assert "gzip data is damaged or cut short" in job["errors"][-1]["message"]

    def test_it_reads_a_plain_file_named_gz_as_the_text_it_is(
        self, tenant, django_capture_on_commit_callbacks
    ):
        job = run(tenant.token_client(), "w.csv.gz", WORKLOADS_CSV.encode(),
                  "portal_workloads_csv", django_capture_on_commit_callbacks)  # fmt: skip
        assert job["status"] == "completed", job
        assert WorkloadRecord.objects.count() == 2

    def test_it_names_a_binary_file_named_gz_as_not_text(
        self, tenant, django_capture_on_commit_callbacks
    ):
        job = self.fails(
            tenant, django_capture_on_commit_callbacks, "w.csv.gz", b"\x89\xff\xfe\x00"
        )
        assert "Not UTF-8 text" in job["errors"][-1]["message"]

    def test_it_names_a_few_of_a_million_unknown_columns_and_counts_the_rest(
        self, tenant, settings, django_capture_on_commit_callbacks
    ):
        settings.GREENAI_MAX_IMPORT_LINE_CHARS = 10**7
        # a portal header (so the upload is taken) with 10^6 made-up columns: 6.9 MB, one line
        header = "external_id,phase," + ",".join(f"c{i}" for i in range(10**6)) + "\n"
        job = self.fails(tenant, django_capture_on_commit_callbacks, "w.csv", header.encode())
        # 10^6 unknown columns: 20 named, 10^6 - 20 = 999980 counted
        assert "1000000 unknown column(s) (999980 not listed)" in job["errors"][0]["message"]
        assert [e["field"] for e in job["errors"][1:]] == [f"c{i}" for i in range(20)]
        assert len(str(job["errors"])) < 10_000


FILES_BY_FORMAT = {
    "portal_workloads_csv": WORKLOADS_CSV,
    "codecarbon_csv": CODECARBON_CSV,
    "aws_cur": AWS_CUR,
    "gcp_billing": GCP_BILLING,
    "azure_usage": AZURE_USAGE,
}


@pytest.mark.django_db
class TestHeaderAndFormat:
    def test_it_refuses_a_portal_csv_sent_as_an_aws_cur_saying_what_it_is(self, tenant):
        # issue 16: this ended "Completed, 0 stored, 300 lines skipped"
        body = WORKLOADS_CSV + WORKLOADS_CSV.split("\n", 1)[1] * 150
        response = upload(tenant.token_client(), "w.csv", body.encode(), "aws_cur")
        assert response.status_code == 400
        assert response.json()["message"] == (
            "This file is not a AWS Cost and Usage Report (legacy or CUR 2.0): it looks like a "
            "Portal workloads CSV"
        )
        assert response.json()["errors"][0]["field"] == "format"
        assert ImportJob.objects.count() == 0

    @pytest.mark.parametrize(("wanted", "content"), sorted(FILES_BY_FORMAT.items()))
    def test_it_tells_the_format_from_the_header_when_none_is_given(
        self, tenant, wanted, content, django_capture_on_commit_callbacks
    ):
        job = run(tenant.token_client(), "f.csv.gz", gzip.compress(content.encode()), None,
                  django_capture_on_commit_callbacks)  # fmt: skip
        assert job["format"] == wanted

    @pytest.mark.parametrize(("chosen", "content"), sorted(FILES_BY_FORMAT.items()))
    def test_it_takes_each_format_with_its_own_header(self, tenant, chosen, content):
        response = upload(tenant.token_client(), "f.csv", content.encode(), chosen)
        assert response.status_code == 202, response.json()

    @pytest.mark.parametrize(
        ("chosen", "content"),
        [
            (chosen, content)
            for chosen in sorted(FILES_BY_FORMAT)
            for other, content in sorted(FILES_BY_FORMAT.items())
            if other != chosen
        ],
    )
    def test_it_refuses_every_other_formats_header(self, tenant, chosen, content):
        response = upload(tenant.token_client(), "f.csv", content.encode(), chosen)
        assert response.status_code == 400
        assert "it looks like a " in response.json()["message"]

    def test_it_shows_the_start_of_a_header_it_does_not_know(self, tenant):
        content = b"Date,Amount,Description,Category,Account,Note,Extra\n2026-01-01,1,x,y,z,,\n"
        response = upload(tenant.token_client(), "bank.csv", content, "gcp_billing")
        assert response.status_code == 400
        assert response.json()["message"] == (
            "This file is not a GCP billing export (CSV): it looks like none of the formats "
            "this import reads; its header starts: 'Date', 'Amount', 'Description', "
            "'Category', 'Account', 'Note'"
        )

    def test_it_asks_for_a_format_it_cannot_tell(self, tenant):
        response = upload(tenant.token_client(), "bank.csv", b"Date,Amount\n", None)
        assert response.status_code == 400
        assert response.json()["message"].startswith("Choose the file's format: it looks like none")

    def test_it_leaves_a_file_it_cannot_read_to_the_import_to_name(
        self, tenant, django_capture_on_commit_callbacks
    ):
        job = run(tenant.token_client(), "w.csv", b"\xff\xfe\x00junk", "portal_workloads_csv",
                  django_capture_on_commit_callbacks)  # fmt: skip
        assert job["status"] == "failed"
        assert "Not UTF-8 text" in job["errors"][-1]["message"]

    def test_it_keeps_the_uploaded_file_whole_after_reading_its_header(
        self, tenant, django_capture_on_commit_callbacks
    ):
        job = run(tenant.token_client(), "w.csv", WORKLOADS_CSV.encode(), None,
                  django_capture_on_commit_callbacks)  # fmt: skip
        assert (job["status"], job["rows_created"]) == ("completed", 2)
        assert job["size_bytes"] == len(WORKLOADS_CSV.encode())
