# Vitrine: the two commands a new user needs are `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
PRODUCTS ?= 2000
# REPLICA=1: also start a local streaming replica that serves the shoppers' reads
REPLICA ?=

.PHONY: run test test-fast install install-dev browser redis wrk lint migrate seed bench relevance loadtest clean

## Install the app, migrate and seed the embedded database, serve on http://127.0.0.1:$(PORT).
## One process (`flask serve`) owns the embedded PostgreSQL and stops it on Ctrl+C, TERM or HUP.
## REPLICA=1 also clones it into a streaming replica for shopper reads (stopped with it).
run: install
	$(BIN)/flask --app app serve --bind 127.0.0.1:$(PORT) --products $(PRODUCTS) $(if $(filter 1 yes true,$(REPLICA)),--replica)

## Install the dev extras, Chromium and Redis, lint (ruff, mypy), and run the whole test suite
test: lint browser redis
	$(BIN)/python -m pytest

## The suite without the browser and live-server tests, for development (no lint)
test-fast: install-dev redis
	$(BIN)/python -m pytest -m "not browser and not live"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-dev: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'

## Debian's Chromium for the Playwright browser tests (Playwright never downloads a browser here)
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi; }

## Debian's Redis: the tests start their own on a free port unless TEST_REDIS_URL is set
redis:
	@command -v redis-server >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq redis-server >/dev/null; fi; }

## wrk, the load generator of the benchmark (Debian's package)
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq wrk >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq wrk >/dev/null; fi; }

## Ruff on all the Python, mypy on app/ (its settings are in pyproject.toml)
lint: install-dev
	$(BIN)/ruff check app tests bench loadtest
	$(BIN)/mypy

migrate: install
	$(BIN)/flask --app app db upgrade

seed: install
	$(BIN)/flask --app app seed --products $(PRODUCTS) --replace

## Side-by-side benchmark (ratios in one run); never fails on timings
bench: install-dev wrk
	$(BIN)/python -m bench

## Search relevance: precision@10 and nDCG@10 of the judged query set (bench/relevance_queries.json)
relevance: install-dev
	$(BIN)/python -m bench.relevance

## Headless Locust run against a local Hypercorn on a 100k-product database
loadtest: install-dev
	$(BIN)/python -m loadtest

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache reports
