"""Every dataset's label map, code by code, against the wording of datasets.md.

The DOC_* strings restate the code tables of docs/datasets.md (codes and names as the
dataset's own documentation spells them); canonical() turns each name into the
vocabulary's spelling, so a wrong code, a shifted order or a misspelling fails here."""
import pytest

from fer_bench.datasets import label_maps as lm
from fer_bench.vocabulary import BASIC, BASIC7, COMPOUND, COMPOUND_PARTS, canonical, coarse_group


def parse(doc: str) -> dict:
    """'1 surprise, 2 fear' -> {1: 'surprise', 2: 'fear'} (names canonicalised)."""
    out = {}
    for item in doc.split(","):
        code, name = item.strip().split(" ", 1)
        out[int(code) if code.isdigit() else code] = canonical(name)
    return out


DOC_RAFDB = "1 surprise, 2 fear, 3 disgust, 4 happiness, 5 sadness, 6 anger, 7 neutral"
DOC_RAFDB_COMPOUND = ("1 happily surprised, 2 happily disgusted, 3 sadly fearful, 4 sadly angry, "
                      "5 sadly surprised, 6 sadly disgusted, 7 fearfully angry, 8 fearfully "
                      "surprised, 9 angrily surprised, 10 angrily disgusted, 11 disgustedly "
                      "surprised")
DOC_FER2013 = "0 angry, 1 disgust, 2 fear, 3 happy, 4 sad, 5 surprise, 6 neutral"
DOC_AFFECTNET = ("0 neutral, 1 happiness, 2 sadness, 3 surprise, 4 fear, 5 disgust, 6 anger, "
                 "7 contempt")
DOC_CKPLUS = "0 neutral, 1 anger, 2 contempt, 3 disgust, 4 fear, 5 happy, 6 sadness, 7 surprise"
DOC_JAFFE = "AN angry, DI disgust, FE fear, HA happy, NE neutral, SA sad, SU surprise"


@pytest.mark.parametrize("table, doc", [
    (lm.RAFDB_BASIC, DOC_RAFDB), (lm.RAFDB_COMPOUND, DOC_RAFDB_COMPOUND),
    (lm.FER2013, DOC_FER2013), (lm.EXPW, DOC_FER2013), (lm.AFFECTNET, DOC_AFFECTNET),
    (lm.CKPLUS, DOC_CKPLUS), (lm.JAFFE, DOC_JAFFE)])
def test_code_table_matches_datasets_md(table, doc):
    expected = parse(doc)
    assert set(table) == set(expected)
    for code, name in expected.items():
        assert table[code] == name, f"code {code}"


def test_spot_checks_of_orders_that_differ_between_datasets():
    # The classic bug: reading one dataset's code with another's order.
    assert lm.RAFDB_BASIC[1] == "surprise" and lm.FER2013[0] == "anger"
    assert lm.AFFECTNET[0] == "neutral" and lm.CKPLUS[2] == "contempt"
    assert lm.RAFDB_BASIC[7] == lm.FER2013[6] == lm.AFFECTNET[0] == "neutral"


def test_affectnet_dropped_codes():
    assert lm.AFFECTNET_DROPPED == {8: "none", 9: "uncertain", 10: "no-face"}


def test_folder_maps():
    assert lm.CK48_FOLDERS == {f: canonical(f) for f in
                               "anger contempt disgust fear happy sadness surprise".split()}
    assert lm.OULU_FOLDERS == {f: canonical(f) for f in
                               "Anger Disgust Fear Happiness Sadness Surprise".split()}
    assert lm.SFEW_FOLDERS == {f: canonical(f) for f in
                               "Angry Disgust Fear Happy Neutral Sad Surprise".split()}


def test_ferplus_vote_columns_in_file_order():
    header = "neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF"
    assert lm.FERPLUS_COLUMNS == tuple(header.split(","))
    assert set(lm.FERPLUS_EMOTIONS) == set(BASIC)


def test_class_views_are_explicit():
    assert lm.CLASSES["affectnet-7"] == BASIC7 and "contempt" not in BASIC7
    assert lm.CLASSES["affectnet-8"] == BASIC and len(BASIC) == 8
    assert len(lm.CLASSES["cfee"]) == 22 and len(COMPOUND) == 15
    assert len(lm.CLASSES["rafdb-compound"]) == 11
    assert lm.CLASSES["oulu"] == ("happiness", "sadness", "surprise", "fear", "disgust", "anger")


def test_every_declared_class_is_canonical_and_in_canonical_order():
    order = BASIC + COMPOUND
    for name, classes in lm.CLASSES.items():
        assert all(canonical(c) == c for c in classes), name
        assert list(classes) == sorted(classes, key=order.index), name


@pytest.mark.parametrize("compound, group", [
    ("happily surprised", "positive"), ("happily disgusted", "negative"),
    ("sadly surprised", "negative"), ("awed", "negative"), ("appalled", "negative")])
def test_compound_classes_map_to_parts_and_coarse_groups(compound, group):
    assert all(p in BASIC for p in COMPOUND_PARTS[compound])
    assert coarse_group(compound) == group
