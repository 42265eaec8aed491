"""Worked example: ``python -m verify theorem1`` -- Theorem 1 against the exact SNR.

Run it with ``python docs/examples/theorem1.py``: it runs the command below in-process
(``verify.cli.main`` is ``python -m verify``), then reads the JSON report.
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

from verify.cli import main

SMALL = os.environ.get("MOLRG_EXAMPLE_SMALL") == "1"  # the test suite runs small sizes

COMMAND = "python -m verify theorem1 --json out/theorem1.json --plot out/theorem1.png"
# The test suite runs this instead: seconds, no figure.
SMALL_COMMAND = "python -m verify theorem1 --json out/theorem1.json --num-sigma 15"

status = main(shlex.split(SMALL_COMMAND if SMALL else COMMAND)[3:])  # [3:]: after "-m verify"
print("exit status", status)  # 0: every claim holds, 1: a claim deviates

report = json.loads(Path("out/theorem1.json").read_text())
print("verdict about the", report["form"], "form:", report["verdict"])
for mode, result in report["modes"].items():  # "noisy" and "clean"
    exact, theory = result["peak_sigma_simulated"], result["peak_sigma_theory"]
    print(f"{mode}: exact sigma* {exact:.4f}, Theorem 1 sigma* {theory:.4f} ({exact / theory:.3f})")
    for form, f in result["forms"].items():  # every form is checked; the verdict uses one
        failed = [c["name"] for c in f["claims"] if not c["holds"]]
        print(f"  {form:>9}: {f['verdict']:<8} {', '.join(failed)}")

assert status == (0 if report["verdict"] == "holds" else 1)
assert set(report["modes"]) == {"noisy", "clean"}
