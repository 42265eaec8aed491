"""``python -m verify generalization``: bad options exit 2 before any training; the
--quick run writes its JSON with the four claims (needs torch: skipped without it)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from verify import cli
from verify.generalization import GeneralizationOptions, onset


def test_bad_options_exit_2_before_training(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["generalization", "--steps", "0"]) == 2
    assert "--steps=0" in capsys.readouterr().err
    assert cli.main(["generalization", "--N", "64,64"]) == 2
    assert cli.main(["generalization", "--regime-window", "0"]) == 2
    with pytest.raises(ValueError, match="denominator"):
        GeneralizationOptions(denominator="mine")


def test_onset_is_the_start_of_the_unimodal_tail() -> None:
    assert onset({64: "decreasing", 128: "unimodal", 256: "unimodal"}) == 128
    assert onset({64: "unimodal", 128: "undetermined", 256: "unimodal"}) == 256
    assert onset({64: "unimodal", 128: "decreasing"}) is None


@pytest.mark.skipif(os.environ.get("HYPOTHESIS_PROFILE", "ci") != "thorough",
                    reason="the same --quick run is tests/test_examples.py"
                    "::test_example_runs[generalization] and tests/test_schema.py's example; "
                    "its JSON is checked in the thorough profile")
def test_quick_run_writes_json_with_claims(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    path = tmp_path / "g.json"
    code = cli.main(["generalization", "--quick", "--scheduler", "serial", "--quiet",
                     "--json", str(path)])
    assert code == 4  # --quick evaluates on < 3000 samples: never a verdict
    data = json.loads(path.read_text())
    assert data["command"] == "generalization" and data["verdict"] == "undetermined"
    assert {c["name"] for c in data["claims"]} == {
        "small-N-memorises", "memorising-monotone", "generalising-unimodal",
        "transition-matches-empirical"}
    run = data["runs"]["N=8"]
    assert len(run["score"]["score"]) == 5 and len(run["score"]["toward_empirical"]) == 5
    assert run["regime"]["regime"] in ("memorises", "generalises", "undetermined")
    assert data["analysis"]["transition"]["trained_shapes"].keys() == {"8", "32"}
