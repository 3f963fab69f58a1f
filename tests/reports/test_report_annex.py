"""What a locked version's PDF derives from its records (the record annex and the calculation
trace) is worked out once, by the lock's task or the first export, and kept
(reports.models.ReportAnnex): later exports print the kept count, hash, sample, listed lines
and trace without reading the records; a restatement drops the quarter's kept annexes. On
Postgres the lines stream through COPY, whose escapes the hash undoes (`_CopyLines`)."""

import hashlib
import random
import re
from datetime import date

import pytest

from inventory.models import ContractualInstrument, WorkloadRecord
from reports import audit_selectors, tasks
from reports.audit_selectors import _CopyLines
from reports.models import ReportAnnex
from reports.scope2_selectors import scope2_document
from tests.reports.closing import close_quarter
from tests.reports.scope2_data import allocate_market, job, seed_quarter, send
from tests.reports.test_audit_pdf import export, pdf_text
from tests.reports.test_auditor_pdf import section

COLUMNS = ("id", "external_id", "it_kwh", "pue_used", "facility_kwh")
COLUMNS += ("location_kg_per_kwh", "location_kg")


def annex_lines(organisation, *, up_to_id: int | None = None) -> list[str]:
    """The annex lines written out here from the organisation's 2026 Q1 records, ascending
    id: "workloads|id|external_id|it_kwh|pue_used|facility_kwh|kg_per_kwh|kg" (floats as
    repr() writes them, so as the record browser's CSV does)."""
    records = WorkloadRecord.objects.filter(
        organisation=organisation, activity_date__gte=date(2026, 1, 1)
    ).filter(activity_date__lt=date(2026, 4, 1), status="computed")
    if up_to_id is not None:
        records = records.filter(id__lte=up_to_id)
    return [
        "|".join(["workloads", *(str(v) for v in row)]) + "\n"
        for row in records.order_by("id").values_list(*COLUMNS)
    ]


def sha256(lines: list[str]) -> str:
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def printed_hash(text: str) -> str:
    annex = re.sub(r"\s+", "", section(text, "Annex B. Records"))
    return re.search(r"\(SHA-256\):([0-9a-f]{64})", annex).group(1)


def never_read_records(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("the annex or the trace was worked out again")

    for reader in ("annex_sql", "annex_stream", "annex_rows", "calculation_trace"):
        monkeypatch.setattr(audit_selectors, reader, refuse)


@pytest.mark.django_db
class TestTheKeptAnnex:
    def test_the_first_export_keeps_it_and_the_next_prints_it_unread(
        self, tenant, outsider, monkeypatch
    ):
        client = seed_quarter(tenant)
        # Another organisation's record of the same days: in neither count nor hash.
        send(outsider, [job("globex-jan", date(2026, 1, 5))])
        close_quarter(client)
        first = pdf_text(client.get(export(client)["download_url"]).content)

        lines = annex_lines(tenant.organisation)
        # jan-train, feb-serve, mar-tune at lab-paris, mar-cloud in a cloud region: 4 records.
        # mar-tune: 100 kWh measured × PUE 1.2 = 120 kWh × 0.05 kg/kWh = 6 kg.
        assert len(lines) == 4
        assert any(line.endswith("|mar-tune|100.0|1.2|120.0|0.05|6.0\n") for line in lines)
        kept = ReportAnnex.objects.get()
        assert kept.version.organisation == tenant.organisation
        assert kept.record_count == 4
        assert kept.content_hash == sha256(lines)
        assert kept.limit == 500
        assert kept.seed == audit_selectors.annex_seed(kept.version.content_hash)
        ids = [int(line.split("|")[1]) for line in lines]
        assert kept.picked == {"workloads": ids, "cloud-usage": []}
        assert printed_hash(first) == sha256(lines)

        never_read_records(monkeypatch)
        again = pdf_text(client.get(export(client)["download_url"]).content)
        assert printed_hash(again) == sha256(lines)
        assert "Every one of the quarter's 4 records" in again
        for external_id in ("jan-train", "feb-serve", "mar-tune", "mar-cloud"):
            assert external_id in section(again, "Annex B. Records")
        assert ReportAnnex.objects.count() == 1

    def test_the_lock_has_a_worker_keep_annex_and_trace_before_the_first_export(
        self, tenant, monkeypatch, django_capture_on_commit_callbacks
    ):
        client = seed_quarter(tenant)
        # The task the lock queues once committed, run here as a worker would.
        monkeypatch.setattr(tasks.keep_report_annex, "delay", tasks.keep_report_annex)
        with django_capture_on_commit_callbacks(execute=True):
            close_quarter(client)
        lines = annex_lines(tenant.organisation)
        kept = ReportAnnex.objects.get()
        assert (kept.version.version, kept.record_count) == (1, 4)
        assert kept.content_hash == sha256(lines)
        reader = audit_selectors._reader(tenant.organisation)
        document = scope2_document(principal=reader, year=2026, quarter=1, version=1)
        assert kept.trace == audit_selectors.calculation_trace(principal=reader, document=document)
        # lab-paris: 40 + 40 + 100 kWh IT = 0.18 MWh × PUE 1.2 = 0.216 MWh × 0.05 kg/kWh
        # = 10.8 kg; market: Jan and Feb under the EAC, Mar 116 kWh × 0.1 = 11.6 kg.
        paris = next(t for t in kept.trace if t["scope"] == "scope2")
        assert (paris["records"], paris["agrees"]) == (3, True)
        assert paris["it_mwh"] == pytest.approx(0.18)
        assert paris["mwh"] == pytest.approx(0.216)
        assert paris["location_t"] == pytest.approx(0.0108)
        assert paris["market_t"] == pytest.approx(0.0116)
        # mar-tune's listed line as the PDF prints it: 100 kWh × 1.2 = 120 kWh → 6 kg.
        mar_tune = next(r for r in kept.rows if r["external_id"] == "mar-tune")
        assert (mar_tune["it_kwh"], mar_tune["facility_kwh"], mar_tune["location_kg"]) == (
            100.0,
            120.0,
            6.0,
        )
        assert mar_tune["start"] == "2026-03-05T00:00:00+00:00"

        never_read_records(monkeypatch)
        # The trace API serves the version's kept trace too.
        traced = client.get("/api/v1/reports/scope2/trace/?year=2026&quarter=1").json()
        assert (traced["version"], traced["lines"]) == (1, kept.trace)
        text = pdf_text(client.get(export(client)["download_url"]).content)
        assert printed_hash(text) == sha256(lines)
        annex_a = section(text, "Annex A. Calculation trace", "Annex B. Records")
        assert re.search(r"Location-based\s+0\.011\b", annex_a)  # 0.0108 t to 3 places
        assert "These sums differ" not in annex_a
        assert re.search(r"mar-tune\s.*5 Mar 2026 \d\d:00\s+100\.000", section(text, "Annex B"))

    def test_a_draft_keeps_none(self, tenant):
        client = seed_quarter(tenant)
        text = pdf_text(client.get(export(client)["download_url"]).content)
        assert printed_hash(text) == sha256(annex_lines(tenant.organisation))
        assert not ReportAnnex.objects.exists()

    def test_a_smaller_limit_draws_the_sample_again_from_the_same_hash(self, tenant, settings):
        client = seed_quarter(tenant)
        close_quarter(client)
        export(client)
        settings.AUDIT_ANNEX_RECORD_LIMIT = 2
        text = pdf_text(client.get(export(client)["download_url"]).content)

        lines = annex_lines(tenant.organisation)
        kept = ReportAnnex.objects.get()
        assert (kept.limit, kept.record_count, kept.content_hash) == (2, 4, sha256(lines))
        ids = [int(line.split("|")[1]) for line in lines]
        positions = random.Random(kept.seed).sample(range(4), 2)
        assert kept.picked == {"workloads": sorted(ids[p] for p in positions), "cloud-usage": []}
        assert "random sample of 2 records" in section(text, "Annex B. Records")
        assert printed_hash(text) == sha256(lines)

    def test_a_restatement_drops_the_kept_annexes_and_each_version_keeps_its_own(
        self, tenant, monkeypatch
    ):
        client = seed_quarter(tenant)
        close_quarter(client)
        export(client)
        version_1 = sha256(annex_lines(tenant.organisation))
        assert ReportAnnex.objects.get().content_hash == version_1
        last_locked = WorkloadRecord.objects.order_by("-id").values_list("id", flat=True)[0]

        send(tenant, [job("late-train", date(2026, 3, 20))])
        allocate_market(tenant.organisation, ContractualInstrument.objects.get())
        restated = client.post(
            "/api/v1/reports/scope2/restatements/",
            {"year": 2026, "quarter": 1, "reason": "Late March job"},
            format="json",
        )
        assert restated.status_code == 201, restated.content
        assert not ReportAnnex.objects.exists()

        # Version 2 holds the late job too: 5 lines; version 1 still its 4, worked out again.
        lines_2 = annex_lines(tenant.organisation)
        assert len(lines_2) == 5 and lines_2[-1].split("|")[2] == "late-train"
        text_2 = pdf_text(client.get(export(client)["download_url"]).content)
        assert printed_hash(text_2) == sha256(lines_2)
        text_1 = pdf_text(client.get(export(client, version=1)["download_url"]).content)
        assert printed_hash(text_1) == version_1
        assert version_1 == sha256(annex_lines(tenant.organisation, up_to_id=last_locked))
        kept = {a.version.version: a for a in ReportAnnex.objects.select_related("version")}
        assert {v: (a.record_count, a.content_hash) for v, a in kept.items()} == {
            1: (4, version_1),
            2: (5, sha256(lines_2)),
        }
        # The late job (lab-paris) is in version 2's trace, not in version 1's.
        traced = {v: [t["records"] for t in a.trace] for v, a in kept.items()}
        assert traced == {1: [3, 1], 2: [4, 1]}
        never_read_records(monkeypatch)
        assert printed_hash(pdf_text(client.get(export(client)["download_url"]).content)) == (
            sha256(lines_2)
        )


def copy_escaped(line: bytes) -> bytes:
    """A value as COPY's text format writes it: backslash first, then the control bytes."""
    line = line.replace(b"\\", b"\\\\")
    for raw, escaped in ((b"\b", b"\\b"), (b"\f", b"\\f"), (b"\n", b"\\n"), (b"\r", b"\\r")):
        line = line.replace(raw, escaped)
    return line.replace(b"\t", b"\\t").replace(b"\v", b"\\v")


def test_copy_lines_hash_and_pick_whatever_the_block_boundaries():
    lines = [
        f"workloads|{n}|{external}|1.5|1.2|1.8|0.05|0.09".encode()
        for n, external in enumerate(
            [
                "plain",
                "back\\slash",
                "tab\there",
                "new\nline",
                "cr\rlf",
                "end\\",
                "\\\\",
                "b\bf\fv\v",
            ],
            start=101,
        )
    ]
    expected = hashlib.sha256(b"".join(line + b"\n" for line in lines)).hexdigest()
    stream = b"".join(copy_escaped(line) + b"\n" for line in lines)
    for size in (1, 2, 3, 5, 7, 11, len(stream)):
        for wanted in ([], [0], [1, 3], [0, 2, 4, 5, 6, 7], list(range(8))):
            digest = hashlib.sha256()
            copied = _CopyLines(digest, wanted)
            for start in range(0, len(stream), size):
                copied.feed(stream[start : start + size])
            assert digest.hexdigest() == expected, (size, wanted)
            assert copied.picked == [101 + p for p in wanted], (size, wanted)
