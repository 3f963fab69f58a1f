"""A throwaway copy of the whole service: its own Postgres cluster, Redis, gunicorn and Celery.

The fault suite stops and restarts these; the benchmark loads them. Nothing here touches the
shared Postgres or Redis others use: Redis runs on its own port, Postgres as its own cluster
under /tmp (initdb + pg_ctl as the postgres user), or, when that cannot be done (not root and
not postgres), as one database of the configured server that only this suite uses (then the
Postgres restart scenario is skipped). Every process started is tracked and stopped by pid.
Loopback only; every wait is bounded.
"""

import atexit
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
WORKDIR = Path(os.environ.get("GREENAI_HARDENING_DIR", "/tmp/greenai-hardening"))  # noqa: S108
_STARTED: list["Service"] = []
# /health/ shows its checks to operators only: the suite is one.
HEALTH_TOKEN = "hardening-operator"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate: Callable[[], object], timeout: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if predicate():
                return True
        time.sleep(step)
    return False


def say(message: str) -> None:
    """What a scenario does and checks, on the terminal (run the suite with -s)."""
    print(f"  · {message}", flush=True)


class Service:
    """A subprocess in its own process group, logged to WORKDIR/<name>.log."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        self.name, self.argv, self.env = name, argv, env
        self.process: subprocess.Popen | None = None
        self.log_path = WORKDIR / f"{name}.log"

    def start(self) -> "Service":
        WORKDIR.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: a kill reaches its children too
        )
        log.close()
        if self not in _STARTED:
            _STARTED.append(self)
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal_group(self, sig: int) -> None:
        if self.running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)

    def stop(self, timeout: float = 20.0) -> None:
        if not self.running:
            return
        self.signal_group(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.signal_group(signal.SIGKILL)
            self.process.wait(timeout=10)

    def kill(self) -> None:
        """SIGKILL the whole group: no shutdown, no acknowledgement, no cleanup."""
        self.signal_group(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=10)

    def last_error(self) -> str:
        """The last CRITICAL or ERROR line of the log (why a process ended)."""
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        found = [line for line in lines if " CRITICAL " in line or " ERROR " in line]
        return found[-1] if found else (lines[-1] if lines else "")

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@atexit.register
def _stop_everything() -> None:
    for service in reversed(_STARTED):
        with contextlib.suppress(Exception):
            service.stop(timeout=5)


class Redis(Service):
    def __init__(self, port: int) -> None:
        self.port = port
        super().__init__(
            f"redis-{port}",
            [
                "redis-server",
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            dict(os.environ),
        )

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def ping(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    def start(self) -> "Redis":
        super().start()
        if not wait_until(self.ping, 15):
            raise RuntimeError(f"redis on {self.port} did not start:\n{self.tail()}")
        return self


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return found[-1].parent if found else None


class Postgres:
    """Its own cluster (initdb/pg_ctl as the postgres user), or a database of the shared one."""

    def __init__(self, port: int, database: str = "greenai_faults") -> None:
        self.port, self.database = port, database
        self.bin = _pg_bin()
        self.datadir = WORKDIR / f"pg-{port}"
        self.own_cluster = self.bin is not None and (
            (os.geteuid() == 0 and shutil.which("su")) or _is_user("postgres")
        )
        self.why_not = (
            ""
            if self.own_cluster
            else "no own Postgres cluster: initdb/pg_ctl need root (su postgres) or the "
            "postgres user"
        )
        if not self.own_cluster:
            shared = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1/x"))
            self.host, self.port = shared.hostname or "127.0.0.1", shared.port or 5432
            self.user = shared.username or "postgres"
        else:
            self.host, self.user = "127.0.0.1", "postgres"

    def url(self, database: str | None = None) -> str:
        return f"postgres://{self.user}@{self.host}:{self.port}/{database or self.database}"

    def _as_postgres(self, command: str, timeout: float = 120) -> None:
        argv = ["su", "postgres", "-c", command] if os.geteuid() == 0 else ["sh", "-c", command]
        subprocess.run(argv, check=True, timeout=timeout, capture_output=True)

    def pg_ctl(self, action: str, timeout: float = 60) -> None:
        options = (
            f"-p {self.port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c max_connections=200 "
            "-c track_activity_query_size=32768"
        )
        log = self.datadir.parent / f"pg-{self.port}.log"
        self._as_postgres(
            f"{self.bin}/pg_ctl -D {self.datadir} -o '{options}' -l {log} -m fast -w "
            f"-t {int(timeout)} {action}",
            timeout=timeout + 10,
        )

    def start(self) -> "Postgres":
        if self.own_cluster:
            WORKDIR.mkdir(parents=True, exist_ok=True)
            if self.datadir.exists():
                with contextlib.suppress(subprocess.CalledProcessError):
                    self.pg_ctl("stop", timeout=20)
                shutil.rmtree(self.datadir)
            self.datadir.mkdir(parents=True)
            if os.geteuid() == 0:
                shutil.chown(self.datadir, "postgres", "postgres")
                shutil.chown(WORKDIR, "postgres", "postgres")
            self._as_postgres(f"{self.bin}/initdb -D {self.datadir} -A trust -U postgres")
            self.pg_ctl("start")
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.database}"')
        return self

    def restart(self) -> None:
        self.pg_ctl("restart")

    def stop(self) -> None:
        if self.own_cluster and self.datadir.exists():
            with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
                self.pg_ctl("stop", timeout=30)

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.url(), autocommit=True, connect_timeout=5)


def _is_user(name: str) -> bool:
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name == name


@dataclass
class Stack:
    """Postgres + Redis + gunicorn + a Celery worker (with beat), all of this suite's own."""

    postgres: Postgres
    redis: Redis
    web_port: int = field(default_factory=free_port)
    web_workers: int = 2
    worker_concurrency: int = 2
    sweep_seconds: float = 3.0
    extra_env: dict[str, str] = field(default_factory=dict)
    web: Service | None = None
    worker: Service | None = None
    # Like the restart policy of docker-compose.yml (restart: unless-stopped): a worker that
    # exits by itself is started again. Off while a scenario kills or stops it on purpose.
    supervised: bool = True
    worker_restarts: list[str] = field(default_factory=list)
    _supervisor: threading.Thread | None = None

    @property
    def env(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "GREENAI_"))}
        return {
            **keep,
            "DATABASE_URL": self.postgres.url(),
            "REDIS_URL": self.redis.url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "DJANGO_DEBUG": "true",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "GREENAI_SWEEP_SECONDS": str(self.sweep_seconds),
            "GREENAI_THROTTLE_INGEST": "1000000/min",
            "GREENAI_MEDIA_ROOT": str(WORKDIR / "media"),
            "GREENAI_HEALTH_TOKEN": HEALTH_TOKEN,
            "DJANGO_LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def manage(self, *args: str, timeout: float = 600) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def prepare(self, *organisations: str) -> dict[str, dict]:
        """Migrate, load the factor library, create organisations; their ids and token keys."""
        self.manage("migrate", "--noinput")
        self.manage("load_factors")
        result = subprocess.run(
            [sys.executable, "-m", "tests.hardening.stack_setup", *organisations],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            raise RuntimeError(f"stack_setup failed:\n{result.stderr[-3000:]}")
        return json.loads(result.stdout.strip().splitlines()[-1])

    def start_web(self) -> Service:
        self.web = Service(
            "gunicorn",
            [
                str(BIN / "gunicorn"),
                "greenai_portal.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.web_port}",
                "--workers",
                str(self.web_workers),
                "--timeout",
                "120",
                "--graceful-timeout",
                "5",
            ],
            self.env,
        ).start()
        import requests

        if not wait_until(
            lambda: requests.get(self.base_url + "/login/", timeout=2).status_code == 200, 60
        ):
            raise RuntimeError(f"gunicorn did not start:\n{self.web.tail()}")
        return self.web

    def start_worker(self) -> Service:
        self.worker = Service(
            "celery-worker",
            [
                str(BIN / "celery"),
                "-A",
                "greenai_portal",
                "worker",
                "--beat",
                "--schedule",
                str(WORKDIR / f"celerybeat-{self.redis.port}"),
                "--pool=prefork",
                f"--concurrency={self.worker_concurrency}",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
            ],
            self.env,
        ).start()
        return self.worker

    def supervise(self) -> None:
        """Restart the worker whenever it exits on its own (a daemon thread, 1 s polls)."""

        def loop() -> None:
            while self._supervisor is not None:
                worker = self.worker
                if self.supervised and worker is not None and not worker.running:
                    self.worker_restarts.append(worker.last_error())
                    self.start_worker()
                time.sleep(1.0)

        self._supervisor = threading.Thread(target=loop, daemon=True)
        self._supervisor.start()

    @contextlib.contextmanager
    def unsupervised(self):
        self.supervised = False
        try:
            yield
        finally:
            self.supervised = True

    def stop(self) -> None:
        self._supervisor = None
        for service in (self.worker, self.web):
            if service is not None:
                service.stop()
        self.redis.stop()
        self.postgres.stop()


# --- what the checks read, straight from the database -------------------------------------


@dataclass(frozen=True)
class Totals:
    records: int
    distinct_ids: int
    pending: int
    computed: int
    failed: int
    facility_kwh: float
    location_kg: float
    rollup_records: int
    rollup_facility_kwh: float
    rollup_location_kg: float
    batches_claimed: int  # sum of IngestBatch.created
    batches_short: int  # batches holding fewer records than they claim (a partial batch)


def totals(conn: psycopg.Connection, organisation_id: int) -> Totals:
    records = conn.execute(
        """SELECT count(*), count(DISTINCT external_id),
                  count(*) FILTER (WHERE status = 'pending'),
                  count(*) FILTER (WHERE status = 'computed'),
                  count(*) FILTER (WHERE status = 'failed'),
                  coalesce(sum(facility_kwh), 0), coalesce(sum(location_kg), 0)
           FROM inventory_workloadrecord WHERE organisation_id = %s""",
        (organisation_id,),
    ).fetchone()
    rollups = conn.execute(
        """SELECT coalesce(sum(record_count), 0), coalesce(sum(facility_kwh), 0),
                  coalesce(sum(location_kg), 0)
           FROM inventory_dailyrollup WHERE organisation_id = %s""",
        (organisation_id,),
    ).fetchone()
    batches = conn.execute(
        """SELECT coalesce(sum(b.created), 0),
                  count(*) FILTER (WHERE b.created <> (SELECT count(*)
                      FROM inventory_workloadrecord r WHERE r.batch_id = b.id))
           FROM inventory_ingestbatch b WHERE b.organisation_id = %s""",
        (organisation_id,),
    ).fetchone()
    return Totals(*records, *rollups, *batches)


def wait_for_computed(
    conn: psycopg.Connection, organisation_id: int, expected: int, timeout: float
) -> Totals:
    """Poll until every expected record is computed (or the time is up); the last totals."""
    wait_until(
        lambda: (
            (t := totals(conn, organisation_id)).computed + t.failed >= expected and t.pending == 0
        ),
        timeout,
        step=0.5,
    )
    return totals(conn, organisation_id)
