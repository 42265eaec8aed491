"""Worked example: ``python -m verify trained`` -- trained DAEs against the optimum and the paper.

Run it with ``python docs/examples/trained.py`` (needs the ``train`` extra:
``pip install 'molrg[train]'``; about 10-20 minutes on 2 cores at full size).  Then the
library calls behind it: train the paper's eq.-4 DAE on the Fig. 3 setting, read its
learned basis, and put its SNR beside the exact optimum's.
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
    COMMAND = "python -m verify trained --json out/trained.json --plot out/trained.png"
    # The test suite runs this instead: seconds, no figure.
    SMALL_COMMAND = ("python -m verify trained --quick --parts fig3 --scheduler serial "
                     "--json out/trained.json")

    status = main(shlex.split(SMALL_COMMAND if SMALL else COMMAND)[3:])  # [3:]: after "-m verify"
    report = json.loads(Path("out/trained.json").read_text())
    print("exit status", status, "| verdict", report["verdict"])
    for claim in report["claims"]:
        print(f"  {claim['name']}: {'holds' if claim['holds'] else 'DEVIATES'} ({claim['detail']})")

    # The library calls: one training of the Fig. 3 recipe, its subspaces and its SNR.
    model = molrg.MoLRG(3, 5, 50, 0.2, seed=0)
    den = molrg.train_denoiser(model, data=600 if SMALL else 12_000, epochs=2 if SMALL else 200,
                               seed=0, options=molrg.TrainOptions(threads=1))
    print("final loss", round(den.final_loss, 4), "| largest block angle (deg)",
          round(den.recovery(model).largest, 2))
    sigma = np.array([0.06, 0.296, 1.088])
    exact = molrg.snr(model, sigma).estimate
    trained = molrg.snr(model, sigma, denoiser=den.dae(),
                        method=molrg.MonteCarlo("ambient", samples=2_000 if SMALL else 40_000))
    print("SNR trained / optimum:", np.round(trained.estimate / exact, 3))

    assert status in (0, 1) and not report["failures"]


if torch_available():
    run()
else:
    print("python -m verify trained needs PyTorch: pip install 'molrg[train]'")
