"""Vocabularies and method objects: every option of the package is defined once, here.

Vocabularies are tuples of the valid words (exported, used by the validators, the CLI
choices and the docs).  How an SNR is computed travels as a typed, frozen *method object*
(scipy.stats' style: ``MonteCarloMethod``, ``BootstrapMethod``): :class:`Quadrature` for
the deterministic evaluator, :class:`MonteCarlo` for the simulators.  Both validate on
construction and are recorded, fully resolved (seed and batch included), in every result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Literal

import numpy as np

from .validation import ParameterError, ParameterTypeError, check_choice, check_int

__all__ = [
    "BACKENDS",
    "DEFAULT_MEMORY_BYTES",
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
    "Auto",
    "Capabilities",
    "Method",
    "MonteCarlo",
    "Quadrature",
    "resolve_method",
    "rows_within",
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
"""The one default working-memory budget (bytes) of the package's batched computations:
one Monte Carlo batch of :func:`molrg.snr` (everything it keeps alive), one chunk of the
mixture posterior, one batch of :func:`molrg.probe_accuracy` (an eighth of it for the
reduced probe's chi-square draws).  On a GPU the simulators scale the default to the
device (:func:`molrg._backend.memory_budget`).  Batch sizes follow from it through
:func:`rows_within`, and with them the random streams: changing it changes seeded
numbers."""


def rows_within(memory: int, per_row: int, *, low: int = 1, high: int | None = None) -> int:
    """The memory-budget rule: how many rows of ``per_row`` bytes fit in ``memory`` bytes,
    at least ``low`` (and at most ``high``).  Every batch and chunk size of the Monte
    Carlo layer is this function of a budget (by default :data:`DEFAULT_MEMORY_BYTES`)."""
    rows = max(low, memory // per_row)
    return rows if high is None else min(rows, high)
MAX_SAMPLES = 10**10
"""Largest ``samples`` accepted (about a day on one CPU core for the reduced simulator)."""


@dataclass(frozen=True)
class Capabilities:
    """What a model and denoiser allow for one estimate (asked of the objects, once, by
    :func:`molrg.plan.make_plan`); the method objects answer :meth:`Method.applies` from it.

    Attributes
    ----------
    exact : a deterministic evaluator applies (the idealised MoLRG's optimal denoiser, and
        an estimand it covers).
    reduced : the reduced simulator (``K`` chi-square energies) is exact in law.
    ambient : the model has ``n`` and bases (it can be sampled in ``R^n``).
    """

    exact: bool
    reduced: bool
    ambient: bool

    def valid(self) -> list[str]:
        """The method words that apply, in the order ``"auto"`` tries them."""
        return [w for w, ok in (("quadrature", self.exact), ("reduced", self.reduced),
                                ("ambient", self.ambient)) if ok]


@dataclass(frozen=True)
class Method:
    """Base of the method objects (as scipy.stats' ``ResamplingMethod`` is of
    ``MonteCarloMethod`` and ``BootstrapMethod``): every estimate (:func:`molrg.snr`,
    :func:`molrg.snr_peak`, :func:`molrg.probe_accuracy`) takes one.

    A method has a :attr:`name`, says whether it is ``exact`` (deterministic, ``stderr`` a
    bound on the numerical error) or a simulation, answers :meth:`applies` for the
    :class:`Capabilities` of a model and denoiser, and records itself with
    :meth:`to_json`.  A new method subclasses this and adds ``run(plan)`` (see
    ``docs/contributing.md``, "Add an SNR method").
    """

    exact: ClassVar[bool] = False
    monte_carlo: ClassVar[bool] = False
    """Whether the method is a simulation with ``samples``, ``seed``, ``backend``, ... (the
    fields of :class:`MonteCarlo`)."""

    @property
    def name(self) -> str:
        raise NotImplementedError

    def applies(self, caps: Capabilities) -> bool:
        """Whether this method can evaluate an estimate with these capabilities."""
        raise NotImplementedError

    def resolved(self, caps: Capabilities) -> Method:
        """This method with its own ``"auto"`` choices made for ``caps``."""
        return self

    def choose(self, caps: Capabilities, default: MonteCarlo) -> Method:
        """The method this one stands for with ``caps``: itself, except :class:`Auto`
        (``default`` is the estimate's Monte Carlo settings when ``Auto`` has none)."""
        return self

    def with_progress(self, progress: Callable[[int, int], None] | None) -> Method:
        """This method reporting ``progress(done, total)`` while it runs: itself for a
        method without progress (quadrature); :class:`MonteCarlo` reports per batch."""
        return self

    def to_json(self) -> dict[str, Any]:
        return {"method": self.name}


@dataclass(frozen=True)
class Quadrature(Method):
    """Deterministic evaluation of the exact SNR (idealised MoLRG, optimal denoiser).

    Attributes
    ----------
    rule : ``"accurate"`` (default; measured relative error ~1e-15, worst 2e-13, error bounds
        <= 7e-12 over 320 random settings against an independent reference) or ``"fast"``
        (error <= 7e-12, bounds <= 3e-9; about 1.5x cheaper).  The result's ``stderr`` is
        the rule's bound on the numerical error actually achieved (:mod:`molrg.quadrature`).
    """

    rule: Literal["accurate", "fast"] = "accurate"
    exact: ClassVar[bool] = True

    def __post_init__(self) -> None:
        check_choice("rule", self.rule, QUADRATURE_RULES)

    @property
    def name(self) -> str:
        return "quadrature"

    def applies(self, caps: Capabilities) -> bool:
        return caps.exact

    def to_json(self) -> dict[str, Any]:
        return {"method": "quadrature", "rule": self.rule}


@dataclass(frozen=True)
class MonteCarlo(Method):
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
    progress : optional callback ``progress(done, total)`` after each Monte Carlo batch
        (not part of the settings: not compared, hashed or recorded by :meth:`to_json`).
    """

    simulator: Literal["auto", "ambient", "reduced"] = "auto"
    samples: int = 100_000
    seed: int | np.random.SeedSequence | np.random.Generator | None = 0
    batch: int | None = None
    backend: str = "numpy"
    dtype: str = "float64"
    memory: int = DEFAULT_MEMORY_BYTES
    progress: Callable[[int, int], None] | None = field(default=None, compare=False, repr=False)
    monte_carlo: ClassVar[bool] = True

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
        if self.progress is not None and not callable(self.progress):
            raise ParameterTypeError(f"progress={self.progress!r} must be None or a "
                                     "callable(done, total)")

    @property
    def name(self) -> str:
        return self.simulator

    def applies(self, caps: Capabilities) -> bool:
        if self.simulator == "auto":
            return caps.reduced or caps.ambient
        return caps.reduced if self.simulator == "reduced" else caps.ambient

    def resolved(self, caps: Capabilities) -> MonteCarlo:
        """The simulator chosen: ``"auto"`` is the reduced one where it applies."""
        if self.simulator != "auto":
            return self
        return self.replace(simulator="reduced" if caps.reduced else "ambient")

    def seed_sequence(self) -> np.random.SeedSequence:
        """:attr:`seed` as a :class:`numpy.random.SeedSequence` (the one seed
        normalisation: a Generator gives one integer drawn from it, so it advances)."""
        seed = self.seed
        if isinstance(seed, np.random.Generator):
            seed = int(seed.integers(2**63))
        return seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)

    def replace(self, **changes: Any) -> MonteCarlo:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def with_progress(self, progress: Callable[[int, int], None] | None) -> MonteCarlo:
        return self.replace(progress=progress)

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


@dataclass(frozen=True)
class Auto(Method):
    """The exact method (:class:`Quadrature`) where it applies, else a Monte Carlo
    simulation: the method word ``"auto"`` is ``Auto()``.

    Attributes
    ----------
    fallback : the :class:`MonteCarlo` settings used where quadrature does not apply;
        ``None`` (default) takes the estimate's own default (``MonteCarlo()`` for
        :func:`molrg.snr`; ``MonteCarlo(samples=molrg.plan.PROBE_SAMPLES)`` with the ambient
        simulator for :func:`molrg.probe_accuracy`).  Its ``"auto"`` simulator is the reduced
        one where it applies (an SNR), the ambient one for a probe.

    Examples
    --------
    >>> import molrg
    >>> molrg.Auto(molrg.MonteCarlo(samples=5_000, seed=1)).fallback.samples
    5000
    """

    fallback: MonteCarlo | None = None

    def __post_init__(self) -> None:
        if self.fallback is not None and not isinstance(self.fallback, MonteCarlo):
            raise ParameterTypeError(f"fallback={self.fallback!r} must be None or a "
                                     "molrg.MonteCarlo")

    @property
    def name(self) -> str:
        return "auto"

    def applies(self, caps: Capabilities) -> bool:
        return caps.exact or (self.fallback or MonteCarlo()).applies(caps)

    def choose(self, caps: Capabilities, default: MonteCarlo) -> Method:
        return Quadrature() if caps.exact else (self.fallback or default)

    def with_progress(self, progress: Callable[[int, int], None] | None) -> Auto:
        """Progress reports of the fallback simulation (quadrature reports none)."""
        if self.fallback is None:
            raise ParameterError("Auto().with_progress needs Auto(fallback=MonteCarlo(...)): "
                                 "the default fallback depends on the estimate")
        return Auto(self.fallback.with_progress(progress))

    def to_json(self) -> dict[str, Any]:
        return {"method": "auto",
                "fallback": None if self.fallback is None else self.fallback.to_json()}


def resolve_method(method: Any, monte_carlo: MonteCarlo | None = None) -> Method:
    """A method word or object as a method object.

    ``"auto"`` -> :class:`Auto` (``monte_carlo`` its fallback); ``"quadrature"`` ->
    :class:`Quadrature`; ``"reduced"``/``"ambient"`` -> ``monte_carlo`` (default:
    :class:`MonteCarlo` with default settings) with that simulator.
    """
    if isinstance(method, Method):
        return method
    word = check_choice("method", method, METHODS)
    if word == "auto":
        return Auto(monte_carlo)
    if word == "quadrature":
        return Quadrature()
    return (monte_carlo or MonteCarlo()).replace(simulator=word)
