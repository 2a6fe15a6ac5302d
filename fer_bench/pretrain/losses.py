"""The CRS-CONT objective and its baselines, as small tensor functions.

Everything follows docs/crs-cont.md (from the authors' public training code,
github.com/hangyu94/CRS-CONT, itself a modified SupContrast). Views are stacked the way
SupContrast stacks them: rows ``0..N-1`` are every image's first view, rows ``N..2N-1``
the second views in the same order, so row ``a`` and row ``a + N`` are twins.

All reductions run in float32 (autocast may hand us bf16 embeddings) with the self
similarity masked out and ``logsumexp`` for the denominator, so nothing overflows at
t = 0.07, where logits reach +-14.3.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from fer_bench.vocabulary import COARSE

TEMPERATURE = 0.07                  # SupContrast / CRS-CONT default, used for every term
NEGATIVE_ID = COARSE.index("negative")
NEGATIVE_WEIGHT = 0.5               # the paper's "weight vector": negative anchors count half
CE_WEIGHT = 1.0
INSTANCE_WEIGHT = 0.4
METHODS = ("crs-cont", "supcon", "simclr", "supervised")


def supervised_contrastive(z: torch.Tensor, labels: torch.Tensor,
                           temperature: float = TEMPERATURE,
                           anchor_weights: torch.Tensor | None = None) -> torch.Tensor:
    """(Weighted) supervised-contrastive loss over stacked views (Khosla et al. 2020, L_out).

    ``z`` (V, D) L2-normalised, ``labels`` (V,). For anchor a, positives are all *other*
    rows with a's label, the denominator all other rows:
    ``l_a = -w_a * mean_{p in P(a)} [z_a.z_p/t - log sum_{k != a} exp(z_a.z_k/t)]``.
    Returns the plain mean of ``l_a`` over all V anchors (not divided by sum of weights).
    Every anchor needs at least one positive (its twin view guarantees one).
    """
    z = z.float() if z.dtype in (torch.float16, torch.bfloat16) else z
    n = z.shape[0]
    self_mask = torch.eye(n, dtype=torch.bool, device=z.device)
    logits = (z @ z.T / temperature).masked_fill(self_mask, float("-inf"))
    log_prob = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    positives = (labels[:, None] == labels[None, :]) & ~self_mask
    n_pos = positives.sum(1)
    if bool((n_pos == 0).any()):
        raise ValueError("an anchor has no positive: stack both views of every image")
    mean_log_prob_pos = log_prob.masked_fill(~positives, 0.0).sum(1) / n_pos
    loss = -mean_log_prob_pos
    if anchor_weights is not None:
        loss = loss * anchor_weights.to(loss.dtype)
    return loss.mean()


def nt_xent(z: torch.Tensor, temperature: float = TEMPERATURE) -> torch.Tensor:
    """NT-Xent (SimCLR, Chen et al. 2020) over stacked views: each image is its own class."""
    n_images = z.shape[0] // 2
    instance = torch.arange(n_images, device=z.device).repeat(2)
    return supervised_contrastive(z, instance, temperature)


def coarse_anchor_weights(coarse: torch.Tensor) -> torch.Tensor:
    """w_a = 0.5 for coarse 'negative' anchors, else 1.0."""
    return torch.where(coarse == NEGATIVE_ID, NEGATIVE_WEIGHT, 1.0).float()


def label_one_anchor_weights(labels: torch.Tensor) -> torch.Tensor:
    """w_a = 0.5 for anchors whose label id is 1, else 1.0: the authors' code halves
    "label 1" whatever labels it is given, so its SupCon halves fine class id 1."""
    return torch.where(labels == 1, NEGATIVE_WEIGHT, 1.0).float()


WEIGHT_VECTORS = ("official", "off")


@dataclass(frozen=True)
class Objective:
    """Which terms a method uses. ``clean_baselines`` drops the coarse CE and instance
    terms from SimCLR / SupCon (the official script keeps them for every method)."""

    method: str = "crs-cont"
    clean_baselines: bool = False
    weight_vector: str = "official"      # "off": every anchor weighs 1.0 (the ablation)
    temperature: float = TEMPERATURE
    ce_weight: float = CE_WEIGHT
    instance_weight: float = INSTANCE_WEIGHT

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown pre-training method {self.method!r}; one of {METHODS}")
        if self.weight_vector not in WEIGHT_VECTORS:
            raise ValueError(f"unknown weight vector {self.weight_vector!r}; one of "
                             f"{WEIGHT_VECTORS}")

    @property
    def anchor_weighting(self) -> str | None:
        """Which anchors the contrastive term halves: "coarse negative" (CRS-CONT),
        "fine id 1" (the official SupCon baseline), or None (no weights)."""
        if self.weight_vector == "off":
            return None
        if self.method == "crs-cont":
            return "coarse negative"
        if self.method == "supcon" and not self.clean_baselines:
            return "fine id 1"
        return None

    @property
    def views(self) -> int:
        return 1 if self.method == "supervised" else 2

    @property
    def uses_coarse_head(self) -> bool:
        return self.method == "crs-cont" or (self.method in ("supcon", "simclr")
                                             and not self.clean_baselines)

    @property
    def uses_fine_labels(self) -> bool:
        return self.method in ("supcon", "supervised")

    def describe(self) -> dict:
        """Loss weights as recorded in exported metadata."""
        d = {"method": self.method, "clean_baselines": self.clean_baselines}
        if self.method == "supervised":
            return d | {"terms": {"ce_fine": 1.0}}
        terms = {"contrastive": 1.0}
        if self.uses_coarse_head:
            terms |= {"ce_coarse": self.ce_weight, "instance": self.instance_weight}
        d |= {"terms": terms, "temperature": self.temperature,
              "weight_vector": self.weight_vector,
              "anchor_weights": ({"rule": self.anchor_weighting, "weight": NEGATIVE_WEIGHT}
                                 if self.anchor_weighting else None)}
        return d

    def __call__(self, out: dict[str, torch.Tensor], fine: torch.Tensor,
                 coarse: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Total loss and its detached terms. ``out`` holds the model outputs for the
        stacked views (``z``, ``coarse_logits``) or, for ``supervised``, ``fine_logits``."""
        if self.method == "supervised":
            ce = F.cross_entropy(out["fine_logits"].float(), fine)
            return ce, {"ce_fine": ce.detach(), "total": ce.detach()}
        z = out["z"]
        n = fine.shape[0]
        if self.method == "crs-cont":
            labels2 = coarse.repeat(2)
            weights = coarse_anchor_weights(labels2) if self.anchor_weighting else None
            term1 = supervised_contrastive(z, labels2, self.temperature, weights)
        elif self.method == "supcon":
            labels2 = fine.repeat(2)
            weights = label_one_anchor_weights(labels2) if self.anchor_weighting else None
            term1 = supervised_contrastive(z, labels2, self.temperature, weights)
        else:
            term1 = nt_xent(z, self.temperature)
        terms = {"contrastive": term1.detach()}
        total = term1
        if self.uses_coarse_head:
            logits = out["coarse_logits"].float()
            ce = F.cross_entropy(logits[:n], coarse)
            inst = nt_xent(F.normalize(logits.softmax(1), dim=1), self.temperature)
            total = total + self.ce_weight * ce + self.instance_weight * inst
            terms |= {"ce_coarse": ce.detach(), "instance": inst.detach()}
        terms["total"] = total.detach()
        return total, terms
