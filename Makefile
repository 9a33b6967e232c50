# The README's commands are the contract: make demo, make test, make run, make lint, make bench.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml setup.py | cksum | cut -d' ' -f1)
# type-checked strictly: the application, the sandbox and the tests
TYPED := bot db cogs sandbox tests

.PHONY: install run demo test lint format bench docker-check clean

$(STAMP): pyproject.toml setup.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP)

run: $(STAMP)
	$(BIN)/encore run

demo: $(STAMP)
	$(BIN)/encore demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(TYPED)

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint
	$(BIN)/pytest -q -n 2

bench: $(STAMP)
	$(BIN)/python -m bench

# The README's Docker path end to end (needs a Docker daemon; not part of make test).
docker-check: $(STAMP)
	$(BIN)/python -m sandbox.docker_check

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
