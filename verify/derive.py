"""``python -m verify derive``: print every derived expression (plain text or LaTeX).

``--markdown PATH`` writes the reference page ``docs/math.md`` from the live derivation,
so the documentation cannot drift from the code (a test regenerates and compares it).
``--form`` selects the closed form of Theorem 1 (``derived`` or ``printed``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import molrg

from . import report
from .command import Command, Context, option
from .theorem import input_modes

CLOSED_FORMS = ("derived", "printed")


@dataclass(frozen=True)
class DeriveResult:
    """The derived expressions per mode (full text or LaTeX; the JSON payload) and their
    compact display (each in terms of the names defined before it)."""

    expressions: dict[str, dict[str, str]]
    markdown_path: str | None = None
    verdict: str = "info"
    display: dict[str, dict[str, str]] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"expressions": self.expressions, "markdown": self.markdown_path}

    def render(self, *, table: bool = True) -> list[Any]:
        if self.markdown_path:
            return [f"wrote {self.markdown_path}"]
        out: list[Any] = []
        for key, table_ in (self.display or self.expressions).items():
            out.append(f"== {key} ==")
            out.extend(f"{name} = {value}" for name, value in table_.items())
            out.append("")
        return out


def expressions(*, modes: tuple[str, ...] = ("noisy", "clean"), form: str = "derived",
        latex: bool = False) -> dict[str, dict[str, str]]:
    """Derived expressions per mode, as strings (LaTeX if ``latex``)."""
    sym = molrg.symbolic
    return {f"input: {mode}, form: {form}": (sym.latex(mode, form) if latex
                                             else dict(sym.describe(mode, form)))
            for mode in modes}


def compact(mode: str, form: str) -> dict[str, str]:
    """Each expression in terms of the names defined before it (``phi = zeta/(2*sigma**2)``,
    ``what_minus = what_plus*exp(-margin)``): what ``derive`` prints.  The derivative
    ``dlogsnr_dlogsigma`` is named, not printed (``--expanded`` prints every expression in
    full, as the JSON has them)."""
    import sympy as sp

    expressions = molrg.symbolic.expressions(mode, form)
    out: dict[str, str] = {}
    defined: list[str] = []
    for name, expr in expressions.items():
        if name == "dlogsnr_dlogsigma":
            out[name] = (f"d log(snr_approx) / d log(sigma)  (sympy.diff, "
                         f"{sp.count_ops(expr)} operations; --expanded prints it)")
            continue
        for prev in sorted(defined, key=lambda n: -sp.count_ops(expressions[n])):
            target = expressions[prev]
            if sp.count_ops(target) > 2:  # not a bare symbol, number or power
                expr = expr.subs(target, sp.Symbol(prev))
        out[name] = str(expr)
        defined.append(name)
    return out


def markdown() -> str:
    """The generated ``docs/math.md``."""
    import sympy as sp

    sym = molrg.symbolic
    text = Path(__file__).with_name("math_intro.md").read_text()
    out = [text.rstrip(), ""]
    shared = ("zeta", "xi", "phi", "psi", "kappa", "zeta_minus_xi")
    latex_noisy = sym.latex("noisy")
    out.append("## Proposition 1: derived coefficients (both modes)\n")
    for key in shared:
        out.append(f"- `{key}`: $${latex_noisy[key]}$$")
    for mode in sym.MODES:
        for form in CLOSED_FORMS:
            tex = sym.latex(mode, form)
            out.append(f"\n## Theorem 1, input `{mode}`, form `{form}`\n")
            for key, value in tex.items():
                if key not in shared and key != "dlogsnr_dlogsigma":
                    out.append(f"- `{key}`: $${value}$$")
            count = sp.count_ops(sym.expressions(mode, form)["dlogsnr_dlogsigma"])
            out.append(f"- `dlogsnr_dlogsigma`: derived by `sympy.diff`; {count} operations "
                       "(printed by `python -m verify derive`).")
        law = sym.derive_peak_law(mode)
        out.append(f"\n### Peak law (derived form), input `{mode}`\n")
        for key in ("a", "A_inf", "c", "A", "Lambda", "s0"):
            out.append(f"- `{key}`: $${sp.latex(getattr(law, key))}$$")
    corrected = sym.corrected.markdown()
    if corrected:
        out.extend(["", corrected.rstrip()])
    out.append("")
    return "\n".join(out)


@dataclass(frozen=True)
class DeriveOptions:
    """Options of ``derive``."""

    inputs: tuple[str, ...] = option(("noisy", "clean"), "input mode (default: both)",
                                     flag="--input", dest="input",
                                     choices=("noisy", "clean", "both"), text="both",
                                     parse=input_modes)
    form: str = option("derived", "closed form of Theorem 1 (default: derived)",
                       choices=CLOSED_FORMS)
    latex: bool = option(False, "print LaTeX instead of text", action="store_true")
    expanded: bool = option(False, "print every expression in full (default: each in terms "
                            "of the names defined before it; the JSON always has them in "
                            "full)", action="store_true")
    markdown: str | None = option(None, "write the generated math reference (docs/math.md) "
                                  "to PATH", metavar="PATH")


class Derive(Command[DeriveOptions]):
    """``python -m verify derive``."""

    name = "derive"
    help = "print the derived Proposition-1 / Theorem-1 expressions (text, LaTeX, markdown)"
    Options = DeriveOptions
    plots = False

    def run(self, options: DeriveOptions, context: Context) -> DeriveResult:
        if options.markdown:
            report.check_output_path("--markdown", options.markdown)
            with report.open_output(options.markdown, "--markdown") as f:
                f.write(markdown().encode())
            return DeriveResult({}, options.markdown)
        modes, form = options.inputs, options.form
        full = expressions(modes=modes, form=form, latex=options.latex)
        display = None if options.latex or options.expanded else {
            f"input: {mode}, form: {form}": compact(mode, form) for mode in modes}
        return DeriveResult(full, display=display)
