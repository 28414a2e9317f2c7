# Every entry point a developer or CI needs. Each target sets up what it uses first (idempotent).
PYTHON := .venv/bin/python
PORT ?= 8000

.PHONY: setup setup-all sam-tools sam-build dev test test-python test-client lint format lock statements bench invoke purge purge-history

setup:
	@bash scripts/setup.sh

setup-all:
	@bash scripts/setup.sh --all

## The SAM CLI, cfn-lint and actionlint in .venv-sam/, and a CPython 3.13 (built once if none is on PATH).
sam-tools:
	@bash scripts/setup-sam-tools.sh >/dev/null

## make sam-build: the deployable application in .aws-sam/ (the layer as aarch64 / CPython 3.13 wheels).
sam-build: setup sam-tools
	PYTHON313="$$(bash scripts/setup-sam-tools.sh)" .venv-sam/bin/sam build

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

## make lock: re-pin every Python dependency with hashes (requirements-dev.lock, the layer's and the SAM
## tools' requirements.lock) from the requirements*.txt beside them; ARGS=--upgrade moves the pins on.
lock: setup
	bash scripts/lock.sh $(ARGS)

## make statements: the SQL the projects store sends, one file per statement in layers/sync_core/statements/.
statements: setup
	$(PYTHON) -m tools.render_statements

## make bench: every benchmark (request paths, the changes page interleaved, limiter, admission, load, cold start, client); prints the tables README.md shows.
bench:
	@bash scripts/setup.sh --bench
	$(PYTHON) -m bench
	$(PYTHON) -m bench.changes_page
	$(PYTHON) -m bench.admission
	$(PYTHON) -m bench.load
	$(PYTHON) bench/cold_start.py --samples 25 --python313 "$$(bash scripts/setup-sam-tools.sh)"
	@if [ -f bench/client_bench.mjs ]; then node bench/client_bench.mjs; fi
	$(PYTHON) -m bench.browser_sync

## make invoke FN=put_project EVENT=events/put_project.json: one Lambda handler, in-process, on the local database.
invoke: setup
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "usage: make invoke FN=<function> EVENT=<event.json>"; exit 2; }
	$(PYTHON) -m devserver.invoke $(FN) $(EVENT)

## make purge: one run of the tombstone purge on the local database (TOMBSTONE_PURGE_DAYS=1 to try it).
purge: setup
	$(PYTHON) -m devserver.purge

## make purge-history: one run of the history purge on the local database (HISTORY_KEEP_REVISIONS=2 to try it).
purge-history: setup
	$(PYTHON) -m devserver.purge_history
