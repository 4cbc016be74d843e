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

.PHONY: lab test notebooks setup docker images venv clean bench classroom

lab: setup
	$(BIN)/jupyter lab --ip 127.0.0.1 --notebook-dir notebooks $$([ "$$(id -u)" = 0 ] && echo --allow-root)

# Two pytest sessions side by side (scripts/test.sh): the tests that may reach the Docker daemon
# (whose images every lab shares) in order, and beside them the daemonless tests, then every
# notebook again with the daemonless engine and no Docker daemon (as on Binder).
test: setup classroom
	BIN=$(BIN) ./scripts/test.sh

notebooks: setup
	$(BIN)/python scripts/build_notebooks.py
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.timeout=600 notebooks/*.ipynb
	$(BIN)/python scripts/build_notebooks.py --tidy notebooks/*.ipynb

setup: venv docker images

# configurable-http-proxy for tests/test_classroom.py's hub (npm; the version classroom/class pins)
PROXY_VERSION := $(shell sed -n 's/^PROXY_VERSION=\([0-9.]*\).*/\1/p' classroom/class)
PROXY := $(VENV)/proxy/node_modules/.bin/configurable-http-proxy

classroom: $(PROXY)

$(PROXY): classroom/class
	npm install --silent --no-save --no-package-lock --prefix $(VENV)/proxy configurable-http-proxy@$(PROXY_VERSION)
	touch $@

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
