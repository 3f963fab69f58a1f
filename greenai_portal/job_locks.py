"""Background jobs claimed for the life of a database session (Postgres advisory locks).

A job (recalculation, file import, PDF export) runs for longer than one transaction, so its
worker holds a session-level lock on it while it runs. The lock dies with the connection: a
killed worker frees its job, and the sweep can tell a job that is running from one whose
worker is gone. A duplicate message (redelivery, sweep) finds the job claimed and does nothing.
SQLite (the bare-machine default, eager tasks) has no advisory locks: every claim succeeds.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum

from celery import Task
from django.db import connection
from django.db.models import QuerySet


class JobKind(IntEnum):
    """The lock key's first half; 1 is the pipeline's organisation lock."""

    RECALCULATION = 2
    IMPORT = 3
    EXPORT = 4


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _try_lock(kind: JobKind, job_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [job_id, int(kind)])
        return bool(cursor.fetchone()[0])


def _unlock(kind: JobKind, job_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [job_id, int(kind)])


@contextmanager
def job_claim(kind: JobKind, job_id: int) -> Iterator[bool]:
    """Yield whether this session holds the job now; release it afterwards."""
    if not _is_postgres():
        yield True
        return
    claimed = _try_lock(kind, job_id)
    try:
        yield claimed
    finally:
        if claimed:
            _unlock(kind, job_id)


def job_running(kind: JobKind, job_id: int) -> bool:
    """Whether a live session (a worker) holds the job. Never on SQLite: nothing runs there
    outside the request that queued it."""
    with job_claim(kind, job_id) as claimed:
        return not claimed


def orphaned_jobs_requeue(kind: JobKind, unfinished: QuerySet, task: Task) -> int:
    """Queue `task` again (with the job id) for each unfinished job no worker holds."""
    requeued = 0
    for job_id in unfinished.values_list("id", flat=True):
        if not job_running(kind, job_id):
            task.delay(job_id)
            requeued += 1
    return requeued
