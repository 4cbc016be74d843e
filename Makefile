# Registry Lab. `make lab` opens the course, `make test` checks it; both set everything up.
#
# REGLAB_OFFLINE=1 (the default here) builds stand-in images from Debian packages instead of
# pulling registry:2 and hello-world from Docker Hub: hermetic, and the committed notebook
# outputs were made with them. With internet: `make lab REGLAB_OFFLINE=0`.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
REGLAB_OFFLINE ?= 1
export REGLAB_OFFLINE

.PHONY: lab test notebooks labs setup docker images venv clean bench

lab: setup
	$(BIN)/jupyter lab --ip 127.0.0.1 --notebook-dir notebooks $$([ "$$(id -u)" = 0 ] && echo --allow-root)

test: setup
	$(BIN)/pytest
	@echo "== every notebook and lab solution again with the daemonless engine and no Docker daemon (as on Binder)"
	REGLAB_ENGINE=local DOCKER_HOST=unix:///nonexistent/docker.sock $(BIN)/pytest notebooks labs/solutions

notebooks: setup
	$(BIN)/python scripts/build_notebooks.py
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.timeout=600 notebooks/*.ipynb
	$(BIN)/python scripts/build_notebooks.py --tidy notebooks/*.ipynb

# Lab sheets: labs/sources/*.py are the solutions; exercises (labs/*.ipynb, committed unexecuted)
# and solutions (labs/solutions/*.ipynb, committed executed) are built from them.
labs: setup
	$(BIN)/python scripts/build_labs.py
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.timeout=600 labs/solutions/*.ipynb
	$(BIN)/python scripts/build_labs.py --tidy labs/solutions/*.ipynb

setup: venv docker images

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

docker:
	@./scripts/ensure-docker.sh || { \
		command -v docker-registry >/dev/null && echo "No Docker engine: the labs will use the daemonless engine (registry binary as a process)."; }

images: venv docker
	$(BIN)/python -m reglab images

bench: setup
	$(BIN)/python benchmarks/seed_steps.py

clean:
	$(BIN)/python -m reglab clean
