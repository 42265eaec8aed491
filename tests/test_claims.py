"""The four claim commands (memorization, mixtures, separated, probe): CLI protocol, JSON,
claim logic on crafted inputs, the derived mixture limits, and their building blocks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.linalg import subspace_angles

import molrg
from verify import cli, memorization, mixtures, paper, probe

FAST = {
    "memorization": ["--N", "10,400", "--samples", "300", "--optimal-samples", "3000",
                     "--num-sigma", "8", "--sigma-max", "3"],
    "mixtures": ["--angles", "90,30", "--angle-mode", "all", "--samples", "1200",
                 "--num-sigma", "8"],
    "separated": ["--scales", "0,3", "--placement", "orthogonal", "--samples", "1200",
                  "--probe-samples", "300", "--num-sigma", "8"],
    "probe": ["--N", "20", "--samples", "300", "--snr-samples", "600", "--num-sigma", "6",
              "--probes", "bayes,energy"],
}


@pytest.mark.parametrize("command", list(FAST))
def test_command_json_plot_and_exit_code(command: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    path, fig = tmp_path / "out.json", tmp_path / "out.png"
    code = cli.main([command, *FAST[command], "--quiet", "--json", str(path), "--plot", str(fig)])
    data = json.loads(path.read_text())
    assert data["command"] == command
    assert code == {"holds": 0, "deviates": 1, "undetermined": 4}[data["verdict"]]
    assert {"params", "runs", "claims", "failures", "untrustworthy"} <= set(data)
    assert data["claims"] and {"name", "holds", "measured", "tolerance", "detail"} <= set(
        data["claims"][0])
    if data["untrustworthy"]:  # these fast runs have too few samples for a verdict
        assert data["verdict"] == "undetermined"
    else:
        assert data["verdict"] == ("holds" if all(c["holds"] for c in data["claims"])
                                   else "deviates")
    assert fig.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "verdict" in capsys.readouterr().out.lower()


@pytest.mark.parametrize(("argv", "needle"), [
    (["memorization", "--N", "10,x"], "must be comma-separated integers"),
    (["memorization", "--N", "10,10"], "repeats a value"),
    (["memorization", "--samples", "1"], "samples=1 is out of range"),
    (["memorization", "--sigma-min", "2", "--sigma-max", "1"], "must exceed"),
    (["mixtures", "--angles", "120"], "=120.0 is out of range; valid: (0, 90]"),
    (["mixtures", "--weights", "0.7,0.2"], "sums to"),
    (["mixtures", "--ranks", "10,2,3"], "two ranks"),
    (["mixtures", "--n", "8"], "n=8 is too small"),
    (["separated", "--scales", "-1"], "scales=-1.0 is out of range"),
    (["separated", "--n", "11"], "n=11 is too small"),
    (["probe", "--probes", "knn"], "='knn' is not valid; valid: 'bayes', 'linear'"),
    (["probe", "--eta", "0"], "eta=0.0 is out of range"),
    (["probe", "--scheduler", "nowhere"], "scheduler='nowhere' is not valid"),
])
def test_bad_input_exits_2_before_any_work(argv: list[str], needle: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


@pytest.mark.parametrize(("command", "claims"), [
    ("memorization", ("small-N-monotone", "large-N-unimodal", "approaches-optimum")),
    ("mixtures", ("unimodal", "overlap-lowers-snr", "overlap-peak-stable", "majority-higher")),
    ("separated", ("snr-monotone", "accuracy-monotone", "control-unimodal")),
    ("probe", ("unimodal", "peak-coincides", "monotone-in-snr")),
])
def test_help_names_every_claim(command: str, claims: tuple[str, ...],
                                capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert all(c in out for c in claims)


def test_resume_skips_finished_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "m.json"
    argv = ["memorization", *FAST["memorization"], "--quiet", "--exit-zero", "--json", str(path)]
    assert cli.main(argv) == 0
    first = json.loads(path.read_text())
    calls: list[str] = []
    original = memorization._task
    monkeypatch.setattr(memorization, "_task", lambda t: calls.append(t.key) or original(t))
    assert cli.main([*argv, "--resume"]) == 0
    assert calls == []
    assert json.loads(path.read_text())["analysis"] == first["analysis"]


# ---------------------------------------------------------------------------- claim logic
def _mem_run(N: int | None, y: list[float]) -> dict:
    return {"N": N, "sigma": [], "snr": y, "stderr": [0.01] * len(y), "samples": 1,
            "elapsed_s": 0.0}


def test_memorization_claims_on_crafted_curves() -> None:
    options = memorization.MemorizationOptions(N=(10, 1000), num_sigma=5, sigma_min=0.1,
                                               sigma_max=10.0)
    runs = {"optimal": _mem_run(None, [10, 20, 30, 5, 1]),
            "N=10": _mem_run(10, [6, 5.9, 5, 2, 1]),
            "N=1000": _mem_run(1000, [10, 15, 25, 5, 1])}
    analysis = memorization.analyse(options, runs)
    claims = {c.name: c for c in memorization.evaluate_claims(options, analysis)}
    assert claims["small-N-monotone"].holds and claims["large-N-unimodal"].holds
    assert claims["approaches-optimum"].holds
    assert analysis["transition"] == {"largest_monotone_N": 10, "smallest_unimodal_N": 1000,
                                      "shapes": {"10": "decreasing", "1000": "unimodal"}}
    runs["N=10"] = _mem_run(10, [6, 8, 9, 2, 1])  # a memorising curve that rises: deviates
    claims = {c.name: c for c in memorization.evaluate_claims(
        options, memorization.analyse(options, runs))}
    assert not claims["small-N-monotone"].holds and "unimodal" in claims["small-N-monotone"].detail


def test_memorization_peak_tolerance_is_two_sided() -> None:
    """The largest N's peak must lie within a factor peak_tol of the optimum's on either
    side: a peak ~3x below the optimum's fails as a peak ~3x above does, while the gap
    shrinks with N in both cases; the same peak as the optimum's passes."""
    options = memorization.MemorizationOptions(N=(10, 1000), num_sigma=5, sigma_min=0.1,
                                               sigma_max=10.0)
    base = {"optimal": _mem_run(None, [1, 5, 30, 20, 1]), "N=10": _mem_run(10, [6, 5.9, 5, 2, 1])}
    for large, holds in (([1, 25, 20, 5, 1], False), ([1, 5, 20, 25, 1], False),
                         ([1, 5, 25, 20, 1], True)):
        analysis = memorization.analyse(options, {**base, "N=1000": _mem_run(1000, large)})
        gaps = [analysis["curves"][k]["gap_near_optimum_peak"] for k in ("N=10", "N=1000")]
        assert gaps[1] < gaps[0]
        ratio = analysis["curves"]["N=1000"]["peak_sigma"] / analysis["optimal_peak_sigma"]
        assert (abs(np.log(ratio)) <= np.log(options.peak_tol)) == holds
        claims = {c.name: c for c in memorization.evaluate_claims(options, analysis)}
        assert claims["approaches-optimum"].holds == holds, (large, ratio)


def test_probe_claims_on_crafted_curves() -> None:
    options = probe.ProbeOptions(num_sigma=5, sigma_min=0.1, sigma_max=10.0)
    se = [1e-3] * 5
    runs = {"x": {"snr": {"estimate": [1, 2, 3, 2, 1], "stderr": se}, "probes": {
        "bayes": {"estimate": [0.9, 0.8, 0.7, 0.6, 0.5], "stderr": se},
        "linear": {"estimate": [0.4, 0.5, 0.6, 0.5, 0.4], "stderr": se}}}}
    claims = {c.name: c for c in probe.evaluate_claims(options, probe.analyse(options, runs))}
    assert not claims["unimodal (x, bayes)"].holds
    assert not claims["peak-coincides (x, bayes)"].holds
    assert "no interior peak" in claims["peak-coincides (x, bayes)"].detail
    assert not claims["monotone-in-snr (x, bayes)"].holds
    assert all(claims[f"{c} (x, linear)"].holds
               for c in ("unimodal", "peak-coincides", "monotone-in-snr"))


# ---------------------------------------------------------------------------- building blocks
def test_span_denoiser_equals_the_ambient_empirical_denoiser() -> None:
    model = molrg.MoLRG(3, 2, 12, 0.2, seed=1)
    den = memorization.empirical_denoiser(model, 50, 2)
    full = molrg.EmpiricalDenoiser(den.points)
    x = np.random.default_rng(0).standard_normal((7, 12))
    for s in (0.05, 0.5, 5.0):
        np.testing.assert_allclose(den(x, s), full(x, s), atol=1e-12)
    with pytest.raises(molrg.ParameterError, match="not in span"):
        molrg.EmpiricalDenoiser(np.ones((3, 12)), basis=model.basis)


def test_one_angle_and_perturbed_bases() -> None:
    mix = molrg.LowRankMixture.two_subspaces(20, 4, 30.0, delta=0.2, count=1)
    angles = np.sort(np.degrees(subspace_angles(*mix.bases)))
    np.testing.assert_allclose(angles, [30, 90, 90, 90], atol=1e-9)
    model = molrg.MoLRG(3, 2, 20, 0.2)
    V = probe.perturbed_basis(model, 0.5, 0)
    np.testing.assert_allclose(V.T @ V, np.eye(6), atol=1e-12)
    assert all(0 < a < 60 for a in probe.principal_angles_deg(model, V))


def test_derived_mixture_limits() -> None:
    """The SymPy limits: equal to the idealised binary MoLRG's exact limits, 90 degrees
    equals orthogonal, and Monte Carlo at sigma = 1e-3 and 1e3 agrees."""
    from molrg.symbolic.mixture_limits import evaluate
    from tests.conftest import family_z

    st = molrg.Setting(2, 5, 0.2)
    base = evaluate("orthogonal", delta_=0.2)
    for mode in molrg.INPUTS:
        zero, inf = molrg.exact_limits(st, input=mode)
        assert base[("zero", mode, "others", 0)] == pytest.approx(zero, rel=1e-12)
        assert base[("inf", mode, "others", 1)] == pytest.approx(inf, rel=1e-12)
    right = evaluate("angle-all", delta_=0.2, angle_deg=90.0)
    assert all(right[k] == pytest.approx(v, rel=1e-12) for k, v in base.items())
    z = family_z(8)
    for family, mix, kw in [
            ("angle-all", molrg.LowRankMixture.two_subspaces(20, 3, 30.0, delta=0.3),
             {"angle_deg": 30.0}),
            ("orthogonal", molrg.LowRankMixture.unequal_ranks(20, (4, 2), 0.3, weights=[0.7, 0.3]),
             {"d0_": 4, "d1_": 2, "pi0_": 0.7})]:
        lim = evaluate(family, delta_=0.3, d_=3, **kw)
        for den in molrg.DENOMINATORS:
            res = molrg.snr(mix, [1e-3, 1e3], denominator=den,
                            method=molrg.MonteCarlo(simulator="ambient", samples=20_000, seed=1))
            for i, limit in enumerate(("zero", "inf")):
                for k in range(2):
                    expected = lim[(limit, "noisy", den, k)]
                    assert abs(res.per_class[i, k] - expected) <= z * res.per_class_stderr[i, k] \
                        + 1e-3 * expected


def test_mixtures_paper_comparison_uses_the_printed_grid() -> None:
    sigma = np.array(sorted({*paper.PAPER_SIGMA_56, 1.0}))
    curves = {mixtures.combo_key(i, d): {"overall": list(sigma), "per_class": [list(sigma)] * 2}
              for i, d in mixtures.COMBOS}
    out = mixtures.compare_with_paper("weights", sigma, {"curves": curves})
    row = out["rows"]["class 0"]["combos"]["noisy/others"]
    np.testing.assert_allclose(row["ours"], paper.PAPER_SIGMA_56)
    assert paper.TABLE7_GUESS == ("orthogonal", 3.0)


@pytest.mark.parametrize("holds", [True, False])
def test_a_claim_command_verdict_never_rests_on_untrustworthy_estimates(holds: bool) -> None:
    """Issue 20: a run whose Monte Carlo estimates are flagged (anywhere in its record), or
    options with fewer than molrg.MIN_VERDICT_SAMPLES samples, make the verdict
    undetermined -- whether the claims hold or not."""
    from types import SimpleNamespace

    from verify.claims import Claim, ClaimsResult

    claims = [Claim("c", holds, 1.0, "tol")]
    options = SimpleNamespace(VERDICT_SAMPLES=("samples",), samples=10**5)
    flagged = {"a": {"snr": {"untrustworthy": [False, True]}}}
    clean = {"a": {"snr": {"untrustworthy": [False, False]}}}
    assert ClaimsResult(options, flagged, {}, {}, claims).verdict == "undetermined"
    assert ClaimsResult(options, clean, {}, {}, claims).verdict == ("holds" if holds
                                                                     else "deviates")
    few = SimpleNamespace(VERDICT_SAMPLES=("samples",), samples=200)
    result = ClaimsResult(few, clean, {}, {}, claims)
    assert result.verdict == "undetermined"
    assert "samples=200" in result.untrustworthy[0]


def test_a_verdict_never_holds_on_an_undetermined_claim() -> None:
    """verdict_of: a determined failure deviates (whatever else is undetermined); an
    undetermined claim makes the verdict undetermined, never holds; all holding holds."""
    from verify.claims import Claim, verdict_of

    ok, bad = Claim("a", True, 1.0, "t"), Claim("b", False, 1.0, "t")
    undecided_held = Claim("c", True, 1.0, "t", undetermined=True)
    undecided_failed = Claim("d", False, 1.0, "t", undetermined=True)
    assert verdict_of([ok, ok]) == "holds"
    assert verdict_of([ok, bad]) == "deviates"
    assert verdict_of([bad, undecided_held]) == "deviates"
    for undecided in (undecided_held, undecided_failed):
        assert verdict_of([ok, undecided]) == "undetermined"
        assert verdict_of([undecided]) == "undetermined"


def test_combined_verdicts_never_hold_on_an_undetermined_part() -> None:
    from verify.claims import combine_verdicts

    assert combine_verdicts(["holds", "holds"]) == "holds"
    assert combine_verdicts(["holds", "undetermined"]) == "undetermined"
    assert combine_verdicts(["undetermined"]) == "undetermined"
    assert combine_verdicts(["undetermined", "deviates", "holds"]) == "deviates"
