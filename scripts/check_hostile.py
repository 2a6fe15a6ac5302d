"""The hostile suite: every bad input we know of, tried on the CLI in a throw-away folder.

Each case feeds fer-bench something wrong (bad options and names, bad or truncated
checkpoints, replaced images, relabelled splits, colliding dataset names, a record of a
newer fer-bench, truncated records, hostile names, corrupt images, NaN features, a
generation interrupted by SIGTERM, ...) and checks that the answer is clean: no
traceback, the exit code of its kind (2: the command line, 1: bad file contents), one
``Error:`` line that names what was wrong, and no work lost (records already written
stay, nothing is overwritten that should not be).

All data are generated (``synth-wild`` at 32 px, folders and a RAF-DB-style copy made of
its PNGs, tiny weight files); nothing outside the temporary folder is read or written.
Runs in well under 3 minutes on 2 cores:

    python scripts/check_hostile.py [--keep]

Prints one line per case (``clean`` or ``FAILED: why``) and the counts; exits 1 when a
case failed.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

WILD = "synth-wild:n=100,size=32"
RUN_FLAGS = ["--seed", "0", "--device", "cpu", "--quiet", "--num-workers", "0"]


class Suite:
    def __init__(self, root: Path):
        self.root = root
        self.results: list[tuple[str, bool, str]] = []

    # -- running commands ------------------------------------------------------------
    def cli(self, *args):
        from click.testing import CliRunner

        from fer_bench.cli import main
        return CliRunner().invoke(main, [str(a) for a in args])

    def run(self, *args, results="records"):
        return self.cli("run", "--results-dir", self.root / results, "--cache-dir",
                        self.root / "cache", *RUN_FLAGS, *args)

    def case(self, name: str, check) -> None:
        started = time.perf_counter()
        try:
            problem = check()
        except Exception as e:  # the harness itself, or fer-bench raising in-process
            problem = f"{type(e).__name__} escaped: {e}; " + \
                traceback.format_exc(limit=-2).strip().splitlines()[-3].strip()
        seconds = time.perf_counter() - started
        self.results.append((name, problem is None, problem or ""))
        state = "clean" if problem is None else f"FAILED: {_short(problem, 300)}"
        print(f"{name:44s} {state}  ({seconds:.1f}s)", flush=True)

    # -- verdicts --------------------------------------------------------------------
    @staticmethod
    def refused(result, code: int, *needles: str) -> str | None:
        """None when ``result`` is a clean refusal with ``code`` whose output holds every
        needle; else what is wrong."""
        out = result.output
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            return f"{type(result.exception).__name__} escaped: {result.exception}"
        if "Traceback" in out:
            return "traceback in the output"
        if result.exit_code != code:
            return f"exit code {result.exit_code}, expected {code}: {_short(out)}"
        errors = [line for line in out.splitlines() if line.startswith("Error: ")]
        if len(errors) != 1:
            return f"{len(errors)} 'Error:' lines: {_short(out)}"
        if code == 2 and len(out.strip().splitlines()) != 1:
            return f"more than one line for a usage error: {_short(out)}"
        missing = [n for n in needles if n not in out]
        return f"output lacks {missing}: {_short(out)}" if missing else None

    @staticmethod
    def succeeded(result, *needles: str) -> str | None:
        if result.exit_code != 0:
            return f"exit code {result.exit_code}: {_short(result.output)}"
        missing = [n for n in needles if n not in result.output]
        return f"output lacks {missing}: {_short(result.output)}" if missing else None


class _QuietStderr:
    """Silence file descriptor 2 (libpng writes its complaints there, below Python)."""

    def __enter__(self):
        sys.stderr.flush()
        self.saved = os.dup(2)
        self.null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(self.null, 2)

    def __exit__(self, *exc):
        os.dup2(self.saved, 2)
        os.close(self.saved)
        os.close(self.null)


def _short(text: str, n: int = 220) -> str:
    text = " ⏎ ".join(line for line in text.strip().splitlines() if line.strip())
    return text if len(text) <= n else text[:n] + "..."


# -- generated data ----------------------------------------------------------------------
def make_data(s: Suite) -> dict:
    """Folders of generated faces: a class-folder copy, a second one, a RAF-DB-style copy."""
    from PIL import Image

    from fer_bench.datasets import load_dataset
    from fer_bench.datasets.label_maps import RAFDB_BASIC

    wild = load_dataset(WILD)
    m = wild.manifest
    rows = m[m["label"].isin(["happiness", "sadness", "neutral", "surprise"])]
    faces = s.root / "faces"
    for i, (path, label) in enumerate(zip(rows["path"], rows["label"])):
        (faces / label).mkdir(parents=True, exist_ok=True)
        shutil.copy(wild.root / path, faces / label / f"S{i % 6}_{i:03d}.png")
    shutil.copytree(faces, s.root / "faces2")
    code = {v: k for k, v in RAFDB_BASIC.items()}
    raf = s.root / "data" / "RAF-DB" / "basic"
    (raf / "Image" / "aligned").mkdir(parents=True)
    (raf / "EmoLabel").mkdir(parents=True)
    lines = []
    for i, (path, label, split) in enumerate(zip(rows["path"], rows["label"], rows["split"])):
        split = "test" if split == "test" else "train"
        stem = f"{split}_{i:05d}"
        Image.open(wild.root / path).convert("RGB").save(raf / "Image" / "aligned"
                                                         / f"{stem}_aligned.jpg")
        lines.append(f"{stem}.jpg {code[label]}")
    (raf / "EmoLabel" / "list_patition_label.txt").write_text("\n".join(lines) + "\n")
    return {"wild": wild, "faces": faces, "raf_labels": raf / "EmoLabel" /
            "list_patition_label.txt", "lines": lines}


def write_weights(s: Suite) -> dict:
    """Weight files: fer-bench safetensors of a real trunk (then truncated), one of the
    wrong shapes, official .pth files (truncated, malformed opt, wrong shapes)."""
    import argparse as ap

    import torch

    from fer_bench.encoders.resnet import build_resnet18_trunk
    from fer_bench.weights import save_encoder_weights

    meta = {"architecture": "resnet18", "embed_dim": 512, "input_size": 32,
            "revision": "hostile"}
    w = s.root / "weights"
    w.mkdir()
    torch.manual_seed(0)
    trunk = build_resnet18_trunk().state_dict()
    save_encoder_weights(trunk, w / "good.safetensors", meta)
    data = (w / "good.safetensors").read_bytes()
    (w / "truncated.safetensors").write_bytes(data[: len(data) // 2])
    save_encoder_weights({"conv1.weight": torch.zeros(8, 3, 3, 3)}, w / "shapes.safetensors",
                         meta)
    official = {f"encoder.{k}": v for k, v in trunk.items()}
    opt = ap.Namespace(model="resnet18", dataset="Mix", size=32, method="CRS-CONT")
    torch.save({"opt": opt, "model": official, "epoch": 1}, w / "official.pth")
    data = (w / "official.pth").read_bytes()
    (w / "truncated.pth").write_bytes(data[: len(data) // 3])
    torch.save({"opt": "resnet18, 224 px", "model": official}, w / "bad-opt.pth")
    torch.save({"opt": opt, "model": {"encoder.conv1.weight": torch.zeros(8, 3, 3, 3)}},
               w / "shapes.pth")
    (w / "garbage.safetensors").write_bytes(b"not weights at all")
    files = {"good": "good.safetensors", "truncated": "truncated.safetensors",
             "shapes": "shapes.safetensors", "official": "official.pth",
             "truncated_pth": "truncated.pth", "bad_opt": "bad-opt.pth",
             "shapes_pth": "shapes.pth", "garbage": "garbage.safetensors"}
    return {key: w / name for key, name in files.items()}


NAN_ENCODER = '''
import torch
from fer_bench.encoder import Encoder, EncoderInfo, Preprocessing


class NanEncoder(Encoder):
    def build(self):
        return torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(2), torch.nn.Flatten())

    def forward_features(self, model, x):
        return torch.full_like(model(x), float("nan"))


def make(weights=None, device="cpu"):
    pre = Preprocessing(input_size=16, channels="rgb", mean=(0.5,) * 3, std=(0.25,) * 3)
    return NanEncoder(EncoderInfo("nan-encoder", "1", 12, pre, "pool"), device)
'''


# -- the cases -----------------------------------------------------------------------------
def usage_cases(s: Suite, d: dict, w: dict) -> None:
    faces = f"folder:{d['faces']}"
    ok = ["--encoder", "pixels", "--protocol", "knn", "--dataset", faces]
    cases = [
        ("run: unknown encoder", ["--encoder", "pixel", "--protocol", "knn", "--dataset", faces],
         ["did you mean 'pixels'"]),
        ("run: unknown protocol", ["--encoder", "pixels", "--protocol", "lineer", "--dataset",
                                   faces], ["did you mean 'linear'"]),
        ("run: unknown protocol option", ["--encoder", "pixels", "--protocol", "knn:kk=3",
                                          "--dataset", faces], ["did you mean 'k'"]),
        ("run: bad protocol value", ["--encoder", "pixels", "--protocol", "knn:k=three",
                                     "--dataset", faces], ["bad value for k"]),
        ("run: unknown dataset", ["--encoder", "pixels", "--protocol", "knn", "--dataset",
                                  "synth-wyld"], ["did you mean 'synth-wild'"]),
        ("run: unknown dataset option", ["--encoder", "pixels", "--protocol", "knn",
                                         "--dataset", "synth-wild:sise=32"],
         ["did you mean 'size'"]),
        ("run: preset far too large", ["--encoder", "pixels", "--protocol", "knn", "--dataset",
                                       "synth-wild:n=100000000"], ["FER_BENCH_ALLOW_LARGE=1"]),
        ("run: missing --weights file", ["--encoder", "crs-cont", "--weights",
                                         f"crs-cont={s.root}/none.safetensors", "--protocol",
                                         "knn", "--dataset", faces], ["does not exist"]),
        ("run: --weights for another encoder", ok + ["--weights", f"pixelz={w['good']}"],
         ["not an encoder of this run"]),
        ("run: --batch-size 0", ok + ["--batch-size", "0"], ["--batch-size"]),
        ("run: --seed -1", ok + ["--seed", "-1"], ["--seed"]),
        ("run: results dir is a file", ok, ["--results-dir"]),
        ("run: cache dir under a file", ok, ["--cache-dir"]),
        ("run: bad --device", ok + ["--device", "gpu"], ["--device"]),
        ("run: bad --overwrite", ok + ["--overwrite", "sometimes"], ["--overwrite"]),
    ]
    afile = s.root / "a-file"
    afile.write_text("in the way")
    for name, args, needles in cases:
        def check(name=name, args=args, needles=needles):
            results, cache = s.root / "refused", s.root / "refused-cache"
            if name == "run: results dir is a file":
                results = afile
            if name == "run: cache dir under a file":
                cache = afile / "cache"
            r = s.cli("run", "--results-dir", results, "--cache-dir", cache, "--quiet", *args)
            problem = s.refused(r, 2, *needles)
            for made in ("refused", "refused-cache"):
                if problem is None and (s.root / made).exists():
                    problem = f"the refused run created {made}/"
            return problem
        s.case(name, check)
    others = [
        ("extract: unknown split", ["extract", "--encoder", "pixels", "--dataset", faces,
                                    "--split", "tset", "--cache-dir", s.root / "cache"], 2,
         ["--split", "'tset'"]),
        ("datasets info: unknown name", ["datasets", "info", "ferpluss"], 2,
         ["did you mean 'ferplus'"]),
        ("datasets prepare: unknown option", ["datasets", "prepare", faces, "-o", "nmae=x"], 2,
         ["did you mean 'name'"]),
        ("pretrain: --epochs 0", ["pretrain", "--data", "synth-wild", "--out", s.root / "pt",
                                  "--epochs", "0"], 2, ["--epochs"]),
        ("command typo", ["leaderbord"], 2, ["leaderboard"]),
    ]
    for name, args, code, needles in others:
        s.case(name, lambda args=args, code=code, needles=needles:
               s.refused(s.cli(*args), code, *needles))


def record_cases(s: Suite, d: dict) -> None:
    base = ["--encoder", "pixels", "--protocol", "knn", "--dataset", WILD]
    s.case("run: a first record", lambda: s.succeeded(s.run(*base), "1 record(s) computed"))
    path = next((s.root / "records").rglob("*.json"))

    s.case("run: rerun keeps the current record", lambda: s.succeeded(
        s.run(*base), "0 record(s) computed, 1 kept"))

    def newer():
        raw = json.loads(path.read_text())
        raw["schema_version"] = 99
        path.write_text(json.dumps(raw))
        before = path.read_bytes()
        problem = s.refused(s.run(*base), 1, "newer fer-bench", str(path), "--overwrite always")
        if problem is None and path.read_bytes() != before:
            problem = "the newer record was rewritten"
        kept = s.run(*base, "--overwrite", "never")
        if problem is None and (kept.exit_code != 0 or path.read_bytes() != before):
            problem = f"--overwrite never did not keep it: {_short(kept.output)}"
        replaced = s.run(*base, "--overwrite", "always")
        if problem is None and json.loads(path.read_text())["schema_version"] == 99:
            problem = f"--overwrite always did not replace it: {_short(replaced.output)}"
        return problem
    s.case("newer record: refused, kept, replaced", newer)

    def truncated():
        good = path.read_text()
        path.write_text(good[: len(good) // 3])
        other = s.root / "records" / "pixels" / "x" / "knn-v9" / "fake.json"
        other.parent.mkdir(parents=True)
        other.write_text(good)
        problems = []
        for command in ("leaderboard", "plot", "report"):
            r = s.cli(command, "--results-dir", s.root / "records", "--out",
                      s.root / f"out-{command}")
            if r.exit_code != 0 or f"Warning: skipped {path}" not in r.output:
                problems.append(f"{command}: {_short(r.output)}")
            strict = s.cli(command, "--results-dir", s.root / "records", "--out",
                           s.root / f"out-{command}", "--strict")
            p = s.refused(strict, 1, "--strict")
            if p:
                problems.append(f"{command} --strict: {p}")
        shutil.rmtree(other.parent)
        rerun = s.run(*base)
        if "1 record(s) computed" not in rerun.output:
            problems.append(f"a run did not recompute the truncated record: "
                            f"{_short(rerun.output)}")
        return "; ".join(problems) or None
    s.case("truncated record: skipped loudly, --strict", truncated)

    def empty():
        (s.root / "empty").mkdir()
        for command in ("leaderboard", "plot", "report"):
            p = s.refused(s.cli(command, "--results-dir", s.root / "empty", "--out",
                                s.root / "out-empty"), 1, "no result records")
            if p:
                return f"{command}: {p}"
        return None
    s.case("empty results dir: one line", empty)


def data_cases(s: Suite, d: dict) -> None:
    faces, raf_labels = d["faces"], d["raf_labels"]

    def replaced():
        spec = f"folder:{faces}:name=faces"
        args = ["--encoder", "pixels", "--protocol", "knn", "--dataset", spec]
        first = s.run(*args, results="rec-faces")
        if first.exit_code != 0:
            return f"first run failed: {_short(first.output)}"
        images = sorted((faces / "happiness").glob("*.png"))
        shutil.copy(images[1], images[0])                     # same name, other face
        stale = s.run(*args, "--overwrite", "never", results="rec-faces")
        if "kept-stale" not in stale.output or "images of faces changed" not in stale.output:
            return f"a replaced image was not noticed: {_short(stale.output)}"
        return s.succeeded(s.run(*args, results="rec-faces"), "1 record(s) computed")
    s.case("replaced image: record stale, recomputed", replaced)

    def relabelled():
        args = ["--encoder", "pixels", "--protocol", "knn", "--dataset", "rafdb", "--data-root",
                s.root / "data"]
        first = s.run(*args, results="rec-raf")
        if first.exit_code != 0:
            return f"first run failed: {_short(first.output)}"
        lines = raf_labels.read_text().splitlines()
        swapped = [f"{n} {'4' if c == '5' else '5' if c == '4' else c}"
                   for n, c in (line.split() for line in lines)]   # happiness <-> sadness
        raf_labels.write_text("\n".join(swapped) + "\n")
        stale = s.run(*args, "--overwrite", "never", results="rec-raf")
        raf_labels.write_text("\n".join(lines) + "\n")
        if "labels, splits or subjects of rafdb changed" not in stale.output:
            return f"relabelled split not noticed: {_short(stale.output)}"
        return None
    s.case("relabelled split: record stale", relabelled)

    def raf_variant(name, text, code, *needles, restore=True):
        def check():
            original = raf_labels.read_text()
            raf_labels.write_text(text(original))
            try:
                r = s.run("--encoder", "pixels", "--protocol", "knn", "--dataset", "rafdb",
                          "--data-root", s.root / "data", results="rec-raf-bad")
                return s.refused(r, code, *needles)
            finally:
                raf_labels.write_text(original)
        s.case(name, check)

    raf_variant("label file: path climbing out (../)",
                lambda t: t + "train_/../../../../../etc/passwd.jpg 1\n", 1,
                "list_patition_label.txt:", "path outside the dataset root")
    raf_variant("label file: unknown label code", lambda t: t + "train_99999.jpg 42\n", 1,
                "unknown label code", "list_patition_label.txt:")
    raf_variant("label file: no test split",
                lambda t: "\n".join(x for x in t.splitlines() if x.startswith("train_")) + "\n",
                1, "no test_ images")
    raf_variant("label file: empty", lambda t: "", 1, "list_patition_label.txt")

    def colliding():
        a = s.run("--encoder", "pixels", "--protocol", "knn", "--dataset",
                  f"folder:{faces}:name=same", "--dataset",
                  f"folder:{d['faces'].parent / 'faces2'}:name=same", results="rec-collide")
        p = s.refused(a, 2, "both named 'same'")
        if p:
            return p
        b = s.run("--encoder", "pixels", "--protocol", "knn", "--dataset",
                  f"folder:{faces}:name=x y", "--dataset",
                  f"folder:{d['faces'].parent / 'faces2'}:name=x_y", results="rec-collide")
        p = s.refused(b, 2, "same record file")
        if p is None and (s.root / "rec-collide").exists() and \
                any((s.root / "rec-collide").rglob("*.json")):
            p = "records were written for colliding names"
        return p
    s.case("colliding folder names: refused", colliding)

    def corrupt():
        bad = s.root / "faces-bad"
        shutil.copytree(faces, bad)
        victim = sorted((bad / "sadness").glob("*.png"))[0]
        victim.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
        with _QuietStderr():
            r = s.run("--encoder", "pixels", "--protocol", "knn", "--dataset",
                      f"folder:{bad}", results="rec-corrupt")
        return s.refused(r, 1, victim.name)
    s.case("corrupt image: error names it", corrupt)

    def unknown_class():
        bad = s.root / "faces-class"
        shutil.copytree(faces, bad)
        shutil.copytree(bad / "sadness", bad / "bored")
        r = s.run("--encoder", "pixels", "--protocol", "knn", "--dataset", f"folder:{bad}",
                  results="rec-class")
        return s.refused(r, 1, "bored", "unknown class folder")
    s.case("unknown label (class folder)", unknown_class)

    def empty_split():
        bad = s.root / "faces-split"
        for split in ("train", "test"):
            shutil.copytree(faces, bad / split)
        (bad / "val").mkdir()
        r = s.run("--encoder", "pixels", "--protocol", "knn", "--dataset", f"folder:{bad}",
                  results="rec-split")
        return s.refused(r, 1, "val", "holds no images")
    s.case("empty split folder", empty_split)

    def hostile_names():
        spec = f"folder:{faces}:name==HYPERLINK(\"http://x\")<b>"
        r = s.run("--encoder", "pixels", "--protocol", "knn", "--dataset", spec,
                  results="rec-names")
        if r.exit_code != 0:
            return f"run failed: {_short(r.output)}"
        board = s.cli("leaderboard", "--results-dir", s.root / "rec-names", "--out",
                      s.root / "board-names")
        if board.exit_code != 0:
            return f"leaderboard failed: {_short(board.output)}"
        import csv
        for name in ("leaderboard_long.csv", "leaderboard_wide.csv"):
            with open(s.root / "board-names" / name, newline="", encoding="utf-8") as f:
                cells = [c for row in csv.reader(f) for c in row]
            if any(c.startswith("=") for c in cells):
                return f"{name} holds a formula cell"
        md = (s.root / "board-names" / "leaderboard.md").read_text(encoding="utf-8")
        return "leaderboard.md holds raw HTML" if "<b>" in md else None
    s.case("formula and HTML in a dataset name", hostile_names)

    def few_shot():
        r = s.run("--encoder", "pixels", "--protocol",
                  "few-shot:shots=100000,draws=1,probes=knn,n_boot=20", "--dataset", WILD,
                  results="rec-fewshot")
        if r.exit_code != 0:
            return f"run failed: {_short(r.output)}"
        record = json.loads(next((s.root / "rec-fewshot").rglob("*.json")).read_text())
        if not record["flags"].get("short_classes"):
            return "the 100000-shot record has no short_classes flag"
        board = s.cli("leaderboard", "--results-dir", s.root / "rec-fewshot", "--out",
                      s.root / "board-fewshot")
        return None if "‡" in board.output else "the leaderboard does not stamp it"
    s.case("few-shot:shots=100000 flagged", few_shot)

    def nan_features():
        (s.root / "mods").mkdir(exist_ok=True)
        (s.root / "mods" / "hostile_nan.py").write_text(NAN_ENCODER)
        sys.path.insert(0, str(s.root / "mods"))
        r = s.run("--encoder", "hostile_nan:make", "--protocol", "knn", "--dataset",
                  f"folder:{faces}", results="rec-nan")
        return s.refused(r, 1, "nan-encoder")
    s.case("NaN features", nan_features)


def weight_cases(s: Suite, d: dict, w: dict) -> None:
    faces = f"folder:{d['faces']}"

    def bad_weights(path, *needles, two=False):
        def check():
            results = s.root / f"rec-w-{path.stem}"
            encoders = ["--encoder", "pixels"] if two else []
            r = s.run(*encoders, "--encoder", "crs-cont", "--weights", f"crs-cont={path}",
                      "--protocol", "knn", "--dataset", faces,
                      results=results.name)
            problem = s.refused(r, 1, path.name, *needles)
            written = sorted(p.parent.parent.parent.name for p in results.rglob("*.json"))
            if problem is None and two and written != ["pixels"]:
                problem = f"records before the failure were lost or extra: {written}"
            if problem is None and not two and written:
                problem = f"records were written: {written}"
            return problem
        return check
    s.case("checkpoint: garbage safetensors", bad_weights(w["garbage"], "not a safetensors"))
    s.case("checkpoint: truncated safetensors", bad_weights(w["truncated"]))
    s.case("checkpoint: wrong shapes (work kept)", bad_weights(
        w["shapes"], "wrong shapes", two=True))
    s.case("checkpoint: truncated official .pth", bad_weights(w["truncated_pth"]))
    s.case("checkpoint: malformed opt in .pth", bad_weights(w["bad_opt"], "'opt'"))
    s.case("checkpoint: wrong shapes in .pth (work kept)", bad_weights(
        w["shapes_pth"], "missing keys", two=True))
    s.case("checkpoint: good official .pth runs", lambda: s.succeeded(
        s.run("--encoder", "crs-cont", "--weights", f"crs-cont={w['official']}", "--protocol",
              "knn", "--dataset", faces, results="rec-w-good"), "1 record(s) computed"))


def interrupted_generation(s: Suite) -> None:
    def check():
        cache = s.root / "cache-sigterm"
        script = "from fer_bench.datasets import load_dataset\n" \
                 "load_dataset('synth-wild:n=3000,size=48')\n"
        proc = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE,
                                env={**os.environ, "FER_BENCH_CACHE": str(cache)}, text=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            temp = list((cache / "synth").glob(".synth-wild*")) if (cache / "synth").is_dir() \
                else []
            if temp and list(temp[0].glob("images/*.png")):
                break
            if proc.poll() is not None:
                return f"generation ended before it could be interrupted: {proc.stderr.read()}"
            time.sleep(0.1)
        else:
            proc.kill()
            return "no temporary folder appeared within 60 s"
        proc.send_signal(signal.SIGTERM)
        try:
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            return "the process did not stop within 60 s of SIGTERM"
        left = [p.name for p in (cache / "synth").iterdir() if not p.name.endswith(".lock")]
        if "Traceback" in err:
            return f"traceback on SIGTERM: {_short(err)}"
        return f"left behind: {left}" if left else None
    s.case("SIGTERM during generation: no leftovers", check)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="Keep the temporary folder.")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="fer-bench-hostile-"))
    os.environ["FER_BENCH_CACHE"] = str(root / "cache")
    os.environ.pop("FER_BENCH_DATA", None)
    os.environ.pop("FER_BENCH_DEBUG", None)
    os.environ.pop("FER_BENCH_ALLOW_LARGE", None)
    os.environ.setdefault("MPLBACKEND", "Agg")
    started = time.perf_counter()
    s = Suite(root)
    try:
        data = make_data(s)
        weights = write_weights(s)
        print(f"setup: generated data and weight files in {time.perf_counter() - started:.0f}s "
              f"under {root}", flush=True)
        usage_cases(s, data, weights)
        record_cases(s, data)
        data_cases(s, data)
        weight_cases(s, data, weights)
        interrupted_generation(s)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    failed = [r for r in s.results if not r[1]]
    print(f"\n{len(s.results)} cases tried, {len(s.results) - len(failed)} clean, "
          f"{len(failed)} failed ({time.perf_counter() - started:.0f}s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
