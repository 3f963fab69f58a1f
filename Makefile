# Two commands do everything on a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: run test test-faults lint format install worker clean system-packages

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# The setup steps say what they did in a line or two (warnings still show); the server's
# own lines end with its URL, right under the demo logins.
run: $(STAMP)
	@$(BIN)/python manage.py migrate --noinput --verbosity 0
	@DJANGO_LOG_LEVEL=WARNING $(BIN)/python manage.py load_factors
	@DJANGO_LOG_LEVEL=WARNING $(BIN)/python manage.py seed_demo
	@echo
	@echo "Demo logins (password greenai-demo): admin, esg, engineer, auditor"
	@echo "API docs: http://127.0.0.1:$(PORT)/api/docs/"
	@echo
	@DJANGO_RUNSERVER_HIDE_WARNING=true $(BIN)/python manage.py runserver --skip-checks 127.0.0.1:$(PORT)

# Chromium runs the browser tests; pdftotext lets the tests read the audit PDF back; the GPU
# meter tests pull from a real Prometheus (prometheus, promtool).
system-packages:
	@if ! command -v chromium >/dev/null || ! command -v pdftotext >/dev/null \
		|| ! command -v prometheus >/dev/null; then \
		if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && apt-get install -y -qq chromium poppler-utils prometheus >/dev/null; \
		else \
			echo "install Debian's chromium, poppler-utils and prometheus for the browser, PDF and meter tests"; \
		fi; \
	fi

# Two pytest-xdist workers (CI has two cores), each with its own test database (pytest-django
# adds _gw0, _gw1), Redis database (tests/conftest.py) and temporary directory; TEST_WORKERS=0
# runs in one process. The fault suite below stops shared services: it stays in one process.
TEST_WORKERS ?= 2

test: $(STAMP) system-packages
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# Stops and restarts its own Redis, Postgres cluster and worker (tests/hardening/stack.py):
# needs DATABASE_URL and REDIS_URL (for the server it may fall back to) and, for the Postgres
# restart, root or the postgres user. Prints what each scenario did and checked.
test-faults: $(STAMP)
	GREENAI_RUN_FAULTS=1 $(BIN)/python -m pytest tests/hardening/test_faults.py -s $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

worker: $(STAMP)
	$(BIN)/celery -A greenai_portal worker --queues=celery,exports --loglevel=INFO

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
