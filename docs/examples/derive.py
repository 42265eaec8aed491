"""Worked example: ``python -m verify derive`` -- every derived expression.

Run it with ``python docs/examples/derive.py``.  ``--latex`` prints LaTeX, ``--form
printed`` gives the formula as the paper prints it, ``--form derived`` (default) the
paper's step applied to the model, ``--markdown PATH`` the page "The math"
(``docs/math.md``).  The expressions are SymPy objects in ``molrg.symbolic``.
"""

from __future__ import annotations

import os
import shlex

from molrg import symbolic  # imports SymPy (``import molrg`` alone does not)
from verify.cli import main

SMALL = os.environ.get("MOLRG_EXAMPLE_SMALL") == "1"  # the test suite runs small sizes

COMMAND = "python -m verify derive --latex"
# The test suite runs this instead: seconds, no figure.
SMALL_COMMAND = "python -m verify derive --latex --input noisy --form printed"

status = main(shlex.split(SMALL_COMMAND if SMALL else COMMAND)[3:])  # [3:]: after "-m verify"

t1 = symbolic.derive_theorem1("noisy", form="printed")  # Theorem 1 as printed, noisy input
print("margin Delta =", t1.margin)
print("C =", t1.C)
print("SNR -> ", t1.limit_zero, "as sigma -> 0 and", t1.limit_inf, "as sigma -> oo")

assert status == 0
