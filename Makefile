# Registry Lab. `make lab` opens the course (JupyterLab on START-HERE.ipynb), `make test` checks it; both set up what they need
# first: scripts/setup.sh installs the system tools on Debian/Ubuntu as root (elsewhere it says
# what to install), scripts/go-tools.sh builds the Go tools (registry v3, crane, weed: notebook
# 07's object store) once into ~/.cache/reglab/tools, then the venv, then the course images.
#
# Images: registry:3, registry:2 and hello-world are used if present, else pulled from Docker Hub, else (no
# Docker Hub) built as stand-ins from Debian packages. The tests and `make notebooks` use the
# stand-ins explicitly (REGLAB_OFFLINE=1): hermetic, and the committed outputs were made with them.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
OFFLINE := REGLAB_OFFLINE=1

.PHONY: lab test test-fast notebooks labs setup setup-test venv images clean bench classroom-progress

lab: setup
	REGLAB_VENV=$(abspath $(VENV)) scripts/lab.sh

# Two pytest sessions side by side (scripts/test.sh): the tests that may reach the Docker daemon
# (whose images every lab shares) in order, and beside them the daemonless tests, then every
# notebook again with the daemonless engine and no Docker daemon (as on Binder).
test: setup-test
	$(OFFLINE) BIN=$(BIN) scripts/test.sh

# The tests that need no engine (no Docker daemon, no registry binary): about 10 s.
test-fast: venv
	$(BIN)/pytest -m "not engine" tests

# $(call setup-steps,lab|test,ENV): system tools, Go tools, the venv, then the images (ENV: how to get them)
define setup-steps
	scripts/setup.sh $(1)
	scripts/go-tools.sh $(1)
	@$(MAKE) --no-print-directory venv
	$(2) $(BIN)/python -m reglab images
endef

setup:
	$(call setup-steps,lab,)

setup-test:
	$(call setup-steps,test,$(OFFLINE))

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	# rfc3987-syntax comes with jupyter-events (jsonschema[format-nongpl]) and compiles a Lark grammar
	# on import: 1.2 s in every process that imports nbformat (each pytest, JupyterLab, the hub's
	# servers). Nothing here checks IRI formats, and jsonschema skips that check without it.
	$(BIN)/pip uninstall -q -y rfc3987-syntax
	touch $@

images: venv
	$(BIN)/python -m reglab images

# The notebook pipeline: $(call build-notebooks,SOURCES,OUTDIR). jupytext turns each percent
# source into OUTDIR/<name>.ipynb (cells it matches keep their outputs and ids), nbconvert
# executes them with the stand-in images, scripts/tidy_notebooks.py makes them diff cleanly and
# open unmodified in JupyterLab. Outputs come only from executing: never edit a notebook by hand.
define build-notebooks
	for src in $(1); do \
		$(BIN)/jupytext --quiet --update --set-kernel python3 --output $(2)/$$(basename $$src .py).ipynb $$src \
		|| exit 1; done
	$(OFFLINE) $(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=600 \
		$(patsubst %.py,$(2)/%.ipynb,$(notdir $(1)))
	$(BIN)/python scripts/tidy_notebooks.py $(patsubst %.py,$(2)/%.ipynb,$(notdir $(1)))
endef

notebooks:
	$(call setup-steps,lab,$(OFFLINE))
	$(call build-notebooks,$(wildcard notebooks/sources/*.py),notebooks)
	$(BIN)/python scripts/build_start_page.py

# Lab sheets: labs/sources/*.py are the solutions; the exercises (labs/*.ipynb, committed
# unexecuted) and the solutions (labs/solutions/*.ipynb, committed executed) are built from them.
labs:
	$(call setup-steps,lab,$(OFFLINE))
	$(BIN)/python scripts/build_labs.py
	$(OFFLINE) $(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=600 \
		labs/solutions/*.ipynb
	$(BIN)/python scripts/build_labs.py --tidy labs/solutions/*.ipynb
	$(BIN)/python scripts/build_start_page.py

# The teacher's progress notebook, executed on the tests' dummy class (tests/dummy_class.py: its
# learners' records written into state folders as reglab writes them), never on a real class.
classroom-progress: venv
	snapshot=$$(mktemp) && $(BIN)/python tests/dummy_class.py $$snapshot && \
	$(BIN)/jupytext --quiet --update --set-kernel python3 --output classroom/progress.ipynb classroom/sources/progress.py && \
	REGLAB_CLASS_PROGRESS=$$snapshot $(BIN)/jupyter nbconvert --to notebook --execute --inplace classroom/progress.ipynb; \
	status=$$?; rm -f $$snapshot; exit $$status
	$(BIN)/python scripts/tidy_notebooks.py classroom/progress.ipynb

bench: setup
	$(BIN)/python benchmarks/seed_steps.py

clean:
	$(BIN)/python -m reglab clean
