"""The one-screen tour on the home page; the test suite runs it.

Run it with ``python docs/examples/tour.py``.
"""

from __future__ import annotations

import numpy as np

import molrg

# --8<-- [start:tour]
setting = molrg.Setting(K=3, d=5, delta=0.2)  # the paper's Fig. 3 (the SNR does not depend on n)
sigma = np.geomspace(0.02, 5, 40)

exact = molrg.snr(setting, sigma, input="noisy")  # exact SNR (quadrature): .estimate, .stderr
theory = molrg.approx_snr(sigma, setting, input="noisy")  # Theorem 1 as printed (form="printed")
true_peak = molrg.snr_peak(setting, input="noisy")  # the exact peak: .sigma, .snr
claimed = molrg.peak(setting, input="noisy", form="derived")  # Theorem 1's peak, derived form

model = molrg.MoLRG(K=3, d=5, n=50, delta=0.2)  # random orthonormal bases (seed 0)
mc = molrg.snr(model, sigma, method=molrg.MonteCarlo("ambient", samples=20_000))  # Monte Carlo
x0, labels = model.sample(1000, 0)  # (1000, 50), labels in 0..2
xt = x0 + 0.3 * np.random.default_rng(1).standard_normal(x0.shape)
xhat = molrg.posterior_mean(model, xt, 0.3)  # exact E[x0 | x_t] (Proposition 1)
h = molrg.features(xt, 0.3, basis=model.basis, K=3, delta=0.2)  # the representation, (1000, 15)
# --8<-- [end:tour]

print(f"exact peak sigma* = {true_peak.sigma:.4f}; Theorem 1 (derived): {claimed.sigma:.4f}")
print(f"Monte Carlo vs exact: largest relative gap {np.max(np.abs(mc.estimate / exact.estimate - 1)):.3f}")
assert xhat.shape == (1000, 50) and h.shape == (1000, 15)
