# The README's quick start: `make up` (the stack, first run published), `make test` (the suite;
# .ci/run calls the same target). `make down` removes the stack and keeps its volumes;
# `make clean` removes the volumes too (database, secrets). The logic is in scripts/stack.py.
PYTHON ?= python3.11
# scripts/stack.py needs only the standard library: any python3 runs it, no venv needed.
HOST_PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install test lint up down clean

$(BIN)/segwise: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==26.3
	$(BIN)/pip install --quiet -e '.[airflow,test]'
	touch $(BIN)/segwise

install: $(BIN)/segwise

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

up:
	$(HOST_PYTHON) scripts/stack.py up

down:
	$(HOST_PYTHON) scripts/stack.py down

clean:
	$(HOST_PYTHON) scripts/stack.py down --volumes
