"""The schedule shape and the time-budget plan, computed by hand."""
from __future__ import annotations

import pytest

from fer_bench.pretrain.schedule import Schedule, plan_steps


def test_the_official_shape_in_fractions_of_any_run():
    # 100 epochs x 0.5 every 20 = decays at every fifth of the run, whatever its length
    long = Schedule.from_epochs(0.5, 100, 20, 0.5, 0.0, steps_per_epoch=200)
    assert long.total_steps == 20_000 and long.decay_points() == [4000, 8000, 12000, 16000]
    short = Schedule.from_epochs(0.5, 100, 20, 0.5, 0.0, steps_per_epoch=200, total_steps=1000)
    assert short.decay_points() == [200, 400, 600, 800]
    assert [short.lr(s) for s in (0, 199, 200, 399, 400, 800, 999)] == \
        [0.5, 0.5, 0.25, 0.25, 0.125, 0.5 / 16, 0.5 / 16]


def test_warmup_ramps_linearly_then_hands_over():
    s = Schedule(base_lr=0.4, total_steps=100, warmup_steps=10)
    assert s.lr(0) == pytest.approx(0.0, abs=1e-8)
    assert s.lr(5) == pytest.approx(0.2)
    assert s.lr(10) == 0.4


def test_shrinking_moves_decays_earlier_and_never_raises_the_rate():
    s = Schedule(base_lr=1.0, total_steps=1000)
    smaller = s.shrunk_to(600)
    assert smaller.decay_points() == [120, 240, 360, 480]
    assert s.shrunk_to(2000).total_steps == 1000          # never grows
    for step in range(0, 600, 7):
        assert smaller.lr(step) <= s.lr(step)


def test_plan_fits_steps_health_checks_and_the_final_save():
    # 600 s budget, 60 s gone, 20 s reserved: 520 s left. A step costs 1 s plus a 10 s
    # check every 100 steps (0.1 s a step): 520 / 1.1 = 472.7 -> 472 more steps.
    total = plan_steps(steps_done=50, elapsed_s=60, budget_s=600, step_s=1.0, eval_s=10,
                       eval_every=100, reserve_s=20, limit=10_000)
    assert total == 50 + 472
    assert plan_steps(steps_done=50, elapsed_s=60, budget_s=600, step_s=1.0, eval_s=10,
                      eval_every=100, reserve_s=20, limit=300) == 300
    # already over budget: the plan keeps what is done and adds nothing
    assert plan_steps(steps_done=50, elapsed_s=700, budget_s=600, step_s=1.0, eval_s=0,
                      eval_every=100, reserve_s=0, limit=10_000) == 50
    with pytest.raises(ValueError):
        plan_steps(steps_done=0, elapsed_s=0, budget_s=10, step_s=0, eval_s=0,
                   eval_every=1, reserve_s=0, limit=5)


def test_a_plan_grows_only_as_far_as_the_passed_decays_stay_passed():
    from dataclasses import replace

    from fer_bench.pretrain.trainer import _growth_cap
    s = Schedule(base_lr=1.0, total_steps=1000)            # decays at 200, 400, 600, 800
    assert _growth_cap(s, 150) >= 10**9                     # no decay yet: any growth
    # at step 500 two decays are passed; decay 2 of a total T sits at round(0.4 T) <= 500,
    # i.e. T <= 1251 (0.4 * 1251 = 500.4 rounds to 500)
    cap = _growth_cap(s, 500)
    assert cap == 1251
    grown = replace(s, total_steps=cap)
    assert grown.lr(500) == s.lr(500) == 0.25
    too_far = replace(s, total_steps=cap + 1)
    assert too_far.lr(500) > s.lr(500)                     # one more step would un-pass it
