"""The bridge from SymPy to array code: the lambdify bridge and the code generator.

Two ways from a derived expression to a number, both thin and both tested:

* :func:`lambdify_expr` -- ``sympy.lambdify`` onto an array-API namespace, refusing any
  function the namespace does not provide (so no NumPy call can slip into a CuPy or
  ``array_api_strict`` evaluation).  Used by tests and by anyone exploring a derivation.
* :func:`generate` -- the source of ``molrg/_generated.py``: one plain Python function per
  derived expression, taking the namespace ``xp`` and exactly the symbols it needs (in
  the order ``sigma, K, d, delta``), with common subexpressions hoisted, and a typed
  table of them: ``FORMULAS["noisy"]`` / ``FORMULAS["clean"]`` (:class:`InputFormulas`,
  one field per input-dependent formula; ``.printed`` / ``.derived`` hold Theorem 1's
  forms as :class:`FormFormulas`).  Callers import a function by its name, or pick a
  table field by attribute, so grep finds every use of every formula.  The package
  evaluates these at run time, so ``import molrg`` and every command stay free of SymPy.
  ``python -m molrg.symbolic.codegen`` rewrites the module; a test regenerates it and
  compares, so it cannot drift from the derivation.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

from . import corrected as corrected_form
from .derive import (
    APPROX_FORMS,
    MODES,
    ORDER,
    derive_exact_limits,
    derive_proposition1,
    derive_theorem1,
    finiteness_threshold,
    input_variance,
)
from .peak_law import PEAK_LAW_REFINEMENTS, derive_peak_law, s

__all__ = ["XP_FUNCTIONS", "Entry", "entries", "generate", "lambdify_expr", "main"]

XP_FUNCTIONS = ("exp", "log", "sqrt", "log1p", "expm1")
"""Element-wise functions the array-API bridge maps; anything else is refused."""

GENERATED = Path(__file__).parents[1] / "_generated.py"


@dataclass(frozen=True)
class Entry:
    """One generated function: its name, expression and argument symbols."""

    name: str
    expr: sp.Expr
    args: tuple[sp.Symbol, ...]
    numpy_only: bool = False


def _args(expr: sp.Expr, extra: tuple[sp.Symbol, ...] = ()) -> tuple[sp.Symbol, ...]:
    """The symbols ``expr`` needs: those of ``extra`` first, then ``sigma, K, d, delta``."""
    free = expr.free_symbols
    return tuple(x for x in (*extra, *ORDER) if x in free)


def entries() -> Iterator[Entry]:
    """Every expression the package evaluates, in a fixed order."""
    p1 = derive_proposition1()
    for name in ("zeta", "xi", "zeta_minus_xi", "kappa", "phi", "psi"):
        expr = getattr(p1, name)
        yield Entry(name, expr, _args(expr))
    for mode in MODES:
        var = input_variance(mode)
        for block in ("own", "other"):
            yield Entry(f"{mode}_variance_{block}", var[block], _args(var[block]))
        for form in APPROX_FORMS:
            t1 = derive_theorem1(mode, form)
            for name in ("margin", "what_plus", "what_minus", "C", "bracket", "snr",
                         "dlogsnr_dlogsigma", "limit_zero", "limit_inf"):
                expr = getattr(t1, name)
                yield Entry(f"{mode}_{form}_{name}", expr, _args(expr))
        for name, expr in corrected_form.generated_pieces(mode).items():
            yield Entry(f"{mode}_corrected_{name}", expr, _args(expr, corrected_form.EXTRA_ARGS))
        ex = derive_exact_limits(mode)
        for name in ("ratio_of_means_zero", "ratio_of_means_inf", "mean_of_ratios_zero",
                     "mean_of_ratios_inf"):
            expr = getattr(ex, name)
            yield Entry(f"{mode}_exact_{name}", expr, _args(expr))
        law = derive_peak_law(mode)
        yield Entry(f"{mode}_peak_law_s0", law.s0, _args(law.s0), numpy_only=True)
        yield Entry(f"{mode}_peak_law_z0", law.z0, _args(law.z0))
        yield Entry(f"{mode}_peak_law_refine", law.refine, _args(law.refine, (s,)),
                    numpy_only=True)
        yield Entry(f"{mode}_peak_law_z_refine", law.z_refine, _args(law.z_refine, (s,)))
    for name, expr in corrected_form.shared_pieces().items():
        yield Entry(f"corrected_{name}", expr, _args(expr, corrected_form.EXTRA_ARGS),
                    numpy_only=expr.has(sp.loggamma, sp.polygamma))


class _Printer(PythonCodePrinter):
    """Python code with bare function names (bound to ``xp``'s in the function header)."""

    def __init__(self) -> None:
        super().__init__({"fully_qualified_modules": False, "strict": True})

    def _print_LambertW(self, expr: sp.Expr) -> str:
        branch = self._print(expr.args[1]) if len(expr.args) > 1 else "0"
        self.module_imports["scipy.special"].add("lambertw")
        return f"lambertw({self._print(expr.args[0])}, {branch})"

    def _print_loggamma(self, expr: sp.Expr) -> str:
        self.module_imports["scipy.special"].add("gammaln")
        return f"gammaln({self._print(expr.args[0])})"

    def _print_polygamma(self, expr: sp.Expr) -> str:
        order, arg = expr.args
        name = {0: "psi", 1: "_trigamma"}.get(int(order), "polygamma")
        self.module_imports["scipy.special"].add(name)
        if name == "polygamma":
            return f"polygamma({self._print(order)}, {self._print(arg)})"
        return f"{name}({self._print(arg)})"


def _function_source(entry: Entry) -> str:
    printer = _Printer()
    replacements, (reduced,) = sp.cse([entry.expr], symbols=sp.numbered_symbols("t"),
                                      optimizations="basic")
    body = [f"    {printer.doprint(sym)} = {printer.doprint(value)}"
            for sym, value in replacements]
    body.append(f"    return {printer.doprint(reduced)}")
    used = sorted(set().union(*printer.module_imports.values()))
    header = []
    for fn in used:
        if fn == "lambertw":
            header.append("    lambertw = _lambertw")
        elif fn in ("gammaln", "psi", "polygamma"):
            header.append(f"    from scipy.special import {fn}")
        elif fn == "_trigamma":
            pass  # module-level helper
        elif fn in XP_FUNCTIONS:
            header.append(f"    {fn} = xp.{fn}")
        else:
            raise ValueError(f"{entry.name} needs {fn!r}, which the generator does not map")
    args = ", ".join(["xp", *(str(a) for a in entry.args)])
    doc = f'    """``{entry.name} = {_shorten(str(entry.expr))}``."""'
    return "\n".join([f"def {entry.name}({args}):  # noqa: D103", doc, *header, *body])


def _shorten(text: str, limit: int = 200) -> str:
    text = text.replace("\\", "\\\\")
    return text if len(text) <= limit else text[: limit - 5] + " ..."


PREAMBLE = '''"""GENERATED by ``python -m molrg.symbolic.codegen`` from the SymPy derivations.

Do not edit: change ``molrg/symbolic/`` and regenerate.  A test regenerates this module
and compares.  Each function takes an array namespace ``xp`` and the symbols it needs
(order ``sigma, K, d, delta``; the peak-law map also ``s = sigma^2``); ``ARGS`` lists
them.  Functions marked in ``NUMPY_ONLY`` use SciPy's Lambert W and run on NumPy only.
"""
# ruff: noqa
# fmt: off
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

DERIVATION_HASH = "{digest}"

MEAN_OF_RATIOS_MEAN_THRESHOLD = {mean_threshold}
"""``E[1/chi2_m]`` is finite for ``m = (K-1) d`` above this (derived pole)."""
MEAN_OF_RATIOS_VARIANCE_THRESHOLD = {variance_threshold}
"""``E[1/chi2_m^2]`` is finite for ``m`` above this (derived pole)."""


PEAK_LAW_REFINEMENTS = {refinements}
"""Refinements of the peak law's map ``s -> T(s)`` after its start ``s0``."""


def _lambertw(z, k):
    import numpy as np
    from scipy.special import lambertw as w

    return np.real(w(z, k))


def _trigamma(x):
    """``psi'(x)`` for ``x > 0``: recurrence to ``x + 6``, then the asymptotic series
    (relative error below 1e-10; SciPy's ``polygamma(1, x)`` is some 25x slower; a test
    compares them)."""
    acc = 0.0 * x
    for k in range(6):
        acc = acc + 1.0 / ((x + k) * (x + k))
    z = x + 6.0
    iz = 1.0 / z
    iz2 = iz * iz
    return acc + iz + 0.5 * iz2 + iz * iz2 * (1 / 6 - iz2 * (1 / 30 - iz2 * (1 / 42 - iz2 / 30)))


def call(name, xp, **values):
    """Evaluate the generated function ``name`` with the arguments it needs from ``values``.

    Kept for exploration and old callers; library code imports a function by name or uses
    the typed table ``FORMULAS`` (grep finds those uses, not names built as strings)."""
    return globals()[name](xp, *(values[a] for a in ARGS[name]))


@dataclass(frozen=True)
class Formula:
    """A generated function and the names of its arguments after ``xp``: calling it with
    keywords passes the ones it needs (``f(xp, sigma=s, K=k, d=n, delta=e)`` works for every
    formula of a table, whatever subset it uses)."""

    fn: Callable[..., Any]
    args: tuple[str, ...]

    def __call__(self, xp: Any, **values: Any) -> Any:
        return self.fn(xp, *(values[a] for a in self.args))

'''


def _table_source(items: list[Entry]) -> list[str]:
    """The typed table: :class:`FormFormulas` (Theorem 1's quantities in one form) and
    :class:`InputFormulas` (every formula that depends on the input), one instance per
    input mode, and ``FORMULAS``."""
    names = [e.name for e in items]
    args = {e.name: tuple(str(a) for a in e.args) for e in items}
    first = MODES[0]
    form_fields = [n[len(f"{first}_{APPROX_FORMS[0]}_"):] for n in names
                   if n.startswith(f"{first}_{APPROX_FORMS[0]}_")]
    input_fields = [n[len(first) + 1:] for n in names if n.startswith(f"{first}_")
                    and not any(n.startswith(f"{first}_{f}_") for f in APPROX_FORMS)]
    out = ["", "", "@dataclass(frozen=True)", "class FormFormulas:",
           '    """Theorem 1\'s quantities in one form (printed or derived) for one input."""',
           ""]
    out += [f"    {f}: Formula" for f in form_fields]
    out += ["", "", "@dataclass(frozen=True)", "class InputFormulas:",
            '    """Every formula that depends on the input (noisy or clean), by name."""', ""]
    out += [f"    {f}: Formula" for f in input_fields]
    out += [f"    {f}: FormFormulas" for f in APPROX_FORMS]
    for mode in MODES:
        for f in (*input_fields, *(f"{a}_{q}" for a in APPROX_FORMS for q in form_fields)):
            if f"{mode}_{f}" not in args:
                raise ValueError(f"{mode} lacks {f}: the input modes must have the same formulas")
        out += ["", "", f"{mode.upper()} = InputFormulas("]
        out += [f"    {f}=Formula({mode}_{f}, {args[f'{mode}_{f}']!r})," for f in input_fields]
        for form in APPROX_FORMS:
            out.append(f"    {form}=FormFormulas(")
            out += [f"        {q}=Formula({mode}_{form}_{q}, {args[f'{mode}_{form}_{q}']!r}),"
                    for q in form_fields]
            out.append("    ),")
        out.append(")")
    out += ["", "FORMULAS: dict[str, InputFormulas] = {"]
    out += [f"    {mode!r}: {mode.upper()}," for mode in MODES]
    out += ["}", '"""The input-dependent formulas by input mode."""', ""]
    return out


def generate() -> str:
    """Source text of ``molrg/_generated.py``."""
    items = list(entries())
    functions = [_function_source(e) for e in items]
    digest = hashlib.sha256("\n".join(functions).encode()).hexdigest()[:16]
    registry = ["", "", "ARGS = {"]
    registry += [f"    {e.name!r}: {tuple(str(a) for a in e.args)!r}," for e in items]
    registry += ["}", "", "NUMPY_ONLY = frozenset({"]
    registry += [f"    {e.name!r}," for e in items if e.numpy_only]
    registry += ["})"]
    registry += _table_source(items)
    preamble = PREAMBLE.format(digest=digest, mean_threshold=finiteness_threshold(1),
                               variance_threshold=finiteness_threshold(2),
                               refinements=PEAK_LAW_REFINEMENTS)
    return preamble + "\n\n".join(functions) + "\n" + "\n".join(registry)


def lambdify_expr(expr: sp.Expr, xp: ModuleType,
                  args: tuple[sp.Symbol, ...] | None = None) -> Callable[..., Any]:
    """Thin bridge: ``sympy.lambdify`` of ``expr`` in ``args`` onto namespace ``xp``.

    ``args`` defaults to the expression's symbols in the canonical order.  Raises
    ``ValueError`` if the code needs a function outside :data:`XP_FUNCTIONS`.
    """
    namespace = {name: getattr(xp, name) for name in XP_FUNCTIONS}
    fn = sp.lambdify(args if args is not None else _args(expr), expr,
                     modules=[namespace, "numpy"], cse=True)
    unknown = set(fn.__code__.co_names) - set(namespace) - {"builtins", "range"}
    if unknown:
        raise ValueError(f"expression needs functions {sorted(unknown)} that the array-API "
                         "bridge does not map; extend XP_FUNCTIONS")
    return fn


def main(argv: list[str] | None = None) -> int:
    """``python -m molrg.symbolic.codegen [--check]``: (re)write or check ``_generated.py``."""
    argv = sys.argv[1:] if argv is None else argv
    text = generate()
    if "--check" in argv:
        same = GENERATED.exists() and GENERATED.read_text() == text
        print("up to date" if same else f"{GENERATED} is stale: regenerate")
        return 0 if same else 1
    GENERATED.write_text(text)
    print(f"wrote {GENERATED}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
