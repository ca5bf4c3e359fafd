# Two commands set up a fresh machine with only Python 3.11+:
#   make run    the system with demo data (embedded PostgreSQL unless DATABASE_URL is set)
#   make test   the whole test suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)

.PHONY: run test lint check benchmark restore-drill chaos soak clean

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m clinic.launcher run

test: $(STAMP)
	$(PY) -m clinic.launcher test $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

# The hot paths on synthetic data (docs/PERFORMANCE.md), in a database the command creates and drops:
#   make benchmark SCALE=medium   (small, medium or large; BENCHMARK_ARGS="--compare benchmark-medium.json")
SCALE ?= small
benchmark: $(STAMP)
	$(PY) -m scheduling.benchmark --scale $(SCALE) --json benchmark-$(SCALE).json --check $(BENCHMARK_ARGS)

# Dump a demo under booking load, restore it into a fresh database, compare every table (docs/BACKUP.md).
restore-drill: $(STAMP)
	$(PY) -m scheduling.backup $(DRILL_ARGS)

# Sixteen desks book and move for a minute while the database is cut and web workers killed (docs/RELIABILITY.md).
chaos: $(STAMP)
	CHAOS_SECONDS=60 $(PY) -m clinic.launcher test -q -n 0 -s tests/scheduling/booking/test_bookings_under_chaos.py

# Reminders under chaos (docs/RELIABILITY.md, "Soak"): its own database (<name>_soak) and redis-server on 6390.
#   make soak   (SOAK_REMINDERS=500 for a small one; SOAK_SPAN_SECONDS, SOAK_SEED, SOAK_FAULTS=off, SOAK_REDIS_PORT,
#   SOAK_CONCURRENCY: processes a worker)
soak: $(STAMP)
	$(PY) -m tests.soak

clean:
	rm -rf $(VENV) .broker staticfiles
