"""Parquet exports (AWS CUR 2.0 / Data Exports, FOCUS exports), read in record batches.

pyarrow.parquet.ParquetFile.iter_batches decodes a few thousand rows at a time, so memory
holds one batch (and the row group being read), whatever the file size. Each batch's typed
columns are turned into what a CSV holds in arrow itself, column by column (timestamps into
ISO text in UTC, dates into text, decimals into floats), so that the same readers serve CSV
and Parquet and no Python code runs per cell.
"""

from collections.abc import Iterator
from typing import IO, Any

import pyarrow
import pyarrow.compute as pc
import pyarrow.parquet as pq

from greenai_portal.errors import ApplicationError

MAGIC = b"PAR1"
BATCH_ROWS = 2_000
STREAM_BUFFER_BYTES = 4 * 1024 * 1024


def is_parquet(stream: IO[bytes]) -> bool:
    """Parquet files start (and end) with PAR1; the stream is left where it was."""
    start = stream.tell()
    head = stream.read(4)
    stream.seek(start)
    return head == MAGIC


class ParquetExport:
    """An opened Parquet export: its column names, then its rows, batch by batch."""

    def __init__(self, stream: IO[bytes]) -> None:
        # buffer_size streams each column chunk instead of reading it whole: exports are
        # often written in row groups of hundreds of MB.
        self.file = pq.ParquetFile(stream, buffer_size=STREAM_BUFFER_BYTES, pre_buffer=False)
        self.columns = list(self.file.schema_arrow.names)

    def records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """(row number, column → value); rows are numbered as a CSV's lines, from 2.

        Raises ApplicationError for a page that cannot be decoded."""
        number = 1
        try:
            # One thread: an import is one task among a worker's; threads decode columns in
            # parallel, each with buffers of its own.
            for batch in self.file.iter_batches(batch_size=BATCH_ROWS, use_threads=False):
                for record in _plain(batch).to_pylist():
                    number += 1
                    yield number, record
        except pyarrow.ArrowException as error:
            raise ApplicationError(f"Parquet row {number}: {error}") from None


def _plain(batch: pyarrow.RecordBatch) -> pyarrow.RecordBatch:
    """The batch with its timestamp, date and decimal columns as the CSV export has them."""
    columns = [_plain_column(column) for column in batch.columns]
    return pyarrow.RecordBatch.from_arrays(columns, names=batch.schema.names)


def _plain_column(column: pyarrow.Array) -> pyarrow.Array:
    kind = column.type
    if pyarrow.types.is_timestamp(kind):
        # Exports store UTC instants, often without a zone in the schema. Whole seconds
        # (billing hours) are written without a fraction, as datetime.isoformat() does. The
        # zone is dropped before the cast to text (the instant is UTC either way): casting a
        # zoned timestamp looks the zone up value by value, 25 times slower.
        try:
            column = column.cast(pyarrow.timestamp("s"))
        except pyarrow.ArrowInvalid:
            column = column.cast(pyarrow.timestamp(kind.unit))
        text = pc.replace_substring(column.cast(pyarrow.string()), " ", "T", max_replacements=1)
        return pc.binary_join_element_wise(text, pyarrow.scalar("+00:00"), "")
    if pyarrow.types.is_date(kind):
        return column.cast(pyarrow.string())
    if pyarrow.types.is_decimal(kind):
        return column.cast(pyarrow.float64())
    return column
