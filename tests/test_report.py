"""verify.report: progress bars, tables, JSON conversion, output paths."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

import molrg
from verify import report


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_draws_on_a_terminal_and_ends_with_a_newline(
        monkeypatch: pytest.MonkeyPatch) -> None:
    stream = _Tty()
    monkeypatch.setattr("sys.stderr", stream)
    with report.Progress() as progress:
        bar = progress.phase("noisy: grid")
        bar(5, 10)
        bar(10, 10)
    text = stream.getvalue()
    assert "noisy: grid" in text and "100%" in text and "10/10" in text
    assert text.replace("\x1b[?25h", "").endswith("\n")  # the cursor is shown again last


def test_progress_bar_is_silent_when_not_a_terminal_or_disabled(
        monkeypatch: pytest.MonkeyPatch) -> None:
    plain = io.StringIO()
    monkeypatch.setattr("sys.stderr", plain)
    with report.Progress() as progress:
        progress.phase("x")(1, 2)
    tty = _Tty()
    monkeypatch.setattr("sys.stderr", tty)
    with report.Progress(enabled=False) as progress:
        progress.phase("x")(1, 2)
    report.Progress().phase("outside a with block")(1, 2)
    assert plain.getvalue() == "" and tty.getvalue() == ""


def test_fmt_marks_failures_and_missing_values() -> None:
    assert report.fmt(False) == "NO" and report.fmt(np.bool_(True)) == "yes"
    assert report.fmt(math.nan) == "-" and report.fmt(None) == "-"
    assert report.fmt(0.57861234) == "0.5786" and report.fmt(np.float64(12345.6)) == "1.235e+04"
    assert report.fmt(7) == "7"


def test_table_aligns_numbers_and_marks_failures() -> None:
    table = report.table(["claim", "holds", "measured"],
                         [("peak-location", False, 0.5786), ("theory", True, math.nan)],
                         title="claims")
    out = io.StringIO()
    Console(file=out, width=100, color_system=None).print(table)
    lines = [line for line in out.getvalue().splitlines() if "peak-location" in line
             or "theory " in line]
    assert "NO" in lines[0] and "0.5786" in lines[0]
    assert "yes" in lines[1] and lines[1].rstrip(" │").endswith("-")
    assert table.columns[2].justify == "right" and table.columns[0].justify == "left"


def test_jsonable_turns_numpy_and_non_finite_values_into_json() -> None:
    data = report.jsonable({"a": np.arange(3), "b": np.float64(np.inf), "c": (np.int64(2), True)})
    assert json.loads(json.dumps(data)) == {"a": [0, 1, 2], "b": None, "c": [2, True]}


def test_jsonable_uses_to_json() -> None:
    data = report.jsonable({"setting": molrg.Setting(3, 5, 0.2),
                            "method": molrg.MonteCarlo(seed=np.random.SeedSequence(4))})
    assert data["setting"] == {"K": 3, "d": 5, "delta": 0.2}
    assert data["method"]["seed"] == {"entropy": 4, "spawn_key": []}
    json.dumps(data)


def test_write_json_writes_null_for_non_finite_values(tmp_path: Path) -> None:
    path = tmp_path / "deeper" / "out.json"
    report.write_json(path, {"x": np.array([1.0, np.nan]), "y": -np.inf})
    assert json.loads(path.read_text()) == {"x": [1.0, None], "y": None}


def test_check_output_path_refuses_unwritable_paths_before_any_work(tmp_path: Path) -> None:
    report.check_output_path("--json", None)
    report.check_output_path("--json", str(tmp_path / "new" / "out.json"))
    with pytest.raises(molrg.ParameterError, match=r"--plot=.* has no figure extension"):
        report.check_output_path("--plot", str(tmp_path / "f.txt"),
                                 suffixes=report.FIGURE_SUFFIXES)
    with pytest.raises(molrg.ParameterError, match="is a folder"):
        report.check_output_path("--json", str(tmp_path))
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(molrg.ParameterError, match="is not writable"):
        report.check_output_path("--json", str(blocker / "out.json"))
