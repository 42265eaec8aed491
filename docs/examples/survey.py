"""Worked example: ``python -m verify survey`` -- Theorem 1 at random points of the box.

Run it with ``python docs/examples/survey.py``.  It reports distributions (how often each
form holds, peak ratios), not a verdict: it exits 0.  The ratio of means is exact
(quadrature); the mean of ratios is simulated (reduced Monte Carlo).
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

from verify.cli import main

SMALL = os.environ.get("MOLRG_EXAMPLE_SMALL") == "1"  # the test suite runs small sizes


def show(value: float | None, spec: str = ".3g") -> str:
    """A JSON number for printing; null (not defined, e.g. no interior peak) as "-"."""
    return "-" if value is None else format(value, spec)

COMMAND = "python -m verify survey --cases 60 --json out/survey.json --plot out/survey.png"
# The test suite runs this instead: seconds, no figure.
SMALL_COMMAND = ("python -m verify survey --cases 2 --json out/survey.json --samples 2000 "
                 "--num-sigma 10 --replicates 2")

status = main(shlex.split(SMALL_COMMAND if SMALL else COMMAND)[3:])  # [3:]: after "-m verify"
print("exit status", status)

report = json.loads(Path("out/survey.json").read_text())
print("box:", report["box"])
for key, s in report["summary"].items():  # "input/estimand/form"
    print(f"{key:>32}: holds in {show(s['holds'], '.0%')} of {s['cases']} cases, "
          f"median peak ratio {show(s['peak_ratio_median'])}")

assert status == 0 and not report["failures"]
