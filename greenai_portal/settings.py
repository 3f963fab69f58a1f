"""Settings, all from the environment.

With nothing set this runs on a bare machine: SQLite file, eager Celery, DEBUG on.
`DATABASE_URL` switches to Postgres and `REDIS_URL` to a real broker and worker.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
import plotly
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
# Parquet imports: arrow picks its allocator when pyarrow loads. The C library's gives freed
# record batches back; arrow's default (mimalloc) keeps ~25 MB more resident per import
# (bench/import_parquet.py). Set ARROW_DEFAULT_MEMORY_POOL to choose another.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")


def env_bool(name: str, default: bool) -> bool:
    """A boolean that is not exactly true/false is a start-up error, not a silent default."""
    raw = env.str(name, default="").strip().lower()
    if raw == "":
        return default
    if raw in ("true", "1", "yes"):
        return True
    if raw in ("false", "0", "no"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {raw!r}")


DEBUG = env_bool("DJANGO_DEBUG", True)

if DEBUG:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="dev-only-insecure-key-change-me")
    ALLOWED_HOSTS = env.list(
        "DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"]
    )
else:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set to at least 50 random characters when DJANGO_DEBUG=false"
        )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set when DJANGO_DEBUG=false")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "accounts",
    "inventory",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "greenai_portal.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "greenai_portal.middleware.refuse_nul_in_address",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # The portal's 404 and 405 pages, also under DEBUG (no technical page listing the URLs).
    "greenai_portal.error_pages.ErrorPagesMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into a 429 page.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling: after this many failures for a username from an address, a cool-off.
AXES_FAILURE_LIMIT = env.int("GREENAI_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("GREENAI_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_IPWARE_PROXY_COUNT = env.int("GREENAI_PROXY_COUNT", default=0)
# Lockouts and failed logins are still logged; not the banner at every start of a command.
AXES_VERBOSE = False
# The lockout answers with the portal's page, the wait in words and in Retry-After.
AXES_LOCKOUT_CALLABLE = "accounts.views.login_locked_out"

ROOT_URLCONF = "greenai_portal.urls"
WSGI_APPLICATION = "greenai_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
# The record indexes carry extra columns on Postgres (INCLUDE); SQLite, the bare-machine
# default, ignores them by design, so its warning (models.W040) says nothing worth reading.
SILENCED_SYSTEM_CHECKS = (
    ["models.W040"] if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" else []
)
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Postgres' 4MB default made the dashboard's grouped rollup scans sort on disk (external
    # merge, ~130 ms) instead of hashing in memory (~50 ms) at 5M records.
    # Added to any server options DATABASE_URL already gives (`?options=...`).
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _work_mem = env.str("GREENAI_PG_WORK_MEM", default="32MB")
    _options["options"] = f"{_options.get('options', '')} -c work_mem={_work_mem}".strip()
    # Django keeps psycopg from preparing statements (a pooler in transaction mode may not
    # pass them through); its own cursors bind on the client and never prepare anyway. The
    # hot paths' cursors (greenai_portal.db.prepared_cursor) prepare theirs unless this is off.
    if env.bool("GREENAI_PG_PREPARED_STATEMENTS", default=True):
        _options.setdefault("prepare_threshold", 5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# plotly.js comes from the installed plotly package and is served by the app: no CDN.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/plotly", Path(plotly.__file__).parent / "package_data"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "overview"
LOGOUT_REDIRECT_URL = "login"

# Production hardening; all on unless DEBUG.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Celery: eager without a broker so a bare machine computes in-process.
REDIS_URL = env.str("REDIS_URL", default="")
# The in-memory broker is named with its host, or kombu warns "No hostname was supplied".
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
# No result backend: tasks record what they did in the database and nobody reads task results,
# so a publish touches the broker only (a Redis result backend would also subscribe, and retry).
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
# Tasks are idempotent: acknowledged when done, so a killed worker's task runs again.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A publish must not hang a request when the broker is down: two quick tries, then the
# on_commit hook logs the error and the sweep computes the records once Redis is back.
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 1.0
# Time limits: the soft one raises SoftTimeLimitExceeded in the task (an import or export
# records it as its failure, a compute window rolls back and the sweep redoes it), the hard
# one kills the worker process 30 s later. Imports stream files of up to 4 GB: their own.
GREENAI_TASK_TIME_LIMIT = env.int("GREENAI_TASK_TIME_LIMIT", default=600)
GREENAI_IMPORT_TIME_LIMIT = env.int("GREENAI_IMPORT_TIME_LIMIT", default=3600)
CELERY_TASK_TIME_LIMIT = GREENAI_TASK_TIME_LIMIT
CELERY_TASK_SOFT_TIME_LIMIT = GREENAI_TASK_TIME_LIMIT - 30
CELERY_TASK_ANNOTATIONS = {
    "inventory.tasks.run_import_job": {
        "time_limit": GREENAI_IMPORT_TIME_LIMIT,
        "soft_time_limit": GREENAI_IMPORT_TIME_LIMIT - 30,
    },
}
# Two queues, both consumed by the documented worker (`make worker`, docker-compose):
# "celery" computes ingested records; "exports" renders PDFs, so a burst of exports never
# delays computation (nor the locks that wait for it). A worker started without -Q consumes
# every queue listed here.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = [Queue(name, routing_key=name) for name in ("celery", "exports")]
CELERY_TASK_ROUTES = {"reports.tasks.*": {"queue": "exports"}}
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
    "socket_connect_timeout": 1,
    "socket_timeout": 10,
    # An unacknowledged task (its worker died) goes back on the queue after this long: longer
    # than any task may run (the time limits above), so a running task is never handed to a
    # second worker. The sweep resumes a dead worker's import or export sooner.
    "visibility_timeout": 60 + max(GREENAI_TASK_TIME_LIMIT, GREENAI_IMPORT_TIME_LIMIT),
}
# The worker logs through LOGGING below (JSON when asked), not Celery's own handlers.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = {
    "sweep-pending-records": {
        "task": "inventory.tasks.sweep_pending_records",
        "schedule": env.float("GREENAI_SWEEP_SECONDS", default=60.0),
    },
    "sweep-all-pending-records": {
        "task": "inventory.tasks.sweep_all_pending_records",
        "schedule": env.float("GREENAI_FULL_SWEEP_SECONDS", default=3600.0),
    },
    "sweep-report-exports": {
        "task": "reports.tasks.sweep_report_exports",
        "schedule": env.float("GREENAI_SWEEP_SECONDS", default=60.0),
    },
    # GPU energy from Prometheus, by complete hours: a pull within the hour finds nothing new.
    # Targets and budgets: an alert once per crossing of a forecast over its limit.
    "check-targets": {
        "task": "reports.tasks.check_targets",
        "schedule": env.float("GREENAI_TARGETS_CHECK_SECONDS", default=900.0),
    },
    "pull-prometheus-sources": {
        "task": "inventory.tasks.pull_prometheus_sources",
        "schedule": env.float("GREENAI_METER_PULL_SECONDS", default=600.0),
    },
}
# Alert e-mails (targets and budgets) go through Django's e-mail backend.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="greenai@localhost")
GREENAI_WEBHOOK_TIMEOUT = env.float("GREENAI_WEBHOOK_TIMEOUT", default=10.0)
# PDF exports per organisation: at most this many being built at once, and per hour.
GREENAI_EXPORTS_IN_FLIGHT = env.int("GREENAI_EXPORTS_IN_FLIGHT", default=3)
GREENAI_EXPORTS_PER_HOUR = env.int("GREENAI_EXPORTS_PER_HOUR", default=30)
# The sweep queues again an import or export unfinished this long that no worker holds.
GREENAI_RESUME_AFTER_SECONDS = env.int("GREENAI_RESUME_AFTER_SECONDS", default=300)
# GET /health/: how long to wait for workers to answer a ping (operators' details only), and
# the bearer token that gets those details without a staff login (empty: staff only).
GREENAI_HEALTH_WORKER_TIMEOUT = env.float("GREENAI_HEALTH_WORKER_TIMEOUT", default=1.0)
GREENAI_HEALTH_TOKEN = env.str("GREENAI_HEALTH_TOKEN", default="")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.IsOrganisationMember"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "greenai_portal.exception_handler.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "greenai_portal.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "GreenAI Portal API",
    "DESCRIPTION": "Ingest AI workload records; read energy and Scope 2 emissions.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name per choice set that several components share.
    "ENUM_NAME_OVERRIDES": {
        "LocationKindEnum": "inventory.models.Location.Kind",
        "InstrumentKindEnum": "inventory.models.InstrumentKind",
        "FactorKindEnum": "inventory.models.FactorKind",
        "TargetKindEnum": "reports.models.Target.Kind",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "greenai_portal.openapi.document_common_errors",
        "reports.scope2_document.add_schema_components",
    ],
}

# Ingestion limits.
GREENAI_MAX_BATCH_RECORDS = env.int("GREENAI_MAX_BATCH_RECORDS", default=10000)
# The audit PDF's record annex lists a quarter's records whole up to this many, else a
# reproducible sample of this many (reports.audit_selectors.record_annex).
AUDIT_ANNEX_RECORD_LIMIT = env.int("GREENAI_AUDIT_ANNEX_RECORD_LIMIT", default=500)
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("GREENAI_MAX_BODY_BYTES", default=20 * 1024 * 1024)
GREENAI_MAX_FUTURE_DAYS = env.int("GREENAI_MAX_FUTURE_DAYS", default=1)
# Requests per API token (or user) per window, by endpoint family; over the rate: 429 + Retry-After.
GREENAI_THROTTLE_RATES = {
    "ingest": env.str("GREENAI_THROTTLE_INGEST", default="1200/min"),
    "codecarbon": env.str("GREENAI_THROTTLE_CODECARBON", default="6000/min"),
    "imports": env.str("GREENAI_THROTTLE_IMPORTS", default="60/min"),
    # An OpenTelemetry batch span processor exports every 5 s or 512 spans, per process.
    "otlp": env.str("GREENAI_THROTTLE_OTLP", default="6000/min"),
}
# File imports: uploads are kept under MEDIA_ROOT and streamed in chunks by a worker.
MEDIA_ROOT = Path(env.str("GREENAI_MEDIA_ROOT", default=str(BASE_DIR / "media")))
GREENAI_MAX_IMPORT_BYTES = env.int("GREENAI_MAX_IMPORT_BYTES", default=4 * 1024**3)
GREENAI_IMPORT_CHUNK_ROWS = env.int("GREENAI_IMPORT_CHUNK_ROWS", default=5000)
# What an import reads is bounded however the file was made: a gzip of 1 MB can expand to a
# single line of 1 GB, or to terabytes. Billing export lines are a few kB.
GREENAI_MAX_IMPORT_LINE_CHARS = env.int("GREENAI_MAX_IMPORT_LINE_CHARS", default=1024**2)
GREENAI_MAX_IMPORT_EXPANDED_BYTES = env.int(
    "GREENAI_MAX_IMPORT_EXPANDED_BYTES", default=64 * 1024**3
)
# Token last-used time is written at most this often, so reads are not writes.
GREENAI_TOKEN_TOUCH_SECONDS = env.int("GREENAI_TOKEN_TOUCH_SECONDS", default=60)

# DJANGO_LOG_FORMAT=json: one JSON object per line, with the task id, batch id and other
# context fields as keys (greenai_portal/logs.py).
LOG_FORMAT = env.str("DJANGO_LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"DJANGO_LOG_FORMAT must be plain or json, got {LOG_FORMAT!r}")
LOG_LEVEL = env.str("DJANGO_LOG_LEVEL", default="INFO")
# API keys never reach a log: every handler redacts them (RedactKeysFilter), and the loggers
# that would otherwise keep handlers of their own (Django's request and runserver logs,
# gunicorn's access and error logs) hand their records to those handlers.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "greenai_portal.logs.ContextFilter"},
        "redact_keys": {"()": "greenai_portal.logs.RedactKeysFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {
        "plain": {"()": "greenai_portal.logs.PlainFormatter"},
        "json": {"()": "greenai_portal.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["redact_keys", "context"],
        },
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["redact_keys", "require_debug_false"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's default: errors e-mailed to ADMINS (when set and DEBUG is off); its own
        # console handler is left out, since the root's would print each record a second time.
        "django": {"handlers": ["mail_admins"], "level": LOG_LEVEL, "propagate": True},
        **{
            name: {"handlers": [], "propagate": True}
            for name in ("django.server", "gunicorn.access", "gunicorn.error")
        },
        # In-process (eager) tasks: the computation logs what it did; Celery's "Task ...
        # succeeded" line with the task's request dict adds nothing but noise. A worker keeps it.
        "celery.app.trace": {"level": "WARNING" if CELERY_TASK_ALWAYS_EAGER else "INFO"},
    },
}
# Error pages and admin e-mails show the request (URL, GET, headers): keys redacted there too.
DEFAULT_EXCEPTION_REPORTER = "greenai_portal.logs.RedactingExceptionReporter"
