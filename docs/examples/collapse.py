"""Worked example: ``python -m verify collapse`` -- memorisation, collapse and the SNR peak.

Run it with ``python docs/examples/collapse.py``.  U-turns with the memorising (empirical)
denoiser of ``N`` training points (``molrg.collapse_curve``): start at a training point,
noise it, run back; the collapse level is where the end point is the starting point again
with probability 1/2.  Compared with Biroli et al.'s excess-entropy prediction and with the
shape of the memorising denoiser's SNR curve (docs/theories.md).
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

import numpy as np

import molrg
from molrg import neighbours
from verify.cli import main

SMALL = os.environ.get("MOLRG_EXAMPLE_SMALL") == "1"  # the test suite runs small sizes

COMMAND = "python -m verify collapse --json out/collapse.json --plot out/collapse.png"
# The test suite runs this instead: seconds, no figure.
SMALL_COMMAND = "python -m verify collapse --quick --scheduler serial --json out/collapse.json"

status = main(shlex.split(SMALL_COMMAND if SMALL else COMMAND)[3:])  # [3:]: after "-m verify"
report = json.loads(Path("out/collapse.json").read_text())
print("exit status", status, "| verdict", report["verdict"])
for claim in report["claims"]:
    print(f"  {claim['name']}: {'holds' if claim['holds'] else 'DEVIATES'} ({claim['detail']})")

# One collapse curve by hand: N = 100 training points of the Fig. 3 model
model = molrg.MoLRG(K=3, d=5, n=15, delta=0.2, kind="canonical")
points, _ = model.sample(100, 3)
sigma = np.geomspace(0.05, 3, 6)
curve = molrg.collapse_curve(points, sigma, sampler=molrg.Sampler("sde", 12 if SMALL else 48),
                             samples=40 if SMALL else 400, seed=0, basis=model.basis)
print("P(back at its own point):", np.round(curve.p_own, 3))
print(f"collapse level {curve.level.sigma:.3g}; Biroli et al. predict "
      f"{neighbours.biroli_collapse_level(3, 5, 0.2, 100):.3g}")

assert status in (0, 1) and not report["failures"]
