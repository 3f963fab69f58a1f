"""CodeCarbon's emissions.csv, imported run by run.

The file holds running totals: each stop or flush of a tracker appends a row with the run's
totals so far, and several runs may share a file. Rows are grouped into runs (by run_id; a
total that goes back down starts a new run, which is how two API-mode runs, both written as
run_id `None`, are told apart), and each run is stored in its own transaction through the
same rules as CodeCarbon's posts (inventory.ingestion.codecarbon.codecarbon_file_run_ingest):
a run already posted counts once, a run partly posted is completed, and a bad run is
reported without holding back the others. CodeCarbon writes local time without an offset:
such times are read in the organisation's time zone, and the job's message says which.
"""

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from accounts.principal import Principal
from greenai_portal.errors import ApplicationError
from inventory.ingestion.codecarbon import (
    API_MODE_RUN_ID,
    FileRunResult,
    codecarbon_file_run_ingest,
)

REQUIRED_COLUMNS = ("timestamp", "run_id", "duration", "energy_consumed")
# Runs are grouped before storing, so the file is held in memory: a CodeCarbon file has a row
# per flush and stop, far fewer than this; a bigger one is refused, to be split.
MAX_ROWS = 1_000_000

FileRun = list[tuple[int, dict[str, Any]]]


def _duration(row: dict[str, Any]) -> float | None:
    try:
        return float(row["duration"])
    except (KeyError, ValueError):
        return None


def codecarbon_file_runs(lines: Iterable[str]) -> list[FileRun]:
    """The file's runs, each its (line, row) pairs in file order, in order of first line.
    Empty cells are left out (CodeCarbon leaves what it does not know empty)."""
    reader = csv.DictReader(lines)
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        message = f"Not a CodeCarbon emissions.csv: no {', '.join(missing)} column"
        raise ApplicationError(message, errors=[{"field": "file", "message": message}])
    runs: list[FileRun] = []
    open_runs: dict[tuple[str, str], FileRun] = {}
    for row in reader:
        values = {k: v for k, v in row.items() if k is not None and v not in (None, "")}
        run_id = values.get("run_id", "")
        # API-mode rows all say run_id None: their experiment tells them apart a little more.
        key = (run_id, values.get("experiment_id", "") if run_id == API_MODE_RUN_ID else "")
        current = open_runs.get(key)
        duration, last = _duration(values), current and _duration(current[-1][1])
        if current is None or (duration is not None and last is not None and duration < last):
            current = open_runs[key] = []
            runs.append(current)
        current.append((reader.line_num, values))
        if reader.line_num > MAX_ROWS + 1:  # the header is line 1
            message = f"More than {MAX_ROWS:,} rows: split the file (by run) and import each part"
            raise ApplicationError(message, errors=[{"field": "file", "message": message}])
    return runs


# Runs reported one by one; past this they are only counted (a file of many runs stays small).
REPORTED_RUNS = 1000


@dataclass
class CodeCarbonImport:
    """What an import did, run by run."""

    runs_stored: int = 0
    runs_refused: int = 0
    rows: int = 0
    created: int = 0
    duplicates: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)

    def report(self, rows: FileRun, outcome: str, **figures: Any) -> None:
        if len(self.runs) < REPORTED_RUNS:
            first, last = rows[0][0], rows[-1][0]
            self.runs.append(
                {
                    "file_run_id": rows[0][1].get("run_id", ""),
                    "lines": f"{first}-{last}" if last != first else str(first),
                    "rows": len(rows),
                    "outcome": outcome,
                    **figures,
                }
            )


def codecarbon_file_import(
    *, principal: Principal, runs: list[FileRun], on_progress=None
) -> CodeCarbonImport:
    """Store each run in its own transaction; a refused run is reported by its lines."""
    zone = ZoneInfo(principal.organisation.time_zone)
    outcome = CodeCarbonImport()
    for index, rows in enumerate(runs):
        outcome.rows += len(rows)
        try:
            result = codecarbon_file_run_ingest(principal=principal, rows=rows, zone=zone)
        except ApplicationError as error:
            outcome.runs_refused += 1
            name = rows[0][1].get("run_id", "")
            lines = f"lines {rows[0][0]}-{rows[-1][0]}" if len(rows) > 1 else f"line {rows[0][0]}"
            outcome.errors.append(
                {
                    "row": index,
                    "line": rows[0][0],
                    "field": "run_id",
                    "message": f"Run {name!r} ({lines}) not stored: {error.message}",
                }
            )
            outcome.report(rows, "refused", message=error.message)
        else:
            outcome.runs_stored += 1
            outcome.created += result.created
            outcome.duplicates += result.duplicates
            outcome.report(
                rows,
                _outcome(result),
                run_id=result.run_id,
                records_created=result.created,
                rows_already_counted=result.duplicates,
                energy_kwh=result.energy_kwh,
            )
        if on_progress:
            on_progress(outcome)
    return outcome


def _outcome(result: FileRunResult) -> str:
    if result.completes_api_run:
        return "completed_api_run" if result.created else "posted_already"
    return "stored" if result.created else "already_counted"
