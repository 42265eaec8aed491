#!/usr/bin/env bash
# Regenerate every number and figure quoted in docs/results.md and docs/claims.md
# (about 40 minutes on 2 cores, most of it the validity map and the Monte Carlo checks).
# Exit statuses of 1 are expected: a verdict of "deviates" is a result, not an error.
set -u
cd "$(dirname "$0")/.."
D=docs/data F=docs/figures
mkdir -p "$D" "$F"
q() { "$@" --quiet > "$OUT" 2>&1 || true; }

# Theorem 1 at the paper's settings: the exact SNR (quadrature) vs the three forms
OUT=$D/fig3.txt q python -m verify theorem1 --json "$D/fig3.json" --plot "$F/fig3.png"
OUT=$D/fig14.txt q python -m verify theorem1 --K 10 --d 5 --n 100 --delta 0.3 \
  --json "$D/fig14.json" --plot "$F/fig14.png"
# the mean of ratios has no deterministic evaluator: Monte Carlo (reduced, exact in law)
OUT=$D/fig3_mean-of-ratios.txt q python -m verify theorem1 --estimand mean-of-ratios \
  --json "$D/fig3_mean-of-ratios.json" --plot "$F/fig3_mean-of-ratios.png"
OUT=$D/fig14_mean-of-ratios.txt q python -m verify theorem1 --K 10 --d 5 --n 100 --delta 0.3 \
  --estimand mean-of-ratios --json "$D/fig14_mean-of-ratios.json"
# the full R^n simulation agrees with the exact peak
OUT=$D/fig3_ambient.txt q python -m verify theorem1 --method ambient --json "$D/fig3_ambient.json"

# The validity map of every form over the (K, d, delta) box (about 10 minutes)
OUT=$D/map.txt q python -m verify map --json "$D/map.json" --plot "$F/map.png"

# The paper's Fig. 14 experiment: one parameter at a time
OUT=$D/sweep_K.txt q python -m verify sweep --vary K --values 2,3,5,10,20,50,100 --n 500 \
  --json "$D/sweep_K.json" --plot "$F/sweep_K.png"
OUT=$D/sweep_delta.txt q python -m verify sweep --vary delta --values 0.05,0.1,0.2,0.3,0.5,0.7 \
  --json "$D/sweep_delta.json" --plot "$F/sweep_delta.png"
OUT=$D/sweep_d.txt q python -m verify sweep --vary d --values 1,2,5,10,20,50 --n 500 \
  --json "$D/sweep_d.json" --plot "$F/sweep_d.png"
OUT=$D/sweep_n.txt q python -m verify sweep --vary n --values 50,100,1000 --method ambient \
  --json "$D/sweep_n.json"

# Quadrature against the reduced Monte Carlo at 50 random settings, K up to 10^4 (~15 min)
OUT=$D/quadrature_vs_montecarlo.txt q python benchmarks/quadrature_vs_montecarlo.py \
  --out "$D/quadrature_vs_montecarlo.json"

# The rest of the toolkit's checks
OUT=$D/peak_law.txt q python -m verify peak-law --cases 400 --json "$D/peak_law.json"
OUT=$D/proposition1.txt q python -m verify proposition1 --json "$D/proposition1.json"
OUT=$D/survey.txt q python -m verify survey --cases 60 --scheduler local --json "$D/survey.json" \
  --plot "$F/survey.png"

# The paper's other claims (docs/claims.md)
OUT=$D/probe.txt q python -m verify probe --json "$D/probe.json" --plot "$F/probe.png"
OUT=$D/memorization.txt q python -m verify memorization --json "$D/memorization.json" \
  --plot "$F/memorization.png"
OUT=$D/mixtures.txt q python -m verify mixtures --json "$D/mixtures.json" --plot "$F/mixtures.png"
OUT=$D/separated.txt q python -m verify separated --json "$D/separated.json" \
  --plot "$F/separated.png"
# issue 22: feature ensembling under label noise (B.4)
OUT=$D/ensemble.txt q python -m verify ensemble --scheduler local --workers 3 \
  --json "$D/ensemble.json" --plot "$F/ensemble.png"
echo "done: $D, $F"
