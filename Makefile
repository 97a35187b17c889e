# Vitrine: the two commands a new user needs are `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
PRODUCTS ?= 2000

.PHONY: run test install install-dev browser wrk lint migrate seed bench loadtest clean

## Install the app, migrate and seed the embedded database, serve on http://127.0.0.1:$(PORT)
run: install
	$(BIN)/flask --app app db upgrade
	$(BIN)/flask --app app seed --products $(PRODUCTS) --if-empty
	$(BIN)/hypercorn --config hypercorn.toml --bind 127.0.0.1:$(PORT) "app:create_app()"

## Install the dev extras and Chromium, lint, and run the whole test suite
test: install-dev browser
	$(BIN)/ruff check app tests bench loadtest
	$(BIN)/python -m pytest

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

## wrk, the load generator of the benchmark (Debian's package)
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq wrk >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq wrk >/dev/null; fi; }

lint: install-dev
	$(BIN)/ruff check app tests bench loadtest

migrate: install
	$(BIN)/flask --app app db upgrade

seed: install
	$(BIN)/flask --app app seed --products $(PRODUCTS) --replace

## Side-by-side benchmark (ratios in one run); never fails on timings
bench: install-dev wrk
	$(BIN)/python -m bench

## Headless Locust run against a local Hypercorn on a 100k-product database
loadtest: install-dev
	$(BIN)/python -m loadtest

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache reports
