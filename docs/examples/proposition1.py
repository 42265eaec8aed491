"""Worked example: ``python -m verify proposition1`` -- the posterior mean three ways.

Run it with ``python docs/examples/proposition1.py``.  The command compares the derived
symbolic form (30 digits), the closed form the toolkit uses and dense Bayes at random
models and points; below, the same comparison for one model, from Python.
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

import numpy as np

import molrg
from molrg import reference
from verify.cli import main

SMALL = os.environ.get("MOLRG_EXAMPLE_SMALL") == "1"  # the test suite runs small sizes

COMMAND = "python -m verify proposition1 --cases 100 --json out/proposition1.json"
# The test suite runs this instead: seconds, no figure.
SMALL_COMMAND = "python -m verify proposition1 --cases 5 --json out/proposition1.json"

status = main(shlex.split(SMALL_COMMAND if SMALL else COMMAND)[3:])  # [3:]: after "-m verify"
report = json.loads(Path("out/proposition1.json").read_text())
print("exit status", status, "| worst relative errors:", report["worst"])

model = molrg.MoLRG(K=3, d=2, n=12, delta=0.3, seed=4)
x0, labels = model.sample(200, 1)
sigma = 0.4
xt = x0 + sigma * np.random.default_rng(2).standard_normal(x0.shape)

closed = molrg.posterior_mean(model, xt, sigma)  # Proposition 1, O(n K d) per point
dense = reference.posterior_mean_dense(model, xt, sigma)  # dense Bayes, O(K n^3)
error = np.linalg.norm(closed - dense, axis=-1) / np.linalg.norm(dense, axis=-1)
print(f"closed form vs dense Bayes: worst relative error {error.max():.1e}")

assert status == 0 and error.max() < 1e-10
