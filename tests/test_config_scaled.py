"""Config.scaled: how a shortened run's schedules scale (the quick profile's 5 % of the epochs)."""
import math

import pytest

from alukit.training import config as C
from alukit.training.config import CONFIG_NAMES, VARIANTS, make_config


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_full_run_is_unchanged(variant):
    for name in CONFIG_NAMES:
        cfg = make_config(name, variant)
        assert cfg.scaled(cfg.epochs) is cfg


@pytest.mark.parametrize("scale", [0.02, 0.05, 0.1, 0.2, 0.5, 0.9])
def test_every_configuration_scales_to_a_valid_run(scale):
    for variant in VARIANTS:
        for name in CONFIG_NAMES:
            cfg = make_config(name, variant)
            out = cfg.scaled(max(1, round(cfg.epochs * scale)))  # validates
            assert 1 <= out.lr_step <= out.epochs and 0 <= out.lr_from < out.epochs
            assert all(1 <= k <= out.epochs for k in out.prune_epochs)


def test_learning_rate_and_prunes_shrink_by_sqrt_f_dsr_by_f():
    dense, l1, mp, dsr = (make_config(n).scaled(e) for n, e in (("dense", 5), ("l1", 5), ("mp", 5), ("dsr", 10)))
    g = math.sqrt(0.05)
    assert dense.lr_step == round(10 * g) == 2 and l1.lr_step == round(20 * g) == 4
    assert mp.prune_epochs == (2, 3, 4, 5)  # four prunes kept, the first after round(10·√f) epochs
    assert mp.lr_from == 4  # round(40·√f) = 9, kept inside the run
    assert dsr.dsr_every == 1 and dsr.swa_anneal_epochs == 1  # 25·f, 5·f (at least one epoch)
    assert dsr.dsr_epochs == (5, 6, 7)  # the released row's three reallocations after 101·f (rounded) epochs, every 25·f
    committed = make_config("dsr", **C.COMMITTED_DSR_READING).scaled(10)
    assert committed.dsr_epochs == (1, 2, 3, 4, 5)  # the committed script's five, every 25·f epochs
    ten = make_config("mp").scaled(10)  # faithful prunes after (11, 21, 31, 41) · √0.1 → 3, 7, 10 → kept distinct
    assert ten.prune_epochs == (3, 7, 9, 10) and ten.lr_step == 3
    assert make_config("mp", "corrected").scaled(10).prune_epochs == (3, 6, 9, 10)  # (10, 20, 30, 40) · √0.1


def test_prunes_collapse_only_when_the_run_is_shorter_than_their_number():
    assert make_config("mp").scaled(2).prune_epochs == (1, 2)
    assert make_config("mp").scaled(4).prune_epochs == (1, 2, 3, 4)
