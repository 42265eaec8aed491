"""Feature ensembling across noise levels under label noise (the paper's Appendix B.4).

A linear probe (standardised multinomial logistic regression) is trained on a denoiser's
features ``xhat = f(x0 + sigma eps, sigma)`` at one noise level, with a fraction ``p`` of
the training labels corrupted; it is tested on fresh samples with their true labels.  The
ensemble trains one such probe at each of several noise levels (the paper: the best one,
two finer and two coarser) and soft-votes: the class of the largest mean predicted
probability.

Label noise ``p``: each training label is, with probability ``p``, replaced by a class
drawn uniformly from all ``K`` (so it stays correct with probability ``1 - p + p / K``);
the replaced set is nested in ``p`` (one uniform per sample, compared with ``p``), and
every noise level shares the same clean samples and noise draws (common random numbers),
so differences between levels and between single probe and ensemble are paired.

Errors: ``repeats`` independent repetitions (fresh training and test sets); every
accuracy is the mean over repetitions with the standard error of that mean (training-set
variability included).  ``difference``: ensemble minus single probe, paired per repetition.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from .denoisers import posterior_mean
from .models import check_model
from .validation import ParameterError, ParameterTypeError, check_int, check_real, check_sigma

__all__ = ["LABEL_NOISE", "EnsembleDesign", "EnsembleResult", "ensemble_accuracy",
           "ensemble_sigmas"]

LABEL_NOISE = (0.0, 0.2, 0.4, 0.6, 0.8)
"""The paper's label-noise levels (fraction of training labels corrupted)."""


@dataclass(frozen=True)
class EnsembleResult:
    """Accuracies of the single probe and the ensemble per label-noise level.

    Attributes
    ----------
    sigma : ``(L,)`` the ensemble's noise levels; ``centre`` the single probe's index.
    label_noise : ``(F,)`` label-noise levels.
    single, single_stderr : ``(F,)`` the probe at ``sigma[centre]``.
    ensemble, ensemble_stderr : ``(F,)`` the soft-voting ensemble over all ``sigma``.
    difference, difference_stderr : ``(F,)`` ensemble minus single, paired.
    per_sigma, per_sigma_stderr : ``(F, L)`` each level's probe alone.
    repeats, train_samples, test_samples : the design.
    repeat_difference : ``(repeats, F)`` ensemble minus single per repetition (for paired
        contrasts between label-noise levels).
    """

    sigma: np.ndarray
    centre: int
    label_noise: np.ndarray
    single: np.ndarray
    single_stderr: np.ndarray
    ensemble: np.ndarray
    ensemble_stderr: np.ndarray
    difference: np.ndarray
    difference_stderr: np.ndarray
    per_sigma: np.ndarray
    per_sigma_stderr: np.ndarray
    repeats: int
    train_samples: int
    test_samples: int
    repeat_difference: np.ndarray

    def to_json(self) -> dict[str, Any]:
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v)
                for k, v in self.__dict__.items()}


def ensemble_sigmas(centre: float, *, factor: float = math.sqrt(2.0), each_side: int = 2
                    ) -> np.ndarray:
    """``centre * factor^j`` for ``j = -each_side .. each_side`` (the paper: two finer, two
    coarser).

    Examples
    --------
    >>> import molrg
    >>> molrg.ensemble_sigmas(0.5, factor=2.0, each_side=1)
    array([0.25, 0.5 , 1.  ])
    """
    c = check_sigma(centre, "centre")
    if np.ndim(c) != 0:
        raise ParameterError(f"centre={centre!r} must be one positive noise level")
    centre = float(c)
    factor = check_real("factor", factor, low=1.0, high=100.0, open_low=True)
    each_side = check_int("each_side", each_side, low=0, high=50)
    return centre * factor ** np.arange(-each_side, each_side + 1, dtype=np.float64)


@dataclass(frozen=True)
class EnsembleDesign:
    """The design of :func:`ensemble_accuracy`: sample sizes, repetitions and the probe's
    penalty.

    Parameters
    ----------
    train_samples, test_samples : per repetition (class-balanced); at least ``2 K`` and
        ``K`` for a model of ``K`` classes (checked by :func:`ensemble_accuracy`).
    repeats : independent repetitions (``>= 2``, for the standard errors).
    C : inverse L2 penalty of the logistic regression.

    Examples
    --------
    >>> from molrg.ensemble import EnsembleDesign
    >>> EnsembleDesign(train_samples=40, repeats=2)
    EnsembleDesign(train_samples=40, test_samples=6000, repeats=2, C=1.0)
    """

    train_samples: int = 600
    test_samples: int = 6000
    repeats: int = 10
    C: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "train_samples",
                           check_int("train_samples", self.train_samples, low=4, high=10**7))
        object.__setattr__(self, "test_samples",
                           check_int("test_samples", self.test_samples, low=2, high=10**8))
        object.__setattr__(self, "repeats", check_int("repeats", self.repeats, low=2, high=10**4))
        object.__setattr__(self, "C", check_real("C", self.C, low=0.0, open_low=True))


def ensemble_accuracy(model: Any, sigma: Any, /, *, denoiser: Any = None, centre: int | None = None,
                      label_noise: Any = LABEL_NOISE, design: EnsembleDesign | None = None,
                      seed: int = 0) -> EnsembleResult:
    """Single linear probe at ``sigma[centre]`` vs the soft-voting ensemble over ``sigma``.

    Parameters
    ----------
    model : an ambient model (:class:`~molrg.MoLRG` or :class:`~molrg.LowRankMixture`):
        the data.
    sigma : 1-D increasing noise levels of the ensemble (e.g. :func:`ensemble_sigmas`).
    denoiser : ``None`` (the model's optimal denoiser, :func:`molrg.posterior_mean`) or a
        callable ``(x_t, sigma) -> xhat``; its ``(m, n)`` output is the feature.
    centre : index of the single probe's level (default: the middle).
    label_noise : fractions in ``[0, 1]`` of corrupted training labels.
    design : :class:`EnsembleDesign` (sample sizes, repetitions, the probe's ``C``;
        default ``EnsembleDesign()``).
    seed : the seed of everything.

    Examples
    --------
    Two clusters with separated means; the single probe sits at the middle level
    (``sigma = 1``); both are well above chance (``1/K = 1/2``) with or without 40% of
    the training labels corrupted:

    >>> import numpy as np
    >>> import molrg
    >>> from molrg.ensemble import EnsembleDesign
    >>> data = molrg.LowRankMixture.separated(2, 1, 4, 2.0, delta=0.5, seed=0)
    >>> res = molrg.ensemble_accuracy(data, [0.5, 1.0, 2.0], label_noise=[0.0, 0.4],
    ...                               design=EnsembleDesign(40, 200, repeats=2))
    >>> res.per_sigma.shape  # (label-noise levels, noise levels)
    (2, 3)
    >>> bool(np.all(res.single == res.per_sigma[:, 1])), bool(np.all(res.ensemble > 0.5))
    (True, True)
    >>> bool(np.allclose(res.difference, res.ensemble - res.single))
    True
    """
    model, sig, centre, noise, design, seed = _iv(model, sigma, denoiser, centre, label_noise,
                                                  design, seed)
    F, L, repeats = noise.size, sig.size, design.repeats

    def feats(x: np.ndarray, s: float) -> np.ndarray:
        out = posterior_mean(model, x, s) if denoiser is None else denoiser(x, s)
        return np.asarray(out, dtype=np.float64)

    single = np.empty((repeats, F))
    ens = np.empty((repeats, F))
    each = np.empty((repeats, F, L))
    for r, ss in enumerate(np.random.SeedSequence(seed).spawn(repeats)):
        proba, y_te = _repetition(model, feats, sig, noise, design, np.random.default_rng(ss))
        for i in range(F):
            each[r, i] = np.mean(np.argmax(proba[i], axis=-1) == y_te[None, :], axis=-1)
            single[r, i] = each[r, i, centre]
            ens[r, i] = np.mean(np.argmax(proba[i].mean(axis=0), axis=-1) == y_te)
    root = math.sqrt(repeats)

    def mean_se(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return a.mean(axis=0), a.std(axis=0, ddof=1) / root

    s_m, s_e = mean_se(single)
    e_m, e_e = mean_se(ens)
    d_m, d_e = mean_se(ens - single)
    p_m, p_e = mean_se(each)
    return EnsembleResult(sig, centre, noise, s_m, s_e, e_m, e_e, d_m, d_e, p_m, p_e, repeats,
                          design.train_samples, design.test_samples, ens - single)


def _iv(model: Any, sigma: Any, denoiser: Any, centre: Any, label_noise: Any, design: Any,
        seed: Any) -> tuple[Any, np.ndarray, int, np.ndarray, EnsembleDesign, int]:
    model = check_model(model, ambient=True)
    sig = np.atleast_1d(check_sigma(sigma)).astype(np.float64)
    if sig.ndim != 1 or np.any(np.diff(sig) <= 0):
        raise ParameterError("sigma must be 1-D and increasing")
    centre = sig.size // 2 if centre is None else check_int("centre", centre, low=0,
                                                             high=sig.size - 1)
    try:
        _raw = np.asarray(label_noise)
        if _raw.dtype.kind not in "iuf":
            raise TypeError
    except (TypeError, ValueError):
        raise ParameterTypeError("label_noise must be real numbers") from None
    noise = np.atleast_1d(np.asarray(label_noise, dtype=np.float64))
    if noise.ndim != 1 or noise.size < 1 or not np.all((noise >= 0) & (noise <= 1)):
        raise ParameterError(f"label_noise={label_noise!r}; valid: fractions in [0, 1]")
    design = EnsembleDesign() if design is None else design
    if not isinstance(design, EnsembleDesign):
        raise ParameterTypeError(f"design={design!r} must be None or a "
                                 "molrg.ensemble.EnsembleDesign")
    K = model.K
    if design.train_samples < 2 * K or design.test_samples < K:
        raise ParameterError(f"design has train_samples={design.train_samples}, test_samples="
                             f"{design.test_samples}; valid: at least 2 K = {2 * K} and K = {K}")
    seed = check_int("seed", seed, low=0, high=2**63 - 1)
    if denoiser is not None and not callable(denoiser):
        raise ParameterTypeError(f"denoiser={denoiser!r} must be None or a callable (x, sigma)")
    return model, sig, centre, noise, design, seed


def _repetition(model: Any, feats: Any, sig: np.ndarray, noise: np.ndarray,
                design: EnsembleDesign, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One repetition: fresh training and test sets; the ``(F, L, m_test, K)`` class
    probabilities of every (label-noise, sigma) probe and the test labels."""
    K, train_samples = model.K, design.train_samples
    x_tr, y_tr = _balanced(model, train_samples, rng)
    x_te, y_te = _balanced(model, design.test_samples, rng)
    e_tr = rng.standard_normal(x_tr.shape)
    e_te = rng.standard_normal(x_te.shape)
    u = rng.random(train_samples)
    random_label = rng.integers(0, K, train_samples)
    proba = np.zeros((noise.size, sig.size, design.test_samples, K))
    for j, s in enumerate(sig):
        f_tr, f_te = feats(x_tr + s * e_tr, float(s)), feats(x_te + s * e_te, float(s))
        for i, p in enumerate(noise):
            labels = np.where(u < p, random_label, y_tr)
            proba[i, j] = _fit_predict(f_tr, labels, f_te, K, design.C)
    return proba, y_te


def _balanced(model: Any, m: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``m`` clean samples, classes as equal as possible (shuffled)."""
    mix = model.to_mixture()
    K = model.K
    counts = [m // K + (1 if k < m % K else 0) for k in range(K)]
    xs, ys = [], []
    for k, c in enumerate(counts):
        if c:
            xs.append(np.asarray(mix.sample_class(k, c, rng), dtype=np.float64))
            ys.append(np.full(c, k))
    x0, y = np.concatenate(xs), np.concatenate(ys)
    order = rng.permutation(m)
    return x0[order], y[order]


def _fit_predict(f_tr: np.ndarray, labels: np.ndarray, f_te: np.ndarray, K: int,
                 C: float) -> np.ndarray:
    """Class probabilities ``(m_test, K)`` of a standardised logistic regression (a class
    absent from the labels gets probability 0)."""
    # scikit-learn is deferred (tests/test_architecture.py DEFERRED): importing it costs
    # ~0.5 s and pulls in scipy.stats, which fails while torch is stubbed out as absent
    # (tests/test_train.py), so ``from molrg import *`` must not import it
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    clf = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=500))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(f_tr, labels)
    out = np.zeros((f_te.shape[0], K))
    out[:, clf.classes_] = clf.predict_proba(f_te)
    return out
