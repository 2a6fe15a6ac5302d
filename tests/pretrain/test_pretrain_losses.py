"""The CRS-CONT loss terms against numbers worked out by hand.

Two images, two views each, stacked view-major: rows (img0 v1, img1 v1, img0 v2, img1 v2)
as unit vectors at 0, 90, 60 and 180 degrees. Their dot products are
    r0.r1 = 0      r0.r2 = 1/2     r0.r3 = -1
    r1.r2 = sqrt3/2  r1.r3 = 0     r2.r3 = -1/2
and with t = 1/2 the logits z_a.z_k/t are twice that. Every anchor's loss below is written
out from the definition l_a = -w_a * mean_{p in P(a)} [z_a.z_p/t - log sum_{k!=a} exp(z_a.z_k/t)].
"""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from fer_bench.pretrain.losses import (Objective, coarse_anchor_weights, nt_xent,
                                       supervised_contrastive)
from fer_bench.vocabulary import COARSE

NEU, NEG, POS, SUR = (COARSE.index(c) for c in ("neutral", "negative", "positive", "surprise"))
R3 = math.sqrt(3)
E = math.exp


def unit(deg: float) -> list[float]:
    return [math.cos(math.radians(deg)), math.sin(math.radians(deg))]


Z = torch.tensor([unit(0), unit(90), unit(60), unit(180)], dtype=torch.float64)
T = 0.5

# log of each anchor's denominator sum_{k != a} exp(z_a.z_k / t)
LOG_DEN = [
    math.log(E(0) + E(1) + E(-2)),         # r0: r1 0, r2 1, r3 -2
    math.log(E(0) + E(R3) + E(0)),         # r1: r0 0, r2 sqrt3, r3 0
    math.log(E(1) + E(R3) + E(-1)),        # r2: r0 1, r1 sqrt3, r3 -1
    math.log(E(-2) + E(0) + E(-1)),        # r3: r0 -2, r1 0, r2 -1
]
# Positives = the twin view only (the images have different labels).
TWIN_ONLY = [-1 + LOG_DEN[0], -0 + LOG_DEN[1], -1 + LOG_DEN[2], -0 + LOG_DEN[3]]
# Positives = all three other views (the images share a label).
ALL_POSITIVE = [-(0 + 1 - 2) / 3 + LOG_DEN[0], -(0 + R3 + 0) / 3 + LOG_DEN[1],
                -(1 + R3 - 1) / 3 + LOG_DEN[2], -(-2 + 0 - 1) / 3 + LOG_DEN[3]]


def test_contrastive_term_with_different_labels_uses_the_twin_as_only_positive():
    loss = supervised_contrastive(Z, torch.tensor([0, 1, 0, 1]), temperature=T)
    assert loss.item() == pytest.approx(sum(TWIN_ONLY) / 4, rel=1e-12)


def test_contrastive_term_with_a_shared_label_averages_over_all_positives():
    loss = supervised_contrastive(Z, torch.tensor([3, 3, 3, 3]), temperature=T)
    assert loss.item() == pytest.approx(sum(ALL_POSITIVE) / 4, rel=1e-12)


def test_weight_vector_halves_negative_anchors_and_the_mean_is_plain():
    coarse = torch.tensor([NEG, NEU])               # img0 negative, img1 neutral
    labels = coarse.repeat(2)
    weights = coarse_anchor_weights(labels)
    assert weights.tolist() == [0.5, 1.0, 0.5, 1.0]
    loss = supervised_contrastive(Z, labels, temperature=T, anchor_weights=weights)
    expected = (0.5 * TWIN_ONLY[0] + TWIN_ONLY[1] + 0.5 * TWIN_ONLY[2] + TWIN_ONLY[3]) / 4
    assert loss.item() == pytest.approx(expected, rel=1e-12)


def test_all_negative_batch_costs_exactly_half_of_an_all_neutral_one():
    def crs(label):
        labels = torch.full((4,), label)
        return supervised_contrastive(Z, labels, T, coarse_anchor_weights(labels)).item()
    assert crs(NEG) == pytest.approx(0.5 * crs(NEU), rel=1e-12)
    assert crs(SUR) == pytest.approx(crs(POS), rel=1e-12)


def test_nt_xent_is_the_twin_only_case():
    assert nt_xent(Z, temperature=T).item() == pytest.approx(sum(TWIN_ONLY) / 4, rel=1e-12)


def reference_nt_xent(z1: torch.Tensor, z2: torch.Tensor, t: float) -> torch.Tensor:
    """SimCLR's NT-Xent as usually written: a (2N-1)-way cross-entropy whose target is the
    other view of the same image (Chen et al. 2020, eq. 1, averaged over all 2N anchors)."""
    z = torch.cat([F.normalize(z1, dim=1), F.normalize(z2, dim=1)])
    sim = z @ z.T / t
    sim.fill_diagonal_(float("-inf"))
    n = z1.shape[0]
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, target)


def test_simclr_mode_equals_nt_xent_reference():
    g = torch.Generator().manual_seed(0)
    z1, z2 = torch.randn(5, 16, generator=g), torch.randn(5, 16, generator=g)
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    labels = torch.tensor([0, 0, 1, 2, 1])          # labels must not matter to SimCLR
    total, terms = Objective("simclr", clean_baselines=True)({"z": z}, labels, labels)
    expected = reference_nt_xent(z1, z2, 0.07)
    assert total.item() == pytest.approx(expected.item(), rel=1e-5)
    assert set(terms) == {"contrastive", "total"}


def test_supcon_uses_fine_labels_where_crs_cont_uses_coarse_groups():
    # Three images at 0, 120 and 240 degrees (view 2 = view 1 rotated by 30 degrees).
    # Fine labels: anger, anger, sadness -> SupCon pairs only images 0 and 1; all three
    # are coarse "negative", so CRS-CONT makes every other view a positive (weight 1/2).
    deg = [0, 120, 240, 30, 150, 270]
    z = torch.tensor([unit(d) for d in deg], dtype=torch.float64)
    t = 0.5

    def anchor(a: int, positives: list[int]) -> float:
        logit = [math.cos(math.radians(deg[a] - deg[k])) / t for k in range(6)]
        log_den = math.log(sum(math.exp(logit[k]) for k in range(6) if k != a))
        return -sum(logit[p] - log_den for p in positives) / len(positives)

    image = [0, 1, 2, 0, 1, 2]
    fine_of_image = [0, 0, 1]                       # anger, anger, sadness
    supcon_pos = [[k for k in range(6) if k != a and fine_of_image[image[k]] ==
                   fine_of_image[image[a]]] for a in range(6)]
    assert supcon_pos[0] == [1, 3, 4] and supcon_pos[2] == [5]
    expected_supcon = sum(anchor(a, supcon_pos[a]) for a in range(6)) / 6
    expected_crs = sum(0.5 * anchor(a, [k for k in range(6) if k != a]) for a in range(6)) / 6

    fine = torch.tensor(fine_of_image)
    coarse = torch.tensor([NEG, NEG, NEG])
    supcon = Objective("supcon", clean_baselines=True, temperature=t)
    crs = Objective("crs-cont", temperature=t)
    assert supcon({"z": z}, fine, coarse)[0].item() == pytest.approx(expected_supcon, rel=1e-12)
    # crs-cont's first term alone (the coarse head terms are checked below)
    logits = torch.zeros(6, 4, dtype=torch.float64)
    terms = crs({"z": z, "coarse_logits": logits}, fine, coarse)[1]
    assert terms["contrastive"].item() == pytest.approx(expected_crs, rel=1e-12)


def test_coarse_ce_on_first_view_and_instance_term_and_total():
    z = Z.float()
    # Coarse logits of the four views; CE uses rows 0 and 1 (the first views) only.
    logits = torch.tensor([[2.0, 0, 0, 0], [0, 0, 1.0, 0], [9.0, 9, 9, 9], [0, 5.0, 0, 0]])
    coarse = torch.tensor([NEU, POS])
    ce = (-math.log(E(2) / (E(2) + 3)) - math.log(E(1) / (E(1) + 3))) / 2
    # Instance term: NT-Xent over the L2-normalised softmax outputs (at the objective's
    # temperature: T here, 0.07 by default).
    p = logits.softmax(1)
    q = p / p.norm(dim=1, keepdim=True)
    sims = (q @ q.T).tolist()
    twin = [2, 3, 0, 1]
    inst = sum(-sims[a][twin[a]] / T + math.log(sum(math.exp(sims[a][k] / T)
                                                       for k in range(4) if k != a))
               for a in range(4)) / 4
    total, terms = Objective("crs-cont", temperature=T)({"z": z, "coarse_logits": logits},
                                                        torch.tensor([0, 1]), coarse)
    # with temperature T the first term is the twin-only case again (different coarse
    # labels, neither negative so no weights apply)
    assert terms["contrastive"].item() == pytest.approx(sum(TWIN_ONLY) / 4, rel=1e-6)
    assert terms["ce_coarse"].item() == pytest.approx(ce, rel=1e-6)
    assert terms["instance"].item() == pytest.approx(inst, rel=1e-5)
    assert total.item() == pytest.approx(sum(TWIN_ONLY) / 4 + 1.0 * ce + 0.4 * inst, rel=1e-5)


def test_official_baselines_keep_the_coarse_terms_and_clean_ones_drop_them():
    z = Z.float()
    logits = torch.randn(4, 4, generator=torch.Generator().manual_seed(1))
    fine, coarse = torch.tensor([0, 1]), torch.tensor([NEU, POS])
    out = {"z": z, "coarse_logits": logits}
    official = Objective("simclr")(out, fine, coarse)[1]
    clean = Objective("simclr", clean_baselines=True)(out, fine, coarse)[1]
    assert set(official) == {"contrastive", "ce_coarse", "instance", "total"}
    assert official["total"].item() == pytest.approx(
        (official["contrastive"] + official["ce_coarse"] + 0.4 * official["instance"]).item())
    assert clean["total"].item() == pytest.approx(official["contrastive"].item())
    assert Objective("supcon", True).describe()["terms"] == {"contrastive": 1.0}
    assert Objective("crs-cont").describe()["anchor_weights"] == {"rule": "coarse negative",
                                                                   "weight": 0.5}


def test_the_weight_vector_and_its_ablation():
    from fer_bench.pretrain.losses import supervised_contrastive
    g = torch.Generator().manual_seed(5)
    z = torch.nn.functional.normalize(torch.randn(8, 6, generator=g), dim=1)
    fine = torch.tensor([0, 1, 1, 2])
    coarse = torch.tensor([NEU, NEG, NEG, POS])
    out = {"z": z, "coarse_logits": torch.randn(8, 4, generator=g)}
    halve = torch.tensor([1.0, 0.5, 0.5, 1.0]).repeat(2)
    # crs-cont: negative anchors halved; "off": every anchor 1.0
    on = Objective("crs-cont")(out, fine, coarse)[1]["contrastive"]
    off = Objective("crs-cont", weight_vector="off")(out, fine, coarse)[1]["contrastive"]
    assert on.item() == pytest.approx(
        supervised_contrastive(z, coarse.repeat(2), anchor_weights=halve).item(), rel=1e-6)
    assert off.item() == pytest.approx(supervised_contrastive(z, coarse.repeat(2)).item(),
                                       rel=1e-6)
    # the official SupCon halves fine label id 1 (here rows 1 and 2); clean: no weights
    sup = Objective("supcon")(out, fine, coarse)[1]["contrastive"]
    assert sup.item() == pytest.approx(
        supervised_contrastive(z, fine.repeat(2), anchor_weights=halve).item(), rel=1e-6)
    assert Objective("supcon").describe()["anchor_weights"]["rule"] == "fine id 1"
    clean = Objective("supcon", clean_baselines=True)(out, fine, coarse)[1]["contrastive"]
    assert clean.item() == pytest.approx(supervised_contrastive(z, fine.repeat(2)).item(),
                                         rel=1e-6)
    assert Objective("supcon", clean_baselines=True).describe()["anchor_weights"] is None
    with pytest.raises(ValueError, match="weight vector"):
        Objective("crs-cont", weight_vector="half")


def test_supervised_is_cross_entropy_on_fine_labels():
    logits = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 3.0]])
    loss, _ = Objective("supervised")({"fine_logits": logits}, torch.tensor([0, 2]),
                                      torch.tensor([NEU, NEU]))
    expected = (-math.log(E(1) / (E(1) + 2)) - math.log(E(3) / (E(3) + 2))) / 2
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_stable_at_t007_with_identical_bf16_embeddings():
    z = F.normalize(torch.ones(8, 128), dim=1).bfloat16().requires_grad_(True)
    labels = torch.tensor([0, 1, 2, 3] * 2)
    loss = supervised_contrastive(z, labels, 0.07, coarse_anchor_weights(labels))
    loss.backward()
    # all logits equal: every anchor's loss is log(7) (7 other views, equal weight)
    w = coarse_anchor_weights(labels).mean().item()
    assert loss.item() == pytest.approx(w * math.log(7), rel=1e-2)
    assert torch.isfinite(z.grad).all()


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="unknown pre-training method"):
        Objective("byol")
