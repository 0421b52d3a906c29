# gridwatch: `make demo` runs the demo, `make test` runs the tests. Both set up what is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test setup system-deps venv services stop bench clean

demo: setup services
	$(BIN)/gridwatch seed demo
	$(BIN)/gridwatch demo $(DEMO_ARGS)

# Two test processes, one a core on CI's machine: about half the run is waiting (servers, browsers,
# streams), so two cut it by a third. A whole test file runs in one process (its fixtures built once).
TEST_WORKERS ?= 2

test: setup services
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

setup: system-deps venv

system-deps:
	@bash scripts/system-deps.sh

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $(STAMP)

# Private PostgreSQL+PostGIS and Redis unless GRIDWATCH_DATABASE_URL / GRIDWATCH_REDIS_URL are set.
services: venv
	$(BIN)/gridwatch services up
	$(BIN)/gridwatch db migrate

stop:
	$(BIN)/gridwatch services down

bench: setup services
	$(BIN)/python benchmarks/locate.py

clean: stop
	rm -rf $(VENV) .gridwatch
