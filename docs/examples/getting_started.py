"""Getting started: the paper's Fig. 3 check (K=3, d=5, n=50, delta=0.2) in a few lines.

Run it with ``python docs/examples/getting_started.py``.  The same check as one command:
``python -m verify theorem1`` (see docs/examples/theorem1.py).
"""

from __future__ import annotations

import numpy as np

import molrg

# --8<-- [start:check]
setting = molrg.Setting(K=3, d=5, delta=0.2)  # Fig. 3; the SNR does not depend on n
sigma = np.geomspace(0.02, 5, 40)

exact = molrg.snr(setting, sigma, input="noisy")  # the exact SNR (quadrature)
theory = molrg.approx_snr(sigma, setting, input="noisy")  # Theorem 1, as printed

true_peak = molrg.snr_peak(setting, input="noisy")  # the exact sigma* and SNR*
claimed = molrg.peak(setting, input="noisy")  # Theorem 1's sigma* and SNR*
print(f"exact:     sigma* = {true_peak.sigma:.4f}  SNR* = {true_peak.snr:6.1f}")
print(f"Theorem 1: sigma* = {claimed.sigma:.4f}  SNR* = {claimed.snr:6.1f}")
print(f"ratios: sigma* {true_peak.sigma / claimed.sigma:.3f}, SNR* {true_peak.snr / claimed.snr:.3f}")
# --8<-- [end:check]

# --8<-- [start:forms]
for form in molrg.FORMS:  # printed, derived, corrected
    p = molrg.peak(setting, input="noisy", form=form)
    print(f"{form:>9}: sigma* = {p.sigma:.4f}  ratio {true_peak.sigma / p.sigma:.3f}")
# --8<-- [end:forms]

# --8<-- [start:montecarlo]
model = molrg.MoLRG(K=3, d=5, n=50, delta=0.2)  # random orthonormal bases in R^50
few = sigma[::8]
mc = molrg.snr(model, few, method=molrg.MonteCarlo("ambient", samples=100_000, seed=1))
z = (mc.estimate - exact.estimate[::8]) / mc.stderr
print("Monte Carlo minus exact, in standard errors:", np.round(z, 1))
# --8<-- [end:montecarlo]

assert np.all(np.abs(z) < 6), z  # the simulation agrees with the exact curve
assert true_peak.interior and claimed.interior
