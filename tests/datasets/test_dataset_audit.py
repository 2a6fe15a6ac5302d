"""``fer-bench datasets audit``: planted duplicates of generated faces are found at their
stage, distinct faces of one identity are not, the audit is cached by the images and the
settings, and the command prints the counts (fer_bench/audit/, tests/audit_fixtures.py)."""
from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from audit_fixtures import PLANTS, identity_faces, write_planted_folder
from click.testing import CliRunner
from PIL import Image

from fer_bench.audit import AuditSettings, audit_datasets, near_duplicate_test_items
from fer_bench.audit.align import aligned_correlation
from fer_bench.audit.report import split_pair_counts
from fer_bench.audit.search import same_bytes_pairs
from fer_bench.audit.sheet import contact_sheet
from fer_bench.cli import main
from fer_bench.datasets.registry import load_dataset

FAST = AuditSettings(encoder="pixels")      # no ResNet: the searches are the same otherwise


def pair_set(frame: pd.DataFrame) -> set[frozenset]:
    return {frozenset(p) for p in zip(frame["id_a"], frame["id_b"])}


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    root = tmp_path_factory.mktemp("audit")
    info = write_planted_folder(root / "faces")
    dataset = load_dataset(f"folder:{root / 'faces'}:name=planted")
    # The default settings, random-resnet18 candidates included, once for the module.
    result = audit_datasets({"planted": dataset}, cache_dir=root / "cache")
    return root, info, dataset, result


def test_every_planted_copy_is_found_at_its_stage(planted):
    _, info, _, result = planted
    found = {frozenset((r.id_a, r.id_b)): r for r in result.duplicates.itertuples()}
    for name, (source, copy, _split, stage) in info["planted"].items():
        pair = found.get(frozenset((source, copy)))
        assert pair is not None, f"{name} copy not found"
        assert pair.stage == stage, (name, pair)
    crop = found[frozenset(info["planted"]["crop90"][:2])]
    assert crop.correlation < 0.95 <= crop.aligned_correlation    # only alignment finds it
    assert found[frozenset(info["planted"]["copy"][:2])].same_bytes


def test_distinct_faces_of_one_identity_are_not_duplicates(planted):
    _, info, _, result = planted
    faces = pd.DataFrame(info["faces"], columns=["split", "id", "identity"])
    # each identity has faces in every split: cross-split look-alikes exist to be refused
    assert (faces.groupby("identity")["split"].nunique() == 3).all()
    planted_pairs = {frozenset((s, c)) for s, c, _, _ in info["planted"].values()}
    assert pair_set(result.duplicates) == planted_pairs
    identity = dict(zip(faces["id"], faces["identity"]))
    kin = result.pairs[[identity.get(a, -1) == identity.get(b, -2)
                        for a, b in zip(result.pairs["id_a"], result.pairs["id_b"])]]
    assert (kin["stage"] == "").all()
    assert (kin["correlation"] < FAST.correlation).all()
    assert (kin["aligned_correlation"] < FAST.aligned).all()


def test_counts_per_split_pair_and_clean_test_items(planted):
    _, info, _, result = planted
    counts = split_pair_counts(result).set_index(["split_a", "split_b"])
    in_test = {c for _, c, split, _ in info["planted"].values() if split == "test"}
    in_val = {c for _, c, split, _ in info["planted"].values() if split == "val"}
    assert counts.at[("train", "test"), "near-duplicate"] == len(in_test) == 4
    assert counts.at[("train", "val"), "near-duplicate"] == len(in_val) == 4
    assert counts.at[("train", "test"), "same bytes"] == 1
    assert counts.at[("train", "test"), "items"] == 12
    assert counts.loc[[("train", "train"), ("val", "test")], "near-duplicate"].sum() == 0
    assert near_duplicate_test_items(result, "planted") == in_test
    assert near_duplicate_test_items(result.duplicates, "planted", test_split="val",
                                     against=("train",)) == in_val
    assert near_duplicate_test_items(result, "planted", against=("val",)) == set()
    assert near_duplicate_test_items(result, "other-dataset") == set()


def test_cache_hit_and_invalidation(tmp_path):
    info = write_planted_folder(tmp_path / "faces", identities=3, per_identity=3)
    spec = f"folder:{tmp_path / 'faces'}:name=small"
    cache = tmp_path / "cache"
    first = audit_datasets({"small": load_dataset(spec)}, FAST, cache_dir=cache)
    again = audit_datasets({"small": load_dataset(spec)}, FAST, cache_dir=cache)
    assert not first.cached and again.cached and again.key == first.key
    pd.testing.assert_frame_equal(again.pairs, first.pairs)
    looser = audit_datasets({"small": load_dataset(spec)},
                            AuditSettings(encoder="pixels", neighbours=3), cache_dir=cache)
    assert not looser.cached and looser.key != first.key
    # The planted JPEG copy replaced in place by another face: the audit is recomputed.
    _, copy, _, _ = info["planted"]["jpeg50"]
    other = next(p for p in (tmp_path / "faces" / "train").rglob("*.png")
                 if p.stem != info["planted"]["jpeg50"][0].rsplit("/", 1)[1])
    shutil.copyfile(other, tmp_path / "faces" / f"{copy}.png")
    changed = audit_datasets({"small": load_dataset(spec)}, FAST, cache_dir=cache)
    assert not changed.cached and changed.key != first.key
    assert frozenset(info["planted"]["jpeg50"][:2]) not in pair_set(changed.duplicates)


def test_duplicates_across_datasets(tmp_path):
    faces = identity_faces(5, 1, 48, seed=3)[0]
    for n in range(4):
        src = tmp_path / "a" / "happy" / f"s{n}.png"
        src.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(faces[n]).save(src)
    (tmp_path / "b" / "happy").mkdir(parents=True)
    shutil.copyfile(tmp_path / "a" / "happy" / "s1.png", tmp_path / "b" / "happy" / "t0.png")
    Image.fromarray(faces[4]).save(tmp_path / "b" / "happy" / "t1.png")
    datasets = {"a": load_dataset(f"folder:{tmp_path / 'a'}"),
                "b": load_dataset(f"folder:{tmp_path / 'b'}")}
    result = audit_datasets(datasets, FAST, cache_dir=tmp_path / "cache")
    dup = result.duplicates
    assert len(dup) == 1
    assert dup.iloc[0][["dataset_a", "id_a", "dataset_b", "id_b", "stage"]].tolist() == \
        ["a", "happy/s1", "b", "happy/t0", "exact"]
    assert near_duplicate_test_items(result, "b", test_split="train", against=("train",),
                                     against_datasets=["a"]) == {"happy/t0"}


def test_rows_of_one_file_are_never_byte_duplicates():
    digests = ["d1", "d1", "d1", "d2", "d2", "missing"]
    files = ["all.csv", "all.csv", "x.png", "y.png", "z.png", "gone.png"]
    groups = ["train", "test", "test", "train", "train", "test"]
    pairs = {tuple(p) for p in same_bytes_pairs(digests, files, groups).tolist()}
    # rows 0 and 1 read one CSV: never paired with each other, each paired with x.png
    assert pairs == {(0, 2), (1, 2), (3, 4)}


def test_aligned_correlation_finds_a_crop_and_refuses_a_stranger():
    rng = np.random.default_rng(0)
    big = np.asarray(Image.fromarray((rng.random((12, 12)) * 255).astype(np.uint8))
                     .resize((60, 60), Image.BICUBIC), np.float32)
    whole = np.asarray(Image.fromarray(big).resize((24, 24), Image.BOX))
    cropped = np.asarray(Image.fromarray(big[4:56, 2:54]).resize((24, 24), Image.BOX))
    stranger = rng.random((24, 24)).astype(np.float32)
    images = np.stack([whole, cropped, stranger])
    value = aligned_correlation(images, np.array([0, 1, 0]), np.array([1, 0, 2]),
                                upsample=2, both_ways=True)
    assert value[0] == value[1] > 0.95 and value[2] < 0.6
    assert aligned_correlation(images, np.array([0]), np.array([0]))[0] == pytest.approx(1)


def test_contact_sheet_shows_cross_split_pairs(planted, tmp_path):
    _, _, dataset, result = planted
    path = contact_sheet(result.duplicates, {"planted": dataset}, tmp_path / "sheet.png",
                         per_stage=2)
    with Image.open(path) as image:
        assert image.width > 200 and image.height > 300      # 3 stages x 2 pairs
    within = result.duplicates.assign(split_b=result.duplicates["split_a"])
    assert contact_sheet(within, {"planted": dataset}, tmp_path / "none.png") is None


def test_cli_prints_counts_and_writes_the_tables(planted, tmp_path):
    root, _, _, _ = planted
    args = ["datasets", "audit", f"folder:{root / 'faces'}:name=planted", "--encoder",
            "pixels", "--out", str(tmp_path / "audit"), "--cache-dir", str(root / "cache")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "planted: 32 images (train 8, val 12, test 12)" in result.stdout
    assert "train-test: 4 test items have a near-duplicate in train (33.3%)" in result.stdout
    assert "train-val: 4 val items have a near-duplicate in train (33.3%)" in result.stdout
    assert "8 duplicate pairs (exact 1, perceptual 3, aligned 4)" in result.stdout
    folder = tmp_path / "audit" / "planted"
    table = pd.read_csv(folder / "duplicates.csv")
    assert list(table.columns[:7]) == ["id_a", "dataset_a", "split_a", "id_b", "dataset_b",
                                       "split_b", "stage"]
    assert len(table) == len(PLANTS) and (folder / "contact_sheet.png").is_file()
    assert set(pd.read_csv(folder / "counts.csv")["split_b"]) == {"train", "val", "test"}
    again = CliRunner().invoke(main, args + ["--sheet-pairs", "0"])
    assert again.exit_code == 0 and "audit read from the cache" in again.stderr


@pytest.mark.parametrize("args, code, words", [
    (["ferplus"], 1, "dataset 'ferplus' is read from disk: pass --data-root"),
    (["ferplu"], 2, "unknown dataset 'ferplu' (did you mean 'ferplus'?)"),
    (["folder:{tmp}/nowhere"], 2, "nowhere does not exist"),
    (["synth-lab", "--encoder", "pixel"], 2, "did you mean 'pixels'"),
    (["synth-lab", "synth-lab"], 2, "synth-lab is given twice"),
], ids=["missing-data", "unknown-name", "missing-folder", "unknown-encoder", "twice"])
def test_cli_mistakes_are_one_line(tmp_path, args, code, words):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = CliRunner().invoke(main, ["datasets", "audit", *args, "--cache-dir",
                                       str(tmp_path / "cache")], env={"FER_BENCH_DATA": ""})
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and words in errors[0], result.stderr
    assert result.stderr.rstrip().endswith(errors[0])


def test_cli_help_states_the_library_defaults():
    output = CliRunner().invoke(main, ["datasets", "audit", "--help"]).output
    options = " ".join(output.split("Options:", 1)[1].split())
    defaults = AuditSettings()
    for option, value in (("--encoder", defaults.encoder), ("--neighbours", defaults.neighbours),
                          ("--correlation", defaults.correlation),
                          ("--aligned", defaults.aligned)):
        after = options.split(option, 1)[1].split(" --", 1)[0]
        assert f"(default {value}" in after, (option, after)
