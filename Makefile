# Build, run and test cluster-coupling-sim in a local virtual environment (.venv).
#
#   make venv                 create .venv (Python >= 3.12) and install the package + dev tools
#   make run ARGS='...'       one simulation with the default calibration (python -m sim run)
#   make test PYTEST_ARGS='...'
#   make lint | bench | clean
#
# The interpreter is found by scripts/find-python; override it with
#   make PYTHON=/path/to/python3.12 venv

SHELL := /bin/sh

VENV  := .venv
VPY   := $(VENV)/bin/python
STAMP := $(VENV)/.installed

ARGS ?=
PYTEST_ARGS ?=

.PHONY: venv run test lint bench clean

venv: $(STAMP)

# Expanded only when .venv has to be created, so other targets (clean) never look
# for Python. stdout is the interpreter path, or stderr is the one-line error.
FIND_PYTHON = $(shell PYTHON='$(PYTHON)' sh scripts/find-python 2>&1)

# Create the venv. The error check happens while make expands the recipe, so a
# missing interpreter stops make with a single line and a non-zero exit.
$(VPY):
	$(eval BASE_PYTHON := $(FIND_PYTHON))
	$(if $(filter error:,$(firstword $(BASE_PYTHON))),$(error $(BASE_PYTHON)))
	@echo "creating $(VENV) with $(BASE_PYTHON)"
	@rm -rf $(VENV)
	@'$(BASE_PYTHON)' -m venv $(VENV) || { rm -rf $(VENV); exit 1; }
	@$(VPY) -m pip install -q --upgrade pip || { rm -rf $(VENV); exit 1; }

# (Re)install the package and dev tools only when pyproject.toml changed.
# Order-only on $(VPY): the interpreter's timestamp must not trigger a reinstall.
$(STAMP): pyproject.toml | $(VPY)
	$(VPY) -m pip install -q -e '.[dev]'
	@touch $@

run: venv
	$(VPY) -m sim run $(ARGS)

test: venv
	$(VPY) -m pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check sim tests benchmarks

bench: venv
	$(VPY) benchmarks/bench_model.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .hypothesis
	find . -path ./.git -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
