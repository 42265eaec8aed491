"""Worked example: ``python -m verify learning`` -- learning dynamics at a fixed small N.

Run it with ``python docs/examples/learning.py`` (needs the ``train`` extra:
``pip install 'molrg[train]'``; several minutes on 2 cores at full size).  Then the
library calls behind it: train an MLP on a fixed training set with checkpoints and
evaluate every checkpoint (``molrg.checkpoint_curves``).
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

import molrg
from molrg.train import torch_available
from verify.cli import main

SMALL = os.environ.get("MOLRG_EXAMPLE_SMALL") == "1"  # the test suite runs small sizes


def run() -> None:
    COMMAND = "python -m verify learning --json out/learning.json --plot out/learning.png"
    SMALL_COMMAND = "python -m verify learning --quick --json out/learning.json"

    status = main(shlex.split(SMALL_COMMAND if SMALL else COMMAND)[3:])
    report = json.loads(Path("out/learning.json").read_text())
    print("exit status", status, "| verdict", report["verdict"])
    for claim in report["claims"]:
        print(f"  {claim['name']}: {claim['holds']} ({claim['detail']})")

    # The library calls: a fixed training set, log-spaced checkpoints, curves per checkpoint.
    model = molrg.MoLRG(2, 2, 8, 0.2, seed=0)
    points, _ = model.sample(20, 1)
    steps = molrg.log_checkpoints(2, 10 if SMALL else 2000, 3)
    den = molrg.train_denoiser(model, architecture="mlp", data=points, epochs=steps[-1],
                               options=molrg.TrainOptions(width=16, depth=1, threads=1),
                               monitor=molrg.train.TrainMonitor(checkpoints=steps))
    curves = molrg.checkpoint_curves(model, den.checkpoints, points, [0.1, 1.0],
                                     evaluation=molrg.StudyOptions(
                                         samples=400, replicates=4, probe_samples=100,
                                         score_samples=200))
    print("steps", curves.steps, "| distance to the optimum", curves.distance.round(4))
    assert status in (0, 1, 4)


if torch_available():
    run()
else:
    print("python -m verify learning needs PyTorch: pip install 'molrg[train]'")
