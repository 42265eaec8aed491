"""``python -m verify separated``: well-separated clusters (non-zero class means).

The paper (Appendix C, Table 7) says that with well-separated clusters "both
classification accuracy and SNR decrease monotonically, peaking at t = 0", but does not
define the clusters (means, K, n, d, delta, model, probe: none are stated).  OUR CHOICES,
labelled as such: the binary base case ``K=2, n=50, d=5, delta=0.2``
(``molrg.LowRankMixture.separated``) with class means of norm ``--scales`` placed either
``orthogonal`` to every subspace or inside the class's own ``subspace``
(``mean_scale = 0`` is the zero-mean MoLRG, the control).  For each: the SNR of the
optimal denoiser (both denominators, ambient Monte Carlo) and the Bayes-probe accuracy
(``molrg.probe_accuracy``, the exact class posterior) against sigma.

The guess ``orthogonal, scale 3`` reproduces Table 7's small-sigma SNR (0.54 =
``d / (delta^2 d + ||mu||^2)`` with the complement denominator); it is shown beside the
printed row.

Claims (``--z`` errors; shapes as in ``molrg.curve_shape``), for ``--denominator``
(default complement, arXiv Definition 1):

1. ``snr-monotone`` (each placement and scale > 0): the SNR curve is decreasing.
2. ``accuracy-monotone`` (each): the Bayes accuracy never rises significantly (it cannot:
   data processing), i.e. its shape is decreasing or flat.
3. ``control-unimodal``: with zero means the SNR is unimodal (the paper's main claim).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

import molrg
from molrg import ParameterError
from molrg.validation import check_choice, check_int, check_real

from . import parallel, report
from .claims import UNIMODAL_Z, Claim, ClaimsResult, SigmaGrid, parse_floats, validate_run
from .command import Command, Context, option
from .paper import TABLE7, TABLE7_GUESS, TABLE7_SIGMA


def placement_modes(text: str) -> tuple[str, ...]:
    """``--placement``: one mean placement, or ``both``."""
    return molrg.MEAN_PLACEMENTS if text == "both" else (text,)


MODEL = "model (our choices; the paper does not define Table 7's)"
SNR = "SNR, accuracy and claims"


@dataclass(frozen=True)
class SeparatedOptions(SigmaGrid):
    """Options of ``separated`` (model and mean placements: our choices, see the docstring)."""

    VERDICT_SAMPLES = ("samples", "probe_samples")
    """Monte Carlo sample counts a verdict rests on (each >= molrg.MIN_VERDICT_SAMPLES)."""

    K: int = option(2, "classes (default: 2)", group=MODEL)
    d: int = option(5, "subspace dimension (default: 5)", group=MODEL)
    n: int = option(50, "ambient dimension (default: 50)", group=MODEL)
    delta: float = option(0.2, "detail noise (default: 0.2)", group=MODEL)
    scales: tuple[float, ...] = option((0.0, 1.0, 3.0, 10.0), "mean norms, "
                                       "comma-separated (0 = zero-mean control; default: "
                                       "0,1,3,10)", group=MODEL, text="0,1,3,10",
                                       parse=lambda text: parse_floats(text, "scales"))
    placements: tuple[str, ...] = option(molrg.MEAN_PLACEMENTS, "means orthogonal to "
                                         "every subspace, inside the own subspace, or "
                                         "both", flag="--placement", dest="placement",
                                         group=MODEL,
                                         choices=(*molrg.MEAN_PLACEMENTS, "both"),
                                         text="both", parse=placement_modes)
    input: str = option("noisy", "default: noisy", group=SNR, choices=molrg.INPUTS)
    denominator: str = option("complement", "denominator the claims are judged on "
                              "(default: complement; both shown)", group=SNR,
                              choices=molrg.DENOMINATORS)
    samples: int = option(40_000, "SNR samples per sigma", group=SNR)
    probe_samples: int = option(10_000, "Bayes-probe test samples per sigma", group=SNR)
    seed: int = option(0, "seed (default: 0)", group=SNR)
    num_sigma: int = option(24, "grid points", group=SNR)
    sigma_min: float = option(0.01, "default: 0.01", group=SNR)
    sigma_max: float = option(20.0, "default: 20", group=SNR)
    z: float = option(UNIMODAL_Z, "error threshold (default: 4)", group=SNR)

    def __post_init__(self) -> None:
        K = check_int("K", self.K, low=2)
        d = check_int("d", self.d, low=1)
        n = check_int("n", self.n, low=1)
        if n < K * d + K:
            raise ParameterError(f"n={n} is too small; valid: n >= K d + K = {K * d + K} (the "
                                 "orthogonal placement needs K extra directions)")
        for name, v in (("K", K), ("d", d), ("n", n)):
            object.__setattr__(self, name, v)
        object.__setattr__(self, "delta", check_real("delta", self.delta, low=0.0, high=1.0))
        scales = tuple(check_real("scales", s, low=0.0, open_low=False, high=1e6)
                       for s in self.scales)
        if not scales:
            raise ParameterError("scales is empty; valid: mean norms >= 0, e.g. 0,1,3,10")
        object.__setattr__(self, "scales", tuple(sorted(set(scales))))
        placements = tuple(self.placements)
        if not placements:
            raise ParameterError(f"placements is empty; valid: {molrg.MEAN_PLACEMENTS}")
        for p in placements:
            check_choice("placement", p, molrg.MEAN_PLACEMENTS)
        object.__setattr__(self, "placements", tuple(dict.fromkeys(placements)))
        validate_run(self, {"samples": 2 * K, "probe_samples": 2 * K}, peak_tol=False)

    def settings(self) -> list[tuple[str, float]]:
        out = [("none", 0.0)] if 0.0 in self.scales else []
        out += [(p, s) for p in self.placements for s in self.scales if s > 0]
        return out

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _key(placement: str, scale: float) -> str:
    return "zero means" if scale == 0 else f"{placement}, scale {scale:g}"


def _task(task: parallel.Task) -> dict[str, Any]:
    """Worker: SNR (both denominators) and Bayes accuracy of one mixture."""
    p = task.params
    placement = "orthogonal" if p["placement"] == "none" else p["placement"]
    mix = molrg.LowRankMixture.separated(p["K"], p["d"], p["n"], p["scale"], delta=p["delta"],
                                         placement=placement, seed=p["seed"])
    sigma = np.array(p["sigma"])
    out: dict[str, Any] = {"sigma": sigma.tolist(), "snr": {}}
    for den in molrg.DENOMINATORS:
        r = molrg.snr(mix, sigma, input=p["input"], denominator=den,
                      method=molrg.MonteCarlo(simulator="ambient", samples=p["samples"],
                                              seed=task.seed))
        out["snr"][den] = {"estimate": r.estimate.tolist(), "stderr": r.stderr.tolist(),
                           "untrustworthy": r.untrustworthy.tolist()}
    acc = molrg.probe_accuracy(mix, sigma, probe="bayes", input=p["input"],
                               method=molrg.Auto(molrg.MonteCarlo(samples=p["probe_samples"],
                                                                  seed=task.seed)))
    out["accuracy"] = {"estimate": acc.estimate.tolist(), "stderr": acc.stderr.tolist(),
                       "lower": np.asarray(acc.lower).tolist(),
                       "upper": np.asarray(acc.upper).tolist(), "classifier": acc.classifier}
    return out


@dataclass(frozen=True)
class SeparatedResult(ClaimsResult):
    """:class:`~verify.claims.ClaimsResult` of ``separated``."""


def run(options: SeparatedOptions | None = None,
        context: Context | None = None) -> SeparatedResult:
    context = context or Context()
    options = options or SeparatedOptions()
    settings = options.settings()
    sigma = np.unique(np.concatenate([options.sigma(), TABLE7_SIGMA]))
    seeds = parallel.spawn_seeds(options.seed, len(settings))
    base = {"K": options.K, "d": options.d, "n": options.n, "delta": options.delta,
            "seed": options.seed, "input": options.input, "samples": options.samples,
            "probe_samples": options.probe_samples, "sigma": sigma.tolist()}
    tasks = [parallel.Task(_key(p, s), {**base, "placement": p, "scale": s}, seed)
             for (p, s), seed in zip(settings, seeds, strict=True)]
    start = time.perf_counter()
    result = context.map(_task, tasks, "separated")
    analysis = analyse(options, result.results)
    claims = evaluate_claims(options, analysis)
    return SeparatedResult(options, result.results, result.failures, analysis, claims,
                           time.perf_counter() - start)


def analyse(options: SeparatedOptions, runs: dict[str, Any]) -> dict[str, Any]:
    dense = options.sigma()
    out: dict[str, Any] = {}
    for key, r in runs.items():
        sigma = np.asarray(r["sigma"])
        idx = np.array([int(np.argmin(np.abs(np.log(sigma / s)))) for s in dense])
        entry: dict[str, Any] = {"snr": {}}
        for den, c in r["snr"].items():
            y, e = np.asarray(c["estimate"])[idx], np.asarray(c["stderr"])[idx]
            entry["snr"][den] = {"shape": molrg.curve_shape(y, e, options.z).to_json(),
                                 "peak_sigma": molrg.grid_peak(dense, y), "peak_snr": float(y.max()),
                                 "snr_at_sigma_min": float(y[0])}
        a, ae = np.asarray(r["accuracy"]["estimate"])[idx], np.asarray(r["accuracy"]["stderr"])[idx]
        entry["accuracy"] = {"shape": molrg.curve_shape(a, ae, options.z).to_json(),
                             "at_sigma_min": float(a[0]), "at_sigma_max": float(a[-1])}
        t7 = np.array([int(np.argmin(np.abs(np.log(sigma / s)))) for s in TABLE7_SIGMA])
        entry["table7_grid"] = {
            "snr": {den: np.asarray(c["estimate"])[t7].tolist() for den, c in r["snr"].items()},
            "accuracy": np.asarray(r["accuracy"]["estimate"])[t7].tolist()}
        out[key] = entry
    return out


def evaluate_claims(options: SeparatedOptions, analysis: dict[str, Any]) -> list[Claim]:
    z, den = options.z, options.denominator
    claims = []
    for key, entry in analysis.items():
        sh = entry["snr"][den]["shape"]
        if key == "zero means":
            claims.append(Claim(
                "control-unimodal (zero means)", sh["shape"] == "unimodal", sh["rise_z"],
                f"unimodal ({den})", f"shape {sh['shape']}, peak sigma "
                f"{entry['snr'][den]['peak_sigma']:.4g}"))
            continue
        other = next(d for d in molrg.DENOMINATORS if d != den)
        claims.append(Claim(
            f"snr-monotone ({key})", sh["shape"] == "decreasing", sh["rise_z"],
            f"shape 'decreasing' ({den}): no rise beyond {z:g} errors",
            f"shape {sh['shape']}: rise {sh['rise_z']:.3g} errors, peak sigma "
            f"{entry['snr'][den]['peak_sigma']:.4g} (SNR {entry['snr'][den]['peak_snr']:.4g} vs "
            f"{entry['snr'][den]['snr_at_sigma_min']:.4g} at sigma_min); with {other}: "
            f"{entry['snr'][other]['shape']['shape']}"))
        ash = entry["accuracy"]["shape"]
        claims.append(Claim(
            f"accuracy-monotone ({key})", ash["shape"] in ("decreasing", "flat"), ash["rise_z"],
            f"Bayes accuracy decreasing or flat (no rise beyond {z:g} errors)",
            f"shape {ash['shape']}: {entry['accuracy']['at_sigma_min']:.4f} at sigma_min, "
            f"{entry['accuracy']['at_sigma_max']:.4f} at sigma_max"))
    return claims


def render(result: SeparatedResult, *, table: bool = True) -> list[Any]:
    o = result.options
    out: list[Any] = [
        f"[bold]Well-separated clusters (means: our choice)[/bold]: K={o.K} d={o.d} n={o.n} "
        f"delta={o.delta:g}, input {o.input}, claims on {o.denominator} "
        f"({result.elapsed_s:.1f} s)"]
    rows = []
    for key, e in result.analysis.items():
        rows.append((key, *(e["snr"][den]["shape"]["shape"] for den in molrg.DENOMINATORS),
                     *(e["snr"][den]["peak_sigma"] for den in molrg.DENOMINATORS),
                     e["snr"][o.denominator]["snr_at_sigma_min"], e["accuracy"]["shape"]["shape"],
                     e["accuracy"]["at_sigma_min"], e["accuracy"]["at_sigma_max"]))
    out.append(report.table(
        ["setting", "SNR others", "SNR complement", "peak (others)", "peak (complement)",
         f"SNR at sigma_min ({o.denominator})", "Bayes acc.", "acc. sigma_min",
         "acc. sigma_max"], rows, title="shapes"))
    guess = _key(*TABLE7_GUESS)
    if table and guess in result.analysis:
        g = result.analysis[guess]["table7_grid"]
        out.append(report.table(
            ["sigma", "printed SNR", "ours complement", "ours others", "printed acc.",
             "ours Bayes acc."],
            [(s, TABLE7["snr"][i], g["snr"]["complement"][i], g["snr"]["others"][i],
              TABLE7["accuracy"][i], g["accuracy"][i]) for i, s in enumerate(TABLE7_SIGMA)],
            title=f"Table 7 (setting not stated) beside our guess '{guess}' ({o.input} input)"))
    return out + result.render_claims()


def plot(result: SeparatedResult, path: str) -> None:
    o = result.options
    fig, axes = report.new_figure(3, width=4.6, height=3.8)
    for i, (key, r) in enumerate(result.runs.items()):
        sigma = np.asarray(r["sigma"])
        for ax, den in zip(axes[:2], molrg.DENOMINATORS, strict=True):
            ax.plot(sigma, r["snr"][den]["estimate"], "-", color=f"C{i}", label=key)
        axes[2].plot(sigma, r["accuracy"]["estimate"], "-", color=f"C{i}", label=key)
    for ax, title in zip(axes, (*(f"SNR ({den})" for den in molrg.DENOMINATORS),
                                "Bayes accuracy"), strict=True):
        ax.set_xscale("log")
        if title.startswith("SNR"):
            ax.set_yscale("log")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(report.SIGMA_LABEL)
        ax.set_ylabel("accuracy" if title == "Bayes accuracy" else title)
    axes[1].plot(TABLE7_SIGMA, TABLE7["snr"], "kx--", label="paper Table 7")
    axes[2].plot(TABLE7_SIGMA, TABLE7["accuracy"], "kx--", label="paper Table 7")
    axes[2].legend(fontsize=6)
    fig.suptitle(f"separated clusters, $K$={o.K} $d$={o.d} $\\delta$={o.delta:g} -> "
                 f"{result.verdict}")
    report.save_figure(fig, path)


class Separated(Command[SeparatedOptions]):
    """``python -m verify separated``."""

    name = "separated"
    help = "well-separated clusters (non-zero means): is the SNR monotone? (means: our choice)"
    Options = SeparatedOptions
    scheduler = "serial"

    def run(self, options: SeparatedOptions, context: Context) -> SeparatedResult:
        return run(options, context)
