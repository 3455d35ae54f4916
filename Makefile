# The two set-up commands: `make demo` (install, then serve with demo data) and `make test` (install, then test).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test install

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/taizhang serve --demo

# Two test processes (pytest-xdist), each test file in one of them; each process has its own databases.
PYTEST_WORKERS ?= 2

test: install
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)
