"""Evaluate your own encoder next to two built-in floors, from Python, and plot it.

Run it from the repository root (it takes about a minute at the default size):

    python examples/evaluate_custom_encoder.py --out edge-vs-floors.png

It is written like a notebook: define an encoder, call ``fer_bench.evaluate``, read the
DataFrame it returns, plot from it. Each cell below would be a notebook cell (a notebook
needs no ``__main__`` guard; a script does, because rendering a larger generated preset
starts worker processes that re-import the script).
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

import torch
import torch.nn.functional as F

import fer_bench
from fer_bench.encoder import Encoder, EncoderInfo, Preprocessing


# -- 1. An encoder of your own: gradient-orientation histograms on a 4 x 4 grid ----------
class EdgeHistogram(Encoder):
    """8 gradient orientations x 4 x 4 cells of a 48-px grey face: a 128-d descriptor
    with nothing learnt. ``embed`` (sealed, in the base class) resizes, greys and
    normalises the images first, as ``info.preprocessing`` says."""

    BINS, GRID = 8, 4

    def build(self) -> torch.nn.Module:
        return torch.nn.Identity()          # no weights: the work is in forward_features

    def forward_features(self, model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
        gx = F.pad(x[..., :, 2:] - x[..., :, :-2], (1, 1, 0, 0))
        gy = F.pad(x[..., 2:, :] - x[..., :-2, :], (0, 0, 1, 1))
        magnitude = torch.hypot(gx, gy)
        angle = torch.remainder(torch.atan2(gy, gx), math.pi)          # unsigned, [0, pi)
        bins = (angle / math.pi * self.BINS).long().clamp_(max=self.BINS - 1)
        hist = torch.zeros(x.shape[0], self.BINS, *x.shape[2:], device=x.device)
        hist.scatter_(1, bins, magnitude)
        return F.adaptive_avg_pool2d(hist, self.GRID).flatten(1)


def make_edge_histogram(weights: str | None = None, device: str = "cpu") -> Encoder:
    """The factory: metadata only, nothing heavy (a factory must be cheap)."""
    info = EncoderInfo(
        name="edge-histogram", revision="o8-g4-48px",
        embed_dim=EdgeHistogram.BINS * EdgeHistogram.GRID ** 2,
        preprocessing=Preprocessing(input_size=48, channels="grey", mean=(0.5,), std=(0.5,)),
        layer="orientation histograms", weights_digest="none",
        description="Example: gradient-orientation histograms, 8 bins x 4 x 4 cells.")
    return EdgeHistogram(info, device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("edge-vs-floors.png"),
                        help="the PNG to write")
    parser.add_argument("--results-dir", type=Path, default=Path("example-results"),
                        help="where the result records go (kept: a rerun reuses them)")
    parser.add_argument("--n", type=int, default=400, help="generated faces (synth-wild)")
    parser.add_argument("--size", type=int, default=48, help="their size in pixels")
    args = parser.parse_args()

    # -- 2. Evaluate: objects and names mix; a tiny generated dataset ---------------------
    dataset = f"synth-wild:n={args.n},size={args.size}"
    scores = fer_bench.evaluate(
        [make_edge_histogram(), "pixels", "random-resnet18"],
        ["linear:Cs=0.1/1/10", "knn"], [dataset],
        results_dir=args.results_dir, seeds=[0], device="cpu", progress=False)

    # -- 3. Read the DataFrame: one row per record x metric, numbers as fractions ----------
    headline = scores[scores["headline"]]
    print(headline[["encoder", "protocol", "target", "mean", "ci_low", "ci_high", "n_test",
                    "small_test", "status"]].to_string(index=False))

    # -- 4. Plot from it ------------------------------------------------------------------
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = headline.pivot(index="encoder", columns="protocol", values="mean")
    low = headline.pivot(index="encoder", columns="protocol", values="ci_low")
    high = headline.pivot(index="encoder", columns="protocol", values="ci_high")
    fig, ax = plt.subplots(figsize=(6, 3.2))
    width = 0.8 / len(table.columns)
    for k, protocol in enumerate(table.columns):
        x = [i + k * width for i in range(len(table))]
        mean = 100 * table[protocol]
        err = [100 * (table[protocol] - low[protocol]), 100 * (high[protocol] - table[protocol])]
        ax.bar(x, mean, width, yerr=err, capsize=3, label=protocol)
    ax.set_xticks([i + width * (len(table.columns) - 1) / 2 for i in range(len(table))],
                  table.index)
    chance = 100 / headline["n_classes"].max()
    ax.axhline(chance, color="grey", linestyle="--", linewidth=1, label="chance")
    ax.set_ylabel("mean class accuracy (%)")
    ax.set_title(f"{dataset}: 95% intervals over test faces", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
