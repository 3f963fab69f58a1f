"""Parquet exports (AWS CUR 2.0 / Data Exports, FOCUS exports), read in record batches.

pyarrow.parquet.ParquetFile.iter_batches decodes a few thousand rows at a time, so memory
holds one batch (and the row group being read), whatever the file size. Values come as
Python objects; timestamps are turned into ISO text and decimals into floats so that the
same readers serve CSV and Parquet.
"""

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import IO, Any

import pyarrow
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
            for batch in self.file.iter_batches(batch_size=BATCH_ROWS):
                for record in batch.to_pylist():
                    number += 1
                    yield number, {name: _plain(value) for name, value in record.items()}
        except pyarrow.ArrowException as error:
            raise ApplicationError(f"Parquet row {number}: {error}") from None


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        # Exports store UTC instants, often without a zone in the schema.
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value
