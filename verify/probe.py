"""``python -m verify probe``: does a higher SNR at a noise level mean a better probe there?

At the paper's Fig. 3 setting (``K=3, d=5, n=50, delta=0.2``) by default, for several
denoisers -- the optimal one, memorising ones (``molrg.EmpiricalDenoiser`` of ``--N``
training samples) and the paper's parameterised DAE with the true basis and with a
perturbed basis (``V = polar(U + eta G / sqrt(n))``, ``G`` Gaussian; the principal angles
are reported) -- the SNR curve (ambient Monte Carlo) beside the accuracy curves of three
probes on the denoiser's features (``molrg.probe_accuracy``): ``bayes`` (the Bayes
classifier on the features; exact quadrature for the optimal denoiser), ``linear``
(multinomial logistic regression, held out) and ``energy`` (``argmax_l ||U_l^T xhat||^2``).

Claims, for every denoiser and probe (``--z`` errors; shapes as in
``molrg.curve_shape``):

1. ``unimodal``: the accuracy curve is unimodal in sigma (interior peak with a
   significant rise and fall).
2. ``peak-coincides``: the accuracy's peak lies within a factor ``--peak-tol`` of the
   SNR's peak (default sqrt 2: half a column of the paper's sigma grid, whose columns are
   a factor ~2 apart, i.e. the resolution at which the paper could see the two coincide).
   Peaks are grid argmaxes refined by a parabola in ``log sigma``.
3. ``monotone-in-snr``: the accuracy is an increasing function of the SNR along the curve:
   no pair of noise levels is ordered oppositely by the two with both differences larger
   than ``--z`` combined errors (Kendall's tau is reported too).

Why the Bayes probe cannot be unimodal (data processing): ``x_t`` is ``x_s`` plus
independent noise for ``t > s``, so the Bayes accuracy on any feature of ``x_t`` can only
fall with sigma (and is constant for the clean input).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

import molrg
from molrg import ParameterError
from molrg.validation import check_choice, check_int, check_real

from . import parallel, report
from .claims import UNIMODAL_Z, Claim, ClaimsResult, ModelGrid, parse_sizes, validate_run
from .command import Command, Context, option
from .paper import empirical_denoiser


def perturbed_basis(model: molrg.MoLRG, eta: float, seed: int) -> np.ndarray:
    """``polar(U + eta G / sqrt(n))``: the nearest orthonormal matrix to a noisy basis."""
    rng = np.random.default_rng(seed)
    g = rng.standard_normal(model.basis.shape) / math.sqrt(model.n)
    u, _, vt = np.linalg.svd(model.basis + eta * g, full_matrices=False)
    return u @ vt


def principal_angles_deg(model: molrg.MoLRG, V: np.ndarray) -> list[float]:
    """Largest principal angle (degrees) between ``span(V_l)`` and ``span(U_l)`` per block."""
    from scipy.linalg import subspace_angles

    d = model.d
    return [float(np.degrees(np.max(subspace_angles(V[:, k * d:(k + 1) * d], model.block(k)))))
            for k in range(model.K)]


def parse_probes(text: str) -> tuple[str, ...]:
    """``--probes``: comma-separated probe names (each checked by :class:`ProbeOptions`)."""
    if any(not p.strip() for p in text.split(",")):
        raise ParameterError(f"probes={text!r} has an empty element; valid: "
                             f"comma-separated probes from {', '.join(molrg.PROBES)}")
    return tuple(p.strip() for p in text.split(","))


MODEL = "model (defaults: the paper's Fig. 3 setting)"
DENOISERS = "denoisers and probes"
MONTE = "Monte Carlo and grid"
CLAIMS = "claims"


@dataclass(frozen=True)
class ProbeOptions(ModelGrid):
    """Options of ``probe`` (defaults: Fig. 3's model)."""

    VERDICT_SAMPLES = ("samples", "snr_samples")
    """Monte Carlo sample counts a verdict rests on (each >= molrg.MIN_VERDICT_SAMPLES)."""

    K: int = option(3, "classes (default: 3)", group=MODEL)
    d: int = option(5, "subspace dimension (default: 5)", group=MODEL)
    n: int = option(50, "ambient dimension (default: 50)", group=MODEL)
    delta: float = option(0.2, "detail noise (default: 0.2)", group=MODEL)
    N: tuple[int, ...] = option((30, 3000), "training-set sizes of the memorising "
                                "denoisers (default: 30,3000)", group=DENOISERS,
                                text="30,3000", parse=parse_sizes)
    eta: float = option(0.5, "perturbation of the DAE basis, V = polar(U + eta G / "
                        "sqrt(n)) (default: 0.5)", group=DENOISERS)
    probes: tuple[str, ...] = option(molrg.PROBES, "probes, comma-separated (default: "
                                     "bayes,linear,energy)", group=DENOISERS,
                                     text=",".join(molrg.PROBES), parse=parse_probes)
    input: str = option("noisy", "default: noisy", group=DENOISERS, choices=molrg.INPUTS)
    denominator: str = option("others", "SNR denominator (default: others)",
                              group=DENOISERS, choices=molrg.DENOMINATORS)
    samples: int = option(40_000, "probe test samples per sigma (the linear probe trains "
                          "on as many)", group=MONTE)
    snr_samples: int = option(40_000, "SNR samples per sigma", group=MONTE)
    seed: int = option(0, "seed (default: 0)", group=MONTE)
    num_sigma: int = option(20, "grid points (default: 20)", group=MONTE)
    sigma_min: float = option(0.02, "default: 0.02", group=MONTE)
    sigma_max: float = option(4.0, "default: 4", group=MONTE)
    z: float = option(UNIMODAL_Z, "error threshold (default: 4)", group=CLAIMS)
    peak_tol: float = option(math.sqrt(2.0), "allowed factor between the accuracy's and "
                             "the SNR's peaks (sqrt 2)", group=CLAIMS)

    def __post_init__(self) -> None:
        self.check_model()
        Ns = tuple(check_int("N", v, low=1, high=10**7) for v in self.N)
        if len(set(Ns)) != len(Ns):
            raise ParameterError(f"N={list(Ns)} repeats a value; give each size once")
        object.__setattr__(self, "N", tuple(sorted(Ns)))
        object.__setattr__(self, "eta", check_real("eta", self.eta, low=0.0, open_low=True,
                                                   high=100.0))
        probes = tuple(self.probes)
        if not probes:
            raise ParameterError(f"probes is empty; valid: a subset of {molrg.PROBES}")
        for p in probes:
            check_choice("probe", p, molrg.PROBES)
        if len(set(probes)) != len(probes):
            raise ParameterError(f"probes={','.join(probes)!r} repeats a probe; give each once "
                                 f"(valid: a subset of {', '.join(molrg.PROBES)})")
        object.__setattr__(self, "probes", probes)
        validate_run(self, {"samples": 2 * self.K, "snr_samples": 2 * self.K})

    def denoisers(self) -> list[dict[str, Any]]:
        """JSON-able descriptions of the denoisers (one task each)."""
        out: list[dict[str, Any]] = [{"key": "optimal", "kind": "optimal"}]
        out += [{"key": f"empirical N={N}", "kind": "empirical", "N": N} for N in self.N]
        out += [{"key": "DAE true basis", "kind": "dae"},
                {"key": f"DAE perturbed eta={self.eta:g}", "kind": "dae", "eta": self.eta}]
        return out

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["N"] = list(self.N)
        out["probes"] = list(self.probes)
        return out


def build_denoiser(model: molrg.MoLRG, spec: dict[str, Any], seed: int) -> tuple[Any, dict]:
    """The denoiser of one task and facts about it (principal angles of a perturbed DAE)."""
    if spec["kind"] == "optimal":
        return None, {}
    if spec["kind"] == "empirical":
        return empirical_denoiser(model, spec["N"], seed), {"N": spec["N"]}
    if "eta" not in spec:
        return molrg.DAE(model.basis, model.K, model.delta), {}
    V = perturbed_basis(model, spec["eta"], seed)
    return molrg.DAE(V, model.K, model.delta), {
        "max_principal_angle_deg": principal_angles_deg(model, V)}


def _task(task: parallel.Task) -> dict[str, Any]:
    """Worker: the SNR and every probe's accuracy for one denoiser."""
    p = task.params
    model = molrg.MoLRG(p["K"], p["d"], p["n"], p["delta"], seed=p["seed"])
    denoiser, facts = build_denoiser(model, p["spec"], task.seed)
    sigma = np.array(p["sigma"])
    start = time.perf_counter()
    snr = molrg.snr(model, sigma, input=p["input"], denominator=p["denominator"],
                    denoiser=denoiser, method=molrg.MonteCarlo(simulator="ambient",
                                                               samples=p["snr_samples"],
                                                               seed=p["seed"]),
                    replicates=max(2, min(50, p["snr_samples"] // (2 * p["K"]))))  # paired errors
    out: dict[str, Any] = {"sigma": sigma.tolist(), "facts": facts,
                           "snr": {"estimate": snr.estimate.tolist(),
                                   "stderr": snr.stderr.tolist(),
                                   "untrustworthy": snr.untrustworthy.tolist(),
                                   "replicates": snr.replicates.tolist(),
                                   "samples": snr.n_samples}, "probes": {}}
    for probe in p["probes"]:
        acc = molrg.probe_accuracy(model, sigma, probe=probe, denoiser=denoiser, input=p["input"],
                                   method=molrg.Auto(molrg.MonteCarlo(samples=p["samples"],
                                                                      seed=p["seed"])))
        out["probes"][probe] = {"estimate": acc.estimate.tolist(), "stderr": acc.stderr.tolist(),
                                "lower": np.asarray(acc.lower).tolist(),
                                "upper": np.asarray(acc.upper).tolist(),
                                "method": acc.method, "classifier": acc.classifier}
    out["elapsed_s"] = time.perf_counter() - start
    return out


@dataclass(frozen=True)
class ProbeCommandResult(ClaimsResult):
    """:class:`~verify.claims.ClaimsResult` of ``probe``."""


def run(options: ProbeOptions | None = None,
        context: Context | None = None) -> ProbeCommandResult:
    context = context or Context()
    options = options or ProbeOptions()
    specs = options.denoisers()
    seeds = parallel.spawn_seeds(options.seed, len(specs))
    base = {"K": options.K, "d": options.d, "n": options.n, "delta": options.delta,
            "seed": options.seed, "input": options.input, "denominator": options.denominator,
            "samples": options.samples, "snr_samples": options.snr_samples,
            "probes": list(options.probes), "sigma": options.sigma().tolist()}
    tasks = [parallel.Task(s["key"], {**base, "spec": s}, seed)
             for s, seed in zip(specs, seeds, strict=True)]
    start = time.perf_counter()
    result = context.map(_task, tasks, "probe")
    analysis = analyse(options, result.results)
    claims = evaluate_claims(options, analysis)
    return ProbeCommandResult(options, result.results, result.failures, analysis, claims,
                              time.perf_counter() - start)


def analyse(options: ProbeOptions, runs: dict[str, Any]) -> dict[str, Any]:
    """SNR and accuracy shapes and peaks, and the SNR-accuracy concordance, per pair."""
    sigma = options.sigma()
    z = options.z
    out: dict[str, Any] = {}
    for key, r in runs.items():
        y, e = np.asarray(r["snr"]["estimate"]), np.asarray(r["snr"]["stderr"])
        reps = np.asarray(r["snr"].get("replicates", []))
        snr_shape = molrg.curve_shape(y, e, z, cov=molrg.crn_covariance(reps),
                                      dof=reps.shape[0] - 1,
                                      samples=r["snr"].get("samples", 0)) \
            if reps.ndim == 2 and reps.shape[0] >= 2 else molrg.curve_shape(y, e, z)
        entry: dict[str, Any] = {"snr": {"shape": snr_shape.to_json(),
                                         "peak_sigma": molrg.grid_peak(sigma, y),
                                         "peak_snr": float(y.max())}, "probes": {}}
        for probe, c in r["probes"].items():
            a, ae = np.asarray(c["estimate"]), np.asarray(c["stderr"])
            conc = molrg.concordance(y, e, a, ae, z)
            worst = conc.worst
            entry["probes"][probe] = {
                "shape": molrg.curve_shape(a, ae, z, samples=options.samples).to_json(),
                "peak_sigma": molrg.grid_peak(sigma, a),
                "peak_accuracy": float(a.max()), "concordance": conc.to_json(),
                "worst_pair_sigma": None if worst is None else [float(sigma[worst[0]]),
                                                                float(sigma[worst[1]])],
                "worst_pair": None if worst is None else {
                    "snr": [float(y[worst[0]]), float(y[worst[1]])],
                    "accuracy": [float(a[worst[0]]), float(a[worst[1]])]},
            }
        out[key] = entry
    return out


def evaluate_claims(options: ProbeOptions, analysis: dict[str, Any]) -> list[Claim]:
    z, tol = options.z, options.peak_tol
    sigma = options.sigma()
    claims = []
    for key, entry in analysis.items():
        snr_peak = entry["snr"]["peak_sigma"]
        snr_interior = entry["snr"]["shape"]["shape"] == "unimodal"
        for probe, pe in entry["probes"].items():
            sh = pe["shape"]
            claims.append(Claim(
                f"unimodal ({key}, {probe})", sh["shape"] == "unimodal", sh["rise_z"],
                f"interior peak, rise and fall > {z:g} errors",
                f"shape {sh['shape']}: rise {sh['rise_z']:.3g}, fall {sh['drop_z']:.3g} errors, "
                f"argmax sigma {pe['peak_sigma']:.4g}, peak accuracy {pe['peak_accuracy']:.4f}"))
            ratio = pe["peak_sigma"] / snr_peak
            interior = sh["shape"] == "unimodal" and snr_interior
            where = ("" if sh["shape"] == "unimodal" else
                     f"; the accuracy has no interior peak (its maximum is at sigma="
                     f"{pe['peak_sigma']:.4g}, grid {sigma[0]:.3g}..{sigma[-1]:.3g})")
            claims.append(Claim(
                f"peak-coincides ({key}, {probe})",
                bool(interior and abs(math.log(ratio)) <= math.log(tol)), ratio,
                f"both interior, ratio within x{tol:.3g}",
                f"accuracy peak {pe['peak_sigma']:.4g} vs SNR peak {snr_peak:.4g} "
                f"(ratio {ratio:.3g}){where}"))
            c = pe["concordance"]
            wp = pe["worst_pair_sigma"]
            detail = (f"Kendall tau {c['kendall_tau']:.3f}; {c['significant_discordant_pairs']} of "
                      f"{c['pairs']} pairs significantly discordant")
            if wp is not None:
                w = pe["worst_pair"]
                detail += (f"; worst: sigma {wp[0]:.3g} -> {wp[1]:.3g}, SNR {w['snr'][0]:.4g} -> "
                           f"{w['snr'][1]:.4g}, accuracy {w['accuracy'][0]:.4f} -> "
                           f"{w['accuracy'][1]:.4f} ({c['worst_z']:.3g} errors)")
            claims.append(Claim(
                f"monotone-in-snr ({key}, {probe})", c["significant_discordant_pairs"] == 0,
                float(c["significant_discordant_pairs"]),
                f"no pair discordant by > {z:g} errors in both", detail))
    return claims


def render(result: ProbeCommandResult, *, table: bool = True) -> list[Any]:
    o = result.options
    out: list[Any] = [
        f"[bold]SNR vs probe accuracy[/bold]: K={o.K} d={o.d} n={o.n} delta={o.delta:g}, input "
        f"{o.input}, denominator {o.denominator} ({result.elapsed_s:.1f} s)"]
    sigma = o.sigma()
    if table:
        for key, r in result.runs.items():
            facts = r.get("facts", {})
            extra = (f" (largest principal angle per block: "
                     f"{', '.join(f'{a:.1f}' for a in facts['max_principal_angle_deg'])} deg)"
                     if "max_principal_angle_deg" in facts else "")
            rows = [(s, r["snr"]["estimate"][i], r["snr"]["stderr"][i],
                     *(v for p in o.probes if p in r["probes"]
                       for v in (r["probes"][p]["estimate"][i], r["probes"][p]["stderr"][i])))
                    for i, s in enumerate(sigma)]
            heads = ["sigma", "SNR", "+-", *(h for p in o.probes if p in r["probes"]
                                             for h in (p, "+-"))]
            out.append(report.table(heads, rows, title=f"{key}{extra}"))
    rows = []
    for key, e in result.analysis.items():
        for probe, pe in e["probes"].items():
            rows.append((key, probe, e["snr"]["shape"]["shape"], e["snr"]["peak_sigma"],
                         pe["shape"]["shape"], pe["peak_sigma"], pe["peak_accuracy"],
                         pe["concordance"]["kendall_tau"],
                         pe["concordance"]["significant_discordant_pairs"]))
    out.append(report.table(
        ["denoiser", "probe", "SNR shape", "SNR peak", "accuracy shape", "acc. peak",
         "max acc.", "Kendall tau", "discordant"], rows, title="summary"))
    out += result.render_claims()
    return out


def plot(result: ProbeCommandResult, path: str) -> None:
    o = result.options
    keys = list(result.runs)
    cols = min(3, len(keys))  # rows of at most 3 panels: readable at page width
    fig, axes = report.new_figure(cols, -(-len(keys) // cols), width=4.0, height=3.4)
    for ax in axes[len(keys):]:
        ax.axis("off")
    sigma = o.sigma()
    for ax, key in zip(axes, keys, strict=False):
        r = result.runs[key]
        y = np.asarray(r["snr"]["estimate"])
        ax.plot(sigma, y / y.max(), "k-", lw=2, label="SNR / max")
        for i, (probe, c) in enumerate(r["probes"].items()):
            a, e = np.asarray(c["estimate"]), np.asarray(c["stderr"])
            lo, hi = np.asarray(c.get("lower", a - 2 * e)), np.asarray(c.get("upper", a + 2 * e))
            ax.plot(sigma, a, "o-", ms=2.5, color=f"C{i}", label=f"{probe} (95% Wilson)")
            ax.fill_between(sigma, lo, hi, color=f"C{i}", alpha=0.2)
        ax.set_xscale("log")
        ax.axhline(1 / o.K, color="0.6", ls=":", lw=1)
        ax.set_title(key, fontsize=9)
        ax.set_xlabel(report.SIGMA_LABEL)
        ax.set_ylabel("accuracy; SNR / max")
        ax.set_ylim(0, 1.05)
        ax.legend(fontsize=6)
    fig.suptitle(f"probe accuracy vs normalised SNR, $K$={o.K} $d$={o.d} $\\delta$={o.delta:g}")
    report.save_figure(fig, path)


class Probe(Command[ProbeOptions]):
    """``python -m verify probe``."""

    name = "probe"
    help = "probe accuracy (Bayes, linear, energy) vs sigma beside the SNR, per denoiser"
    Options = ProbeOptions
    scheduler = "serial"

    def run(self, options: ProbeOptions, context: Context) -> ProbeCommandResult:
        return run(options, context)
