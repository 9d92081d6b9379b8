# vlarl: the two commands are `make demo` (main job) and `make test` (everything CI checks).
SHELL := /bin/bash
VENV ?= .venv
RUN ?= runs/demo
.PHONY: setup setup-dev demo test docs export clean-nbs lock

setup:           ## runtime environment (.venv, pinned packages, Debian GL libraries)
	@bash scripts/setup.sh

setup-dev:       ## + notebook/test/docs tooling and Chromium
	@bash scripts/setup.sh --dev

demo: setup      ## the main job
	$(VENV)/bin/vlarl demo --out $(RUN) --overwrite

test: setup-dev  ## CI's gates, the notebooks (nbdev-test) and pytest
	@bash scripts/test.sh

docs: setup-dev  ## build the docs site offline into docs/_build/html
	$(VENV)/bin/python scripts/build_docs.py --out docs/_build/html

export:          ## notebooks -> vlarl/ and clean notebooks
	$(VENV)/bin/nbdev-export && $(VENV)/bin/nbdev-clean && $(VENV)/bin/python scripts/make_readme.py

clean-nbs:
	$(VENV)/bin/nbdev-clean

lock:            ## re-resolve the lock file from pyproject.toml (needs network access to PyPI)
	rm -rf /tmp/vlarl-lock && python3 -m venv /tmp/vlarl-lock && /tmp/vlarl-lock/bin/pip install -q torch==2.13.0 && \
	/tmp/vlarl-lock/bin/pip install -q -e ".[dev]" && /tmp/vlarl-lock/bin/pip freeze --exclude-editable | \
	sed 's/^torch==2.13.0+cpu/torch==2.13.0/' > constraints.txt
