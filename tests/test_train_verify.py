"""``python -m verify trained``: runs end to end in --quick mode; without torch, exit 2 naming
the extra; bad options exit 2 before any training."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from verify import cli
from verify.trained import TrainedOptions


def test_bad_options_exit_2_before_training(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["trained", "--parts", "fig4"]) == 2
    assert "--parts='fig4'" in capsys.readouterr().err
    assert cli.main(["trained", "--epochs", "0"]) == 2
    assert "--epochs=0" in capsys.readouterr().err
    with pytest.raises(ValueError, match="denominator"):
        TrainedOptions(denominator="mine")


def test_without_torch_the_command_exits_2_naming_the_extra_and_others_still_run() -> None:
    code = ("import sys; sys.modules['torch'] = None\n"
            "from verify.cli import main\n"
            "other = main(['proposition1', '--quiet'])\n"
            "sys.exit(10 * other + main(['trained', '--quick']))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 2, out.stderr  # proposition1: 0, trained: 2
    assert "molrg[train]" in out.stderr and "Traceback" not in out.stderr


def test_quick_fig3_writes_json_with_claims_and_the_paper_recipe(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    path = tmp_path / "t.json"
    code = cli.main(["trained", "--quick", "--parts", "fig3", "--scheduler", "serial", "--quiet",
                     "--exit-zero", "--json", str(path)])
    assert code == 0
    data = json.loads(path.read_text())
    assert data["command"] == "trained" and data["verdict"] in ("holds", "deviates")
    names = {c["name"] for c in data["claims"]}
    assert {"fig3-subspaces", "fig3-snr", "fig3-unimodal", "fig3-peaks-coincide",
            "fig3-probe"} <= names
    runs = data["runs"]
    assert {"optimal", "fig3/seed=0", "fig3/paper-recipe"} <= set(runs)
    assert len(runs["fig3/seed=0"]["snr"]) == 9
    seeds = data["analysis"]["fig3"]["seeds"]
    assert 0.0 <= seeds["fig3/seed=0"]["largest_angle_deg"] <= 90.0


def test_torch_denoiser_page_runs_as_shown(capsys: pytest.CaptureFixture[str]) -> None:
    """The code blocks of docs/examples/torch_denoiser.md, run in order (fewer steps)."""
    import re

    pytest.importorskip("torch")
    page = (Path(__file__).parents[1] / "docs" / "examples" / "torch_denoiser.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", page, flags=re.S)
    assert len(blocks) == 2
    code = "\n".join(blocks).replace("STEPS = 3000", "STEPS = 5")
    code = code.replace("samples=20_000", "samples=600").replace("samples=4_000", "samples=300")
    exec(compile(code, "torch_denoiser.md", "exec"), {"__name__": "torch_denoiser_page"})
    out = capsys.readouterr().out
    assert "SNR of the optimum" in out and "refused: module Broken returned shape" in out
