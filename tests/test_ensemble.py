"""molrg.ensemble_accuracy / verify ensemble: single probe vs soft-voting ensemble."""

from __future__ import annotations

import math

import numpy as np
import pytest

import molrg
from molrg.ensemble import EnsembleDesign


def test_ensemble_sigmas_are_two_finer_two_coarser() -> None:
    s = molrg.ensemble_sigmas(0.5)
    assert s.size == 5 and s[2] == 0.5
    assert np.allclose(s[1:] / s[:-1], math.sqrt(2))


def test_clean_labels_beat_random_labels_and_errors_cover() -> None:
    """Fully random labels (p = 1) give chance accuracy; clean ones on a separated mixture
    with means far above chance; the ensemble of one level is the single probe."""
    mix = molrg.LowRankMixture.separated(3, 2, 12, 1.0, delta=0.2, seed=0)
    res = molrg.ensemble_accuracy(mix, [0.3], label_noise=(0.0, 1.0),
                                  design=EnsembleDesign(90, 300, repeats=3), seed=1)
    assert np.array_equal(res.single, res.ensemble) and np.all(res.difference == 0)
    assert res.single[0] > 0.8
    # chance 1/3, binomial-plus-training spread: 4 errors of a 300-sample accuracy
    assert abs(res.single[1] - 1 / 3) < 4 * math.sqrt(2 / 9 / 300) + 3 * res.single_stderr[1]
    assert res.repeat_difference.shape == (3, 2)
    assert set(res.to_json()) >= {"single", "ensemble", "difference", "label_noise"}


def test_bad_input_is_refused() -> None:
    model = molrg.MoLRG(3, 2, 8, 0.2, seed=0)
    with pytest.raises(ValueError, match="label_noise"):
        molrg.ensemble_accuracy(model, [0.1, 0.2], label_noise=(0.0, 1.5))
    with pytest.raises(ValueError, match="increasing"):
        molrg.ensemble_accuracy(model, [0.2, 0.1])
    with pytest.raises(ValueError, match="repeats"):
        molrg.ensemble_accuracy(model, [0.1], design=EnsembleDesign(repeats=1))
    with pytest.raises(TypeError, match="model"):
        molrg.ensemble_accuracy(molrg.Setting(3, 2, 0.2), [0.1])
    from verify import ensemble

    with pytest.raises(ValueError, match="settings"):
        ensemble.EnsembleOptions(settings=("nope",))
