"""Parquet exports (AWS CUR 2.0 / Data Exports, FOCUS exports), read in record batches.

pyarrow.parquet.ParquetFile.iter_batches decodes a few thousand rows at a time, so memory
holds one batch (and the row group being read), whatever the file size. Each batch's typed
columns are turned into what a CSV holds in arrow itself, column by column (timestamps into
ISO text in UTC, dates into text, decimals into floats), so that the same readers serve CSV
and Parquet and no Python code runs per cell. A reader that names the columns it reads gets
Python values of those only: exports hold 40 to 100 columns, most of them read by no reader,
and a Python object per cell is what an import's memory and time went on.
"""

from array import array
from collections.abc import Collection, Iterator
from itertools import accumulate
from typing import IO, Any

import pyarrow
import pyarrow.compute as pc
import pyarrow.parquet as pq

from greenai_portal.errors import ApplicationError
from inventory.imports.readers import CELL_SEPARATOR, cell_text, text_digest

MAGIC = b"PAR1"
BATCH_ROWS = 2_000
STREAM_BUFFER_BYTES = 4 * 1024 * 1024
# What str.strip() strips (all of it below U+3001), so that a cell's text in arrow is the
# text Python reads.
_WHITESPACE = "".join(filter(str.isspace, map(chr, range(0x3001))))


def _strings(texts: list[str]) -> pyarrow.StringArray:
    """An arrow array of texts, made from its buffers: pyarrow.array() and pyarrow.scalar()
    look for pandas objects in what they convert, and so import pandas where it is installed
    (37 MB of an import's memory; a development dependency, through CodeCarbon)."""
    encoded = [text.encode() for text in texts]
    offsets = array("i", accumulate(map(len, encoded), initial=0))
    buffers = [None, pyarrow.py_buffer(offsets), pyarrow.py_buffer(b"".join(encoded))]
    return pyarrow.Array.from_buffers(pyarrow.string(), len(encoded), buffers)


_UTC, _NULL, _EMPTY, _SEPARATOR, _POINT_ZERO = _strings(
    ["+00:00", "null", "", CELL_SEPARATOR, ".0"]
)


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
        self.rows_read = 0

    def records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """(row number, column → value) of every column; rows are numbered as a CSV's lines,
        from 2. Raises ApplicationError for a page that cannot be decoded."""
        for number, batch in self._batches():
            for offset, record in enumerate(batch.to_pylist()):
                yield number + offset, record

    def digested_records(
        self, columns: Collection[str]
    ) -> Iterator[tuple[int, dict[str, Any], str]]:
        """(row number, column → value of `columns` the file has, digest of all the row's
        cells): for exports whose lines carry no id, the digest is the line's id, as
        readers.cells_digest makes it from every cell of a CSV line."""
        for number, batch in self._batches():
            wanted = [name for name in batch.schema.names if name in columns]
            rows = batch.select(wanted).to_pylist()
            for offset, (record, digest) in enumerate(zip(rows, _digests(batch), strict=True)):
                yield number + offset, record, digest

    def share_read(self) -> float:
        """0..1: the rows handed out so far over the file's rows."""
        return self.rows_read / self.file.metadata.num_rows if self.file.metadata.num_rows else 1.0

    def _batches(self) -> Iterator[tuple[int, pyarrow.RecordBatch]]:
        """(number of the batch's first row, the batch as _plain makes it)."""
        number = 2
        try:
            # One thread: an import is one task among a worker's; threads decode columns in
            # parallel, each with buffers of its own.
            for batch in self.file.iter_batches(batch_size=BATCH_ROWS, use_threads=False):
                self.rows_read += batch.num_rows
                yield number, _plain(batch)
                number += batch.num_rows
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
        return pc.binary_join_element_wise(text, _UTC, _EMPTY)
    if pyarrow.types.is_date(kind):
        return column.cast(pyarrow.string())
    if pyarrow.types.is_decimal(kind):
        return column.cast(pyarrow.float64())
    return column


def _digests(batch: pyarrow.RecordBatch) -> list[str]:
    """Each row's readers.cells_digest, its cells joined in arrow: one Python string a row."""
    joined = pc.binary_join_element_wise(*map(_cell_text, batch.columns), _SEPARATOR)
    return [text_digest(text) for text in joined.to_pylist()]


def _cell_text(column: pyarrow.Array) -> pyarrow.Array:
    """Each cell as readers.cell_text reads it: empty for null or "null", stripped."""
    kind = column.type
    if pyarrow.types.is_floating(kind) and (text := _float_text(column)) is not None:
        return text
    if pyarrow.types.is_integer(kind) or pyarrow.types.is_large_string(kind):
        column = column.cast(pyarrow.string())
    elif not pyarrow.types.is_string(kind):
        # Floats, booleans, maps...: as Python writes them (arrow writes 1.0 as "1").
        return _strings([cell_text(value) for value in column.to_pylist()])
    stripped = pc.utf8_trim(column, characters=_WHITESPACE)
    return pc.fill_null(pc.if_else(pc.equal(column, _NULL), _EMPTY, stripped), _EMPTY)


def _float_text(column: pyarrow.Array) -> pyarrow.Array | None:
    """repr() of each float made in arrow, or None where arrow's text is not repr()'s for
    some value. Arrow writes the same shortest digits, but whole numbers without ".0", and
    exponents at other magnitudes than Python (fixed from 1e-4 to 1e16)."""
    text = column.cast(pyarrow.string())
    whole = pc.match_substring_regex(text, r"^-?\d+$")
    text = pc.if_else(whole, pc.binary_join_element_wise(text, _POINT_ZERO, _EMPTY), text)
    fixed = pc.match_substring_regex(text, r"^-?(0|[1-9]\d{0,15})\.\d+$")
    below_fixed = pc.match_substring_regex(text, r"^-?0\.0000")
    if not pc.all(pc.and_(fixed, pc.invert(below_fixed)), min_count=0).as_py():
        return None
    return pc.fill_null(text, _EMPTY)
