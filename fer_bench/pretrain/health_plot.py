"""The curves of a pre-training run (``health.png`` next to its log and its weights):
loss terms and learning rate against steps, and the health signals of
:mod:`fer_bench.pretrain.health` with the random network's values as a dotted floor."""
from __future__ import annotations

from pathlib import Path

from fer_bench.pretrain.run_log import read_log

HEALTH_PLOT = "health.png"
_PANELS = (("effective_rank", "effective rank (centred)"),
           ("top_share", "top-direction variance share"),
           ("knn_mca", "weighted-kNN mean class acc."))


def plot_run(log_path: Path, out: Path) -> Path | None:
    """Draw the run in ``log_path`` to ``out``; None (nothing written) before any step."""
    rows = read_log(log_path)
    steps = [r for r in rows if r["event"] == "step"]
    health = [r for r in rows if r["event"] == "health"]
    if not steps and not health:
        return None
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 5, figsize=(17, 3.2), constrained_layout=True)
    ax = axes[0]
    for term in ("total", "contrastive", "ce_coarse", "instance", "ce_fine"):
        pts = [(r["global_step"], r[term]) for r in steps if term in r]
        if pts:
            ax.plot(*zip(*pts), label=term, lw=1)
    ax.set(title="loss terms", xlabel="step")
    if ax.lines:
        ax.legend(fontsize=7)
    ax = axes[1]
    if steps:
        ax.plot([r["global_step"] for r in steps], [r["lr"] for r in steps], lw=1)
    for plan in (r for r in rows if r["event"] == "plan"):
        ax.axvline(plan["planned_at_step"], color="grey", ls=":", lw=1)
    ax.set(title="learning rate (dotted: plan)", xlabel="step")
    for ax, (key, title) in zip(axes[2:], _PANELS):
        if health:
            ax.plot([r["global_step"] for r in health], [r[key] for r in health], "o-", ms=3)
            ax.axhline(health[0][key], color="grey", ls=":", lw=1, label="random network")
            ax.legend(fontsize=7)
        ax.set(title=title, xlabel="step")
    for alarm in (r for r in rows if r["event"] == "alarm"):
        axes[2].axvline(alarm["global_step"], color="red", lw=1)
    out = Path(out)
    fig.savefig(out.with_suffix(".tmp.png"), dpi=80)
    plt.close(fig)
    out.with_suffix(".tmp.png").replace(out)
    return out
