"""Worked example: ``python -m verify probe`` -- does a higher SNR mean a better probe?

Run it with ``python docs/examples/probe.py``.  For several denoisers (the optimal one,
memorising ones, the paper's DAE with the true and a perturbed basis) the SNR curve is put
beside the accuracy curves of three probes on the denoiser's features (``bayes``,
``linear``, ``energy``: ``molrg.PROBES``).
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

COMMAND = "python -m verify probe --json out/probe.json --plot out/probe.png"
# The test suite runs this instead: seconds, no figure.
SMALL_COMMAND = ("python -m verify probe --json out/probe.json --N 30 --probes bayes,energy "
                 "--samples 1000 --snr-samples 2000 --num-sigma 8")

status = main(shlex.split(SMALL_COMMAND if SMALL else COMMAND)[3:])  # [3:]: after "-m verify"
report = json.loads(Path("out/probe.json").read_text())
print("exit status", status, "| verdict", report["verdict"])
for claim in report["claims"]:
    print(f"  {claim['name']}: {'holds' if claim['holds'] else 'DEVIATES'}")

model = molrg.MoLRG(K=3, d=5, n=50, delta=0.2)  # the paper's Fig. 3 setting
sigma = np.geomspace(0.02, 4, 8)
samples = 1_000 if SMALL else 20_000
for probe in ("bayes", "energy"):  # "linear" trains a logistic regression (scikit-learn)
    acc = molrg.probe_accuracy(model, sigma, probe=probe,
                               method=molrg.Auto(molrg.MonteCarlo(samples=samples)))
    print(f"{probe:>6} accuracy:", np.round(acc.estimate, 3))

assert status in (0, 1, 4) and not report["failures"]  # 4: undetermined (small sizes)
