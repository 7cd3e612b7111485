# One entry point for everything a developer or CI runs. Needs only python3 and make:
# every tool is installed into virtualenvs inside this folder.
PYTHON    ?= python3
AIRFLOW3  ?= 3.3.2
AIRFLOW2  ?= 2.11.2
TOOLS     := .venv-tools
UV        := $(TOOLS)/bin/uv
VENV      := .venv
VENV2     := .venv-af2
EXTRAS    := .[emulator,test]
PYTEST_ARGS ?=

.PHONY: help venv lint format test test-af3 test-af2 demo emulator clean

help:
	@echo "make test    lint, then the test suite on Airflow $(AIRFLOW3) and again on Airflow $(AIRFLOW2)"
	@echo "make demo    run the ingestion DAG end to end against the local HeyWatch emulator"
	@echo "make venv    create .venv (Airflow $(AIRFLOW3)) with the package, emulator and test tools"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv>=0.5"

$(VENV)/.installed: pyproject.toml | $(UV)
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(VENV)
	VIRTUAL_ENV=$(VENV) $(UV) pip install --quiet "apache-airflow==$(AIRFLOW3)" -e "$(EXTRAS)"
	touch $@

$(VENV2)/.installed: pyproject.toml | $(UV)
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(VENV2)
	VIRTUAL_ENV=$(VENV2) $(UV) pip install --quiet "apache-airflow==$(AIRFLOW2)" -e "$(EXTRAS)"
	touch $@

venv: $(VENV)/.installed

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check --no-cache src tests dags demo
	$(VENV)/bin/ruff format --no-cache --check src tests dags demo

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix src tests dags demo
	$(VENV)/bin/ruff format src tests dags demo

test-af3: $(VENV)/.installed
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

test-af2: $(VENV2)/.installed
	$(VENV2)/bin/python -m pytest $(PYTEST_ARGS)

test: lint test-af3 test-af2

demo: $(VENV)/.installed
	$(VENV)/bin/python -m demo

emulator: $(VENV)/.installed
	$(VENV)/bin/heywatch-emulator --port 0

clean:
	rm -rf $(TOOLS) $(VENV) $(VENV2) .pytest_cache .ruff_cache build dist
