"""Real AWS Cost and Usage Reports (tests/fixtures/billing/README.md), imported as-is through the
import API, with the energy worked by hand from each file's own lines.

- aws_cur_anonymized_excerpt.csv: a legacy CUR CSV (`lineItem/UsageType` headers), November
  2023 (720 hours), as the FinOps Foundation's FOCUS converters test it.
- aws_cur_workshop_dec2018_excerpt.snappy.parquet: a legacy CUR in Parquet (Athena's
  `line_item_usage_type` columns, `resource_tags_user_*` tags), December 2018 (744 hours), the
  AWS Well-Architected Labs' cost workshop data.

Coefficients (Cloud Carbon Footprint's, as the shipped factor dataset holds them): W per vCPU
at 50 % load, Skylake 0.65 + 0.5 × (4.26 − 0.65) = 2.455 W, Cascade Lake
0.64 + 0.5 × (3.97 − 0.64) = 2.305 W; memory 0.000392 kWh per GB-hour; SSD 1.2 and HDD 0.65 Wh per
TB-hour; network 0.001 kWh per GB; replication S3 6, EBS volume 2, EFS 3, RDS backup 3, others 1;
AWS PUE 1.135.
"""

import gzip

import pytest

from inventory.models import CloudUsageRecord, TeamMappingRule

from .conftest import FIXTURES
from .test_cur2 import zipped

pytestmark = pytest.mark.django_db

CUR_CSV = "aws_cur_anonymized_excerpt.csv"
CUR_PARQUET = "aws_cur_workshop_dec2018_excerpt.snappy.parquet"
SKYLAKE_VCPU_W = 0.65 + 0.5 * (4.26 - 0.65)  # 2.455 W
CASCADE_LAKE_VCPU_W = 0.64 + 0.5 * (3.97 - 0.64)  # 2.305 W
AWS_PUE = 1.135


def record(line_item: str, interval: str, part: str) -> CloudUsageRecord:
    return CloudUsageRecord.objects.select_related("team", "location").get(
        external_id=f"aws:{line_item}:{interval}:{part}"
    )


def test_a_real_legacy_cur_csv_counts_storage_and_transfers_out_as_ccf_does(
    import_file, default_team, compute
):
    job = import_file(CUR_CSV, (FIXTURES / CUR_CSV).read_bytes(), None)
    assert (job["format"], job["status"]) == ("aws_cur", "completed"), job
    # 212 lines: 12 taxes, 26 transfers into a region (CCF counts the sending line only), 118
    # requests, events, keys, API calls and transfers within a region or to the internet
    assert job["skipped_reasons"] == {
        "line item type Tax": 12,
        "inter-region transfer in (CCF counts the sending side)": 26,
        "not energy the CCF methodology counts": 118,
    }
    # 48 transfers out between regions, 4 S3, 3 CloudWatch and 1 EFS storage lines
    assert job["rows_created"] == 56
    compute()
    day = "2023-11-01T00:00:00Z/2023-11-02T00:00:00Z"
    # Line 183: S3 USW2-TimedStorage-ByteHrs 0.0092305501 GB-Mo × 720 h / 1000
    # = 0.006645996 TB-h; HDD 0.65 Wh × 6 copies = 2.591938e-5 kWh
    s3 = record("3klrsa4y6mabcdabcdabcdabcdabcdabcdabcdabcrte6wnyxrq", day, "storage")
    assert (s3.usage_kind, s3.location.code) == ("storage_hdd", "aws:us-west-2")
    assert s3.quantity == pytest.approx(0.0092305501 * 0.72)
    assert s3.it_kwh == pytest.approx(0.006645996072 * 0.65 * 6 / 1000)
    assert s3.facility_kwh == pytest.approx(0.006645996072 * 0.65 * 6 / 1000 * AWS_PUE)
    # Oregon's grid, eGRID2023 NWPP 0.288152 kg/kWh: 2.941850e-5 kWh × 0.288152 = 8.4770e-6 kg
    assert s3.location_kg == pytest.approx(2.591938e-5 * AWS_PUE * 0.288152, rel=1e-5)
    assert float(s3.cost) == pytest.approx(2.123027e-4)
    # Line 148: USW2-TimedStorage-GlacierByteHrs 0.0369222005 GB-Mo → 0.026583984 TB-h, HDD, S3
    glacier = record("4mpqybizfbabcdabcdabcdabcdabcdabcdabcdabcnss6dikyaq", day, "storage")
    assert glacier.it_kwh == pytest.approx(0.02658398436 * 0.65 * 6 / 1000)  # 1.036775e-4
    # Line 83: USW2-EarlyDelete-ByteHrs (Glacier deleted early, CCF's HDD list) 0.0079235025
    # GB-Mo → 0.0057049218 TB-h × 0.65 × 6 = 2.2249195e-5 kWh
    early = record("3rqsfwvau2abcdabcdabcdabcdabcdabcdabcdabcv5xrux7jpq", day, "storage")
    assert early.it_kwh == pytest.approx(0.0057049218 * 0.65 * 6 / 1000)
    # Line 132: EFS USE2-TimedStorage-ByteHrs 2.40072e-4 GB-Mo → 1.7285184e-4 TB-h; EFS is SSD
    # in CCF, 3 copies: × 1.2 × 3 = 6.2226662e-7 kWh
    efs = record("ca2bcmkq43abcdabcdabcdabcdabcdabcdabcdabc5qldfcvm2q", day, "storage")
    assert (efs.usage_kind, efs.it_kwh) == ("storage_ssd", pytest.approx(1.7285184e-4 * 3.6e-3))
    # Line 213: CloudWatch USE2-TimedStorage-ByteHrs 0.0016930679 GB-Mo → 0.0012190089 TB-h,
    # HDD, one copy (CCF has no factor for CloudWatch); its cost 0.0 stays zero
    logs = record("cuxat4je4habcdabcdabcdabcdabcdabcdabcdabcjk4pzffepq", day, "storage")
    assert logs.it_kwh == pytest.approx(0.001219008888 * 0.65 / 1000)  # 7.92356e-7
    assert (logs.location.code, float(logs.cost)) == ("aws:us-east-2", 0.0)
    # Line 166: CAN1-USW2-AWS-Out-Bytes, 4.0233e-06 GB sent from Canada (Central)
    sent = record(
        "g5ryrayv7zabcdabcdabcdabcdabcdabcdabcdabcvz6qa7rlaq",
        "2023-11-07T00:00:00Z/2023-11-08T00:00:00Z",
        "network",
    )
    assert (sent.location.code, sent.quantity) == ("aws:ca-central-1", 4.0233e-06)
    assert sent.it_kwh == pytest.approx(4.0233e-9)
    # Line 18: CAN1-USE1-AWS-In-Bytes, the receiving side: not stored
    assert not CloudUsageRecord.objects.filter(
        external_id__startswith="aws:q5to3plw72abcdabcdabcdabcdabcdabcdabcdabc6duxe5xyzq"
    ).exists()


@pytest.mark.parametrize(
    ("name", "pack"),
    [
        ("cur-00001.csv.gz", gzip.compress),
        ("cur-00001.csv.zip", lambda raw: zipped("cur", ("cur-00001.csv", raw))),
    ],
)
def test_a_packed_real_cur_reads_like_its_csv(import_file, default_team, name, pack):
    """A legacy CUR is delivered as .csv.gz or .csv.zip; the format is told from the header
    inside."""
    job = import_file(name, pack((FIXTURES / CUR_CSV).read_bytes()), None)
    assert (job["format"], job["status"], job["rows_created"]) == ("aws_cur", "completed", 56)


def test_a_real_cur_in_parquet_counts_instances_free_tier_and_spot_hours(
    import_file, default_team, compute
):
    job = import_file(CUR_PARQUET, (FIXTURES / CUR_PARQUET).read_bytes(), None)
    assert (job["format"], job["status"]) == ("aws_cur", "completed"), job
    # 242 lines: the reserved instances' monthly fees (RIFee) are not usage
    assert job["skipped_reasons"] == {
        "line item type RIFee": 6,
        "inter-region transfer in (CCF counts the sending side)": 40,
        "not energy the CCF methodology counts": 123,
    }
    # 73 lines with energy: 12 instance lines (4 with memory), 55 transfers out, 6 storage
    assert job["rows_created"] == 77
    compute()
    hour = "2018-12-01T00:00:00Z/2018-12-01T01:00:00Z"
    # Line 168: BoxUsage:c5.large covered by a reservation (DiscountedUsage), 1 h × 2 vCPUs
    # (product_vcpu); Skylake → 2 × 2.455 W = 0.00491 kWh; its unblended cost 0.0 kept
    c5 = record("jvr32rj5vseznawmzulklh7bnw3pdwdexd76icp7mkbkrt7va4bq", hour, "vcpu")
    assert (c5.quantity, c5.hardware.code, float(c5.cost)) == (2.0, "intel-skylake", 0.0)
    assert c5.it_kwh == pytest.approx(2 * SKYLAKE_VCPU_W / 1000)
    assert c5.facility_kwh == pytest.approx(0.00491 * AWS_PUE)
    # December 2018 precedes the dataset's first eGRID year: its earliest, eGRID2021 SRVC
    # 0.291594 kg/kWh → 0.00557285 kWh × 0.291594 = 0.00162501 kg
    assert c5.location_kg == pytest.approx(0.00491 * AWS_PUE * 0.291594)
    # its memory as CCF estimates it: c5's largest size 96 vCPUs / 192 GB on one chip, Skylake
    # holds 81.32 GB → (192 − 81.32) × 4 GiB / 192 × 1 h = 2.305833 GB-h × 0.000392
    c5_memory = record("jvr32rj5vseznawmzulklh7bnw3pdwdexd76icp7mkbkrt7va4bq", hour, "memory")
    assert c5_memory.quantity == pytest.approx(110.68 * 4 / 192)
    assert c5_memory.it_kwh == pytest.approx(2.3058333 * 0.000392)
    # Line 14: SpotUsage:c5.large, no pricing/unit and no product columns (Spot lines have
    # none): the usage type names the hours and the instance; cost 0.0372 USD
    spot = record("sfjimf5nttfqkiieuwizj5yzzfuy45hmk3mqtu5dyjoee7irmina", hour, "vcpu")
    assert (spot.quantity, float(spot.cost)) == (2.0, 0.0372)
    assert spot.it_kwh == pytest.approx(0.00491)
    # Both c5.large hours carry the platform's embodied share (CCF ccf-coefficients): c5 1344.29
    # kg over c5.24xlarge's 96 vCPUs and 35,040 h; 2 vCPU-h → 1344.29 / 35040 × 2 / 96
    # = 7.99259e-4 kg, beside the electricity's kg
    for c5_hour in (c5, spot):
        assert c5_hour.instance_type == "c5.large"
        assert c5_hour.embodied_kg == pytest.approx(7.99259e-4, rel=1e-6)
    # Line 175: EUW2-BoxUsage:t2.micro under the free tier (no pricing/unit), 1 vCPU; CCF
    # maps t2 to Cascade Lake → 2.305 W = 0.002305 kWh in London; cost 0.0, not the blended rate
    micro = record("kct5vuxyrhnecacrqy3o2cd565km23s75hylg6fcku4d36nqu6pa", hour, "vcpu")
    assert (micro.location.code, micro.quantity, float(micro.cost)) == ("aws:eu-west-2", 1.0, 0.0)
    assert micro.hardware.code == "intel-cascade-lake"
    assert micro.it_kwh == pytest.approx(CASCADE_LAKE_VCPU_W / 1000)
    # t2: 1477.54 kg over t2.2xlarge's 8 vCPUs (CCF divides a burstable family by its own
    # largest size); 1 vCPU-h → 1477.54 / 35040 / 8 = 5.270905e-3 kg
    assert micro.embodied_kg == pytest.approx(5.270905e-3, rel=1e-6)
    # the memory hours name no instance: no embodied figure of their own (CCF: compute only)
    assert (c5_memory.instance_type, c5_memory.embodied_kg) == ("", None)
    # Line 12: EBS:VolumeUsage.gp2 under the free tier: 0.0107526882 GB-Mo × 744 h / 1000
    # = 0.0080000000 TB-h, SSD 1.2 Wh × 2 copies = 1.92e-5 kWh; cost 0.0 (blended 0.000989856)
    ebs = record("7rqs46yhadexuyu5dkmxju5e4sjsesh5fr6q3cekrdpela5i33xq", hour, "storage")
    assert (ebs.usage_kind, float(ebs.cost)) == ("storage_ssd", 0.0)
    assert ebs.it_kwh == pytest.approx(0.0080000000208 * 1.2 * 2 / 1000)
    # Line 53: USE1-USW2-AWS-Out-Bytes under the free tier (no pricing/unit): 9.583e-07 GB sent
    # from N. Virginia → 9.583e-10 kWh
    sent = record(
        "4zr3ph2camujzwg7oyuvudssjr5sgih7gkwj6n2xsfdm5f2sfnxa",
        "2018-12-01T02:00:00Z/2018-12-01T03:00:00Z",
        "network",
    )
    assert (sent.location.code, sent.quantity, float(sent.cost)) == (
        "aws:us-east-1", 9.583e-07, 0.0,
    )  # fmt: skip
    assert sent.it_kwh == pytest.approx(9.583e-10)
    # Line 194: USE2-RDS:ChargedBackupUsage 0.076234879 GB-Mo → 0.05671875 TB-h, HDD, 3 copies
    backup = record(
        "gasjf3j3p6b6lr5ufye75e7fwd73h2ttug7jrrajxqqmja7thd7q",
        "2018-12-01T23:00:00Z/2018-12-02T00:00:00Z",
        "storage",
    )
    assert backup.it_kwh == pytest.approx(0.05671875 * 0.65 * 3 / 1000)  # 1.10602e-4


def test_a_rule_on_a_real_cost_allocation_tag_gives_its_lines_to_a_team(
    import_file, tenant, default_team, outsider
):
    """The workshop tags instances `user:department`; Sales' lines go to the serving team, the
    rest to the catch-all rule's research team. Another organisation's rule changes nothing."""
    TeamMappingRule.objects.create(
        organisation=outsider.organisation, key="tag:department", value="CentralIT",
        team=outsider.teams["serving"],
    )  # fmt: skip
    TeamMappingRule.objects.create(
        organisation=tenant.organisation, key="tag:department", value="Sales",
        team=tenant.teams["serving"],
    )  # fmt: skip
    job = import_file(CUR_PARQUET, (FIXTURES / CUR_PARQUET).read_bytes(), "aws_cur")
    assert job["status"] == "completed", job
    hour = "2018-12-01T00:00:00Z/2018-12-01T01:00:00Z"
    # Line 169: BoxUsage:m5.large, resource_tags_user_department "Sales"
    m5 = record("al6y3oor36mdjkoovqw2almczlxrvmlqsb65dqiadbpbgjno3imq", hour, "vcpu")
    assert (m5.team.slug, m5.tags["department"]) == ("serving", "Sales")
    # m5: 384 GB over 96 vCPUs, one chip → (384 − 81.32) × 8 GiB / 384 = 6.305833 GB-h
    m5_memory = record("al6y3oor36mdjkoovqw2almczlxrvmlqsb65dqiadbpbgjno3imq", hour, "memory")
    assert (m5_memory.team.slug, m5_memory.quantity) == ("serving", pytest.approx(6.3058333))
    # Line 168: CentralIT matches only the outsider's rule
    c5 = record("jvr32rj5vseznawmzulklh7bnw3pdwdexd76icp7mkbkrt7va4bq", hour, "vcpu")
    assert c5.team.slug == "research"  # the organisation's catch-all rule
    teams = set(CloudUsageRecord.objects.values_list("team__slug", flat=True))
    assert teams == {"serving", "research"}
    assert not CloudUsageRecord.objects.filter(organisation=outsider.organisation).exists()
