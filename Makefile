# Every entry point a developer or CI needs. Each target sets up what it uses first (idempotent).
PYTHON := .venv/bin/python
PORT ?= 8000

.PHONY: setup setup-all dev test test-python test-client lint format bench invoke

setup:
	@bash scripts/setup.sh

setup-all:
	@bash scripts/setup.sh --all

## make dev: the whole API on http://127.0.0.1:$(PORT) with an embedded Postgres and the demo editor.
dev: setup
	PORT=$(PORT) $(PYTHON) -m devserver

## make test: lint, then every test suite (unit, integration, contract, deploy, client, e2e).
test: setup-all lint test-python test-client

test-python:
	$(PYTHON) -m pytest

test-client:
	@if [ -f client/package-lock.json ]; then cd client && npm test; fi

lint:
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .

format: setup
	$(PYTHON) -m ruff format .
	$(PYTHON) -m ruff check --fix .

## make bench: the server benchmarks (handler vs raw psycopg); prints the tables README.md shows.
bench: setup
	$(PYTHON) -m bench

## make invoke FN=put_project EVENT=events/put_project.json: one Lambda handler, in-process, on the local database.
invoke: setup
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "usage: make invoke FN=<function> EVENT=<event.json>"; exit 2; }
	$(PYTHON) -m devserver.invoke $(FN) $(EVENT)
