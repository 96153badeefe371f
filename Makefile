# gradbench: two commands do all the set-up.
#   make bench   creates .venv, installs, runs the default study (sweep, fit, plot, report)
#   make test    creates .venv, installs, runs the linter and the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: bench bench-torch bench-gpu test lint docs venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

test: lint
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

# rewrite the generated blocks of docs/ (the results CSV's column table) from the code
docs: $(STAMP)
	$(BIN)/python docs/generate.py

# The default study: a depth sweep and a width sweep of naive, backprop and forward (checkpoint too in
# depth), then fit, plot, report. The large sizes are there on purpose: the time fits use n >= max/8,
# where the algorithm, not Python's per-call overhead, sets the time. At batch 1 backprop's and
# forward's width curves are still overhead, so a third sweep takes those two to width 1024 at batch
# 64, where naive could not follow. A fourth sweep measures working memory in depth at width 32,
# batch 16, where the stored arrays, not fixed allocations, set it. About 3 minutes here.
PROFILE ?= study
DEPTHS  ?= 1,2,4,8,16,32,64,96,128,256
WIDTHS  ?= 8,16,32,48,64,96,128,256
WIDE    ?= 64,128,192,256,384,512,1024
MEMORY  ?= 4,8,16,32,64,128,256
STUDY   := results/depth.csv results/width.csv results/wide.csv results/memory.csv

bench: $(STAMP)
	$(BIN)/gradbench sweep --depth $(DEPTHS) --width 16 --methods naive,backprop,checkpoint,forward \
		--profile $(PROFILE) --force --out results/depth.csv
	$(BIN)/gradbench sweep --depth 4 --width $(WIDTHS) --profile $(PROFILE) --force --out results/width.csv
	$(BIN)/gradbench sweep --depth 4 --width $(WIDE) --batch 64 --methods backprop,forward \
		--profile $(PROFILE) --force --out results/wide.csv
	$(BIN)/gradbench sweep --depth $(MEMORY) --width 32 --batch 16 --methods backprop,checkpoint,forward \
		--profile quick --force --out results/memory.csv
	$(BIN)/gradbench fit $(STUDY)
	$(BIN)/gradbench plot $(STUDY)
	$(BIN)/gradbench report $(STUDY) --out results/report.md --readme README.md

# Our NumPy backprop next to PyTorch's own reverse mode (autograd) and our backprop on PyTorch, one CPU
# thread, at five shapes from small (Python's per-call cost) to large (the BLAS's): width:depth:batch.
# Needs the torch extra: .venv/bin/pip install -e '.[torch]'. Results in results/torch-cpu.csv.
TORCH_GRID ?= 16:8:1 64:16:32 256:8:64 512:8:256 1024:4:256

bench-torch: $(STAMP)
	rm -f results/torch-cpu.csv && rm -rf results/torch-cpu.csv.pyperf
	for shape in $(TORCH_GRID); do set -- $$(echo $$shape | tr : ' '); \
		$(BIN)/gradbench sweep --width $$1 --depth $$2 --batch $$3 --backend numpy,torch \
			--methods backprop,autograd --profile $(PROFILE) --resume --out results/torch-cpu.csv || exit $$?; done
	$(BIN)/gradbench report results/torch-cpu.csv --out results/torch-cpu.md

# The GPU study (docs/gpu.md): the depth and width sweeps on PyTorch on a CUDA device, depth extended to 1024
# for naive and backprop, then fit, plot, report into results/gpu/ and plots/gpu/. About 7 minutes, each sweep
# stopped after its slice of seconds. It installs nothing (no $(STAMP)): PyTorch with CUDA must be in $(VENV);
# without it, or without a CUDA device, the first sweep refuses in one line (exit status 2).
bench-gpu:
	BIN=$(BIN) sh bench/gpu_study.sh

clean:
	rm -rf $(VENV) build *.egg-info
