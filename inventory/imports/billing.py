"""Which reader a billing export needs, from what the file is rather than only the format
picked on upload: a FOCUS export is read as FOCUS under any billing format, and a Parquet
export as FOCUS or AWS CUR 2.0 by its columns."""

import csv
import itertools
from collections.abc import Iterable, Iterator

from inventory.imports import focus, readers
from inventory.imports.parquet import ParquetExport
from inventory.ingestion.fields import RowProblem
from inventory.models import ImportFormat

BILLING_FORMATS = {
    ImportFormat.FOCUS,
    ImportFormat.AWS_CUR,
    ImportFormat.GCP_BILLING,
    ImportFormat.AZURE_USAGE,
}


def billing_rows(
    file_format: str, content: Iterable[str] | ParquetExport, context: readers.ReaderContext
) -> Iterator[readers.SourceRow] | None:
    """The rows of a billing export, or None for a file the native readers handle as before."""
    if isinstance(content, ParquetExport):
        return _parquet_rows(file_format, content, context)
    if file_format not in BILLING_FORMATS:
        return None
    lines = iter(content)
    first = next(lines, "")
    lines = itertools.chain([first], lines)
    header = next(iter(csv.reader([first])), [])
    if focus.is_focus(h.strip() for h in header):
        return focus.focus_rows(lines, context)
    if file_format == ImportFormat.FOCUS:
        return _refused("Not a FOCUS export: no ChargeCategory, ChargePeriodStart, BilledCost "
                        "and ServiceCategory columns")  # fmt: skip
    return {
        ImportFormat.AWS_CUR: readers.aws_rows,
        ImportFormat.GCP_BILLING: readers.gcp_rows,
        ImportFormat.AZURE_USAGE: readers.azure_rows,
    }[file_format](lines, context)


def _parquet_rows(
    file_format: str, export: ParquetExport, context: readers.ReaderContext
) -> Iterator[readers.SourceRow]:
    if file_format in BILLING_FORMATS and focus.is_focus(export.columns):
        return focus.focus_records(export.digested_records(focus.READ_COLUMNS), context)
    if file_format in (ImportFormat.AWS_CUR, ImportFormat.FOCUS) and (
        "line_item_usage_type" in export.columns
    ):
        return readers.aws_records(export.records(), context)
    return _refused(
        "Parquet is read for FOCUS exports and AWS CUR 2.0 (Data Exports); "
        "this file has neither's columns"
    )


def _refused(message: str) -> Iterator[readers.SourceRow]:
    yield readers.SourceRow(1, "cloud_usage", RowProblem(message))
