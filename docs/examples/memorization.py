"""Worked example: ``python -m verify memorization`` -- a memorising denoiser's SNR curve.

Run it with ``python docs/examples/memorization.py``.  OUR CONSTRUCTION (the paper's
experiment trains U-Nets on CIFAR10 subsets): the memorising denoiser is the exact optimal
denoiser of the empirical distribution of ``N`` training samples
(``molrg.EmpiricalDenoiser``), beside the population optimum.
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

COMMAND = "python -m verify memorization --json out/memorization.json --plot out/memorization.png"
# The test suite runs this instead: seconds, no figure.
SMALL_COMMAND = ("python -m verify memorization --json out/memorization.json --N 30,300 "
                 "--samples 2000 --optimal-samples 2000 --num-sigma 8")

status = main(shlex.split(SMALL_COMMAND if SMALL else COMMAND)[3:])  # [3:]: after "-m verify"
report = json.loads(Path("out/memorization.json").read_text())
print("exit status", status, "| verdict", report["verdict"])
for claim in report["claims"]:
    print(f"  {claim['name']}: {'holds' if claim['holds'] else 'DEVIATES'} ({claim['detail']})")

model = molrg.MoLRG(K=3, d=5, n=50, delta=0.2)  # the paper's Fig. 3 setting
train, _ = model.sample(300, 7)  # N = 300 training samples
memorising = molrg.EmpiricalDenoiser(train)  # exact minimiser of the training loss
sigma = np.geomspace(0.02, 4, 8)
mc = molrg.MonteCarlo("ambient", samples=2_000 if SMALL else 50_000, seed=1)
curve = molrg.snr(model, sigma, denoiser=memorising, method=mc)
optimum = molrg.snr(model, sigma, method=mc)  # the same draws: common random numbers
print("memorising:", np.round(curve.estimate, 1))
print("optimal:   ", np.round(optimum.estimate, 1))

assert status in (0, 1, 4) and not report["failures"]  # 4: undetermined (small sizes)
