# Every target sets itself up: a fresh machine with Python 3.11+ needs nothing else.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help run dev api serve test test-fast train evaluate bench lint format data clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .  # the project itself, editable: the .venv/bin/mpg command
	@touch $@

run: $(STAMP) ## run the app on http://localhost:8501
	$(BIN)/python -m streamlit run streamlit_app.py --server.port $${PORT:-8501}

dev: $(STAMP) ## the app, rerun when a source file is saved (for editing the code)
	$(BIN)/python -m streamlit run streamlit_app.py --server.port $${PORT:-8501} --server.fileWatcherType auto --server.runOnSave true

api: $(STAMP) ## run the JSON API with gunicorn on http://localhost:8000
	PORT=$${PORT:-8000} $(BIN)/gunicorn api.wsgi:app

serve: $(STAMP) ## the app (port 8501) and the API (port 8000) together, as on Heroku (Procfile.dev)
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/honcho start -f Procfile.dev

test: $(STAMP) ## the whole test suite, slow tests included (browser tests skip without Debian's chromium)
	$(BIN)/python -m pytest

test-fast: $(STAMP) ## the quick tests only
	$(BIN)/python -m pytest -m "not slow"

train: $(STAMP) ## select, fit and save models/model.joblib
	$(BIN)/python -m mpg train

evaluate: $(STAMP) ## held-out metrics of the committed model
	$(BIN)/python -m mpg evaluate

bench: $(STAMP) ## every benchmark (the nested CV alone took 36 min; peers makes 3 venvs with pip on its first run); writes bench/RESULTS.md
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python -m bench

lint: $(STAMP) ## ruff check and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP) ## apply ruff's formatting and fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

data: $(STAMP) ## rebuild mpg/data/auto-mpg.csv from the vega-datasets package
	PYTHONPATH=. $(BIN)/python scripts/build_data.py

clean: ## remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache
