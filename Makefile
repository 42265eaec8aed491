# The results pipeline: every number and figure quoted in docs/results.md and docs/claims.md.
#
#   make results                 everything that is stale (about 45 minutes on 2 cores from scratch)
#   make -n results              what would run, without running it
#   make docs/data/fig3.json     one result (and its .txt console output and figure)
#   make map MAP_FORM=derived    re-judge the validity map under another form: the exact part
#                                of every cell comes from the cache ($(CACHE)), only the forms'
#                                peaks are recomputed
#
# A result is stale when it is missing or older than the code that computes it (molrg/, the
# CLI plumbing in verify/ and its own command module) or, for the map, its options.
# Exit status 0 (every claim holds), 1 (a claim deviates) and 4 (undetermined: too few
# samples or untrustworthy Monte Carlo estimates) are results; 2 (bad input),
# 3 (internal error) or any other status (a crash, Ctrl-C) fails the target: its partial
# outputs are deleted, the end of its console output is printed and make stops (with -k it
# goes on with the other targets and still exits non-zero).

SHELL := bash
.DELETE_ON_ERROR:
.SUFFIXES:

PYTHON ?= python
D := docs/data
F := docs/figures
CACHE ?= .cache/map
MAP_FORM ?= printed
MAP_ARGS := --form $(MAP_FORM)

# the code every result depends on
MOLRG := $(wildcard molrg/*.py molrg/symbolic/*.py molrg/quadrature/*.py molrg/train/*.py)
CLI := verify/__init__.py verify/__main__.py verify/cli.py verify/parallel.py verify/report.py
CORE := $(MOLRG) $(CLI)
VERIFY := $(PYTHON) -m verify

# $(RUN) LOG COMMAND...: run COMMAND --quiet, its console output into LOG (the .txt beside
# the .json); exit status 0, 1 or 4 with a fresh .json is a result.  Anything else fails the
# target: status 2 or 3, a crash, or status 1 without a .json (Python exits 1 on an uncaught
# exception, e.g. an ImportError before the CLI runs).  The .json is deleted so the next make
# reruns it; LOG is kept: it holds the error.
RUN = @mkdir -p $(D) $(F); run() { \
	log=$$1; shift; json="$${log%.txt}.json"; echo "make: $$*"; rm -f "$$json"; \
	"$$@" --quiet > "$$log" 2>&1; status=$$?; \
	case $$status in 0|1|4) ok=1;; *) ok=0;; esac; \
	if [ $$ok = 1 ] && [ ! -s "$$json" ]; then \
	    echo "make: exit status $$status but no $$json written" >&2; status=3; ok=0; \
	fi; \
	if [ $$ok = 0 ]; then \
	    echo "make: FAILED with exit status $$status: $$*" >&2; tail -n 20 "$$log" >&2; \
	    rm -f "$$json"; exit $$status; \
	fi; \
	case $$status in 0) verdict=holds;; 1) verdict="a claim deviates";; *) verdict=undetermined;; esac; \
	echo "make: exit status $$status ($$verdict); console output: $$log"; \
	}; run

RESULTS := \
	$(D)/fig3.json $(D)/fig14.json $(D)/fig3_mean-of-ratios.json $(D)/fig14_mean-of-ratios.json \
	$(D)/fig3_ambient.json $(D)/map.json \
	$(D)/sweep_K.json $(D)/sweep_delta.json $(D)/sweep_d.json $(D)/sweep_n.json \
	$(D)/quadrature_vs_montecarlo.json $(D)/peak_law.json $(D)/proposition1.json $(D)/survey.json \
	$(D)/probe.json $(D)/memorization.json $(D)/mixtures.json $(D)/separated.json \
	$(D)/ensemble.json $(D)/speciation.json $(D)/collapse.json $(D)/trained.json \
	$(D)/generalization.json $(D)/learning.json

.PHONY: results map clean-results clean-cache
results: $(RESULTS)
map: $(D)/map.json

# Theorem 1 at the paper's settings: the exact SNR (quadrature) vs the three forms
$(D)/fig3.json $(F)/fig3.png &: $(CORE) verify/theorem1.py
	$(RUN) $(D)/fig3.txt $(VERIFY) theorem1 --json $(D)/fig3.json --plot $(F)/fig3.png
$(D)/fig14.json $(F)/fig14.png &: $(CORE) verify/theorem1.py
	$(RUN) $(D)/fig14.txt $(VERIFY) theorem1 --K 10 --d 5 --n 100 --delta 0.3 --json $(D)/fig14.json \
	  --plot $(F)/fig14.png
# the mean of ratios has no deterministic evaluator: Monte Carlo (reduced, exact in law)
$(D)/fig3_mean-of-ratios.json $(F)/fig3_mean-of-ratios.png &: $(CORE) verify/theorem1.py
	$(RUN) $(D)/fig3_mean-of-ratios.txt $(VERIFY) theorem1 --estimand mean-of-ratios --json $(D)/fig3_mean-of-ratios.json \
	  --plot $(F)/fig3_mean-of-ratios.png
$(D)/fig14_mean-of-ratios.json: $(CORE) verify/theorem1.py
	$(RUN) $(basename $@).txt $(VERIFY) theorem1 --K 10 --d 5 --n 100 --delta 0.3 --estimand mean-of-ratios \
	  --json $@
# the full R^n simulation agrees with the exact peak
$(D)/fig3_ambient.json: $(CORE) verify/theorem1.py
	$(RUN) $(basename $@).txt $(VERIFY) theorem1 --method ambient --json $@

# The validity map of every form over the (K, d, delta) box (about 10 minutes from an empty
# cache; seconds per form with a full one).  Its figures are written beside --plot's name.
# the map's options, recorded when make reads this file: rewritten (so newer than map.json)
# only when they change, which keeps `make -n` and `make -t` truthful
$(shell mkdir -p $(D) && (echo '$(MAP_ARGS)' | cmp -s - $(D)/.map-args \
	|| echo '$(MAP_ARGS)' > $(D)/.map-args))
$(D)/map.json: $(CORE) verify/mapping.py $(D)/.map-args
	$(RUN) $(basename $@).txt $(VERIFY) map $(MAP_ARGS) --cache $(CACHE) --json $@ --plot $(F)/map.png

# The paper's Fig. 14 experiment: one parameter at a time
$(D)/sweep_K.json $(F)/sweep_K.png &: $(CORE) verify/sweep.py
	$(RUN) $(D)/sweep_K.txt $(VERIFY) sweep --vary K --values 2,3,5,10,20,50,100 --n 500 \
	  --json $(D)/sweep_K.json --plot $(F)/sweep_K.png
$(D)/sweep_delta.json $(F)/sweep_delta.png &: $(CORE) verify/sweep.py
	$(RUN) $(D)/sweep_delta.txt $(VERIFY) sweep --vary delta --values 0.05,0.1,0.2,0.3,0.5,0.7 \
	  --json $(D)/sweep_delta.json --plot $(F)/sweep_delta.png
$(D)/sweep_d.json $(F)/sweep_d.png &: $(CORE) verify/sweep.py
	$(RUN) $(D)/sweep_d.txt $(VERIFY) sweep --vary d --values 1,2,5,10,20,50 --n 500 \
	  --json $(D)/sweep_d.json --plot $(F)/sweep_d.png
$(D)/sweep_n.json: $(CORE) verify/sweep.py
	$(RUN) $(basename $@).txt $(VERIFY) sweep --vary n --values 50,100,1000 --method ambient --json $@

# Quadrature against the reduced Monte Carlo at 50 random settings, K up to 10^4 (~15 min)
$(D)/quadrature_vs_montecarlo.json: $(MOLRG) benchmarks/quadrature_vs_montecarlo.py
	$(RUN) $(basename $@).txt $(PYTHON) benchmarks/quadrature_vs_montecarlo.py --out $@

# The rest of the toolkit's checks
$(D)/peak_law.json: $(CORE) verify/peaklaw.py
	$(RUN) $(basename $@).txt $(VERIFY) peak-law --cases 400 --json $@
$(D)/proposition1.json: $(CORE) verify/proposition1.py
	$(RUN) $(basename $@).txt $(VERIFY) proposition1 --json $@
$(D)/survey.json $(F)/survey.png &: $(CORE) verify/survey.py
	$(RUN) $(D)/survey.txt $(VERIFY) survey --cases 60 --scheduler local --json $(D)/survey.json \
	  --plot $(F)/survey.png

# The paper's other claims (docs/claims.md)
$(D)/probe.json $(F)/probe.png &: $(CORE) verify/probe.py
	$(RUN) $(D)/probe.txt $(VERIFY) probe --json $(D)/probe.json --plot $(F)/probe.png
$(D)/memorization.json $(F)/memorization.png &: $(CORE) verify/memorization.py
	$(RUN) $(D)/memorization.txt $(VERIFY) memorization --json $(D)/memorization.json --plot $(F)/memorization.png
$(D)/mixtures.json $(F)/mixtures.png &: $(CORE) verify/mixtures.py
	$(RUN) $(D)/mixtures.txt $(VERIFY) mixtures --json $(D)/mixtures.json --plot $(F)/mixtures.png
$(D)/separated.json $(F)/separated.png &: $(CORE) verify/separated.py
	$(RUN) $(D)/separated.txt $(VERIFY) separated --json $(D)/separated.json --plot $(F)/separated.png
# issue 23: neighbouring theories (speciation and collapse; Dask on every core)
$(D)/speciation.json $(F)/speciation.png &: $(CORE) verify/speciation.py
	$(RUN) $(D)/speciation.txt $(VERIFY) speciation --json $(D)/speciation.json --plot $(F)/speciation.png
$(D)/collapse.json $(F)/collapse.png &: $(CORE) verify/collapse.py
	$(RUN) $(D)/collapse.txt $(VERIFY) collapse --json $(D)/collapse.json --plot $(F)/collapse.png
# issue 21: trained networks (needs the train extra: pip install '.[train]')
$(D)/trained.json $(F)/trained.png &: $(CORE) verify/trained.py
	$(RUN) $(D)/trained.txt $(VERIFY) trained --json $(D)/trained.json --plot $(F)/trained.png
# issue 22 item 2: trained networks across training-set sizes (train extra; Dask, 2 workers)
$(D)/generalization.json $(F)/generalization.png &: $(CORE) verify/generalization.py
	$(RUN) $(D)/generalization.txt $(VERIFY) generalization --scheduler local --workers 2 --json $(D)/generalization.json --plot $(F)/generalization.png
# issue 22 item 3: learning dynamics at a fixed small N (needs the train extra)
$(D)/learning.json $(F)/learning.png &: $(CORE) verify/learning.py
	$(RUN) $(D)/learning.txt $(VERIFY) learning --json $(D)/learning.json --plot $(F)/learning.png
# issue 22: feature ensembling under label noise (B.4)
$(D)/ensemble.json $(F)/ensemble.png &: $(CORE) verify/ensemble.py
	$(RUN) $(D)/ensemble.txt $(VERIFY) ensemble --scheduler local --workers 3 --json $(D)/ensemble.json --plot $(F)/ensemble.png


clean-results:  # delete the results (not the map cache): the next `make results` recomputes all
	rm -f $(RESULTS) $(RESULTS:.json=.txt) $(D)/.map-args
clean-cache:
	rm -rf $(CACHE)
