# Civic311: `make run` serves the demo, `make test` runs the suite. Only Python 3.11+ needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test lint format bench bench-insights worker beat clean

install: $(STAMP)

# A .venv made by an older Python (a first try with the wrong one) is made again, and a
# Python older than 3.11 is refused before anything is installed, saying which to give.
NEEDS_311 := import sys; sys.exit(0 if sys.version_info >= (3, 11) else \
	"Civic311 needs Python 3.11 or newer; $(PYTHON) is Python %s. Name another: " \
	"make run PYTHON=python3.12" % sys.version.split()[0])

$(STAMP): pyproject.toml
	@$(BIN)/python -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
		$(PYTHON) -c '$(NEEDS_311)' && rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

run: install
	$(BIN)/python manage.py migrate --verbosity 0
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver 127.0.0.1:8000

# Two processes by default (pytest-xdist); PYTEST_WORKERS=0 runs in this process only.
PYTEST_WORKERS ?= 2

test: install
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(BIN)/python bench/open311.py $(BENCH_ARGS)

bench-insights: install
	$(BIN)/python bench/insights.py

worker: install
	$(BIN)/celery -A civic311 worker --loglevel INFO

beat: install
	$(BIN)/celery -A civic311 beat --loglevel INFO

clean:
	rm -rf $(VENV) db.sqlite3 media staticfiles test-artifacts .pytest_cache .ruff_cache celerybeat-schedule*
