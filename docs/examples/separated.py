"""Worked example: ``python -m verify separated`` -- well-separated clusters.

Run it with ``python docs/examples/separated.py``.  The paper (Appendix C, Table 7) does
not define its clusters; the command's choices are labelled as ours: class means of norm
``--scales`` orthogonal to every subspace or inside the class's own, scale 0 being the
zero-mean MoLRG (the control).
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

COMMAND = "python -m verify separated --json out/separated.json --plot out/separated.png"
# The test suite runs this instead: seconds, no figure.
SMALL_COMMAND = ("python -m verify separated --json out/separated.json --scales 0,3 "
                 "--placement orthogonal --samples 2000 --probe-samples 1000 --num-sigma 8")

status = main(shlex.split(SMALL_COMMAND if SMALL else COMMAND)[3:])  # [3:]: after "-m verify"
report = json.loads(Path("out/separated.json").read_text())
print("exit status", status, "| verdict", report["verdict"])
for claim in report["claims"]:
    print(f"  {claim['name']}: {'holds' if claim['holds'] else 'DEVIATES'}")

clusters = molrg.LowRankMixture.separated(2, 5, 50, 3.0, delta=0.2)  # K, d, n, mean norm
sigma = np.geomspace(0.01, 20, 8)
mc = molrg.MonteCarlo("ambient", samples=2_000 if SMALL else 50_000, seed=1)
snr = molrg.snr(clusters, sigma, denominator="complement", method=mc)
accuracy = molrg.probe_accuracy(clusters, sigma, probe="bayes",
                                method=molrg.MonteCarlo(samples=1_000 if SMALL else 20_000))
print("SNR:          ", np.round(snr.estimate, 2))
print("Bayes accuracy:", np.round(accuracy.estimate, 3))

assert status in (0, 1, 4) and not report["failures"]  # 4: undetermined (small sizes)
