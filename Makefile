# `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install services run test test-sqlite test-postgresql lint fmt clean bench bench-search

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

run: install
	$(BIN)/feedback-service init-db
	$(BIN)/feedback-service serve --host $(HOST) --port $(PORT)

# What the tests use beyond SQLite: Redis for the rate-limit tests, chromium for the console's,
# nginx for the deployment's, PostgreSQL for the second run of the whole suite.
services:
	scripts/ensure-redis.sh
	scripts/ensure-chromium.sh
	scripts/ensure-nginx.sh
	scripts/ensure-postgresql.sh

# The whole suite, on SQLite files and then on the PostgreSQL server.
test: test-sqlite test-postgresql

test-sqlite: install services
	$(BIN)/python -m pytest -n auto

test-postgresql: install services
	$(BIN)/python -m pytest -n auto --backend postgresql

bench: install
	$(BIN)/python bench/hotpath_bench.py

bench-search: install
	$(BIN)/python bench/search_bench.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build *.egg-info
