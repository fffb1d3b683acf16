# Build, run and test cluster-coupling-sim in a local virtual environment (.venv).
#
#   make venv                 create .venv (Python >= 3.12) and install the package + dev tools
#   make run                  the quick experiments and the quick calibration end to end
#                             (embedded Dask cluster): runs in results/quick/<experiment>,
#                             figures in results/quick/figures
#   make simulate ARGS='...'  one simulation with the default calibration (python -m sim run)
#   make test                 the fast loop: every test but the slow and browser ones,
#                             on TEST_WORKERS processes (pytest-xdist; default: one per core)
#   make test-all             every test (what CI runs)
#   make test PYTEST_ARGS='...'   e.g. PYTEST_ARGS='-k tie' or PYTEST_ARGS='-n 0' (one process)
#   make reproduce            re-run the publication experiments, compare with figures/
#   make publish              re-run them and overwrite figures/ with the new figures
#   make dashboard            the interactive dashboard on http://127.0.0.1:8765 (offline)
#   make dashboard-assets     cache Solara's front-end files from the npm registry (needs npm)
#   make notebooks            JupyterLab on notebooks/ (127.0.0.1, offline dashboard inline)
#   make screenshot           the browser test, saving docs/images/dashboard.png
#   make docs                 the documentation site in site/ (offline; any warning fails)
#   make lint | bench | bench-sweep | bench-dashboard | clean
#
# The interpreter is found by scripts/find-python; override it with
#   make PYTHON=/path/to/python3.12 venv

SHELL := /bin/sh

VENV  := .venv
VPY   := $(VENV)/bin/python
STAMP := $(VENV)/.installed

ARGS ?=
PYTEST_ARGS ?=
TEST_WORKERS ?= auto
# --durations: the slowest tests are named at the end of every run, so a test that
# grows past a few seconds is seen and can be marked slow
PYTEST = $(VPY) -m pytest -n $(TEST_WORKERS) --durations=10

QUICK := $(wildcard experiments/quick/*.toml)
WORKERS ?=
SWEEP_ARGS = $(if $(WORKERS),--workers $(WORKERS))

.PHONY: venv run simulate test test-all reproduce publish dashboard dashboard-assets notebooks screenshot \
        docs lint bench bench-sweep bench-dashboard clean

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
	@for experiment in $(QUICK); do \
	  name=$$(basename $$experiment .toml); \
	  $(VPY) -m sim sweep $$experiment --out results/quick/$$name $(SWEEP_ARGS) && \
	  $(VPY) -m sim figures results/quick/$$name --out results/quick/figures || exit 1; \
	done
	$(VPY) -m sim calibrate experiments/quick/calibration/calibration.toml --screen \
	  --out results/quick/calibration $(SWEEP_ARGS)
	$(VPY) -m sim calibrate experiments/quick/calibration/calibration.toml \
	  --out results/quick/calibration $(SWEEP_ARGS)
	$(VPY) -m sim figures results/quick/calibration --out results/quick/figures

simulate: venv
	$(VPY) -m sim run $(ARGS)

reproduce: venv
	$(VPY) -m sim reproduce $(SWEEP_ARGS)

# The published calibration first: its posterior medians and sample become the named
# profile 'calibrated' (the defaults), on which every other experiment then runs.
publish: venv
	$(VPY) -m sim calibrate experiments/publication/calibration/calibration.toml \
	  --out results/publication/calibration $(SWEEP_ARGS)
	cp results/publication/calibration/profile.toml sim/profiles/calibrated.toml
	cp results/publication/calibration/profile.posterior.csv \
	  sim/profiles/calibrated.posterior.csv
	$(VPY) -m sim reproduce --update $(SWEEP_ARGS)

test: venv
	$(PYTEST) -m "not slow and not browser" $(PYTEST_ARGS)

test-all: venv
	$(PYTEST) $(PYTEST_ARGS)

dashboard: venv
	$(VPY) -m sim.dashboard $(ARGS)

dashboard-assets: venv
	$(VPY) -m sim.dashboard.assets

# The offline settings (printed by --env) let Solara's Jupyter extension serve the
# dashboard's front-end files from the cache.
# (Jupyter refuses to run as root without --allow-root, e.g. in a container.)
notebooks: venv
	env $$($(VPY) -m sim.dashboard.assets --env) $(VENV)/bin/jupyter lab --ip 127.0.0.1 \
	  $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/

screenshot: venv
	DASHBOARD_SCREENSHOT=docs/images/dashboard.png $(VPY) -m pytest -q -s \
	  tests/test_browser.py::test_dashboard_steps_in_chromium_offline

# Strict: a broken link or anchor, a page left out of the navigation or a module
# mkdocstrings cannot load fails the build (tests/test_docs.py runs the same build).
docs: venv
	NO_MKDOCS_2_WARNING=1 $(VPY) -m mkdocs build --strict --site-dir site

lint: venv
	$(VENV)/bin/ruff check sim tests benchmarks experiments

bench: venv
	$(VPY) benchmarks/bench_model.py

bench-sweep: venv
	$(VPY) benchmarks/bench_sweep.py

bench-dashboard: venv
	$(VPY) benchmarks/bench_dashboard.py

clean:
	rm -rf $(VENV) build dist site *.egg-info .pytest_cache .ruff_cache .hypothesis .solara-assets
	find . -path ./.git -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
