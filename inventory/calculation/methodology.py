"""Methodology version and the defaults the formulas fall back on.

Every constant here is listed, with its unit and source, in docs/methodology.md; a test
(tests/inventory/calculation/test_methodology_doc.py) keeps the two from drifting apart.
Stored results carry METHODOLOGY_VERSION, so change it whenever a formula or default changes.
"""

from typing import Final

METHODOLOGY_VERSION: Final[str] = "2026.1"

# Cloud Carbon Footprint's fallback utilisation: the 2020 projection for hyperscale servers in
# the 2016 U.S. Data Center Energy Usage Report (Shehabi et al., LBNL), 50 %.
DEFAULT_UTILIZATION: Final[float] = 0.5

# Uptime Institute Global Data Center Survey 2024: average annual PUE 1.56. Used only when an
# owned or colocation facility, and its provider, state no PUE.
DEFAULT_FACILITY_PUE: Final[float] = 1.56

# A billed unit stands for one physical copy unless the provider is known to replicate it.
DEFAULT_REPLICATION: Final[float] = 1.0
