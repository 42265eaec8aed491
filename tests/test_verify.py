"""The verify CLI: exit codes, messages, JSON, plots, claims logic, and its agreement with
the library it reports on.

``method="auto"`` (the CLI's default) means quadrature, a method still being built, so
every run here names a Monte Carlo simulator (``--method reduced``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import molrg
from tests.conftest import monte_carlo
from verify import cli, peaklaw, theorem1
from verify.command import Context

EXIT = {"holds": 0, "deviates": 1, "undetermined": 4}


def claims_verdict(claims: list[dict[str, Any]]) -> str:
    """A verdict from JSON claims: deviates on a determined failure, undetermined on an
    undetermined claim, else holds."""
    if any(not c["holds"] and not c.get("undetermined") for c in claims):
        return "deviates"
    return "undetermined" if any(c.get("undetermined") for c in claims) else "holds"


FAST = ["--method", "reduced", "--samples", "4000", "--num-sigma", "12", "--replicates", "3",
        "--quiet"]


@pytest.mark.parametrize(("argv", "needle"), [
    (["theorem1", "--delta", "1.5"], "delta=1.5 is out of range; valid: (0, 1)"),
    (["theorem1", "--K", "1"], "K=1 is out of range; valid: [2, 100000]"),
    (["theorem1", "--d", "40", "--n", "50", "--method", "ambient"], "K*d=120 exceeds n=50"),
    (["theorem1", "--sigma-min", "0"], "--sigma-min=0.0 is out of range"),
    (["theorem1", "--sigma-min", "2", "--sigma-max", "1"], "--sigma-max=1.0 must exceed"),
    (["theorem1", "--samples", "1"], "samples=1 is out of range"),
    (["theorem1", "--peak-tol", "-1"], "--peak-tol=-1.0 is out of range"),
    (["theorem1", "--replicates", "1"], "replicates=1 is out of range"),
    (["theorem1", "--num-sigma", "3"], "--num-sigma=3 is out of range"),
    (["theorem1", "--json", f"{__file__}/out.json"], "is not writable ("),
    (["theorem1", "--plot", "out.txt"], "--plot='out.txt' has no figure extension"),
    (["sweep", "--vary", "K", "--values", "2,x"], "must be comma-separated numbers"),
    (["sweep", "--vary", "K", "--values", "2.5"], "K takes integers"),
    (["peak-law", "--cases", "0"], "cases=0 is out of range"),
])
def test_bad_input_exits_2_with_a_message_and_no_traceback(
        argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


@pytest.mark.parametrize("argv", [["theorem1", "--input", "sideways"], ["nonsense"],
                                  ["theorem1", "--backend", "torch"]])
def test_unknown_choices_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Usage errors return 2: ``main`` never raises SystemExit."""
    assert cli.main(argv) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_missing_command_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    assert "required" in capsys.readouterr().err


def test_help_explains_each_claim_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["theorem1", "--help"]) == 0
    out = capsys.readouterr().out
    for claim in ("simulated-unimodal", "theory-unimodal", "peak-location", "approx-near-peak"):
        assert claim in out


def test_an_internal_error_exits_3_with_a_traceback(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    def broken(self: peaklaw.PeakLaw, options: peaklaw.PeakLawOptions,
               context: Context) -> None:
        raise RuntimeError("planted")

    monkeypatch.setattr(peaklaw.PeakLaw, "run", broken)
    assert cli.main(["peak-law", "--cases", "1"]) == 3
    err = capsys.readouterr().err
    assert "Traceback" in err and "internal error: RuntimeError: planted" in err


def test_theorem1_json_has_the_documented_keys_and_matches_molrg_snr(tmp_path: Path) -> None:
    path = tmp_path / "t1.json"
    plot = tmp_path / "t1.png"
    code = cli.main(["theorem1", *FAST, "--seed", "5", "--json", str(path), "--plot", str(plot)])
    data = json.loads(path.read_text())
    verdicts = [m["verdict"] for m in data["modes"].values()]
    expected = ("deviates" if "deviates" in verdicts else
                "undetermined" if "undetermined" in verdicts else "holds")
    assert data["verdict"] == expected
    assert code == EXIT[expected]
    assert data["command"] == "theorem1"
    assert {"K", "d", "n", "delta", "samples", "seed", "backend", "estimand", "form",
            "method"} <= set(data["params"])
    assert data["params"]["method"] == "reduced"
    assert set(data["modes"]) == {"noisy", "clean"}
    for mode, m in data["modes"].items():
        for key in ("sigma", "snr_simulated", "snr_stderr", "snr_theory", "peak_sigma_simulated",
                    "peak_sigma_theory", "claims", "verdict", "forms"):
            assert key in m
        assert set(m["forms"]) == set(molrg.FORMS)
        assert {"name", "holds", "measured", "tolerance"} <= set(m["claims"][0])
        assert m["verdict"] == claims_verdict(m["claims"])
        assert m["verdict"] == m["forms"]["printed"]["verdict"]  # the default form
        direct = molrg.snr(molrg.MoLRG(3, 5, 50, 0.2, seed=5), np.array(m["sigma"]), input=mode,
                           method=monte_carlo("reduced", samples=4000, seed=5))
        np.testing.assert_array_equal(direct.estimate, m["snr_simulated"])
        np.testing.assert_array_equal(direct.stderr, m["snr_stderr"])
        setting = molrg.Setting(3, 5, 0.2)
        np.testing.assert_array_equal(m["snr_theory"], molrg.approx_snr(
            np.array(m["sigma"]), setting, input=mode, form="printed"))
        assert m["peak_sigma_theory"] == molrg.peak(setting, input=mode, form="printed").sigma
        assert m["forms"]["derived"]["peak_sigma"] == molrg.peak(setting, input=mode,
                                                                 form="derived").sigma
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_theorem1_single_mode(tmp_path: Path) -> None:
    path = tmp_path / "t1.json"
    cli.main(["theorem1", *FAST, "--input", "clean", "--json", str(path)])
    assert set(json.loads(path.read_text())["modes"]) == {"clean"}


def test_theorem1_run_reports_the_library_peaks() -> None:
    """``theorem1.run`` (a library caller) gives exactly what molrg.snr_peak and
    molrg.peak give for the same options: the CLI adds no arithmetic of its own."""
    options = theorem1.Theorem1Options(K=3, d=5, n=15, delta=0.2, method="reduced",
                                       samples=6000, seed=2, num_sigma=15, replicates=3,
                                       form="derived")
    result = theorem1.run(options)
    setting = molrg.Setting(3, 5, 0.2)
    lo, hi = theorem1.default_grid(setting, ("noisy", "clean"))
    for mode, r in result.modes.items():
        np.testing.assert_allclose(r.sigma, np.geomspace(lo, hi, 15), rtol=1e-12)
        mc = monte_carlo("reduced", samples=6000, seed=2)
        peak = molrg.snr_peak(molrg.MoLRG(3, 5, 15, 0.2, seed=2), input=mode, grid=r.sigma,
                              replicates=3, method=mc)
        assert (r.peak.sigma, r.peak.stderr, r.peak.snr) == (peak.sigma, peak.stderr, peak.snr)
        theory = molrg.peak(setting, input=mode, form="derived")
        assert r.selected.peak == theory
        assert r.peak_ratio == peak.sigma / theory.sigma
        assert r.verdict == r.forms["derived"].verdict


# Claims logic on crafted curves ---------------------------------------------------------
SIGMA = np.geomspace(0.01, 10, 31)
U = np.log(SIGMA)


def _peak(sigma: float, se: float = 0.001) -> molrg.SNRPeak:
    return molrg.SNRPeak(sigma, se, 1.0, 0.01, True, "reduced", np.array([sigma]))


def _theory_peak(sigma: float, interior: bool = True) -> molrg.Peak:
    return molrg.Peak(sigma, 1.0, interior, 1 if interior else 0, (math.nan, math.nan))


def _claims(sim: np.ndarray, theory: np.ndarray, peak_sim: float, peak_th: float,
            se: float = 0.01, interior: bool = True) -> dict[str, theorem1.Claim]:
    claims = theorem1.evaluate_claims(SIGMA, sim, np.full(31, se), theory,
                                      peak_exact=_peak(peak_sim),
                                      peak_theory=_theory_peak(peak_th, interior))
    return {c.name: c for c in claims}


def test_claims_on_a_matching_unimodal_curve_all_hold() -> None:
    y = 10 * np.exp(-(U - np.log(0.5)) ** 2)
    c = _claims(y, y, 0.5, 0.5)
    assert all(x.holds for x in c.values())


def test_claims_on_a_bimodal_simulated_curve() -> None:
    y = 10 * np.exp(-(U - 1.5) ** 2) + 10 * np.exp(-(U + 1.5) ** 2)
    c = _claims(y, y, float(SIGMA[np.argmax(y)]), float(SIGMA[np.argmax(y)]))
    assert not c["simulated-unimodal"].holds and c["simulated-unimodal"].measured > 100


def test_claims_on_a_flat_simulated_curve_flag_the_missing_interior_peak() -> None:
    flat = np.full(31, 3.0)
    c = _claims(flat, flat, 0.5, 0.5)
    assert c["simulated-unimodal"].measured == 0.0
    assert not c["simulated-unimodal"].holds  # argmax on the grid edge: no interior peak


def test_claims_on_a_noisy_curve_tolerate_noise_within_errors() -> None:
    rng = np.random.default_rng(3)
    y = 10 * np.exp(-(U - np.log(0.5)) ** 2)
    noisy = y + 0.01 * rng.standard_normal(31)
    c = _claims(noisy, y, 0.5, 0.5)
    assert c["simulated-unimodal"].holds and c["approx-near-peak"].holds


def test_claims_on_a_shifted_peak_fail_the_location_claim_with_the_measured_ratio() -> None:
    y = 10 * np.exp(-(U - np.log(0.3)) ** 2)
    t = 10 * np.exp(-(U - np.log(0.5)) ** 2)
    c = _claims(y, t, 0.3, 0.5)
    assert not c["peak-location"].holds
    assert c["peak-location"].measured == pytest.approx(0.6)
    assert not c["approx-near-peak"].holds


def test_claims_when_theory_has_no_interior_peak() -> None:
    y = 10 * np.exp(-(U - np.log(0.5)) ** 2)
    c = _claims(y, y, 0.5, 0.0, interior=False)
    assert not c["theory-unimodal"].holds and not c["peak-location"].holds
    assert math.isnan(c["peak-location"].measured)


def test_other_commands_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["derive", "--input", "clean"]) == 0
    assert "margin = " in capsys.readouterr().out
    assert cli.main(["derive", "--input", "noisy", "--form", "printed", "--latex"]) == 0
    assert "\\frac" in capsys.readouterr().out
    assert cli.main(["peak-law", "--cases", "20"]) == 0
    out = tmp_path / "sweep.json"
    code = cli.main(["sweep", "--vary", "delta", "--values", "0.2,0.4", "--method", "reduced",
                     "--samples", "4000", "--num-sigma", "12", "--quiet", "--json", str(out),
                     "--plot", str(tmp_path / "sweep.png")])
    assert code in (0, 1, 4)
    data = json.loads(out.read_text())
    assert [r["delta"] for r in data["rows"]] == [0.2, 0.2, 0.4, 0.4]
    assert code == EXIT[data["verdict"]]
    assert (tmp_path / "sweep.png").exists()


def test_proposition1_command_holds(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["proposition1", "--cases", "4"]) == 0
    assert "HOLDS" in capsys.readouterr().out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_peak_law_with_a_single_case_does_not_crash(seed: int,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 11: ``verify peak-law --cases 1 --seed 2`` ended in an IndexError traceback
    (no interior peak for one mode: empty statistics)."""
    assert cli.main(["peak-law", "--cases", "1", "--seed", str(seed)]) == 0
    assert "Traceback" not in capsys.readouterr().err


def test_theorem1_options_validate_on_construction() -> None:
    with pytest.raises(molrg.ParameterError, match="inputs is empty"):
        theorem1.Theorem1Options(inputs=())
    with pytest.raises(molrg.ParameterError, match="input='dirty' is not valid"):
        theorem1.Theorem1Options(inputs=("dirty",))
    with pytest.raises(molrg.ParameterError, match="form='final' is not valid"):
        theorem1.Theorem1Options(form="final")
    with pytest.raises(molrg.ParameterError, match="samples=1 is out of range"):
        theorem1.Theorem1Options(method="reduced", samples=1)
    with pytest.raises(molrg.ParameterError, match="method='quadrature' needs"):
        theorem1.run(theorem1.Theorem1Options(method="quadrature", estimand="mean-of-ratios"))


def test_refining_the_default_grid_flips_no_verdict_at_the_fig3_setting() -> None:
    """Issue 24: a verdict that depends on the grid states it and is stable under refining
    the default grid (40 -> 80 log points), for every form and input; a coarser grid is
    flagged grid-limited (there the clean derived verdict flips: holds at 8 points)."""
    runs = {n: theorem1.run(theorem1.Theorem1Options(num_sigma=n)) for n in (8, 40, 80)}

    def verdicts(n: int) -> dict[tuple[str, str], str]:
        return {(mode, form): f.verdict for mode, m in runs[n].modes.items()
                for form, f in m.forms.items()}

    assert verdicts(40) == verdicts(80)
    grids = {n: runs[n].to_json()["grid"] for n in runs}
    assert grids[40]["num_sigma"] == 40 and not grids[40]["grid_limited"]
    assert not grids[80]["grid_limited"] and grids[8]["grid_limited"]
    assert verdicts(8) != verdicts(40)  # the flip the flag warns about
