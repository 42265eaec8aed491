"""Can a 200-point exact SNR curve be had from fewer quadrature evaluations by interpolation?

``python benchmarks/quadrature_interpolation.py [--out PATH]`` (15-30 s on 2 cores)

Issue 9 asks for a 200-point sigma curve at least 10x cheaper than the reduced Monte Carlo at
1e5 samples per sigma.  The quadrature costs about the same per sigma value whatever the
rule (``docs/performance.md``), so the only way to a 10x cheaper *curve* at small ``K`` would
be fewer evaluations: interpolate ``log SNR`` in ``log sigma`` from Chebyshev nodes.  This
script measures how many evaluations that needs on the benchmark's curve (200 log-spaced
points in ``[1e-2, 1e1]``, noisy input) at the benchmark's four settings:

``global``
    One Chebyshev-Lobatto interpolant of degree ``n`` over the whole range (``n + 1``
    evaluations); reported: its largest relative error on the 200 points against the direct
    evaluation there.
``piecewise``
    Chebfun-style adaptive splitting: on each piece, degree-16 (or 32) Chebyshev-Lobatto
    interpolation, accepted when the certificate is below ``tol``, else the piece is
    halved.  Two certificates: ``halving`` (the difference to the half-degree interpolant on
    the nested nodes, the analogue of the quadrature's own fine-vs-coarse bound) and
    ``tail`` (Chebfun's heuristic: ten times the largest of the last three Chebyshev
    coefficients; not a bound).  Reported: evaluations used (the cost) and the achieved
    error.

An interpolated curve is cheaper only if it needs well under 200 evaluations; 10x cheaper
than the Monte Carlo would need about 200 / (10 / measured ratio) of them.  Public API only.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.polynomial import chebyshev as cheb

import molrg

SETTINGS = ((3, 5, 0.2), (10, 5, 0.3), (3, 512, 0.2), (2, 1, 0.5))
CURVE = np.geomspace(1e-2, 1e1, 200)


def lobatto(n: int) -> np.ndarray:
    """The ``n + 1`` Chebyshev-Lobatto points in ``[-1, 1]``, increasing (nested under
    doubling: the even-indexed points of degree ``n`` are those of degree ``n / 2``)."""
    return np.cos(np.pi * np.arange(n + 1) / n)[::-1]


class LogSNR:
    """``log SNR(exp(x))`` by quadrature, memoised; ``calls`` counts distinct evaluations."""

    def __init__(self, setting: molrg.Setting) -> None:
        self.setting = setting
        self.cache: dict[float, float] = {}

    def __call__(self, x: np.ndarray) -> np.ndarray:
        # a node shared by two pieces (equal up to rounding) is evaluated once, at the first
        # value seen
        keys = [round(float(v), 12) for v in x]
        new = {k: float(v) for k, v in zip(keys, x, strict=True) if k not in self.cache}
        if new:
            at = np.exp(np.array(list(new.values())))
            est = molrg.snr(self.setting, at, method="quadrature").estimate
            self.cache.update(zip(new, np.log(np.asarray(est)).tolist(), strict=True))
        return np.array([self.cache[k] for k in keys])

    @property
    def calls(self) -> int:
        return len(self.cache)


def global_error(f: LogSNR, n: int, reference: np.ndarray) -> float:
    a, b = np.log(CURVE[0]), np.log(CURVE[-1])
    t = lobatto(n)
    coef = cheb.chebfit(t, f((a + b) / 2 + (b - a) / 2 * t), n)
    approx = np.exp(cheb.chebval((2 * np.log(CURVE) - a - b) / (b - a), coef))
    return float(np.max(np.abs(approx / reference - 1.0)))


def halving(t: np.ndarray, y: np.ndarray, n: int) -> float:
    """Difference to the half-degree interpolant on the nested nodes (101 check points)."""
    fine = cheb.chebfit(t, y, n)
    coarse = cheb.chebfit(t[::2], y[::2], n // 2)
    check = np.linspace(-1.0, 1.0, 101)
    return float(np.max(np.abs(cheb.chebval(check, fine) - cheb.chebval(check, coarse))))


def tail(t: np.ndarray, y: np.ndarray, n: int) -> float:
    """Chebfun's heuristic: ten times the largest of the last three coefficients."""
    return 10.0 * float(np.max(np.abs(cheb.chebfit(t, y, n)[-3:])))


CERTIFICATES: dict[str, Callable[[np.ndarray, np.ndarray, int], float]] = {
    "halving": halving, "tail": tail}


def piecewise(f: LogSNR, n: int, tol: float, kind: str, reference: np.ndarray
              ) -> tuple[int, int, float]:
    """Adaptive piecewise interpolation: (evaluations, pieces, achieved max relative error)."""
    cert = CERTIFICATES[kind]
    t = lobatto(n)
    pieces: list[tuple[float, float, np.ndarray]] = []
    stack = [(float(np.log(CURVE[0])), float(np.log(CURVE[-1])))]
    while stack:
        a, b = stack.pop()
        x = (a + b) / 2 + (b - a) / 2 * t
        y = f(x)
        if cert(t, y, n) > tol and b - a > 1e-3:
            stack += [(a, (a + b) / 2), ((a + b) / 2, b)]
        else:
            pieces.append((a, b, cheb.chebfit(t, y, n)))
    x = np.log(CURVE)
    approx = np.empty_like(CURVE)
    for a, b, coef in pieces:
        inside = (x >= a - 1e-12) & (x <= b + 1e-12)
        approx[inside] = np.exp(cheb.chebval((2 * x[inside] - a - b) / (b - a), coef))
    return f.calls, len(pieces), float(np.max(np.abs(approx / reference - 1.0)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="benchmarks/results/quadrature_interpolation.json")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    rows = []
    for K, d, delta in SETTINGS:
        setting = molrg.Setting(K, d, delta)
        reference = np.asarray(molrg.snr(setting, CURVE, method="quadrature").estimate)
        glob = {str(n + 1): global_error(LogSNR(setting), n, reference) for n in (16, 32, 64, 128)}
        pieces = []
        for kind in CERTIFICATES:
            for n in (16, 32):
                for tol in (1e-6, 1e-8):
                    calls, count, err = piecewise(LogSNR(setting), n, tol, kind, reference)
                    pieces.append({"certificate": kind, "degree": n, "tol": tol,
                                   "evaluations": calls, "pieces": count, "max_rel_error": err})
                    print(f"K={K} d={d} delta={delta} piecewise {kind:7s} degree {n:2d} "
                          f"tol {tol:.0e}: {calls:4d} evaluations, {count:3d} pieces, "
                          f"achieved {err:.1e}", flush=True)
        print(f"K={K} d={d} delta={delta} global  "
              + "  ".join(f"{k} nodes: {v:.1e}" for k, v in glob.items()))
        rows.append({"K": K, "d": d, "delta": delta, "global": glob, "piecewise": pieces})
    fewest = {kind: min(int(p["evaluations"]) for r in rows
                        for p in r["piecewise"]  # type: ignore[attr-defined]
                        if p["tol"] == 1e-8 and p["certificate"] == kind)
              for kind in CERTIFICATES}
    summary = {"fewest_evaluations_at_1e-8": fewest, "curve_points": CURVE.size,
               "elapsed_s": time.perf_counter() - start}
    print(json.dumps(summary, indent=2))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"summary": summary, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
