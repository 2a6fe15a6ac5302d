#!/usr/bin/env bash
# One prepared pre-training run on a lent GPU machine. Training gets the budget:
#   1. install fer-bench (offline, no deps) or fall back to a source copy on PYTHONPATH
#   2. pre-train CRS-CONT on the packed FERPlus train split at 112 px, bf16, channels_last.
#      The trainer times its first steps, then fixes the total so that the official
#      schedule shape (x0.5 at every fifth) and the last checkpoint end inside the budget;
#      the plan is the first thing written to gpu_log.txt after the rate.
#   3. a watcher exports every new checkpoint (1.5-minute period) as fp16 shards into
#      $OUT, so a run cut by the device's time limit still returns usable weights
#   4. the final export (revision gpu-ferplus-112) and, if time is left, a quick linear
#      probe FERPlus train -> val: crs-cont vs random-resnet18 vs pixels
# Everything it returns goes to $OUT (at most 8 files, one folder deep):
#   crs-cont-gpu-ferplus-112/{model-0000{1,2}-of-00002.safetensors,model.safetensors.index.json,
#   health.png}  train_log.jsonl  probe.json  gpu_log.txt  summary.json
#
# Nothing is rendered or benchmarked on the device: the pack is made on the CPU first,
#   python scripts/pack_ferplus.py --data-root "$FER_BENCH_DATA"
# and carried along:  device run: command "bash scripts/gpu_pretrain.sh", carry [".pack"],
# timeout_s 600. Dry run on the CPU (tiny settings, same code path):
#   FER_GPU_DRYRUN=1 bash scripts/gpu_pretrain.sh
set -euo pipefail
export PYTHONUNBUFFERED=1
T0=$(date +%s)

DRYRUN=${FER_GPU_DRYRUN:-0}
OUT=${OUT:-out/gpu_pretrain}
PACK=${PACK:-.pack/ferplus-train-val.npz.xz}
REVISION=${REVISION:-gpu-ferplus-112}
RUN_DIR=${RUN_DIR:-/tmp/fer-gpu-run}            # checkpoints stay out of $OUT (135 MB)
export FER_BENCH_CACHE=${FER_BENCH_CACHE:-/tmp/fer-bench-cache}
if [[ "$DRYRUN" == 1 ]]; then
  TOTAL_S=${TOTAL_S:-150}; SIZE=32; DEVICE=cpu; PLAN_AFTER_S=8; CKPT_MIN=0.25
  TRAIN_EXTRA=(--batch-size 16 --health-n 200); PROBE_ARGS=(--limit 400 --n-cs 3)
  RESERVE_S=70; WATCH_S=5
  export OMP_NUM_THREADS=1                  # a shared 2-core box: threads only wait
else
  TOTAL_S=${TOTAL_S:-570}; SIZE=112; DEVICE=cuda; PLAN_AFTER_S=45; CKPT_MIN=1.5
  TRAIN_EXTRA=(--batch-size 128); PROBE_ARGS=(--n-cs 8)
  RESERVE_S=75; WATCH_S=20
fi
EXPORT_DIR="$OUT/crs-cont-$REVISION"

mkdir -p "$OUT" "$RUN_DIR"
exec > >(tee -a "$OUT/gpu_log.txt") 2>&1
elapsed() { echo $(( $(date +%s) - T0 )); }
say() { echo "[$(elapsed)s] $*"; }
STATUS_TRAIN=failed; STATUS_EXPORT=failed; STATUS_PROBE=skipped
WATCHER=""

finish() {
  local rc=$?
  [[ -n "$WATCHER" ]] && kill "$WATCHER" 2>/dev/null || true
  cp "$RUN_DIR/train_log.jsonl" "$OUT/train_log.jsonl" 2>/dev/null || true
  say "writing summary (exit code $rc)"
  "$PY" - "$OUT" "$rc" "$(elapsed)" "$STATUS_TRAIN" "$STATUS_EXPORT" "$STATUS_PROBE" <<'EOF' || true
import json, sys
from pathlib import Path
out, rc, wall, *status = sys.argv[1:]
summary = {"exit_code": int(rc), "wall_s": int(wall),
           "status": dict(zip(["train", "export", "probe"], status))}
p = Path(out) / "probe.json"
if p.is_file():
    summary["probe.json"] = json.loads(p.read_text())
    summary["probe.json"].pop("raw", None)
log = Path(out) / "train_log.jsonl"
if log.is_file():
    rows = [json.loads(l) for l in log.read_text().splitlines() if l.strip()]
    pick = lambda e: [r for r in rows if r["event"] == e]
    steps, start = pick("step"), pick("start")
    summary["train"] = {"plan": (pick("plan") or [None])[-1], "stop": (pick("stop") or [None])[-1],
                        "first_step": steps[0] if steps else None,
                        "last_step": steps[-1] if steps else None,
                        "health": pick("health"), "alarms": pick("alarm"),
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

# -- 3. the checkpoint watcher -------------------------------------------------------------------
watch_checkpoints() {
  local last=""
  while sleep "$WATCH_S"; do
    local ck="$RUN_DIR/checkpoint.pt"
    [[ -f "$ck" ]] || continue
    local stamp; stamp=$(stat -c %Y "$ck")
    [[ "$stamp" == "$last" ]] && continue
    if "${FB[@]}" export-encoder "$RUN_DIR" --out "$EXPORT_DIR.partial" --revision "$REVISION" \
        --shard-mb 16 >/dev/null 2>&1; then
      rm -rf "$EXPORT_DIR" && mv "$EXPORT_DIR.partial" "$EXPORT_DIR"
      last=$stamp; say "watcher: exported the checkpoint of $(date -d @"$stamp" +%T)"
    fi
  done
}
watch_checkpoints &
WATCHER=$!

# -- 2. pre-train ---------------------------------------------------------------------------------
BUDGET_S=$(( TOTAL_S - $(elapsed) - RESERVE_S ))
(( BUDGET_S < 30 )) && BUDGET_S=30
say "training budget ${BUDGET_S}s (the trainer plans its steps from its own measured rate)"
if timeout --kill-after=15 $(( BUDGET_S + 40 )) "${FB[@]}" pretrain --method crs-cont \
    --data "$PACK:train" --input-size "$SIZE" --epochs 100 \
    --time-budget-min "$("$PY" -c "print(max($BUDGET_S - 25, 10) / 60)")" \
    --plan-after-s "$PLAN_AFTER_S" --device "$DEVICE" --out "$RUN_DIR" --overwrite \
    --log-every 50 --checkpoint-every-min "$CKPT_MIN" --workers 16 --no-progress \
    --export "$EXPORT_DIR.final" --revision "$REVISION" --shard-mb 16 "${TRAIN_EXTRA[@]}"; then
  STATUS_TRAIN=ok; STATUS_EXPORT=ok
  kill "$WATCHER" 2>/dev/null || true; WATCHER=""
  rm -rf "$EXPORT_DIR" && mv "$EXPORT_DIR.final" "$EXPORT_DIR"
else
  STATUS_TRAIN=interrupted
  kill "$WATCHER" 2>/dev/null || true; WATCHER=""
  if [[ -f "$RUN_DIR/checkpoint.pt" ]]; then
    say "WARN: training did not finish; exporting its last checkpoint"
    "${FB[@]}" export-encoder "$RUN_DIR" --out "$EXPORT_DIR.final" --revision "$REVISION" \
        --shard-mb 16 && rm -rf "$EXPORT_DIR" && mv "$EXPORT_DIR.final" "$EXPORT_DIR" \
        && STATUS_EXPORT=from-checkpoint
  fi
fi
rm -rf "$EXPORT_DIR.partial" "$EXPORT_DIR.final"
cp "$RUN_DIR/train_log.jsonl" "$OUT/train_log.jsonl" 2>/dev/null || true

# -- 4. probe ---------------------------------------------------------------------------------------
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
