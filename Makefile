# The course's commands. `make lab` and `make test` set everything up on a
# fresh machine with Python 3.11; the other targets are for instructors.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: help lab test test-fast notebooks outputs student student-check bench clean-venv

help:
	@echo "make lab       open the course in JupyterLab (creates $(VENV) if missing)"
	@echo "make test      run every test: unit, parity, notebooks, student versions"
	@echo "make outputs   re-execute solutions/ and store their outputs (instructors)"
	@echo "make student   regenerate chapters/ from solutions/ (instructors)"
	@echo "make bench     write the benchmark report (bench-report.md)"

# The environment is rebuilt when pyproject.toml changes.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=$(CURDIR) --LabApp.default_url=/lab/tree/chapters

test: $(STAMP)
	$(PY) -m pytest --nbval tests solutions

outputs: $(STAMP)
	$(PY) -m dlcore.tools.outputs solutions/

student: $(STAMP)
	$(PY) -m dlcore.tools.student solutions/ chapters/

student-check: $(STAMP)
	$(PY) -m dlcore.tools.student solutions/ chapters/ --check

bench: $(STAMP)
	$(PY) -m dlcore.tools.bench --output bench-report.md

clean-venv:
	rm -rf $(VENV)
