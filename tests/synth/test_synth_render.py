"""The face renderer: determinism, every AU visible where FACS puts it, one-sided contempt."""
from __future__ import annotations

import numpy as np
import pytest

from fer_bench.synth import sample_faces
from fer_bench.synth.expressions import sample_aus, sample_style
from fer_bench.synth.facs import (
    ACTION_UNITS,
    AU_INDEX,
    LEFT,
    RIGHT,
    facs_code,
    grade,
    zero_aus,
)
from fer_bench.synth.identity import sample_identity
from fer_bench.synth.render import render_face
from fer_bench.synth.scene import Scene

SIZE = 96


def frontal_scene(seed: int = 0) -> Scene:
    """A lab photo: frontal, even light, plain background, no camera effects."""
    return Scene(yaw=0.0, pitch=0.0, roll=0.0, scale=1.0, shift=(0.0, 0.0),
                 light_dir=(0.0, 0.0, 1.0), light_strength=0.2, exposure=1.0,
                 tint=(1.0, 1.0, 1.0), background="plain",
                 bg_colors=((180, 180, 180), (180, 180, 180)), occluder="none", blur=0.0,
                 noise=0.0, jpeg_quality=0, lowres=0, grey=False, gaze=(0.0, 0.0), seed=seed)


@pytest.fixture(scope="module")
def person():
    identity = sample_identity(np.random.default_rng(7), glasses_p=0.0)
    # a symmetric bald head, so that only the expression can break left-right symmetry
    return identity.__class__(**{**identity.__dict__, "hair_style": "bald", "beard": 0.0})


def test_sample_faces_shape_and_labels():
    images, labels = sample_faces(10, size=SIZE, seed=1)
    assert images.shape == (10, 3, SIZE, SIZE) and str(images.dtype) == "torch.uint8"
    assert labels[:8] == ["neutral", "happiness", "sadness", "surprise", "fear", "disgust",
                          "anger", "contempt"]
    assert labels[8:] == ["neutral", "happiness"]


def test_same_seed_same_pixels_other_seed_differs():
    a, _ = sample_faces(4, size=SIZE, seed=3)
    b, _ = sample_faces(4, size=SIZE, seed=3)
    c, _ = sample_faces(4, size=SIZE, seed=4)
    assert np.array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(a.numpy(), c.numpy())


def test_lab_faces_are_grey_and_wild_ones_mostly_colour():
    lab, _ = sample_faces(6, size=SIZE, seed=0, preset="synth-lab")
    assert (lab[:, 0] == lab[:, 1]).all() and (lab[:, 1] == lab[:, 2]).all()
    wild, _ = sample_faces(6, size=SIZE, seed=0, preset="synth-wild")
    colour = [(img[0] != img[1]).float().mean() > 0.2 for img in wild]
    assert sum(colour) >= 4


def _diff(person, aus: dict[int, float]):
    neutral = render_face(person, zero_aus(), frontal_scene(), SIZE).astype(np.int32)
    state = zero_aus()
    for au, v in aus.items():
        state[AU_INDEX[au]] = v
    moved = render_face(person, state, frontal_scene(), SIZE).astype(np.int32)
    return np.abs(moved - neutral).sum(axis=2)


# Rows of the image (fractions) around the eyes/brows and around the mouth/chin.
UPPER = slice(int(0.18 * SIZE), int(0.5 * SIZE))
LOWER = slice(int(0.55 * SIZE), int(0.95 * SIZE))
UPPER_FACE_AUS = (1, 2, 4, 5, 7, 43)
LOWER_FACE_AUS = (10, 12, 14, 15, 16, 17, 20, 23, 24, 25, 26)


@pytest.mark.parametrize("au", sorted(ACTION_UNITS))
def test_every_action_unit_changes_the_face_where_facs_says(person, au):
    d = _diff(person, {au: 1.0})
    assert d.sum() > 0, f"AU{au} changes nothing"
    if au in UPPER_FACE_AUS:
        assert d[UPPER].sum() > 2 * d[LOWER].sum(), f"AU{au} should act on the upper face"
    if au in LOWER_FACE_AUS:
        assert d[LOWER].sum() > 2 * d[UPPER].sum(), f"AU{au} should act on the lower face"


def _one_sidedness(person, state) -> float:
    """How much of the change from neutral its mirror image does not explain (0..~1)."""
    scene = frontal_scene()
    change = (render_face(person, state, scene, SIZE).astype(np.int32)
              - render_face(person, zero_aus(), scene, SIZE).astype(np.int32)).sum(axis=2)
    return float(np.abs(change - change[:, ::-1]).sum() / (2 * np.abs(change).sum()))


def test_contempt_is_one_sided_in_labels_and_pixels(person):
    style = sample_style(np.random.default_rng(0), idiosyncrasy=0.0)
    aus = sample_aus("contempt", 1.0, style, np.random.default_rng(1))
    for au in (12, 14):
        right, left = aus[AU_INDEX[au]]
        assert max(right, left) > 0.3 and min(right, left) < 0.15 * max(right, left)
    assert "R12" in facs_code(aus) or "L12" in facs_code(aus)
    happy = sample_aus("happiness", 1.0, style, np.random.default_rng(1))
    assert happy[AU_INDEX[12], RIGHT] == pytest.approx(happy[AU_INDEX[12], LEFT], rel=0.2)
    contempt, smile = _one_sidedness(person, aus), _one_sidedness(person, happy)
    assert contempt > 0.6 and smile < 0.3


def test_facs_code_by_hand():
    aus = zero_aus()
    aus[AU_INDEX[1]] = (0.5, 0.5)
    aus[AU_INDEX[12]] = (0.9, 0.05)
    aus[AU_INDEX[26]] = (0.05, 0.05)   # under the 0.1 threshold: not coded
    assert facs_code(aus) == "1C+R12E"
    assert [grade(v) for v in (0.1, 0.3, 0.5, 0.7, 0.9)] == ["A", "B", "C", "D", "E"]
