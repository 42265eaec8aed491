"""Worked example: ``python -m verify speciation`` -- is the SNR peak the speciation level?

Run it with ``python docs/examples/speciation.py``.  U-turns with the exact optimal
denoiser (``molrg.speciation_curve``): noise a sample of class ``k`` to ``sigma``, run the
reverse SDE back, classify the end point by the Bayes rule; the speciation level is where
``P(same class)`` crosses ``(1 + 1/K)/2``.  Compared with the exact SNR peaks and with the
speciation criteria of Biroli et al. and Achilli et al. (docs/theories.md).
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

import numpy as np

import molrg
from verify.cli import main

SMALL = os.environ.get("MOLRG_EXAMPLE_SMALL") == "1"  # the test suite runs small sizes

COMMAND = "python -m verify speciation --json out/speciation.json --plot out/speciation.png"
# The test suite runs this instead: seconds, no figure.
SMALL_COMMAND = "python -m verify speciation --quick --scheduler serial --json out/speciation.json"

status = main(shlex.split(SMALL_COMMAND if SMALL else COMMAND)[3:])  # [3:]: after "-m verify"
report = json.loads(Path("out/speciation.json").read_text())
print("exit status", status, "| verdict", report["verdict"])
for claim in report["claims"]:
    print(f"  {claim['name']}: {'holds' if claim['holds'] else 'DEVIATES'} ({claim['detail']})")

# One U-turn curve by hand: the Fig. 3 model (the U-turn does not depend on n)
model = molrg.MoLRG(K=3, d=5, n=15, delta=0.2, kind="canonical")
sigma = np.geomspace(0.05, 5, 8)
curve = molrg.speciation_curve(model, sigma, sampler=molrg.Sampler("sde", 16 if SMALL else 64),
                               samples=100 if SMALL else 1000, seed=0)
print("P(same class):", np.round(curve.p_same, 3))
print(f"speciation level {curve.level.sigma:.3g} +- {curve.level.stderr:.2g}; "
      f"SNR peak (noisy) {molrg.snr_peak(model.setting).sigma:.3g}")

assert status in (0, 1) and not report["failures"]
