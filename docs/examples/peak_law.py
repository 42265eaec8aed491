"""Worked example: ``python -m verify peak-law`` -- the closed-form law for the peak.

Run it with ``python docs/examples/peak_law.py``.  ``molrg.peak_law`` gives the derived
form's peak in closed form (Lambert W); the command measures its error against the
root-found peak over random (K, d, delta).  Details: the Results page "Peak law".
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

import molrg
from verify.cli import main

SMALL = os.environ.get("MOLRG_EXAMPLE_SMALL") == "1"  # the test suite runs small sizes

COMMAND = "python -m verify peak-law --cases 400 --json out/peak_law.json"
# The test suite runs this instead: seconds, no figure.
SMALL_COMMAND = "python -m verify peak-law --cases 20 --json out/peak_law.json"

status = main(shlex.split(SMALL_COMMAND if SMALL else COMMAND)[3:])  # [3:]: after "-m verify"
report = json.loads(Path("out/peak_law.json").read_text())
print("exit status", status, "| summary keys:", list(report["summary"]))

setting = molrg.Setting(K=10, d=5, delta=0.3)  # the paper's Fig. 14
law = molrg.peak_law(setting, input="noisy")  # closed form
root = molrg.peak(setting, input="noisy", form="derived").sigma  # root of d log SNR / d log sigma
print(f"peak law {law:.4f} vs root-found {root:.4f}: relative error {abs(law / root - 1):.2%}")

assert abs(law / root - 1) < 0.05
