"""The claim machinery every command shares: a checked :class:`Claim`, verdicts from claims
(:func:`verdict_of`, :func:`combine_verdicts`), the default unimodality threshold, and for
the multi-setting claim commands the result record :class:`ClaimsResult`, the validation
of their sigma grid and tolerances, and list parsing."""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

import molrg
from molrg import ParameterError
from molrg.validation import check_choice, check_int, check_real

from . import report

__all__ = [
    "MAX_N",
    "UNIMODAL_Z",
    "Claim",
    "ClaimsResult",
    "ModelGrid",
    "SigmaGrid",
    "check_sizes",
    "combine_verdicts",
    "parse_floats",
    "parse_sizes",
    "validate_grid",
    "validate_run",
    "verdict_of",
]

UNIMODAL_Z = 4.0
"""Default unimodality threshold for Monte Carlo curves: the 99.9% point of the statistic
for a flat 40-point curve with independent errors (3000 draws; tests/test_analysis.py)."""


@dataclass(frozen=True)
class Claim:
    """One checked claim: its measured value, the tolerance it is held to, and the outcome."""

    name: str
    holds: bool
    measured: float
    tolerance: str
    detail: str = ""
    undetermined: bool = False
    """The claim rests on a Monte Carlo estimate flagged untrustworthy (or too few
    samples): neither holds nor deviates, whatever ``holds`` says."""


class SigmaGrid:
    """Mixin of an options dataclass with ``sigma_min``, ``sigma_max`` and ``num_sigma``."""

    sigma_min: float
    sigma_max: float
    num_sigma: int

    def sigma(self) -> np.ndarray:
        """The log-spaced noise levels of the run."""
        return np.geomspace(self.sigma_min, self.sigma_max, self.num_sigma)


class ModelGrid(SigmaGrid):
    """Mixin of an options dataclass that also has the MoLRG fields ``K, d, n, delta`` and
    ``seed``."""

    K: int
    d: int
    n: int
    delta: float
    seed: int

    def model(self) -> molrg.MoLRG:
        """The run's MoLRG (its basis drawn from ``seed``)."""
        return molrg.MoLRG(self.K, self.d, self.n, self.delta, seed=self.seed)

    def check_model(self) -> None:
        """Validate the model fields through :class:`molrg.MoLRG` and keep its values."""
        model = self.model()
        for name in ("K", "d", "n", "delta"):
            object.__setattr__(self, name, getattr(model, name))


def verdict_of(claims: Sequence[Claim]) -> str:
    """``deviates`` if a determined claim fails, else ``undetermined`` if a claim is, else
    ``holds``: a verdict never holds or deviates on an untrustworthy estimate."""
    if any(not c.holds and not c.undetermined for c in claims):
        return "deviates"
    return "undetermined" if any(c.undetermined for c in claims) else "holds"


def combine_verdicts(verdicts: Sequence[str]) -> str:
    """Several verdicts as one: any ``deviates``, else any ``undetermined``, else ``holds``."""
    if "deviates" in verdicts:
        return "deviates"
    return "undetermined" if "undetermined" in verdicts else "holds"


def validate_grid(options: Any, *, peak_tol: bool = True) -> None:
    """Validate (and normalise) ``num_sigma``, ``sigma_min < sigma_max`` in ``[1e-4, 1e3]``,
    ``z >= 0`` and, if present, ``peak_tol >= 1`` of a frozen options dataclass."""
    object.__setattr__(options, "num_sigma", check_int("num_sigma", options.num_sigma, low=5,
                                                       high=10_000))
    lo = check_real("sigma_min", options.sigma_min, low=1e-4, high=1e3, open_low=False)
    hi = check_real("sigma_max", options.sigma_max, low=1e-4, high=1e3, open_high=False)
    if hi <= lo:
        raise ParameterError(f"sigma_max={hi!r} must exceed sigma_min={lo!r}")
    object.__setattr__(options, "sigma_min", lo)
    object.__setattr__(options, "sigma_max", hi)
    object.__setattr__(options, "z", check_real("z", options.z, low=0.0))
    if peak_tol:
        object.__setattr__(options, "peak_tol", check_real("peak_tol", options.peak_tol,
                                                           low=1.0))


def validate_run(options: Any, samples: dict[str, int], *, peak_tol: bool = True) -> None:
    """The checks every claim command's options share: ``input`` and ``denominator`` from
    their vocabularies, each sample-count field of ``samples`` (name -> smallest valid
    value) up to 1e9, ``seed >= 0``, then :func:`validate_grid`."""
    check_choice("input", options.input, molrg.INPUTS)
    check_choice("denominator", options.denominator, molrg.DENOMINATORS)
    for name, low in samples.items():
        object.__setattr__(options, name, check_int(name, getattr(options, name), low=low,
                                                    high=10**9))
    object.__setattr__(options, "seed", check_int("seed", options.seed, low=0))
    validate_grid(options, peak_tol=peak_tol)


def parse_floats(text: str, name: str) -> tuple[float, ...]:
    """``"90,60,30"`` -> ``(90.0, 60.0, 30.0)``, with an error naming ``name``."""
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise ParameterError(f"{name}={text!r} must be comma-separated numbers") from None
    if not values:
        raise ParameterError(f"{name}={text!r} is empty")
    return values


MAX_N = 10**6
"""Largest training set: the memory of a run grows with ``N`` (11.6 GB measured at 1e7 in
issue 20), so the documented maximum is 1e6."""


def check_sizes(values: Sequence[int]) -> tuple[int, ...]:
    """Training-set sizes ``N``: non-empty, each 1 to :data:`MAX_N`, no repeats; sorted."""
    Ns = tuple(values)
    if not Ns:
        raise ParameterError("N is empty; valid: a list of training-set sizes >= 1")
    Ns = tuple(check_int("N", v, low=1, high=MAX_N) for v in Ns)
    if len(set(Ns)) != len(Ns):
        raise ParameterError(f"N={list(Ns)} repeats a value; give each size once")
    return tuple(sorted(Ns))


def parse_sizes(text: str) -> tuple[int, ...]:
    """``"30,300"`` -> ``(30, 300)``: training-set sizes ``--N`` (integers)."""
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ParameterError(f"N={text!r} must be comma-separated integers") from None
    if not values or any(not (math.isfinite(v) and v.is_integer()) for v in values):
        raise ParameterError(f"N={text!r} must be comma-separated integers >= 1")
    return tuple(int(v) for v in values)


@dataclass(frozen=True)
class ClaimsResult:
    """A claim command's result: its options, per-setting runs (by task key), failed tasks,
    the analysis behind the claims, and the claims.  ``render``/``plot`` call the functions
    of the same names in the subclass's command module."""

    JUDGES_TRUST = True
    """Its verdict already accounts for untrustworthy Monte Carlo estimates."""

    options: Any
    runs: dict[str, dict[str, Any]]
    failures: dict[str, dict[str, Any]]
    analysis: dict[str, Any]
    claims: list[Claim]
    elapsed_s: float = field(default=0.0)

    @property
    def untrustworthy(self) -> list[str]:
        """Why no verdict can be given: too few Monte Carlo samples (options fields named
        in ``options.VERDICT_SAMPLES``), or the runs' estimates flagged ``untrustworthy``
        (any ``"untrustworthy"`` entry of a run that is true somewhere), by run key."""
        reasons = []
        for name in getattr(self.options, "VERDICT_SAMPLES", ()):
            value = getattr(self.options, name)
            if value < molrg.MIN_VERDICT_SAMPLES:
                reasons.append(f"{name}={value} < {molrg.MIN_VERDICT_SAMPLES} Monte Carlo "
                               "samples")
        for key, run in self.runs.items():
            if _flagged(run):
                reasons.append(f"{key}: Monte Carlo estimates flagged untrustworthy")
        return reasons

    @property
    def verdict(self) -> str:
        """``deviates`` (a claim deviates on trustworthy estimates, or a task failed),
        ``undetermined`` (a claim would rest on untrustworthy estimates or too few samples),
        else ``holds``."""
        if self.failures:
            return "deviates"
        if self.untrustworthy:
            return "undetermined"
        return "holds" if all(c.holds for c in self.claims) else "deviates"

    def to_json(self) -> dict[str, Any]:
        return {"params": self.options.to_json(), "runs": self.runs, "failures": self.failures,
                "analysis": self.analysis, "claims": [asdict(c) for c in self.claims],
                "untrustworthy": self.untrustworthy, "elapsed_s": self.elapsed_s}

    def render(self, *, table: bool = True) -> list[Any]:
        return sys.modules[type(self).__module__].render(self, table=table)  # type: ignore[no-any-return]

    def plot(self, path: str) -> None:
        sys.modules[type(self).__module__].plot(self, path)

    def render_claims(self) -> list[Any]:
        """The tail every claim command prints: the claims table, failed tasks, verdict."""
        out: list[Any] = [report.table(
            ["claim", "holds", "measured", "tolerance", "detail"],
            [(c.name, c.holds, c.measured, c.tolerance, c.detail) for c in self.claims],
            title="claims")]
        out += [f"[red]FAILED[/red] {key}: {f['error']}" for key, f in self.failures.items()]
        held = sum(c.holds for c in self.claims)
        why = self.untrustworthy
        if why and not self.failures:
            out.append(f"[yellow]no verdict[/yellow]: {'; '.join(why[:4])}"
                       + (f" (and {len(why) - 4} more)" if len(why) > 4 else "")
                       + " -- more samples decide it")
        params = self.options.to_json()
        if {"sigma_min", "sigma_max", "num_sigma"} <= set(params):
            out.append(f"grid: {params['num_sigma']} log-spaced sigma in "
                       f"[{params['sigma_min']:g}, {params['sigma_max']:g}]; "
                       "[yellow]grid-limited[/yellow]: the curve-shape and peak claims are "
                       "judged on this grid (stability under refinement not tested; "
                       "--num-sigma refines it)")
        out.append(f"verdict [bold]{self.verdict.upper()}[/bold] ({held} of "
                   f"{len(self.claims)} claims hold)")
        return out


def _flagged(value: Any) -> bool:
    """Whether a run record holds an ``"untrustworthy"`` entry that is true anywhere."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "untrustworthy":
                if any(bool(v) for v in _flat(item)):
                    return True
            elif _flagged(item):
                return True
    elif isinstance(value, (list, tuple)):
        return any(_flagged(v) for v in value)
    return False


def _flat(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in _flat(v)]
    if hasattr(value, "tolist"):
        return _flat(value.tolist())
    return [value]
