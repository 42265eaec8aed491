"""``python -m verify collapse``: a quick run end to end, and bad input."""

from __future__ import annotations

import json

from verify import cli


def test_quick_run_writes_levels_shapes_and_claims(tmp_path):
    out = tmp_path / "c.json"
    code = cli.main(["collapse", "--quick", "--quiet", "--scheduler", "serial", "--json", str(out)])
    data = json.loads(out.read_text())
    assert code == (0 if data["verdict"] == "holds" else 1)
    assert {c["name"] for c in data["claims"]} >= {"joining", "biroli-collapse-level",
                                                    "transition-N", "step-size-converged"}
    (setting,) = data["analysis"]["settings"].values()
    assert set(setting["sizes"]) == {"10", "100"}
    for s in setting["sizes"].values():
        assert s["p_own_min_sigma"] > 0.9 and s["p_any_min_sigma"] > 0.9
        assert s["shape"] in {"unimodal", "decreasing", "increasing", "flat", "other"} or s["shape"]
    assert setting["N_pred"] > 1


def test_bad_settings_exit_2_naming_them(capsys):
    assert cli.main(["collapse", "--settings", "3:5"]) == 2
    assert "settings" in capsys.readouterr().err
