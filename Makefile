# hospital_iot: `make run` starts the demo hospital, `make test` runs every test. Both set up what
# they need first (system packages, virtualenv, PostgreSQL/PostGIS, Redis, Mosquitto, database).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export POSTGRES_USER ?= hospital_iot
export POSTGRES_PASSWORD ?= hospital_iot

.PHONY: run test setup setup-test demo lint bench-accuracy bench-localization bench-readers bench-storage bench-e2e screenshot

setup:
	@scripts/bootstrap.sh

setup-test:
	@scripts/bootstrap.sh --test

demo: setup
	@$(PY) manage.py migrate --no-input -v 0
	@$(PY) manage.py collectstatic --no-input -v 0
	@$(PY) manage.py load_demo

run: demo
	@HOSPITAL_IOT_SHOW_DEMO_LOGINS=1 scripts/serve.sh $(HOST) $(PORT)

test: setup-test
	@echo "==> ruff and mypy --strict"
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/mypy .
	@$(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/mypy .

screenshot: demo
	@scripts/screenshot.sh

# benchmarks: no database; they read the recorded data in ../shared/data (HOSPITAL_IOT_DATA to move it)
bench-accuracy: setup
	@$(PY) -m bench.bench_accuracy

bench-localization: setup
	@$(PY) -m bench.bench_localization

# readers: parsing and end-to-end speed (needs Mosquitto: `make setup` starts it)
bench-readers: setup
	@$(PY) -m bench.bench_readers

# storage: bulk location writes (binary COPY) against a per-row ORM loop, on a scratch database
bench-storage: setup
	@$(PY) -m bench.bench_storage

# end to end: 5,000 BLE tags at 1 Hz for 10 minutes, 200 websocket browsers (ARGS="--duration 60" for a short run)
bench-e2e: setup
	@$(PY) -m bench.bench_e2e $(ARGS)
