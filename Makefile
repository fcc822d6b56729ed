# Two commands do everything:  make lab  (work through the course)  and  make test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OFFLINE := scripts/offline
JOBS ?= 2
LAB_ARGS ?=
# Python writes the byte code of what it imports (under __pycache__/), so that every later
# process (notebook kernels, launched scripts) reads it instead of compiling again.
unexport PYTHONDONTWRITEBYTECODE
# JupyterLab refuses to run as root unless told (containers, CI): say so only when root.
ALLOW_ROOT := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

.PHONY: lab test install lint test-unit test-handouts test-notebooks test-browser test-browser-checks \
	test-browser-full-size \
	test-full-size benchmark handouts colab test-latest course test-site lock clean

## make install: create .venv if missing, install the locked environment and lecture_utils
install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# --no-deps: the lock is complete (pip freeze), so pip need not resolve anything.
	# --no-compile: compiling every module of every package takes minutes; Python compiles
	# the modules it imports, once (PYTHONDONTWRITEBYTECODE is unset for make's commands).
	$(BIN)/python -m pip install --quiet --no-deps --no-compile -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

## make lab: set up, then start JupyterLab on notebooks/
lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks $(ALLOW_ROOT) $(LAB_ARGS)

## make test: set up, then lint, unit tests and every notebook in tiny mode: in JupyterLab in
## headless Chromium when one is installed (make test-browser: plots, widgets, no errors),
## else headless with nbmake (make test-notebooks), and then says loudly that the browser
## tests were skipped (in CI, CI=true, a missing browser is a failure)
CHROMIUM := $(or $(LECTURE_CHROMIUM),$(shell command -v chromium || command -v chromium-browser))
test: $(STAMP)
	$(MAKE) --no-print-directory lint test-unit \
		$(if $(filter-out none,$(CHROMIUM)),test-browser,test-notebooks test-browser)

lint: $(STAMP)
	$(BIN)/ruff check lecture_utils tests scripts notebooks book conftest.py

test-unit: $(STAMP)
	$(OFFLINE) $(BIN)/python -m pytest -n $(JOBS) -m "not handouts and not site and not browser" tests --ignore=tests/full_size

# The student copies (make handouts), executed: every exercise says "not answered yet".
test-handouts: $(STAMP)
	$(OFFLINE) $(BIN)/python -m pytest -n $(JOBS) --durations=0 -m handouts tests/test_handouts.py

# A notebook takes seconds; one that runs for minutes is a hung kernel start (a rare race when
# two kernels start at once), so it is stopped early and tried once more.
NOTEBOOK_OPTS = --durations=0 --timeout=150 --reruns=1 --only-rerun=Timeout

test-notebooks: $(STAMP)
	$(OFFLINE) $(BIN)/python -m pytest -n $(JOBS) $(NOTEBOOK_OPTS) --nbmake notebooks

## make test-full-size: every notebook in full mode against the real checkpoints' files
## (configs, tokenizers) with random full-size weights, offline (tests/fullmode.py)
FULL_SIZE_OPTS = --durations=0 --timeout=900
test-full-size: $(STAMP)
	$(OFFLINE) $(BIN)/python -m pytest -n $(JOBS) $(FULL_SIZE_OPTS) tests/full_size
	$(OFFLINE) $(BIN)/python -m pytest -n $(JOBS) $(FULL_SIZE_OPTS) --nbmake notebooks --lecture-mode=full

## make benchmark: time each notebook in full mode at full size (wall time, kernel peak memory,
## slowest cells); NOTEBOOKS="06 07" picks some, BENCHMARK_ARGS="--mode tiny" changes the mode
NOTEBOOKS ?=
BENCHMARK_ARGS ?=
benchmark: $(STAMP)
	$(OFFLINE) $(BIN)/python scripts/benchmark_notebooks.py $(NOTEBOOKS) $(BENCHMARK_ARGS)

## make handouts: student copies (no solutions) and instructor copies in build/handouts/
handouts: $(STAMP)
	$(BIN)/python scripts/handouts.py

## make colab: after changing requirements.lock or the repository URL (lecture_utils/course.py),
## rewrite the notebooks' Colab set-up cells and the README's "Open in Colab" links
colab: $(STAMP)
	$(BIN)/python scripts/colab_cell.py
	$(BIN)/python scripts/colab_links.py

## make test-latest: the tiny suite against the newest Hugging Face releases, in its own
## environment (build/venv-latest); reports what breaks, never fails the build
test-latest:
	$(PYTHON) scripts/test_latest.py

## make course: build the course website in build/site (notebooks executed in tiny mode, offline)
# The widget and math JavaScript comes from the npm registry once (pinned, checked; kept in
# build/site-vendor); the build itself runs with no network. Unchanged notebooks are not re-run.
course: $(STAMP)
	$(BIN)/python book/vendor_js.py build/site-vendor
	$(OFFLINE) $(BIN)/python book/build.py -j $(JOBS)

## make test-site: build the website if needed, then test it (files, and pages in Chromium)
test-site: course
	$(OFFLINE) $(BIN)/python -m pytest -m site tests/test_site.py

# Every notebook in JupyterLab in Debian's Chromium (tests/browser): screenshots and a report
# in build/browser/tiny/. Without a Chromium the tests are skipped with a loud banner; with
# CI=true that is a failure. A hung kernel start is retried once, as for test-notebooks.
BROWSER_OPTS = --durations=0 --reruns=1 --only-rerun=KernelStartTimeout

test-browser: $(STAMP)
	$(OFFLINE) $(BIN)/python -m pytest -n $(JOBS) -m browser $(BROWSER_OPTS) tests/browser \
		--ignore=tests/browser/test_checks_fail.py

## make test-browser-full-size: the same in full mode at full size (as make test-full-size
## sets it up), one notebook at a time; screenshots in build/browser/full/ (about 12 minutes)
test-browser-full-size: $(STAMP)
	$(OFFLINE) $(BIN)/python -m pytest -m browser $(BROWSER_OPTS) --lecture-mode=full \
		tests/browser/test_notebooks_in_jupyterlab.py

# The browser checks shown to fail on a notebook with a failing cell, broken widgets and
# widgets that do not respond (part of CI, .ci/run; a minute on top of make test).
test-browser-checks: $(STAMP)
	$(OFFLINE) $(BIN)/python -m pytest -n $(JOBS) -m browser $(BROWSER_OPTS) tests/browser/test_checks_fail.py

## make lock: re-pin requirements.lock from the current environment (after testing it)
lock:
	$(BIN)/python -m pip freeze --all --exclude pip --exclude-editable | sed -e 's/+cpu$$//' > requirements.lock

clean:
	rm -rf build .pytest_cache
