"""``python -m verify proposition1``: the posterior mean three independent ways.

At random models (random and canonical bases) and random points ``x_t = x0 + sigma eps``
the posterior mean ``E[x0 | x_t]`` is computed by

* ``symbolic``: the derived Proposition-1 expressions (unreduced ``phi``/``psi`` form)
  evaluated by SymPy/mpmath at 30 significant digits;
* ``closed form``: :func:`molrg.posterior_mean` (float64, the code the toolkit uses);
* ``dense Bayes``: dense class covariances, explicit log-densities, Tweedie per class.

It prints the worst relative error (``||a - b|| / ||b||``) of each pair and exits 0 when
all are below ``--tol`` (default 1e-10), 1 otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

import molrg
from molrg.validation import check_int, check_real

from . import report
from .command import Command, Context, option

PAIRS = (("closed form", "symbolic"), ("dense Bayes", "symbolic"), ("closed form", "dense Bayes"))


@dataclass(frozen=True)
class Proposition1Result:
    """Worst relative error per pair, where it occurred, and the pass/fail status."""

    cases: int
    tol: float
    worst: dict[str, float]
    worst_case: dict[str, dict[str, Any]]

    @property
    def holds(self) -> bool:
        return all(v < self.tol for v in self.worst.values())

    @property
    def verdict(self) -> str:
        return "holds" if self.holds else "deviates"

    def to_json(self) -> dict[str, Any]:
        return {"cases": self.cases, "tol": self.tol, "worst": self.worst,
                "worst_case": self.worst_case, "holds": self.holds}

    def render(self, *, table: bool = True) -> list[Any]:
        rows = [(k, v, v < self.tol, ", ".join(f"{a}={b:.3g}" if isinstance(b, float) else
                                               f"{a}={b}" for a, b in self.worst_case[k].items()))
                for k, v in self.worst.items()]
        return [report.table(["pair", "worst rel. error", "below tol", "worst case"], rows,
                             title=f"Proposition 1: {self.cases} random cases, float64, "
                             f"tolerance {self.tol:g}"),
                f"verdict: [bold]{self.verdict.upper()}[/bold]"]


@dataclass(frozen=True)
class Proposition1Options:
    """Options of ``proposition1``, validated on construction."""

    cases: int = option(100, "random cases (default: 100)")
    seed: int = option(0, "random seed (default: 0)")
    n_max: int = option(32, "largest ambient dimension of the random models (default: 32)")
    sigma_min: float = option(1e-3, "smallest noise level drawn (log-uniform; default: 1e-3)")
    sigma_max: float = option(1e2, "largest noise level drawn (default: 1e2)")
    tol: float = option(1e-10, "largest allowed relative error (default: 1e-10)")

    def __post_init__(self) -> None:
        object.__setattr__(self, "cases", check_int("cases", self.cases, low=1, high=100_000))
        object.__setattr__(self, "n_max", check_int("n_max", self.n_max, low=4, high=256))
        lo = check_real("sigma_min", self.sigma_min, low=0.0)
        object.__setattr__(self, "sigma_min", lo)
        object.__setattr__(self, "sigma_max", check_real("sigma_max", self.sigma_max, low=lo,
                                                         open_low=False))
        object.__setattr__(self, "tol", check_real("tol", self.tol, low=0.0))
        check_int("seed", self.seed, low=0)


class Proposition1(Command[Proposition1Options]):
    """``python -m verify proposition1``."""

    name = "proposition1"
    help = "posterior mean: derived symbolic form = closed form = dense Bayes"
    Options = Proposition1Options
    plots = False
    """No figure: the report is a table (``--plot`` is not offered)."""

    def run(self, options: Proposition1Options, context: Context) -> Proposition1Result:
        return run(options)


def run(options: Proposition1Options | None = None) -> Proposition1Result:
    """Compare the three computations on ``cases`` random (model, sigma, point) triples."""
    options = options or Proposition1Options()
    cases, seed, n_max, tol = options.cases, options.seed, options.n_max, options.tol
    lo, hi = options.sigma_min, options.sigma_max
    rng = np.random.default_rng(seed)
    worst = {f"{a} vs {b}": 0.0 for a, b in PAIRS}
    where: dict[str, dict[str, Any]] = {}
    for case in range(cases):
        K = int(rng.integers(2, 5))
        d = int(rng.integers(1, max(2, n_max // K) // 2 + 1))
        n = int(rng.integers(K * d, n_max + 1))
        delta = float(rng.uniform(0.05, 0.95))
        kind = str(rng.choice(["random", "canonical"]))
        sigma = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
        model = molrg.MoLRG(K, d, n, delta, kind=kind, seed=case)
        x0, _ = model.sample(2, rng)
        x = np.asarray(x0) + sigma * rng.standard_normal((2, n))
        values = {
            "symbolic": molrg.reference.posterior_mean_symbolic(model, x, sigma),
            "closed form": np.asarray(molrg.posterior_mean(model, x, sigma)),
            "dense Bayes": molrg.reference.posterior_mean_dense(model, x, sigma),
        }
        for a, b in PAIRS:
            err = float(np.max(np.linalg.norm(values[a] - values[b], axis=1)
                               / np.linalg.norm(values[b], axis=1)))
            key = f"{a} vs {b}"
            if err >= worst[key]:
                worst[key] = err
                where[key] = {"K": K, "d": d, "n": n, "delta": delta, "kind": kind,
                              "sigma": sigma}
    return Proposition1Result(cases, tol, worst, where)
