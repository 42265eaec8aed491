"""verify.report: progress bar, tables, JSON conversion."""

from __future__ import annotations

import io
import json
import math

import numpy as np

from verify import report


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_draws_on_a_terminal_and_ends_with_a_newline() -> None:
    stream = _Tty()
    bar = report.Progress("noisy: grid", stream=stream)
    bar(5, 10)
    bar(10, 10)
    text = stream.getvalue()
    assert "50.0%" in text and "100.0%" in text and text.endswith("\n")


def test_progress_bar_is_silent_when_not_a_terminal_or_disabled() -> None:
    plain = io.StringIO()
    report.Progress("x", stream=plain)(1, 2)
    tty = _Tty()
    report.Progress("x", enabled=False, stream=tty)(1, 2)
    assert plain.getvalue() == "" and tty.getvalue() == ""


def test_format_table_aligns_and_marks_failures() -> None:
    table = report.format_table(["claim", "holds", "measured"],
                                [("peak-location", False, 0.5786), ("theory", True, math.nan)])
    lines = table.splitlines()
    assert len({len(line) for line in lines}) == 1  # fixed width
    assert "NO" in lines[2] and "0.5786" in lines[2] and "-" in lines[3]


def test_jsonable_turns_numpy_and_non_finite_values_into_json() -> None:
    data = report.jsonable({"a": np.arange(3), "b": np.float64(np.inf), "c": (np.int64(2), True)})
    assert json.loads(json.dumps(data)) == {"a": [0, 1, 2], "b": None, "c": [2, True]}
