"""``python -m verify derive``: print every derived expression (plain text or LaTeX).

``--markdown PATH`` writes the reference page ``docs/math.md`` from the live derivation,
so the documentation cannot drift from the code (a test regenerates and compares it).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from molrg import symbolic

NAME = "derive"
HELP = "print the derived Proposition-1 / Theorem-1 expressions (text, LaTeX, markdown)"


def run(*, modes: tuple[str, ...] = symbolic.MODES, latex: bool = False) -> dict[str, dict[str, str]]:
    """Derived expressions per mode, as strings (LaTeX if ``latex``)."""
    return {mode: symbolic.latex(mode) if latex else dict(symbolic.describe(mode))
            for mode in modes}


def markdown() -> str:
    """The generated ``docs/math.md``."""
    import sympy as sp

    from molrg.symbolic import derive_peak_law

    text = Path(__file__).with_name("math_intro.md").read_text()
    out = [text.rstrip(), ""]
    shared = ("zeta", "xi", "phi", "psi", "kappa", "zeta_minus_xi")
    latex_noisy = symbolic.latex("noisy")
    out.append("## Proposition 1: derived coefficients (both modes)\n")
    for key in shared:
        out.append(f"- `{key}`: $${latex_noisy[key]}$$")
    for mode in symbolic.MODES:
        tex = symbolic.latex(mode)
        out.append(f"\n## Theorem 1, input `{mode}`\n")
        for key, value in tex.items():
            if key not in shared and key not in ("dlogsnr_dlogsigma",):
                out.append(f"- `{key}`: $${value}$$")
        out.append("- `dlogsnr_dlogsigma`: derived by `sympy.diff`; "
                   f"{sp.count_ops(symbolic.expressions(mode)['dlogsnr_dlogsigma'])} "
                   "operations (printed by `python -m verify derive`).")
        law = derive_peak_law(mode)
        out.append(f"\n### Peak law, input `{mode}`\n")
        for key in ("a", "A_inf", "c", "A", "Lambda", "s0"):
            out.append(f"- `{key}`: $${sp.latex(getattr(law, key))}$$")
    out.append("")
    return "\n".join(out)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", choices=("noisy", "clean", "both"), default="both")
    parser.add_argument("--latex", action="store_true", help="print LaTeX instead of text")
    parser.add_argument("--markdown", metavar="PATH",
                        help="write the generated math reference (docs/math.md) to PATH")


def main(args: argparse.Namespace) -> int:
    if args.markdown:
        Path(args.markdown).write_text(markdown())
        print(f"wrote {args.markdown}")
        return 0
    modes = symbolic.MODES if args.input == "both" else (args.input,)
    for mode, table in run(modes=modes, latex=args.latex).items():
        print(f"== input: {mode} ==")
        for key, value in table.items():
            print(f"{key} = {value}")
        print()
    return 0
