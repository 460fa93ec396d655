# The course's commands. `make lab` and `make test` set everything up on a
# fresh machine with Python 3.11; the other targets are for instructors.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# The browser tests drive this Chromium through Playwright (which cannot download its own here).
CHROMIUM ?= $(or $(DLCORE_CHROMIUM),/usr/bin/chromium)

.PHONY: help lab test test-cpus test-fast test-properties notebooks outputs student student-check bench grade grade-merge progress chromium clean-venv

help:
	@echo "make lab       open the course in JupyterLab (creates $(VENV) if missing)"
	@echo "make test      run every test: unit, parity, notebooks, student versions"
	@echo "make test-cpus the solutions again as CPUs without AVX-512 / without AVX run them (part of make test)"
	@echo "make outputs   re-execute solutions/ and store their outputs (instructors)"
	@echo "make student   regenerate chapters/ from solutions/ (instructors)"
	@echo "make test-properties   the property suite with many random examples (HYPOTHESIS_PROFILE=long)"
	@echo "make bench     write the benchmark report (bench-report.md)"
	@echo "make grade SUBMISSIONS=folder [JOBS=N] [SHARD=i/n]   run and grade students' notebooks (grades.json/.csv/.html, gradebook.csv)"
	@echo "make grade-merge   combine the shards' reports (grades-*-of-*.json) into grades.json, grades.csv"
	@echo "make progress  which of your exercises pass, from chapters/ (progress.html)"

# The environment is rebuilt when pyproject.toml changes.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

# As root it adds --allow-root, without a display it opens no browser and says which URL to open
# (dlcore/tools/lab.py); LAB_ARGS passes further JupyterLab options, e.g. LAB_ARGS=--port=8890.
lab: $(STAMP)
	$(PY) -m dlcore.tools.lab $(LAB_ARGS)

test: $(STAMP) chromium
	$(PY) -m ruff check dlcore tests solutions
	$(PY) -m pytest --nbval tests solutions
	@$(MAKE) --no-print-directory test-cpus

# Strict nbval on the solutions with PyTorch's, oneDNN's, MKL's and NumPy's instruction sets
# capped, as a laptop without AVX-512 (avx2) or without AVX (baseline) would run them: a stored
# output that depends on the CPU fails here. x86-64 only (elsewhere it says so and skips).
# The property suite draws a few fixed examples per test inside `make test`; this runs hundreds of random ones.
test-properties: $(STAMP)
	HYPOTHESIS_PROFILE=long $(PY) -m pytest -q tests/test_properties_*.py

test-cpus: $(STAMP)
	$(PY) -m dlcore.tools.cpu_caps avx2 baseline

# Installs Debian's chromium when it is missing and this is root with apt-get;
# otherwise says what to install (the browser tests then fail with the same advice).
chromium:
	@if [ -x "$(CHROMIUM)" ] || [ "$$DLCORE_SKIP_BROWSER_TESTS" = 1 -a -z "$$CI" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing chromium for the browser tests (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
			|| echo "warning: apt-get could not install chromium; the browser tests will fail"; \
	else \
		echo "warning: $(CHROMIUM) is missing and cannot be installed here (that needs root and apt-get)."; \
		echo "  Install Chromium (Debian/Ubuntu: sudo apt-get install chromium) or set DLCORE_CHROMIUM=/path/to/it;"; \
		echo "  until then the browser tests fail. DLCORE_SKIP_BROWSER_TESTS=1 skips them on a local run."; \
	fi

outputs: $(STAMP)
	$(PY) -m dlcore.tools.outputs solutions/

student: $(STAMP)
	$(PY) -m dlcore.tools.student solutions/ chapters/

student-check: $(STAMP)
	$(PY) -m dlcore.tools.student solutions/ chapters/ --check

bench: $(STAMP)
	$(PY) -m dlcore.tools.bench --output bench-report.md

# Instructors: one subfolder per student, e.g. submissions/alice/04_losses_gradient_descent.ipynb.
SUBMISSIONS ?=
GRADE_TIMEOUT ?= 300
# JOBS: notebooks graded at once (default: the machine's cores), each kernel on one thread.
# SHARD=i/n: grade one slice (writes grades-i-of-n.json); then make grade-merge on one machine.
JOBS ?=
SHARD ?=
GRADE_REPORTS = --output grades.json --csv grades.csv --html grades.html --gradebook gradebook.csv
grade: $(STAMP)
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=folder [JOBS=N] [SHARD=i/n] (one subfolder of notebooks per student)"; exit 2; }
	$(PY) -m dlcore.tools.grade $(SUBMISSIONS) --timeout $(GRADE_TIMEOUT) $(if $(JOBS),--jobs $(JOBS)) \
	  $(if $(SHARD),--shard $(SHARD) --output grades-$(subst /,-of-,$(SHARD)).json,$(GRADE_REPORTS))

# Combine every shard's report (grades-*-of-*.json, copied here from the machines) into grades.json and grades.csv.
grade-merge: $(STAMP)
	$(PY) -m dlcore.tools.grade merge $(wildcard grades-*-of-*.json) $(GRADE_REPORTS)

progress: $(STAMP)
	$(PY) -m dlcore.tools.progress chapters/ --output progress.html

clean-venv:
	rm -rf $(VENV)
