"""A small, hand-checkable fiscal year for the annual report tests.

Fiscal years start in April. FY2025/26 = 2025 Q2, 2025 Q3, 2025 Q4, 2026 Q1 at lab-paris
(FR, PUE 1.2, organisation override 0.05 kg/kWh for 2024-2026); a training job is 8 GPUs ×
500 W × 10 h = 40 kWh IT = 48 kWh facility = 2.4 kg:
  Q1 2025-05-05 training                    48 kWh   2.4 kg
  Q2 2025-08-05 training                    48 kWh   2.4 kg  + one job on aws:us-east-1
                                                              (public cloud, Scope 3 cat. 1)
  Q3 2025-11-05 training                    48 kWh   2.4 kg
  Q4 2026-02-05 training                    48 kWh   2.4 kg
     2026-02-06 fine-tuning measured 100 kWh → 120 kWh 6.0 kg
One 100 kWh zero-emission certificate (EAC, FR, from April 2025) covers, month by month,
48 kWh of May, 48 of August and 4 of November 2025; the rest takes the residual mix
0.1 kg/kWh: market-based Q1 0, Q2 0, Q3 44 × 0.1 = 4.4 kg, Q4 168 × 0.1 = 16.8 kg.
FY2024/25 holds one training job, 2024-06-05 (the organisation's first record): a partial
year.
"""

from datetime import date

from inventory.models import ContractualInstrument, FactorOverride
from tests.reports.scope2_data import allocate_market, job, send

YEAR_JOBS = [
    job("fy-q1-train", date(2025, 5, 5)),
    job("fy-q2-train", date(2025, 8, 5)),
    job(
        "fy-q2-cloud",
        date(2025, 8, 6),
        team="serving",
        model="atlas-chat",
        phase="inference",
        location="aws:us-east-1",
    ),
    job("fy-q3-train", date(2025, 11, 5)),
    job("fy-q4-train", date(2026, 2, 5)),
    job("fy-q4-tune", date(2026, 2, 6), phase="fine_tuning", energy_kwh=100.0),
]
PREVIOUS_YEAR_JOBS = [job("fy-prev-train", date(2024, 6, 5))]


def seed_fiscal_year(tenant, start_month: int = 4, base_year: int | None = 2024):
    """The fiscal year above, computed, with market-based figures; returns the ESG officer's
    client."""
    organisation = tenant.organisation
    organisation.fiscal_year_start_month = start_month
    organisation.base_fiscal_year = base_year
    organisation.save()
    FactorOverride.objects.create(
        organisation=organisation,
        zone="FR",
        kind="grid_average",
        valid_from=date(2024, 1, 1),
        valid_to=date(2026, 12, 31),
        kg_per_kwh=0.05,
        source="Supplier letters 2024-2026",
    )
    send(tenant, YEAR_JOBS + PREVIOUS_YEAR_JOBS)
    certificate = ContractualInstrument.objects.create(
        organisation=organisation,
        kind="eac",
        zone="FR",
        valid_from=date(2025, 4, 1),
        valid_to=date(2026, 3, 31),
        mwh=0.1,
        kg_per_kwh=0.0,
        reference="GO-FY2025-0001",
        supplier="Hydro France",
    )
    allocate_market(organisation, certificate)
    return tenant.client_for("esg_officer")


def annual(client, fiscal_year: int = 2025, suffix: str = ""):
    return client.get(f"/api/v1/reports/annual/{suffix}?fiscal_year={fiscal_year}")
