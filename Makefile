# Two commands do everything:  make lab  (work through the course)  and  make test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OFFLINE := scripts/offline
JOBS ?= 2
LAB_ARGS ?=
# JupyterLab refuses to run as root unless told (containers, CI): say so only when root.
ALLOW_ROOT := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

.PHONY: lab test install lint test-unit test-notebooks test-full test-browser lock clean

## make install: create .venv if missing, install the locked environment and lecture_utils
install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

## make lab: set up, then start JupyterLab on notebooks/
lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks $(ALLOW_ROOT) $(LAB_ARGS)

## make test: set up, then lint, unit tests, every notebook in tiny mode, then in offline full
## mode, then every notebook in JupyterLab in headless Chromium (skipped, loudly, without one)
test: $(STAMP)
	$(MAKE) --no-print-directory lint test-unit test-notebooks test-full test-browser

lint: $(STAMP)
	$(BIN)/ruff check lecture_utils tests scripts notebooks conftest.py

test-unit: $(STAMP)
	$(OFFLINE) $(BIN)/python -m pytest -n $(JOBS) -m "not browser" tests

# A notebook takes seconds; one that runs for minutes is a hung kernel start (a rare race when
# two kernels start at once), so it is stopped early and tried once more.
NOTEBOOK_OPTS = --durations=0 --timeout=150 --reruns=1 --only-rerun=Timeout

test-notebooks: $(STAMP)
	$(OFFLINE) $(BIN)/python -m pytest -n $(JOBS) $(NOTEBOOK_OPTS) --nbmake notebooks

test-full: $(STAMP)
	$(OFFLINE) $(BIN)/python -m pytest -n $(JOBS) $(NOTEBOOK_OPTS) --nbmake notebooks --lecture-mode=full

# Every notebook in JupyterLab in Debian's Chromium (tests/browser): screenshots and a report
# in build/browser/tiny/. Without a Chromium the tests are skipped with a loud banner; with
# CI=true that is a failure. A hung kernel start is retried once, as for test-notebooks.
BROWSER_OPTS = --durations=0 --reruns=1 --only-rerun=KernelStartTimeout

test-browser: $(STAMP)
	$(OFFLINE) $(BIN)/python -m pytest -n $(JOBS) -m browser $(BROWSER_OPTS) tests/browser

## make lock: re-pin requirements.lock from the current environment (after testing it)
lock:
	$(BIN)/python -m pip freeze --exclude-editable | sed -e 's/+cpu$$//' > requirements.lock

clean:
	rm -rf build .pytest_cache
