"""Worked example: ``python -m verify ensemble`` -- feature ensembling under label noise.

Run it with ``python docs/examples/ensemble.py``.  The paper's Appendix B.4: a linear
probe at the best noise level against soft voting over five levels (two finer, two
coarser), with 0-80% of the training labels corrupted (``molrg.ensemble_accuracy``).
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

COMMAND = "python -m verify ensemble --json out/ensemble.json --plot out/ensemble.png"
# The test suite runs this instead: seconds, no figure.
SMALL_COMMAND = ("python -m verify ensemble --json out/ensemble.json --settings separated "
                 "--quick")

status = main(shlex.split(SMALL_COMMAND if SMALL else COMMAND)[3:])  # [3:]: after "-m verify"
report = json.loads(Path("out/ensemble.json").read_text())
print("exit status", status, "| verdict", report["verdict"])
for claim in report["claims"]:
    print(f"  {claim['name']}: {'holds' if claim['holds'] else 'DEVIATES'} ({claim['detail']})")

model = molrg.MoLRG(K=3, d=5, n=50, delta=0.2)  # the paper's Fig. 3 setting
res = molrg.ensemble_accuracy(model, molrg.ensemble_sigmas(0.3), label_noise=(0.0, 0.8),
                              design=molrg.EnsembleDesign(150 if SMALL else 600, 600 if SMALL else 6000,
                                                    repeats=2 if SMALL else 10))
print("single:  ", np.round(res.single, 3), "+-", np.round(res.single_stderr, 3))
print("ensemble:", np.round(res.ensemble, 3), "+-", np.round(res.ensemble_stderr, 3))

assert status in (0, 1) and not report["failures"]
