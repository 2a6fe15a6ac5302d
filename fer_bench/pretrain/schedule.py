"""The learning-rate schedule and the plan that fits a run into a time budget.

The official CRS-CONT schedule is a step decay: lr 0.5 (batch 128), x0.5 every 20 of 100
epochs, i.e. at every fifth of the run. It is kept here as a *shape*, in fractions of the
run's total steps, so a run of any length gets the same five plateaus: a 100-epoch run
decays at epochs 20, 40, 60, 80, a budgeted run of 4,000 steps at steps 800, 1600, ...

With a time budget the total is not known in advance. The trainer runs at the base rate
for a minute or two, measures its step rate, and then fixes the total
(:func:`plan_steps`) so that the remaining steps, the health evaluations and the final
checkpoint all fit. If the machine later slows down (another job starts), the total may
only shrink (:meth:`Schedule.shrunk_to`): decay points then move earlier, so the learning
rate never rises again.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Schedule:
    base_lr: float
    total_steps: int
    decay_fraction: float = 0.2       # decay at every fifth of the run (20 of 100 epochs)
    gamma: float = 0.5
    warmup_steps: int = 0

    def __post_init__(self) -> None:
        if self.total_steps < 1:
            raise ValueError(f"a schedule needs at least one step, got {self.total_steps}")
        if not 0 < self.decay_fraction:
            raise ValueError(f"decay_fraction must be positive, got {self.decay_fraction}")

    @classmethod
    def from_epochs(cls, lr: float, epochs: int, lr_step: int, gamma: float,
                    warmup_epochs: float, steps_per_epoch: int,
                    total_steps: int | None = None) -> Schedule:
        """The schedule of ``epochs`` epochs, decaying every ``lr_step`` of them, squeezed
        (same shape) into ``total_steps`` when given."""
        total = total_steps or epochs * steps_per_epoch
        return cls(base_lr=lr, total_steps=total, decay_fraction=lr_step / epochs,
                   gamma=gamma, warmup_steps=round(warmup_epochs * steps_per_epoch))

    def decay_points(self) -> list[int]:
        """Steps at which the rate is multiplied by ``gamma`` (within the run)."""
        points, i = [], 1
        while (p := round(i * self.decay_fraction * self.total_steps)) < self.total_steps:
            points.append(p)
            i += 1
        return points

    def lr(self, step: int) -> float:
        decays = sum(1 for p in self.decay_points() if step >= p)
        lr = self.base_lr * self.gamma ** decays
        if self.warmup_steps > 0 and step < self.warmup_steps:
            lr *= (step + 1e-8) / self.warmup_steps
        return lr

    def shrunk_to(self, total_steps: int) -> Schedule:
        """The same shape over fewer steps (never more: the rate must not rise again)."""
        return replace(self, total_steps=max(1, min(self.total_steps, int(total_steps))))


def plan_steps(*, steps_done: int, elapsed_s: float, budget_s: float, step_s: float,
               eval_s: float, eval_every: int, reserve_s: float, limit: int) -> int:
    """The largest total step count whose remaining steps, plus one health evaluation every
    ``eval_every`` steps, plus ``reserve_s`` (final checkpoint), end by ``budget_s``.
    At least ``steps_done`` (a plan never undoes work), at most ``limit``."""
    left = budget_s - elapsed_s - reserve_s
    if step_s <= 0:
        raise ValueError(f"step time must be positive, got {step_s}")
    per_step = step_s + (eval_s / eval_every if eval_every > 0 else 0.0)
    total = steps_done + max(0, math.floor(left / per_step))
    return max(steps_done, min(limit, total))
