"""Worked example: ``python -m verify sweep`` -- the paper's Fig. 14, one parameter at a time.

Run it with ``python docs/examples/sweep.py``.  The other parameters stay at the Fig. 14
setting (``n=100, d=5, K=10, delta=0.3``); for each value the full theorem1 check runs.
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

from verify.cli import main

SMALL = os.environ.get("MOLRG_EXAMPLE_SMALL") == "1"  # the test suite runs small sizes

COMMAND = ("python -m verify sweep --vary K --values 2,3,5,10,20 "
           "--json out/sweep_K.json --plot out/sweep_K.png")
# The test suite runs this instead: seconds, no figure.
SMALL_COMMAND = ("python -m verify sweep --vary K --values 2,5 --json out/sweep_K.json "
                 "--num-sigma 12 --input noisy")

status = main(shlex.split(SMALL_COMMAND if SMALL else COMMAND)[3:])  # [3:]: after "-m verify"
print("exit status", status)

report = json.loads(Path("out/sweep_K.json").read_text())
print("varied:", report["vary"], report["values"], "| verdict:", report["verdict"])
vary = report["vary"]
for row in report["rows"]:  # one row per value and input mode
    print(f"{vary}={row[vary]:g} {row['input']}: sigma* exact {row['peak_sigma_simulated']:.4f}, "
          f"Theorem 1 {row['peak_sigma_theory']:.4f}; {row['verdict']}")
    for form, f in row["forms"].items():  # every form's peak and verdict
        print(f"    {form:>9}: sigma* {f['peak_sigma']:.4f} ({f['verdict']})")

assert not report["failures"]
