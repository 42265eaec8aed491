"""``python -m verify speciation``: a quick run end to end, and bad input."""

from __future__ import annotations

import json
import math

from verify import cli


def test_quick_run_writes_levels_claims_and_exits_by_verdict(tmp_path):
    out = tmp_path / "s.json"
    code = cli.main(["speciation", "--quick", "--quiet", "--scheduler", "serial", "--json", str(out)])
    data = json.loads(out.read_text())
    assert code == (0 if data["verdict"] == "holds" else 1)
    names = {c["name"] for c in data["claims"]}
    assert {"speciation-is-noisy-peak", "achilli-criterion", "step-size-converged"} <= names
    for row in data["analysis"]["settings"].values():
        assert 0.03 < row["level"] < 10 and row["level_stderr"] > 0
        assert math.isfinite(row["peak_noisy"]) and row["p_at_sigma_min"] > 0.9


def test_bad_option_exits_2_naming_it(capsys):
    assert cli.main(["speciation", "--quick", "--samples", "1"]) == 2
    assert "--samples=1" in capsys.readouterr().err
