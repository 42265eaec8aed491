"""B.4 with a TRAINED denoiser (issue 22 item 4's "and of a trained one").

``python docs/data/issue22/ensemble_trained.py [dae|mlp ...]`` writes
``docs/data/issue22/ensemble_trained.json``.  The design is ``verify ensemble``'s defaults (its
``_task``: a 9-point clean-label scan of [0.05, 3] with 3 repetitions for the best single
level ``sigma*``, then single vs the five-level soft-voting ensemble ``sigma* sqrt(2)^j``,
``j = -2..2``, at 0-80% label noise, 600 training / 6,000 test samples, 10 repetitions),
at the Fig. 3 model ``MoLRG(3, 5, 50, 0.2, seed=0)``, with the denoiser trained by
``molrg.train_denoiser``:

* ``dae`` -- the paper's shared DAE (``architecture="dae"``), 12,000 samples, 200 epochs;
* ``mlp`` -- the capacity MLP of ``verify generalization`` trained on N = 300 points for
  about 8,000 Adam steps (``molrg.training_epochs``; width 256, depth 3, lr 3e-3, batch
  128, one thread: ``verify generalization``'s defaults).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

import molrg

SCAN = np.geomspace(0.05, 3.0, 9)
NOISE = (0.0, 0.2, 0.4, 0.6, 0.8)


def trained(kind: str, model: molrg.MoLRG) -> object:
    if kind == "dae":
        return molrg.train_denoiser(model, architecture="dae", seed=0)
    options = molrg.TrainOptions(width=256, depth=3, lr=3e-3, batch_size=128, device="cpu",
                                 threads=1)  # verify generalization's defaults
    return molrg.train_denoiser(model, architecture="mlp", samples=300,
                                epochs=molrg.training_epochs(300, 8000, 128), seed=0,
                                options=options)


def main(kinds: list[str]) -> None:
    model = molrg.MoLRG(3, 5, 50, 0.2, seed=0)
    out = {}
    for kind in kinds:
        start = time.perf_counter()
        den = trained(kind, model)
        train_s = time.perf_counter() - start
        scan = molrg.ensemble_accuracy(model, SCAN, denoiser=den, label_noise=(0.0,),
                                       repeats=3, seed=1)
        best = float(SCAN[int(np.argmax(scan.per_sigma[0]))])
        res = molrg.ensemble_accuracy(model, molrg.ensemble_sigmas(best), denoiser=den,
                                      label_noise=NOISE, repeats=10, seed=2)
        rd = np.asarray(res.to_json()["repeat_difference"])
        gain = rd[:, -1] - rd[:, 0]
        out[f"fig3/trained-{kind}"] = {
            "best_sigma": best, "scan_sigma": SCAN.tolist(),
            "scan_accuracy": scan.per_sigma[0].tolist(), "result": res.to_json(),
            "gain": float(gain.mean()), "gain_stderr": float(gain.std(ddof=1) / np.sqrt(gain.size)),
            "train_s": train_s, "elapsed_s": time.perf_counter() - start}
        print(kind, json.dumps({k: v for k, v in out[f"fig3/trained-{kind}"].items()
                                if k in ("best_sigma", "gain", "gain_stderr", "train_s",
                                         "elapsed_s")}), flush=True)
    Path("docs/data/issue22/ensemble_trained.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:] or ["dae", "mlp"])
