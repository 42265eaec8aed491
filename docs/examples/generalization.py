"""Worked example: ``python -m verify generalization`` -- trained networks across data sizes.

Run it with ``python docs/examples/generalization.py`` (needs the ``train`` extra:
``pip install 'molrg[train]'``; about 7 minutes on 2 idle cores at full size).  Then the
library calls behind it: one training-set size, measured with ``molrg.size_study``.
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

import numpy as np

import molrg
from molrg.train import torch_available
from verify.cli import main

SMALL = os.environ.get("MOLRG_EXAMPLE_SMALL") == "1"  # the test suite runs small sizes


def run() -> None:
    COMMAND = ("python -m verify generalization --json out/generalization.json "
               "--plot out/generalization.png")
    # The test suite runs this instead: seconds, no figure, verdict undetermined.
    SMALL_COMMAND = ("python -m verify generalization --quick --scheduler serial "
                     "--json out/generalization.json")

    status = main(shlex.split(SMALL_COMMAND if SMALL else COMMAND)[3:])
    report = json.loads(Path("out/generalization.json").read_text())
    print("exit status", status, "| verdict", report["verdict"])
    for claim in report["claims"]:
        print(f"  {claim['name']}: {'holds' if claim['holds'] else 'DEVIATES'}")
    for key, size in report["analysis"]["sizes"].items():
        print(f"  N={key}: {size['regime']}, SNR {size['shape']}, empirical "
              f"{size['empirical_shape']}")

    # The library call: train the MLP on N points, then measure it on fresh samples.
    model = molrg.MoLRG(3, 5, 50, 0.2, seed=0)
    sigma = np.geomspace(0.01, 5, 5 if SMALL else 14)
    options = molrg.TrainOptions(width=16 if SMALL else 256, depth=1 if SMALL else 3, threads=1)
    evaluation = molrg.StudyOptions(samples=300 if SMALL else 3000,
                                    max_samples=300 if SMALL else 24000,
                                    replicates=5 if SMALL else 50,
                                    probe_samples=100 if SMALL else 4000,
                                    score_samples=100 if SMALL else 4000)
    study = molrg.size_study(model, 64, sigma, steps=20 if SMALL else 8000, options=options,
                             evaluation=evaluation)
    print("N=64:", study.regime.regime, "| g:", np.round(study.score.score, 2),
          "| t:", np.round(study.score.toward_empirical, 2), "| SNR", study.snr_shape.shape)
    assert status in (0, 1, 4) and not report["failures"]


if torch_available():
    run()
else:
    print("python -m verify generalization needs PyTorch: pip install 'molrg[train]'")
