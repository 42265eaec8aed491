"""Vocabularies and method objects: every option of the package is defined once, here.

Vocabularies are tuples of the valid words (exported, used by the validators, the CLI
choices and the docs).  How an SNR is computed travels as a typed, frozen *method object*
(scipy.stats' style: ``MonteCarloMethod``, ``BootstrapMethod``): :class:`Quadrature` for
the deterministic evaluator, :class:`MonteCarlo` for the simulators.  Both validate on
construction and are recorded, fully resolved (seed and batch included), in every result.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from .validation import check_choice, check_int

__all__ = [
    "BACKENDS",
    "DENOMINATORS",
    "DTYPES",
    "ESTIMANDS",
    "FORMS",
    "INPUTS",
    "MEAN_PLACEMENTS",
    "METHODS",
    "PROBES",
    "QUADRATURE_RULES",
    "SIMULATORS",
    "MonteCarlo",
    "Quadrature",
    "resolve_method",
]

INPUTS = ("noisy", "clean")
"""``noisy``: the denoiser sees ``x_t``; ``clean``: it sees ``x0`` (sigma only tells it the level)."""
ESTIMANDS = ("ratio-of-means", "mean-of-ratios")
"""How numerator and denominator are averaged (ratio of class means, or mean of per-sample ratios)."""
DENOMINATORS = ("others", "complement")
"""``others``: the submission's CSNR, ``sum_{l!=k} ||U_l U_l^T xhat||^2``; ``complement``:
arXiv Definition 1, ``||(I - U_k U_k^T) xhat||^2``."""
SIMULATORS = ("ambient", "reduced")
"""Monte Carlo simulators: the full simulation in ``R^n``, or ``K`` chi-square energies."""
METHODS = ("auto", "quadrature", *SIMULATORS)
"""Words accepted by ``molrg.snr(method=...)``."""
QUADRATURE_RULES = ("accurate", "fast")
"""Rules of the exact evaluator (:class:`Quadrature`)."""
BACKENDS = ("numpy", "cupy", "array_api_strict")
"""Array backends (``array_api_strict`` is for testing the array-API code path)."""
DTYPES = ("float64", "float32")
"""Simulation dtypes of the Monte Carlo layer (its statistics are always float64)."""
FORMS = ("printed", "derived", "corrected")
"""Theorem 1's approximation: as printed in the paper, as its own step derives it, corrected."""
PROBES = ("bayes", "linear", "energy")
"""Probes of :func:`molrg.probe_accuracy`."""
MEAN_PLACEMENTS = ("orthogonal", "subspace")
"""Where :meth:`molrg.LowRankMixture.separated` puts the class means: along directions
orthogonal to every subspace, or inside each class's own subspace."""

Input = Literal["noisy", "clean"]
Estimand = Literal["ratio-of-means", "mean-of-ratios"]
Denominator = Literal["others", "complement"]
Form = Literal["printed", "derived", "corrected"]

DEFAULT_MEMORY_BYTES = 64 * 2**20
"""Default working-memory budget of one Monte Carlo batch (everything it keeps alive)."""
MAX_SAMPLES = 10**10
"""Largest ``samples`` accepted (about a day on one CPU core for the reduced simulator)."""


@dataclass(frozen=True)
class Quadrature:
    """Deterministic evaluation of the exact SNR (idealised MoLRG, optimal denoiser).

    Attributes
    ----------
    rule : ``"accurate"`` (default; measured relative error ~1e-15, worst 2e-13, error bounds
        <= 7e-12 over 320 random settings against an independent reference) or ``"fast"``
        (error <= 7e-12, bounds <= 3e-9; about 1.5x cheaper).  The result's ``stderr`` is
        the rule's bound on the numerical error actually achieved (:mod:`molrg.quadrature`).
    """

    rule: Literal["accurate", "fast"] = "accurate"

    def __post_init__(self) -> None:
        check_choice("rule", self.rule, QUADRATURE_RULES)

    @property
    def name(self) -> str:
        return "quadrature"

    def to_json(self) -> dict[str, Any]:
        return {"method": "quadrature", "rule": self.rule}


@dataclass(frozen=True)
class MonteCarlo:
    """Monte Carlo estimation of the SNR, with standard errors.

    Attributes
    ----------
    simulator : ``"reduced"`` (``K`` chi-square block energies per sample; exact in law for
        the optimal denoiser of the idealised MoLRG), ``"ambient"`` (the full simulation in
        ``R^n``; any model, any denoiser) or ``"auto"`` (reduced where it applies).
    samples : samples per ``sigma`` value (all classes together), in ``[2, MAX_SAMPLES]``.
    seed : ``int`` or :class:`numpy.random.SeedSequence`: one generator is built from it per
        call, so a call is reproducible for a given seed, backend and batch size.  A
        :class:`numpy.random.Generator` is accepted too and used as is (its state advances:
        calls are then not repeatable).
    batch : samples per batch; ``None`` sizes batches from ``memory``.
    backend : ``"numpy"``, ``"cupy"`` or ``"array_api_strict"``.
    dtype : simulation dtype (statistics are accumulated in float64).
    memory : working-memory budget of one batch in bytes (everything the batch keeps
        alive, for the whole sigma grid); the default batch size derives from it.
    """

    simulator: Literal["auto", "ambient", "reduced"] = "auto"
    samples: int = 100_000
    seed: int | np.random.SeedSequence | np.random.Generator | None = 0
    batch: int | None = None
    backend: str = "numpy"
    dtype: str = "float64"
    memory: int = DEFAULT_MEMORY_BYTES

    def __post_init__(self) -> None:
        check_choice("simulator", self.simulator, ("auto", *SIMULATORS))
        object.__setattr__(self, "samples", check_int("samples", self.samples, low=2,
                                                      high=MAX_SAMPLES))
        if self.seed is not None and not isinstance(self.seed, (np.random.SeedSequence,
                                                                  np.random.Generator)):
            object.__setattr__(self, "seed", check_int("seed", self.seed, low=0))
        if self.batch is not None:
            object.__setattr__(self, "batch", check_int("batch", self.batch, low=1))
        check_choice("backend", self.backend, BACKENDS)
        check_choice("dtype", self.dtype, DTYPES)
        object.__setattr__(self, "memory", check_int("memory", self.memory, low=2**16))

    @property
    def name(self) -> str:
        return self.simulator

    def replace(self, **changes: Any) -> MonteCarlo:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def generator(self) -> np.random.Generator:
        """A fresh NumPy generator from :attr:`seed` (same stream at every call)."""
        return np.random.default_rng(self.seed)

    def to_json(self) -> dict[str, Any]:
        seed: Any = self.seed
        if isinstance(seed, np.random.SeedSequence):
            seed = {"entropy": seed.entropy, "spawn_key": list(seed.spawn_key)}
        elif isinstance(seed, np.random.Generator):
            seed = "numpy.random.Generator (stateful)"
        return {"method": self.simulator, "samples": self.samples, "seed": seed,
                "batch": self.batch, "backend": self.backend, "dtype": self.dtype,
                "memory": self.memory}


def resolve_method(method: Any) -> Quadrature | MonteCarlo | None:
    """A method word or object as a method object (``None`` for ``"auto"``).

    ``"quadrature"`` -> :class:`Quadrature`; ``"reduced"``/``"ambient"`` -> :class:`MonteCarlo`
    with that simulator and default settings.
    """
    if isinstance(method, (Quadrature, MonteCarlo)):
        return method
    word = check_choice("method", method, METHODS)
    if word == "auto":
        return None
    if word == "quadrature":
        return Quadrature()
    return MonteCarlo(simulator=word)  # type: ignore[arg-type]
