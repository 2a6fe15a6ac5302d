#!/usr/bin/env bash
# One prepared run on a lent GPU machine (about 9 minutes of wall time in all):
#   1. install fer-bench (offline, no deps) or fall back to a source copy on PYTHONPATH
#   2. render synth-wild (multiprocessing)                                  [optional]
#   3. throughput: fast pipeline vs reference PIL/DataLoader loop, capped  [optional]
#   4. pre-train CRS-CONT on FERPlus train (packed) + synth-wild train at 112 px, bf16,
#      channels_last, for as many epochs as fit (schedule scaled to them), time-capped
#   5. export the encoder: fp16 safetensors, 16 MiB shards + index  (revision gpu-ferplus-112)
#   6. quick linear probe FERPlus train -> val: crs-cont vs random-resnet18 vs pixels [optional]
# Everything it returns goes to $OUT (at most 8 files, one folder deep):
#   crs-cont-gpu-ferplus-112/{model-0000{1,2}-of-00002.safetensors,model.safetensors.index.json}
#   train_log.jsonl  bench.json  probe.json  gpu_log.txt  summary.json
#
# Run it from the repository root with the pack carried along:
#   device run: command "bash scripts/gpu_pretrain.sh", carry [".pack"], timeout_s 600
# Make the pack first: python scripts/pack_ferplus.py --data-root ../shared/data
# Dry run on the CPU (tiny settings, same code path): FER_GPU_DRYRUN=1 bash scripts/gpu_pretrain.sh
set -euo pipefail
export PYTHONUNBUFFERED=1
T0=$(date +%s)

DRYRUN=${FER_GPU_DRYRUN:-0}
OUT=${OUT:-out/gpu_pretrain}
PACK=${PACK:-.pack/ferplus-train-val.npz.xz}
REVISION=${REVISION:-gpu-ferplus-112}
RUN_DIR=${RUN_DIR:-/tmp/fer-gpu-run}            # checkpoints stay out of $OUT (92 MB)
export FER_BENCH_CACHE=${FER_BENCH_CACHE:-/tmp/fer-bench-cache}
if [[ "$DRYRUN" == 1 ]]; then
  TOTAL_S=${TOTAL_S:-420}; SIZE=64; SYNTH_N=300; WORKERS=2; DEVICE=cpu
  BENCH_ARGS=(--steps 4 --warmup 1 --batch-size 16 --cap-s 30 --threads 1)
  TRAIN_EXTRA=(--max-steps 20 --batch-size 16); PROBE_ARGS=(--limit 400 --n-cs 3)
  RESERVE_S=150; ASSUMED_RATE=20
  export OMP_NUM_THREADS=1                  # a shared 2-core box: threads only wait
else
  TOTAL_S=${TOTAL_S:-540}; SIZE=112; SYNTH_N=${SYNTH_N:-20000}; WORKERS=14; DEVICE=cuda
  BENCH_ARGS=(--steps 30 --warmup 8 --batch-size 128 --cap-s 25)
  TRAIN_EXTRA=(--batch-size 128); PROBE_ARGS=(--n-cs 8)
  RESERVE_S=110; ASSUMED_RATE=4000
fi
EXPORT_DIR="$OUT/crs-cont-$REVISION"
SYNTH_SPEC="synth-wild:n=$SYNTH_N,size=$SIZE,workers=$WORKERS:train"

mkdir -p "$OUT" "$RUN_DIR"
exec > >(tee -a "$OUT/gpu_log.txt") 2>&1
elapsed() { echo $(( $(date +%s) - T0 )); }
say() { echo "[$(elapsed)s] $*"; }
STATUS_SYNTH=skipped; STATUS_BENCH=skipped; STATUS_TRAIN=failed; STATUS_EXPORT=failed
STATUS_PROBE=skipped

finish() {
  local rc=$?
  say "writing summary (exit code $rc)"
  "$PY" - "$OUT" "$rc" "$(elapsed)" "$STATUS_SYNTH" "$STATUS_BENCH" "$STATUS_TRAIN" \
      "$STATUS_EXPORT" "$STATUS_PROBE" <<'EOF' || true
import json, sys
from pathlib import Path
out, rc, wall, *status = sys.argv[1:]
summary = {"exit_code": int(rc), "wall_s": int(wall),
           "status": dict(zip(["synth", "bench", "train", "export", "probe"], status))}
for name in ("bench.json", "probe.json"):
    p = Path(out) / name
    if p.is_file():
        summary[name] = json.loads(p.read_text())
        summary[name].pop("raw", None)
log = Path(out) / "train_log.jsonl"
if log.is_file():
    rows = [json.loads(l) for l in log.read_text().splitlines() if l.strip()]
    steps = [r for r in rows if r["event"] == "step"]
    stop = [r for r in rows if r["event"] == "stop"]
    start = [r for r in rows if r["event"] in ("start", "resume")]
    summary["train"] = {"stop": stop[-1] if stop else None,
                        "last_step": steps[-1] if steps else None,
                        "first_step": steps[0] if steps else None,
                        "data": start[0]["data"] if start else None,
                        "device": start[0]["device"] if start else None}
(Path(out) / "summary.json").write_text(json.dumps(summary, indent=1))
print(json.dumps({k: summary.get(k) for k in ("exit_code", "wall_s", "status")}))
EOF
  ls -la "$OUT" "$EXPORT_DIR" 2>/dev/null || true
}
PY=${PY:-python3}
[[ -x .venv/bin/python && "$DRYRUN" == 1 ]] && PY=.venv/bin/python
trap finish EXIT

# -- 1. install ------------------------------------------------------------------------------
say "python: $($PY -c 'import sys, torch, torchvision; print(sys.version.split()[0], torch.__version__, torchvision.__version__, torch.cuda.is_available())')"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
FORCE_COPY=${FER_FORCE_SOURCE_COPY:-0}            # test hook for the fallback below
if [[ "$FORCE_COPY" == 1 ]] || ! "$PY" -c "import fer_bench.encoders.resnet" 2>/dev/null; then
  if [[ "$FORCE_COPY" != 1 ]] && "$PY" -m pip install -q --no-deps --no-build-isolation --no-index -e . ; then
    say "installed fer-bench (editable, no deps)"
  else
    # encoders/ and protocols/ install as fer_bench.encoders / fer_bench.protocols: lay
    # the source out that way, and keep the checkout's own fer_bench/ (no encoders
    # inside) off sys.path (PYTHONSAFEPATH: no cwd or script folder in front).
    say "no editable install; using a source copy on PYTHONPATH"
    rm -rf /tmp/fer-src && mkdir -p /tmp/fer-src
    cp -r fer_bench /tmp/fer-src/ && cp -r encoders /tmp/fer-src/fer_bench/encoders
    cp -r protocols /tmp/fer-src/fer_bench/protocols
    export PYTHONPATH=/tmp/fer-src${PYTHONPATH:+:$PYTHONPATH} PYTHONSAFEPATH=1
  fi
fi
say "fer-bench from $("$PY" -c "import fer_bench.pretrain.trainer as t, fer_bench.encoders.crs_cont as c; print(t.__file__, c.__file__)")"
[[ -f "$PACK" ]] || { say "ERROR: pack $PACK missing (carry .pack)"; exit 2; }
FB=("$PY" -c "import sys; from fer_bench.cli import main; sys.exit(main())")

# -- 2. synth-wild ----------------------------------------------------------------------------
DATA=(--data "$PACK:train")
say "rendering $SYNTH_SPEC"
if timeout 150 "$PY" -c "from fer_bench.datasets.registry import load_dataset; \
ds = load_dataset('${SYNTH_SPEC%:train}'); print(len(ds), 'images', dict(ds.manifest.split.value_counts()))"; then
  STATUS_SYNTH=ok; DATA+=(--data "$SYNTH_SPEC")
else
  STATUS_SYNTH=failed; say "WARN: synth-wild failed; training on FERPlus alone"
fi

# -- 3. throughput comparison -------------------------------------------------------------------
say "throughput: fast pipeline vs reference loop"
if timeout 150 "$PY" scripts/bench_pretrain.py --data "$PACK:train" --input-size "$SIZE" \
    --workers "$WORKERS" --device "$DEVICE" --json "$OUT/bench.json" "${BENCH_ARGS[@]}"; then
  STATUS_BENCH=ok
else
  STATUS_BENCH=failed; say "WARN: throughput comparison failed or timed out"
fi

# -- 4. pre-train ---------------------------------------------------------------------------------
LOAD_S=35                                   # decoding the pack and synth-wild before step 1
BUDGET_S=$(( TOTAL_S - $(elapsed) - RESERVE_S - LOAD_S ))
(( BUDGET_S < 30 )) && BUDGET_S=30
EPOCHS=1; LR_STEP=1
read -r EPOCHS LR_STEP < <("$PY" - "$OUT/bench.json" "$BUDGET_S" "$ASSUMED_RATE" "$SYNTH_N" <<'EOF'
import json, math, sys
from pathlib import Path
bench, budget, assumed, synth_n = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
rate = assumed
if Path(bench).is_file():
    rate = json.loads(Path(bench).read_text()).get("fast_train_images_per_s") or assumed
n_images = 25045 + int(0.7 * synth_n)      # FERPlus train + synth-wild train (~70%)
epochs = max(1, math.floor(0.9 * budget * rate / n_images))
print(epochs, max(1, round(epochs / 5)))     # official: 100 epochs, x0.5 every 20
EOF
)
say "training budget ${BUDGET_S}s -> $EPOCHS epochs, lr x0.5 every $LR_STEP"
if timeout --kill-after=15 $(( BUDGET_S + LOAD_S + 90 )) "${FB[@]}" pretrain --method crs-cont \
    "${DATA[@]}" --input-size "$SIZE" --epochs "$EPOCHS" --lr-step "$LR_STEP" \
    --time-budget-min "$("$PY" -c "print($BUDGET_S / 60)")" --device "$DEVICE" \
    --out "$RUN_DIR" --overwrite --log-every 50 --checkpoint-every-min 1.5 --workers 16 \
    --no-progress --export "$EXPORT_DIR" --revision "$REVISION" --shard-mb 16 \
    "${TRAIN_EXTRA[@]}"; then
  STATUS_TRAIN=ok; STATUS_EXPORT=ok
elif [[ -f "$RUN_DIR/checkpoint.pt" ]]; then
  STATUS_TRAIN=interrupted; say "WARN: training did not finish; exporting its last checkpoint"
  "${FB[@]}" export-encoder "$RUN_DIR" --out "$EXPORT_DIR" --revision "$REVISION" \
      --shard-mb 16 && STATUS_EXPORT=from-checkpoint
fi
cp "$RUN_DIR/train_log.jsonl" "$OUT/train_log.jsonl" 2>/dev/null || true

# -- 5/6. probe -------------------------------------------------------------------------------------
if [[ "$STATUS_EXPORT" != failed ]]; then
  PROBE_S=$(( TOTAL_S - $(elapsed) - 10 ))
  if (( PROBE_S > 20 )); then
    say "linear probe FERPlus train -> val (${PROBE_S}s cap)"
    if timeout "$PROBE_S" "$PY" scripts/probe_pack.py --pack "$PACK" --train train --test val \
        --encoder "crs-cont=$EXPORT_DIR" --encoder random-resnet18 --encoder pixels \
        --device "$DEVICE" --json "$OUT/probe.json" "${PROBE_ARGS[@]}"; then
      STATUS_PROBE=ok
    else
      STATUS_PROBE=partial; say "WARN: probe failed or hit its cap"
    fi
  fi
fi
say "done"
