#!/usr/bin/env bash
# Regenerate every number and figure quoted in docs/results.md (about 3 minutes on 2 cores).
# Exit statuses of 1 are expected: a verdict of "deviates" is a result, not an error.
set -u
cd "$(dirname "$0")/.."
D=docs/data F=docs/figures
mkdir -p "$D" "$F"
for est in ratio-of-means mean-of-ratios; do
  python -m verify theorem1 --estimand "$est" --json "$D/fig3_$est.json" --plot "$F/fig3_$est.png" --quiet > "$D/fig3_$est.txt"
  python -m verify theorem1 --K 10 --d 5 --n 100 --delta 0.3 --estimand "$est" \
    --json "$D/fig14_$est.json" --plot "$F/fig14_$est.png" --quiet > "$D/fig14_$est.txt"
done
python -m verify theorem1 --method ambient --json "$D/fig3_ambient.json" --quiet > "$D/fig3_ambient.txt"
python -m verify sweep --vary K --values 2,3,5,10,20 --json "$D/sweep_K.json" --plot "$F/sweep_K.png" --quiet > "$D/sweep_K.txt"
python -m verify sweep --vary delta --values 0.1,0.2,0.3,0.5 --json "$D/sweep_delta.json" --plot "$F/sweep_delta.png" --quiet > "$D/sweep_delta.txt"
python -m verify sweep --vary d --values 1,2,5,10,20,50 --n 500 --json "$D/sweep_d.json" --plot "$F/sweep_d.png" --quiet > "$D/sweep_d.txt"
python -m verify sweep --vary n --values 50,100,1000 --method ambient --json "$D/sweep_n.json" --quiet > "$D/sweep_n.txt"
python -m verify peak-law --cases 400 --json "$D/peak_law.json" > "$D/peak_law.txt"
python -m verify proposition1 --json "$D/proposition1.json" > "$D/proposition1.txt"
echo "done: $D, $F"
