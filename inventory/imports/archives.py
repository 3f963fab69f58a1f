"""Uploads as the clouds deliver them: plain, gzip (.csv.gz), zip (a legacy CUR's .csv.zip,
CUR 2.0's ZIP option) or Parquet, told apart by their first bytes rather than their name."""

import gzip
import zipfile
from typing import IO

import pyarrow

from greenai_portal.errors import ApplicationError
from inventory.imports.parquet import ParquetExport, is_parquet

_GZIP = b"\x1f\x8b"
_ZIP = b"PK\x03\x04"


def _starts_with(stream: IO[bytes], magic: bytes) -> bool:
    start = stream.tell()
    head = stream.read(len(magic))
    stream.seek(start)
    return head == magic


def open_export(raw: IO[bytes]) -> IO[bytes] | ParquetExport:
    """The upload's content: a byte stream of text, or an opened Parquet export.

    Raises ApplicationError for a damaged zip or Parquet file.
    """
    try:
        return _unpacked(raw)
    except (zipfile.BadZipFile, pyarrow.ArrowException) as error:
        raise ApplicationError(f"The file cannot be read: {error}") from None


def _unpacked(raw: IO[bytes]) -> IO[bytes] | ParquetExport:
    if _starts_with(raw, _ZIP):
        return _unpacked(_zip_member(raw))
    if _starts_with(raw, _GZIP):
        return gzip.GzipFile(fileobj=raw)
    if is_parquet(raw):
        return ParquetExport(raw)
    return raw


def _zip_member(raw: IO[bytes]) -> IO[bytes]:
    """The archive's one export file (a CUR zip holds one; a manifest or folder is ignored)."""
    archive = zipfile.ZipFile(raw)
    members = [
        m
        for m in archive.infolist()
        if not m.is_dir()
        and not m.filename.startswith("__MACOSX/")
        and not m.filename.endswith(".json")
    ]
    if len(members) != 1:
        names = ", ".join(m.filename for m in members[:5]) or "no file"
        raise ApplicationError(f"A zip upload must hold one export file; this one holds {names}")
    return archive.open(members[0])
