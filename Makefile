# Two commands do all the set-up on a fresh machine:
#   make run    create .venv if missing, then run the main job on the generated faces
#   make test   create .venv if missing, then run the default (fast) test suite
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.fer-bench-installed
# torch first, from the wheels this machine keeps on disk (a plain `pip install torch`
# elsewhere would pick a multi-GB CUDA build); override TORCH_SPEC on other machines.
TORCH_SPEC ?= torch==2.14.1 torchvision==0.29.1
OUT ?= out

.PHONY: run test test-all venv clean reference

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -c "import torch, torchvision" 2>/dev/null || $(PY) -m pip install -q $(TORCH_SPEC)
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/fer-bench run --encoder crs-cont --protocol cross-dataset --results-dir $(OUT)/records
	$(BIN)/fer-bench leaderboard --results-dir $(OUT)/records --out $(OUT)/leaderboard
	$(BIN)/fer-bench plot --results-dir $(OUT)/records --out $(OUT)/plots

test: $(STAMP)
	$(BIN)/pytest -q -n 2 --dist loadfile

test-all: $(STAMP)
	$(BIN)/pytest -q -n 2 --dist loadfile -m "slow or not slow"

clean:
	rm -rf $(OUT) .pytest_cache

# The committed reference leaderboard (results/): every built-in encoder on every default
# protocol over the generated presets, plus FERPlus when FER_BENCH_DATA holds ferplus/.
REF_ENCODERS  ?= crs-cont random-resnet18 pixels
REF_PROTOCOLS ?= linear knn cross-dataset unseen-expression few-shot subject-folds
REF_DATASETS  ?= synth-wild synth-lab synth-compound $(if $(FER_BENCH_DATA),ferplus,)
reference: $(STAMP)
	$(BIN)/fer-bench run $(addprefix --encoder ,$(REF_ENCODERS)) \
	    $(addprefix --protocol ,$(REF_PROTOCOLS)) $(addprefix --dataset ,$(REF_DATASETS)) \
	    --results-dir results/records --quiet
	$(BIN)/fer-bench leaderboard --results-dir results/records --out results
	$(BIN)/fer-bench report --results-dir results/records --out results/report
