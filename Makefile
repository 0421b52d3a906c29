# gridwatch: `make demo` runs the demo, `make test` runs the tests. Both set up what is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test setup system-deps venv services stop bench clean

demo: setup services
	$(BIN)/gridwatch seed demo
	$(BIN)/gridwatch demo $(DEMO_ARGS)

# Two test processes (pytest-xdist, a whole file in one process): 10-11 min on this 2-core kind of
# machine, against 15.5 min in one process (session 11, same machine, quiet), since half the serial run
# is waiting on servers, browsers and streams. One process was the default until session 11, when two
# Chromium pages at once still broke a browser test now and then; after the races sessions 9-10 fixed,
# five fresh clones in a row passed with two (session 11's closing note). TEST_WORKERS=1: one process.
TEST_WORKERS ?= 2

test: setup services
	$(BIN)/python -m pytest $(if $(filter-out 1,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist loadfile) $(PYTEST_ARGS)

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
