"""``python -m verify map``: the validity map of Theorem 1 over a dense (K, d, delta) grid.

Deterministic: at every cell and for both inputs the exact SNR of the optimal denoiser
(quadrature) gives the exact peak ``sigma*`` and peak SNR, and every form of Theorem 1
(``printed``, ``derived``, ``corrected``) gives its own peak.  Per cell and form:

* ``peak_ratio = sigma*_exact / sigma*_form`` and the 15% peak claim
  ``|peak_ratio - 1| <= 0.15``;
* ``height_ratio = SNR*_exact / SNR*_form``;
* whether the exact curve is unimodal (no dip before the maximum or rise after it beyond
  its numerical error bound: a deterministic statement, checked at 36 noise levels
  log-spaced over ``[1e-4, 1e3]`` -- the grid that also brackets the exact peak, extended
  while the maximum is at an end -- and at the peak itself, all by one rule; a candidate
  violation is re-judged with the rigorous error bounds at the same points).

Default grid: 20 values of ``K`` log-spaced in [2, 1000], 20 of ``d`` in [1, 512], 20 of
``delta`` in [0.02, 0.95] (8000 cells, both inputs).  Work is split into one task per
``(K, d)`` (all deltas and inputs), mapped on Dask over every core by default
(``--scheduler auto``; ``serial`` runs in-process).  The
verdict is about the selected ``--form``: ``holds`` only if its 15% peak claim holds in
every cell where both peaks are interior.

``--cache DIR`` keeps the exact part of every cell (the exact peak and the unimodality
verdict, which are most of the cost) in ``DIR``, keyed by ``(K, d, delta, input)`` and a
fingerprint of the exact evaluator (its rule, the scan grid, the scan tolerance, the molrg
version and source code): a rerun with another ``--form`` or ``--peak-tol``, or a grid
that shares cells, recomputes only the forms' peaks.  The cache is read and written by the
main process only (workers, remote ones included, need no shared file system).
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import molrg
from molrg import ParameterError
from molrg.validation import check_int, check_real

from . import parallel, report
from .command import Command, Context, option
from .theorem import DELTA_MIN, MAX_K

PEAK_TOL = 0.15
HEIGHT_TOL = 0.10
SCAN_TOL = 1e-8
"""Relative change along the exact scan below which it is not examined for a unimodality
violation (the scan's rule is accurate to ~1e-11 relative, its bounds <= 3e-9)."""
UNIMODALITY_GRID = np.geomspace(1e-4, 1e3, 36)
"""Noise levels (5 per decade) at which every cell's exact curve is checked for
unimodality, besides the exact peak's own scan."""
EXACT = molrg.Quadrature(rule="fast")
"""The map's exact evaluator: relative error <= 7e-12 (bounds <= 3e-9), ~1.5x cheaper than
the default rule; every number of the map is far above that accuracy."""


def _values(text: str | None, name: str, kind: type) -> tuple[Any, ...]:
    if text is None:
        return ()
    if any(not v.strip() for v in text.split(",")):
        raise ParameterError(f"{name}={text!r} has an empty element; valid: comma-separated "
                             f"{'integers' if kind is int else 'numbers'}, e.g. 2,3,5")
    try:
        values = tuple(kind(float(v)) if kind is int and float(v).is_integer() else kind(v)
                       for v in text.split(",") if v.strip())
    except ValueError:
        raise ParameterError(f"{name}={text!r} must be comma-separated "
                             f"{'integers' if kind is int else 'numbers'}") from None
    if not values:
        raise ParameterError(f"{name}={text!r} is empty")
    return values


def _ints(name: str) -> Any:
    return lambda text: _values(text, name, int)


def _cache_dir(value: str | os.PathLike[str] | None) -> Path | None:
    """``--cache``: a directory (created when missing), never an empty name or a file."""
    if value is None:
        return None
    if not str(value).strip():
        raise ParameterError(f"cache={value!r} is empty; valid: a directory path "
                             "(created if missing)")
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise ParameterError(f"cache={value!r} is a file; valid: a directory path "
                             "(created if missing)")
    return path


GRID = "grid (defaults: 20 x 20 x 20)"
CLAIM = "claim"


@dataclass(frozen=True)
class MapOptions:
    """Grid and claim options of the map, validated on construction; ``cache``: the
    ``--cache`` directory (``None``: no cache; it does not change the results)."""

    K: tuple[int, ...] = option((), "comma-separated K values, each 2 to 1e5 (default: 20 "
                                "log-spaced in [2, 1000])", group=GRID, text=None,
                                parse=_ints("K"))
    d: tuple[int, ...] = option((), "comma-separated d values, each 1 to 4096 (default: 20 "
                                "log-spaced in [1, 512])", group=GRID, text=None,
                                parse=_ints("d"))
    delta: tuple[float, ...] = option((), "comma-separated delta values, each in [1e-4, 1) "
                                      "(default: 20 in [0.02, 0.95])", group=GRID, text=None,
                                      parse=lambda text: _values(text, "delta", float))
    form: str = option("printed", "the form the verdict is about (default: printed); all "
                       "are mapped", group=CLAIM, choices=molrg.FORMS)
    peak_tol: float = option(PEAK_TOL, "peak claim: |sigma*_exact / sigma*_form - 1| <= "
                             "this (default: 0.15)", group=CLAIM)
    cache: str | None = option(None, "keep the exact part of every cell in DIR and reuse "
                                "it: a rerun with another --form or --peak-tol recomputes "
                                "only the forms (default: none)", group=CLAIM, metavar="DIR")

    def __post_init__(self) -> None:
        _cache_dir(self.cache)  # a directory (ExactCache creates a missing one)
        K = self.K or log_integers(2, 1000, 20)
        d = self.d or log_integers(1, 512, 20)
        delta = self.delta or tuple(float(x) for x in np.linspace(0.02, 0.95, 20))
        object.__setattr__(self, "K", tuple(check_int("K", k, low=2, high=MAX_K) for k in K))
        object.__setattr__(self, "d", tuple(check_int("d", x, low=1, high=4096) for x in d))
        object.__setattr__(self, "delta", tuple(check_real("delta", x, low=DELTA_MIN,
                                                           high=1.0, open_low=False)
                                                for x in delta))
        for name in ("K", "d", "delta"):
            values = getattr(self, name)
            if len(set(values)) != len(values):
                raise ParameterError(f"{name} repeats a value; give each value once")
        molrg.validation.check_choice("form", self.form, molrg.FORMS)
        object.__setattr__(self, "peak_tol", check_real("peak_tol", self.peak_tol, low=0.0))

    @property
    def cells(self) -> int:
        return len(self.K) * len(self.d) * len(self.delta)

    def to_json(self) -> dict[str, Any]:
        return {"K": list(self.K), "d": list(self.d), "delta": list(self.delta),
                "form": self.form, "peak_tol": self.peak_tol}


def log_integers(lo: int, hi: int, count: int) -> tuple[int, ...]:
    """``count`` distinct integers from ``lo`` to ``hi``, as log-spaced as integers allow."""
    values: list[int] = []
    span = count
    while len(values) < count:
        values = sorted({round(float(x)) for x in np.geomspace(lo, hi, span)})
        span += 1
    while len(values) > count:  # drop the interior value closest (in log) to a neighbour
        logs = np.log(values)
        gaps = logs[2:] - logs[:-2]
        values.pop(int(np.argmin(gaps)) + 1)
    return tuple(values)


def cell(setting: molrg.Setting, mode: str, peak_tol: float = PEAK_TOL,
         exact_row: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything the map records for one setting and input mode (``exact_row``: the
    ``"exact"`` entry of this cell from :class:`ExactCache`, not recomputed)."""
    row: dict[str, Any] = {
        "K": setting.K, "d": setting.d, "delta": setting.delta, "input": mode,
        "exact": exact_row if exact_row is not None else exact_cell(setting, mode),
        "forms": {},
    }
    ex = row["exact"]
    for form in molrg.FORMS:
        p = molrg.peak(setting, input=mode, form=form)
        both = p.interior and ex["interior"]
        ratio = ex["peak_sigma"] / p.sigma if both else math.nan
        row["forms"][form] = {
            "peak_sigma": p.sigma, "peak_snr": p.snr, "interior": p.interior,
            "peak_ratio": ratio,
            "height_ratio": ex["peak_snr"] / p.snr if p.snr > 0 else math.nan,
            "peak_holds": bool(abs(ratio - 1) <= peak_tol) if both else
            (not p.interior and not ex["interior"]),
        }
    return row


def exact_cell(setting: molrg.Setting, mode: str) -> dict[str, Any]:
    """The exact part of a cell: the exact peak and whether the exact curve is unimodal."""
    # the exact peak is bracketed from UNIMODALITY_GRID (extended while the maximum is at
    # an end); with the peak inserted, that scan is the picture of the whole curve on which
    # unimodality is judged.  A dip or rise beyond SCAN_TOL relative (>= 1000x the rule's
    # error) is a candidate, confirmed or dismissed with the rigorous error bounds of
    # molrg.snr at the same points: a deterministic statement either way
    exact = molrg.snr_peak(setting, input=mode, method=EXACT, grid=UNIMODALITY_GRID)
    sig, val = exact.scan_sigma, exact.scan_snr
    if exact.interior:
        j = int(np.searchsorted(sig, exact.sigma))
        sig, val = np.insert(sig, j, exact.sigma), np.insert(val, j, exact.snr)
    uni = molrg.unimodality(val, SCAN_TOL * val)
    if uni.z > 1.0:
        curve = molrg.snr(setting, sig, input=mode, method=EXACT)
        uni = molrg.unimodality(curve.estimate, curve.stderr)
    return {"peak_sigma": exact.sigma, "peak_sigma_error": exact.stderr,
            "peak_snr": exact.snr, "interior": exact.interior,
            "unimodal": bool(uni.z <= 1.0), "unimodal_z": uni.z}


def _task(task: parallel.Task) -> list[dict[str, Any]]:
    """Worker: every delta and input at one (K, d)."""
    p = task.params
    cached = p.get("cached", {})
    return [cell(molrg.Setting(p["K"], p["d"], delta), mode, p["peak_tol"],
                 cached.get(ExactCache.key(delta, mode)))
            for delta in p["delta"] for mode in molrg.INPUTS]


class ExactCache:
    """The exact part of every cell on disk (``--cache DIR``).

    ``DIR/<fingerprint>/K<K>_d<d>.json`` maps ``"<repr(delta)>|<input>"`` to a cell's
    ``"exact"`` entry.  The fingerprint hashes what that entry depends on besides the cell:
    the exact evaluator, :data:`UNIMODALITY_GRID`, :data:`SCAN_TOL`, the molrg version and
    source code and :func:`exact_cell`'s code, so a change to any of them starts a fresh
    cache instead of reusing stale numbers.
    Files are replaced atomically; an unreadable file counts as empty.
    """

    FORMAT = 1
    CODE = inspect.getsource(exact_cell)  # at import: the code that fills the cache

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.dir = Path(root) / self.fingerprint()

    @staticmethod
    def fingerprint() -> str:
        """Hash of the evaluator, grid, tolerance, molrg's version and source code (a fix
        that does not bump the version still invalidates) and :func:`exact_cell`'s code."""
        h = hashlib.sha256(repr((ExactCache.FORMAT, molrg.__version__, repr(EXACT),
                                 SCAN_TOL)).encode())
        h.update(np.ascontiguousarray(UNIMODALITY_GRID, dtype=np.float64).tobytes())
        package = Path(molrg.__file__).parent
        for source in sorted(package.rglob("*.py")):
            h.update(source.relative_to(package).as_posix().encode() + source.read_bytes())
        h.update(ExactCache.CODE.encode())
        return h.hexdigest()[:16]

    @staticmethod
    def key(delta: float, mode: str) -> str:
        return f"{float(delta)!r}|{mode}"

    def path(self, K: int, d: int) -> Path:
        return self.dir / f"K{K}_d{d}.json"

    def load(self, K: int, d: int) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path(K, d).read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def store(self, rows: list[dict[str, Any]]) -> None:
        """Add the exact entries of ``rows`` (one task: one ``(K, d)``)."""
        if not rows:
            return
        K, d = rows[0]["K"], rows[0]["d"]
        entries = self.load(K, d)
        entries.update({self.key(r["delta"], r["input"]): r["exact"] for r in rows})
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.path(K, d).with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(entries))
        os.replace(tmp, self.path(K, d))


@dataclass(frozen=True)
class MapResult:
    options: MapOptions
    results: dict[str, list[dict[str, Any]]]
    failures: dict[str, dict[str, Any]]
    elapsed_s: float
    scheduler: str = "serial"
    workers: int = 1
    summary: dict[str, Any] = field(default_factory=dict)
    cached_cells: int = 0

    @property
    def rows(self) -> list[dict[str, Any]]:
        return [row for rows in self.results.values() for row in rows]

    @property
    def verdict(self) -> str:
        ok = all(r["forms"][self.options.form]["peak_holds"] for r in self.rows)
        return "holds" if ok and not self.failures else "deviates"

    def to_json(self) -> dict[str, Any]:
        return {"options": self.options.to_json(), "summary": self.summary,
                "results": self.results, "failures": self.failures,
                "elapsed_s": self.elapsed_s, "scheduler": self.scheduler,
                "workers": self.workers}

    def render(self, *, table: bool = True) -> list[Any]:
        rows = []
        for mode, per in self.summary["inputs"].items():
            for form, s in per["forms"].items():
                rows.append((mode, form, s["both_interior"], s["peak_within_tol"],
                             s["height_within_10pct"], s["peak_ratio_median"],
                             s["peak_ratio_min"], s["peak_ratio_max"], s["no_interior_peak"]))
        out: list[Any] = [report.table(
            ["input", "form", "both interior", f"peak within {self.options.peak_tol:.0%}",
             "height within 10%", "ratio median", "min", "max", "form: no peak"], rows,
            title=f"Validity map: {self.options.cells} cells x 2 inputs in "
            f"{self.elapsed_s:.0f} s ({self.scheduler}, {self.workers} worker(s))")]
        for mode, per in self.summary["inputs"].items():
            out.append(f"{mode}: exact SNR non-unimodal in {per['exact_non_unimodal']} cells, "
                       f"no interior peak in {per['exact_no_interior_peak']} cells")
        if self.cached_cells:
            out.append(f"exact part of {self.cached_cells} cell(s) read from the --cache")
        for key, failure in self.failures.items():
            out.append(f"[red]FAILED[/red] {key}: {failure['error']}")
        out.append(f"grid: exact peaks bracketed on {UNIMODALITY_GRID.size} log-spaced sigma "
                   f"in [{UNIMODALITY_GRID[0]:g}, {UNIMODALITY_GRID[-1]:g}] per cell, then "
                   "refined (not grid-limited); unimodality is judged on that scan")
        out.append(f"verdict ({self.options.form} form, 15% peak claim in every cell): "
                   f"[bold]{self.verdict.upper()}[/bold]")
        return out

    def plot(self, path: str) -> None:
        plot(self, path)


def summarise(rows: list[dict[str, Any]], peak_tol: float) -> dict[str, Any]:
    """Per input and form: coverage of the peak claim, ratio quantiles, worst cells."""
    out: dict[str, Any] = {"inputs": {}}
    for mode in molrg.INPUTS:
        sel = [r for r in rows if r["input"] == mode]
        per: dict[str, Any] = {
            "cells": len(sel),
            "exact_non_unimodal": sum(not r["exact"]["unimodal"] for r in sel),
            "exact_no_interior_peak": sum(not r["exact"]["interior"] for r in sel),
            "forms": {},
        }
        for form in molrg.FORMS:
            both = [r for r in sel if r["exact"]["interior"] and r["forms"][form]["interior"]]
            ratio = np.array([r["forms"][form]["peak_ratio"] for r in both], dtype=float)
            height = np.array([r["forms"][form]["height_ratio"] for r in both], dtype=float)
            worst = both[int(np.argmax(np.abs(np.log(ratio))))] if both else None
            per["forms"][form] = {
                "both_interior": len(both),
                "no_interior_peak": sum(not r["forms"][form]["interior"] for r in sel),
                "peak_within_tol": float(np.mean(np.abs(ratio - 1) <= peak_tol))
                if both else math.nan,
                "peak_within_5pct": float(np.mean(np.abs(ratio - 1) <= 0.05))
                if both else math.nan,
                "height_within_10pct": float(np.mean(np.abs(height - 1) <= HEIGHT_TOL))
                if both else math.nan,
                "peak_ratio_median": float(np.median(ratio)) if both else math.nan,
                "peak_ratio_min": float(ratio.min()) if both else math.nan,
                "peak_ratio_max": float(ratio.max()) if both else math.nan,
                "worst": None if worst is None else {
                    k: worst[k] for k in ("K", "d", "delta")} | {
                    "peak_ratio": worst["forms"][form]["peak_ratio"]},
            }
        out["inputs"][mode] = per
    return out


def run(options: MapOptions | None = None, context: Context | None = None) -> MapResult:
    """Compute the map (see the module docstring), reading and filling ``options.cache``."""
    options = options or MapOptions()
    context = context or Context()
    store = ExactCache(options.cache) if options.cache is not None else None
    tasks, hits = [], 0
    for K in options.K:
        for d in options.d:
            params: dict[str, Any] = {"K": K, "d": d, "delta": list(options.delta),
                                      "peak_tol": options.peak_tol}
            if store is not None:
                known = store.load(K, d)
                wanted = {ExactCache.key(x, m) for x in options.delta for m in molrg.INPUTS}
                params["cached"] = {k: v for k, v in known.items() if k in wanted}
                hits += len(params["cached"])
            tasks.append(parallel.Task(f"K={K},d={d}", params))
    stored: set[str] = set()

    def record(partial: parallel.MapResult) -> None:
        if store is not None:  # as each task finishes: an interrupted run keeps its cells
            for key, rows in partial.results.items():
                if key not in stored:
                    store.store(rows)
                    stored.add(key)
        if context.on_result is not None:
            context.on_result(partial)

    start = time.perf_counter()
    result = dataclasses.replace(context, on_result=record).map(
        _task, tasks, "validity map (K, d) tasks")
    record(result)
    rows = [row for rs in result.results.values() for row in rs]
    return MapResult(options, result.results, result.failures, time.perf_counter() - start,
                     result.scheduler, result.workers, summarise(rows, options.peak_tol),
                     cached_cells=hits)


NO_PEAK_COLOUR = "0.6"
"""Map cells where a peak ratio is undefined (no interior peak): grey, with a legend entry
(white is a ratio of 1, perfect agreement)."""


def plot(result: MapResult, path: str) -> None:
    """One figure per input: rows = forms; columns = peak ratio and height ratio on a
    (K, delta) slice at the middle d and a (d, delta) slice at the middle K; the region
    where the peak claim holds is outlined."""
    from pathlib import Path

    import matplotlib.colors as mcolors
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    o = result.options
    d_mid, k_mid = o.d[len(o.d) // 2], o.K[len(o.K) // 2]
    base = Path(path)
    index = {(r["K"], r["d"], r["delta"], r["input"]): r for r in result.rows}
    for mode in molrg.INPUTS:
        fig, axes = report.new_figure(4, len(molrg.FORMS), width=4.2, height=3.4)
        for i, form in enumerate(molrg.FORMS):
            for j, (quantity, axis_name, fixed) in enumerate(
                    (("peak_ratio", "K", d_mid), ("peak_ratio", "d", k_mid),
                     ("height_ratio", "K", d_mid), ("height_ratio", "d", k_mid))):
                ax = axes[i * 4 + j]
                xs = o.K if axis_name == "K" else o.d
                z = np.full((len(o.delta), len(xs)), np.nan)
                for a, x in enumerate(xs):
                    for b, delta in enumerate(o.delta):
                        key = (x, fixed, delta, mode) if axis_name == "K" else \
                            (fixed, x, delta, mode)
                        r = index.get(key)
                        if r is not None and r["forms"][form][quantity] is not None:
                            z[b, a] = r["forms"][form][quantity]
                with np.errstate(invalid="ignore", divide="ignore"):
                    logz = np.log10(z)
                # no interior peak (ratio undefined): its own colour, not white (= ratio 1)
                cmap = plt.get_cmap("RdBu_r").with_extremes(bad=NO_PEAK_COLOUR)
                mesh = ax.pcolormesh(np.arange(len(xs)), o.delta, np.ma.masked_invalid(logz),
                                     shading="nearest", cmap=cmap,
                                     norm=mcolors.TwoSlopeNorm(0.0, -1.0, 1.0))
                if quantity == "peak_ratio":
                    ok = (np.abs(z - 1) <= o.peak_tol).astype(float)
                    if np.nanmax(ok, initial=0) > 0 and np.nanmin(ok, initial=1) < 1:
                        ax.contour(np.arange(len(xs)), o.delta, ok, levels=[0.5],
                                   colors="k", linewidths=1.2)
                step = max(1, len(xs) // 5)
                ax.set_xticks(np.arange(len(xs))[::step], [str(x) for x in xs[::step]])
                ax.set_xlabel(f"${axis_name}$" + (f" ($d$={fixed})" if axis_name == "K" else
                                                  f" ($K$={fixed})"))
                ax.set_ylabel(report.math_name("delta"))
                label = (r"$\sigma^*_{\mathrm{exact}} / \sigma^*_{\mathrm{form}}$"
                         if quantity == "peak_ratio" else
                         r"$\mathrm{SNR}^*_{\mathrm{exact}} / \mathrm{SNR}^*_{\mathrm{form}}$")
                ax.set_title(f"{form}: $\\log_{{10}}$ {label}", fontsize=9)
                fig.colorbar(mesh, ax=ax, fraction=0.046)
        fig.suptitle(f"Theorem 1 validity map, {mode} input (black: the {o.peak_tol:.0%} "
                     "peak claim holds inside)")
        fig.legend(handles=[Patch(facecolor=NO_PEAK_COLOUR, label="no interior peak "
                                  "(exact or form)"),
                            Line2D([], [], color="k", lw=1.2,
                                   label=f"peak within {o.peak_tol:.0%}")],
                   loc="lower center", ncol=2, fontsize=9, frameon=False)
        fig.set_layout_engine("tight", rect=(0, 0.04, 1, 1))
        report.save_figure(fig, base.with_name(f"{base.stem}_{mode}{base.suffix}"))


class Map(Command[MapOptions]):
    """``python -m verify map``."""

    name = "map"
    help = "validity map of Theorem 1 (all three forms) over a dense (K, d, delta) grid, exactly"
    Options = MapOptions
    scheduler = "auto"
    partial = "results"

    def run(self, options: MapOptions, context: Context) -> MapResult:
        return run(options, context)

    def partial_payload(self, options: MapOptions) -> Any:
        return parallel.partial_runs(self.name, self.partial, options=options.to_json())
