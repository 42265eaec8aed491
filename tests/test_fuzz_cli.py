"""Fuzz the command line: random argument lists for every option of every subcommand.

The subcommands and their options are introspected from :func:`verify.cli.build_parser`
(so options and commands added later are fuzzed automatically).  Each option gets valid
and invalid values drawn by its kind (``type=int``/``float``, ``choices``, paths, lists,
flags); sizes are kept tiny so a run takes well under a second.  The contract (issue 15,
``verify/cli.py``):

* the exit status is 0 (claims hold), 1 (a claim deviates), 2 (bad input or usage) or 4
  (undetermined: Monte Carlo estimates flagged untrustworthy, issue 20) --
  never 3 (internal error) and never a ``Traceback`` on stderr;
* every exit 2 names the offending option on stderr (``--num-sigma`` or ``num_sigma``);
* no floating-point warning from inside the library reaches the user.

Commands whose help says "(being built)" are stubs: introspected (their shared options
too) but skipped until built.  Commands that need ``molrg.quadrature`` by design (``map``,
``survey``) are skipped until that module exists.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import re
import signal
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import examples
from verify.cli import build_parser, main

QUADRATURE_BUILT = importlib.util.find_spec("molrg.quadrature") is not None
NEEDS_QUADRATURE = ("map", "survey")
"""Commands whose runs use the exact SNR whatever the options."""
TORCH_INSTALLED = importlib.util.find_spec("torch") is not None
MISSING_TORCH = "needs PyTorch, which is not installed"
"""Without the train extra, a command that trains exits 2 naming the extra (every option is
validated first; tests/test_train.py checks the message)."""
TIME_LIMIT_S = 30
"""One CLI run longer than this is a failure (tiny sizes run in well under a second)."""


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


PARSER = build_parser()
SUB = _subparsers(PARSER)
COMMANDS: dict[str, argparse.ArgumentParser] = dict(SUB.choices)
HELPS = {c.dest: c.help or "" for c in SUB._choices_actions}


def is_stub(command: str) -> bool:
    return "(being built)" in HELPS.get(command, "")


def options(command: str) -> list[argparse.Action]:
    """Every optional argument of ``command`` (``--help`` excluded)."""
    return [a for a in COMMANDS[command]._actions
            if a.option_strings and not isinstance(a, argparse._HelpAction)]


MC_METHOD = ["--method", "reduced"]
BASE: dict[str, list[str]] = {
    "theorem1": [*MC_METHOD, "--samples", "2000", "--num-sigma", "5", "--replicates", "2",
                 "--input", "noisy"],
    "sweep": ["--vary", "K", "--values", "2,3", *MC_METHOD, "--samples", "1000",
              "--num-sigma", "5", "--input", "noisy"],
    "survey": ["--cases", "1", "--samples", "1000", "--num-sigma", "5", "--replicates", "2"],
    "map": ["--K", "2", "--d", "1", "--delta", "0.2", "--scheduler", "serial"],
    "proposition1": ["--cases", "2"],
    "mixtures": ["--angles", "90", "--angle-mode", "all", "--samples", "200", "--num-sigma",
                 "5", "--n", "20", "--d", "2"],
    "memorization": ["--K", "2", "--d", "2", "--n", "8", "--N", "10,20", "--samples", "200",
                     "--optimal-samples", "200", "--num-sigma", "5"],
    "separated": ["--K", "2", "--d", "2", "--n", "12", "--scales", "0,1", "--samples", "200",
                  "--probe-samples", "200", "--num-sigma", "5"],
    "probe": ["--K", "2", "--d", "2", "--n", "8", "--N", "10", "--probes", "bayes",
              "--samples", "200", "--snr-samples", "200", "--num-sigma", "5"],
    "peak-law": ["--cases", "3"],
    "speciation": ["--quick", "--scheduler", "serial"],
    "collapse": ["--quick", "--scheduler", "serial"],
    "trained": ["--quick", "--parts", "fig3", "--scheduler", "serial"],
    "generalization": ["--quick", "--scheduler", "serial"],
    "ensemble": ["--quick", "--settings", "separated", "--label-noise", "0,0.8"],
}
"""Small-size base arguments (fuzzed options come after them and override them).  A
command without an entry gets :func:`auto_base`."""
AUTO_SMALL = {"samples": "200", "num_sigma": "5", "cases": "1", "replicates": "2"}
"""Size options of a command added later, set small by their name (``*_samples`` too)."""


def auto_base(command: str) -> list[str]:
    """Small values for the size options of ``command`` (by name)."""
    if command in BASE:
        return BASE[command]
    out = []
    for action in options(command):
        key = "samples" if action.dest.endswith("samples") else action.dest
        if key in AUTO_SMALL and action.nargs != 0:
            out += [action.option_strings[0], AUTO_SMALL[key]]
    return out

KNOWN_ISSUES: dict[tuple[str, str], str] = {}
"""Findings in files this suite's author may not edit: left out of the random draws and
expected to fail in the deterministic sweep until fixed."""
SLOW_VALID = {("derive", "markdown"), ("map", "plot")}
"""Options drawn with invalid values only: a valid one costs seconds (writing docs/math.md
derives everything with SymPy; the map's two 12-panel figures); covered by
tests/test_verify.py and tests/test_parallel.py."""


# ---------------------------------------------------------------------------------------
# Values by kind of option
# ---------------------------------------------------------------------------------------
def _ints(lo: int, hi: int) -> st.SearchStrategy[str]:
    return st.integers(lo, hi).map(str)


def _floats(lo: float, hi: float) -> st.SearchStrategy[str]:
    return st.floats(lo, hi, allow_nan=False).map(repr)


VALID_INTS: dict[str, st.SearchStrategy[str]] = {
    "samples": _ints(64, 3000), "num_sigma": _ints(5, 7), "cases": _ints(1, 3),
    "replicates": _ints(2, 3), "batch": _ints(64, 4096), "workers": _ints(1, 2),
    "n_max": _ints(4, 12), "seed": _ints(0, 5), "K": _ints(2, 4), "d": _ints(1, 3),
    "n": _ints(1, 24),
}
"""Valid values of size options stay tiny (unknown int options: 0..5)."""
VALID_FLOATS: dict[str, st.SearchStrategy[str]] = {
    "delta": _floats(0.01, 0.95), "sigma_min": _floats(1e-3, 1.0),
    "sigma_max": _floats(0.5, 100.0), "unimodal_z": _floats(0.0, 10.0),
}
INVALID_INTS = st.sampled_from(["-1", "0", "-7", str(10**12), str(10**30), str(2**63), "1.5",
                                "abc", "", "nan", "1e3", " "])
INVALID_FLOATS = st.sampled_from(["nan", "inf", "-inf", "-1", "0", "1e308", "-1e-300",
                                  "1e-320", "abc", "", "1,2"])
WORDS = st.text(alphabet="abcxyz-_.,:/0123456789 ", max_size=8)
LISTS: dict[str, tuple[list[str], list[str]]] = {
    "values": (["2,3", "3", "0.2,0.4", "40,60", "2"],
               ["", "a,b", "2,2", "nan", "1e30", "-1,3", "2.5", ",", "0", "1e-300"]),
    "K": (["2", "2,3"], ["", "a", "1", "0", "-1", "2,2", "nan", "1e30", "1.5"]),
    "d": (["1", "1,2"], ["", "a", "0", "-1", "1,1", "nan", "1e30", "1.5"]),
    "delta": (["0.2", "0.2,0.5"], ["", "a", "0", "1", "-0.5", "nan", "inf", "0.2,0.2"]),
    "angles": (["90", "90,60"], ["", "a", "0", "-10", "91", "nan", "90,90", "1e30"]),
    "ranks": (["2,1", "3,2"], ["", "a", "1", "0,1", "-1,2", "1e30,1", "2.5,1"]),
    "weights": (["0.5,0.5", "0.8,0.2"], ["", "a", "1,1", "0,1", "-0.2,1.2", "nan,0.5"]),
    "N": (["10", "10,20"], ["", "a", "0", "-1", "10,10", "1e30", "2.5"]),
    "scales": (["0,1", "1"], ["", "a", "-1", "nan", "1,1", "1e300"]),
    "probes": (["bayes", "energy", "bayes,energy"], ["", "nope", "bayes,bayes", "bayes,x"]),
}
"""Comma-separated list options (no ``type``): valid and invalid texts."""
SCHEDULERS = (["serial"], ["", "threads", "tcp//x", "serial2", "local:"])
"""Never ``local`` or an address in a fuzz run (a Dask cluster takes seconds)."""


def _unavailable(action: argparse.Action) -> set[str]:
    if action.dest == "method" and not QUADRATURE_BUILT:
        return {"auto", "quadrature"}
    if action.dest == "backend":
        return {"cupy"}  # no GPU here: refused with exit 2 anyway, but only drawn as invalid
    return set()


def _paths(option: str, tmp: Path) -> tuple[list[str], list[str]]:
    """Valid and invalid output paths for a path option."""
    if option == "--plot":
        suffix = ".png"
    elif option == "--markdown":
        suffix = ".md"
    else:
        suffix = ".json"
    valid = [str(tmp / f"out{suffix}"), str(tmp / "new" / "folder" / f"out{suffix}")]
    invalid = [f"/proc/x/y{suffix}", str(tmp), "", "/proc/out" + suffix]
    if option == "--plot":
        invalid += [str(tmp / "name"), str(tmp / "name.txt")]
    return valid, invalid


def value_strategy(action: argparse.Action, tmp: Path, valid: bool) -> st.SearchStrategy[str]:
    """Values for one option, valid or (mostly) invalid, as command-line text."""
    dest = action.dest
    if action.choices is not None:
        good = [c for c in action.choices if c not in _unavailable(action)]
        if valid and good:
            return st.sampled_from(good)
        return st.one_of(st.sampled_from(["", "nope", "AUTO", *sorted(_unavailable(action))]),
                         WORDS.filter(lambda w: w not in action.choices))
    if action.type is int:
        return VALID_INTS.get(dest, _ints(0, 5)) if valid else INVALID_INTS
    if action.type is float:
        return VALID_FLOATS.get(dest, _floats(0.0, 1.0)) if valid else INVALID_FLOATS
    if dest == "cache":  # map --cache DIR: inside tmp (a bare word would land in the cwd)
        return st.sampled_from([str(tmp / "cache")] if valid else ["", " "])
    if dest in ("json", "plot", "markdown"):
        good, bad = _paths(action.option_strings[0], tmp)
        return st.sampled_from(good if valid else bad)
    if dest == "scheduler":
        return st.sampled_from(SCHEDULERS[0 if valid else 1])
    if dest in LISTS:
        return st.sampled_from(LISTS[dest][0 if valid else 1])
    return WORDS  # an option added later, of no known kind


@st.composite
def argument_lists(draw: st.DrawFn, command: str, tmp: Path
                   ) -> tuple[list[str], dict[str, bool]]:
    """``(argv, {option: drawn valid})``: base arguments, then random options."""
    argv = [command, *auto_base(command)]
    drawn: dict[str, bool] = {}
    # half the runs use valid values only (they do the work), the others mix in invalid ones
    mode = draw(st.sampled_from(["valid", "valid", "mixed"]))
    for action in options(command):
        if draw(st.integers(0, 3)) != 0:  # each option in about one run in four
            continue
        if any((command, o) in KNOWN_ISSUES for o in action.option_strings):
            continue
        option = draw(st.sampled_from(action.option_strings))
        if action.nargs == 0:  # a flag
            if action.dest == "resume":  # needs --json; resumes nothing in a fresh folder
                argv += [option, "--json", str(tmp / "resume.json")]
            else:
                argv.append(option)
            drawn[option] = True
            continue
        valid = mode == "valid" or draw(st.booleans())
        if (command, action.dest) in SLOW_VALID:
            valid = False
        argv += [option, draw(value_strategy(action, tmp, valid))]
        drawn[option] = valid
    if "--quiet" not in argv:
        argv.append("--quiet")
    return argv, drawn


# ---------------------------------------------------------------------------------------
# Running and checking
# ---------------------------------------------------------------------------------------
class RunTooLong(BaseException):  # not an Exception: main() must not catch it
    pass


@contextlib.contextmanager
def time_limit(seconds: int, argv: list[str]) -> Iterator[None]:
    def handler(signum: int, frame: Any) -> None:
        raise RunTooLong(f"python -m verify {' '.join(argv)} ran longer than {seconds} s")

    old = signal.signal(signal.SIGALRM, handler)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


FLOATING_WARNING = re.compile(r"encountered in|empty slice|Casting complex|Degrees of freedom")


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """``main(argv)`` in this process: ``(status, stdout, stderr)``; checks warnings."""
    out, err = io.StringIO(), io.StringIO()
    with warnings.catch_warnings(record=True) as caught, time_limit(TIME_LIMIT_S, argv), \
            contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        warnings.simplefilter("always")
        status = main(argv)
    leaked = [w for w in caught if FLOATING_WARNING.search(str(w.message))]
    assert not leaked, (f"python -m verify {' '.join(argv)}: floating-point warning "
                        f"{leaked[0].category.__name__}: {leaked[0].message} "
                        f"({leaked[0].filename}:{leaked[0].lineno})")
    return status, out.getvalue(), err.getvalue()


def names(option: str) -> set[str]:
    """How a message may name an option: ``--num-sigma``, ``num_sigma``, ``num-sigma``."""
    bare = option.lstrip("-")
    return {option, bare, bare.replace("-", "_")}


def names_an_option(message: str, opts: list[str]) -> bool:
    return any(re.search(rf"(?<![A-Za-z0-9_-]){re.escape(v)}(?![A-Za-z0-9_])", message)
               for o in opts for v in names(o))


def check_contract(argv: list[str], drawn: dict[str, bool]) -> None:
    status, _stdout, stderr = run_cli(argv)
    cmd = "python -m verify " + " ".join(argv)
    assert "Traceback" not in stderr, f"{cmd}: traceback on stderr:\n{stderr}"
    assert status != 3, f"{cmd}: internal error (exit 3):\n{stderr}"
    assert status in (0, 1, 2, 4), f"{cmd}: exit status {status}:\n{stderr}"
    if status == 2 and MISSING_TORCH in stderr:  # valid options, the train extra absent
        assert not TORCH_INSTALLED, f"{cmd}: claims PyTorch is missing:\n{stderr}"
        return
    if status == 2:
        opts = [a for a in argv if a.startswith("--")]
        assert names_an_option(stderr, opts), f"{cmd}: exit 2 names no option:\n{stderr}"
        invalid = [o for o, ok in drawn.items() if not ok]
        if len(drawn) == 1 and invalid:  # the one fuzzed option is the culprit
            assert names_an_option(stderr, invalid), (
                f"{cmd}: exit 2 does not name {invalid[0]}:\n{stderr}")


# ---------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------
def test_introspection_finds_every_command_and_option() -> None:
    """Sanity of the introspection: commands, their options, the shared output options."""
    assert {"theorem1", "sweep", "derive"} <= set(COMMANDS)
    for command in COMMANDS:
        strings = {s for a in options(command) for s in a.option_strings}
        assert {"--json", "--quiet", "--exit-zero"} <= strings, command
        if not is_stub(command):
            kinds = {value_strategy(a, Path("/tmp"), True) is not None for a in options(command)}
            assert kinds == {True}


@pytest.fixture(scope="module")
def tmp_folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="molrg-fuzz-cli-") as folder:
        yield Path(folder)


@pytest.mark.parametrize("command", sorted(COMMANDS))
@examples(2)
@given(data=st.data())
def test_random_argument_lists_exit_0_1_or_2_naming_the_option(
        command: str, tmp_folder: Path, data: st.DataObject) -> None:
    if is_stub(command):
        pytest.skip(f"{command} is being built")
    if command in NEEDS_QUADRATURE and not QUADRATURE_BUILT:
        pytest.skip(f"{command} needs molrg.quadrature (being written)")
    argv, drawn = data.draw(argument_lists(command, tmp_folder), label="argv")
    check_contract(argv, drawn)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_each_invalid_value_alone_is_named(command: str, tmp_folder: Path) -> None:
    """Deterministic sweep: every option of the command, each invalid value class alone on
    top of the base arguments, exits 2 (or runs) and names that option."""
    if is_stub(command):
        pytest.skip(f"{command} is being built")
    if command in NEEDS_QUADRATURE and not QUADRATURE_BUILT:
        pytest.skip(f"{command} needs molrg.quadrature (being written)")
    known = []
    for action in options(command):
        if action.nargs == 0:
            continue
        option = action.option_strings[0]
        for value in _invalid_examples(action, tmp_folder):
            argv = [command, *auto_base(command), option, value, "--quiet"]
            try:
                check_contract(argv, {option: False})
            except AssertionError:
                if (command, option) not in KNOWN_ISSUES:
                    raise
                known.append(KNOWN_ISSUES[command, option])
    if known:
        pytest.xfail("; ".join(sorted(set(known))))


def _invalid_examples(action: argparse.Action, tmp: Path) -> list[str]:
    """A few invalid values per option: the first of each class (fast, deterministic)."""
    if action.choices is not None:
        return ["", "nope"]
    if action.type is int:
        return ["-1", str(10**12), "abc"]
    if action.type is float:
        return ["nan", "-inf", "abc"]
    if action.dest in ("json", "plot", "markdown"):
        return _paths(action.option_strings[0], tmp)[1][:2] + (
            [str(tmp / "name")] if action.dest == "plot" else [])
    if action.dest == "scheduler":
        return ["threads"]
    if action.dest in LISTS:
        return LISTS[action.dest][1][:4]
    return [""]


# ---------------------------------------------------------------------------------------
# Issue 20: every reproducer, and verdicts never resting on untrustworthy estimates
# ---------------------------------------------------------------------------------------
REPRODUCERS_20 = [
    # (argv, allowed exit statuses, text that stdout+stderr must contain)
    (["theorem1", "--method", "ambient", "--samples", "6"], {4}, "UNDETERMINED"),
    (["theorem1", "--method", "reduced", "--samples", "20"], {4}, "UNDETERMINED"),
    (["theorem1", "--K", "10", "--d", "20", "--n", "200", "--delta", "0.01", "--method",
      "reduced", "--samples", "20000", "--num-sigma", "12", "--replicates", "3"], {4},
     "untrustworthy"),
    (["theorem1", "--delta", "1e-30"], {2}, "--delta"),
    (["theorem1", "--K", "2", "--d", "1", "--delta", "1e-12"], {2}, "--delta"),
    (["theorem1", "--K", "10", "--d", "20", "--n", "200", "--delta", "1e-8"], {2}, "--delta"),
    (["map", "--K", "3", "--d", "5", "--delta", "1e-30"], {2}, "--delta"),
    (["sweep", "--vary", "delta", "--values", "1e-8,0.5"], {2}, "delta"),
    (["theorem1", "--backend", "cupy"], {2}, "--backend"),
    (["map", "--K", "2,,3"], {2}, "--K"),
    (["probe", "--probes", "bayes,bayes"], {2}, "--probes"),
    (["theorem1", "--num-sigma", "100000"], {2}, "--num-sigma"),
    (["memorization", "--N", "10000000"], {2}, "--N"),
    (["theorem1", "--K", "100001"], {2}, "--K"),
    (["theorem1", "--K", "100", "--d", "50", "--n", "5000", "--input", "noisy",
      "--num-sigma", "8"], {0, 1}, "verdict"),
]


@pytest.mark.parametrize(("argv", "statuses", "needle"), REPRODUCERS_20,
                         ids=[" ".join(r[0]) for r in REPRODUCERS_20])
def test_issue_20_reproducers_are_honest_or_refused(argv: list[str], statuses: set[int],
                                                    needle: str) -> None:
    """Each reproducer of issue 20: a clear refusal naming the option (2), an honest
    "undetermined" (4), or a correct result -- never a traceback or exit 3."""
    status, stdout, stderr = run_cli([*argv, "--quiet"])
    cmd = "python -m verify " + " ".join(argv)
    assert "Traceback" not in stderr, f"{cmd}:\n{stderr}"
    assert status in statuses, f"{cmd}: exit {status}\n{stdout[-2000:]}\n{stderr}"
    assert needle in stdout + stderr, f"{cmd}: no {needle!r}\n{stdout[-2000:]}\n{stderr}"


def test_theorem1_checks_k_1000_d_512_without_building_a_basis(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Quadrature-only paths never build an ambient basis: the map's corner runs without n."""
    import molrg
    from verify import theorem1

    def no_basis(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an ambient basis was built")

    real_run = theorem1.run

    def run_without_bases(*args: Any, **kwargs: Any) -> Any:
        with pytest.MonkeyPatch.context() as patch:  # (other commands' defaults build one)
            patch.setattr(molrg.models, "haar_basis", no_basis)
            return real_run(*args, **kwargs)

    monkeypatch.setattr(theorem1, "run", run_without_bases)
    status, stdout, stderr = run_cli(["theorem1", "--K", "1000", "--d", "512", "--input",
                                      "noisy", "--num-sigma", "6", "--quiet"])
    assert status in (0, 1), stderr
    assert "verdict" in stdout.lower()


def test_a_planted_internal_error_exits_3(monkeypatch: pytest.MonkeyPatch) -> None:
    """Exit 3 is for genuine internal errors: a bug planted in a command's run."""
    from verify import theorem1

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ZeroDivisionError("planted bug")

    monkeypatch.setattr(theorem1, "run", broken)
    status, _stdout, stderr = run_cli(["theorem1", "--quiet"])
    assert status == 3
    assert "internal error" in stderr and "planted bug" in stderr


@examples(3)
@given(K=st.integers(2, 12), d=st.integers(1, 24),
       delta=st.sampled_from([0.01, 0.05, 0.2, 0.5]),
       samples=st.sampled_from([20, 300, 3000, 20_000]), seed=st.integers(0, 2**16))
def test_a_verdict_never_holds_or_deviates_on_an_untrustworthy_estimate(
        K: int, d: int, delta: float, samples: int, seed: int) -> None:
    """Property: wherever the simulated curve or peak is flagged untrustworthy (or the
    samples are below molrg.MIN_VERDICT_SAMPLES), every claim resting on it is
    undetermined and the verdict is not "holds"; "deviates" only on a determined claim."""
    import molrg
    from verify import theorem1

    opts = theorem1.Theorem1Options(K=K, d=d, delta=delta, method="reduced", samples=samples,
                                    seed=seed, num_sigma=8, replicates=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", molrg.UntrustworthyWarning)
        try:
            result = theorem1.run(opts)
        except molrg.ParameterError as exc:  # a grid that misses a simulated peak
            assert "sigma" in str(exc)
            return
    for mode in result.modes.values():
        untrusted = (bool(mode.exact.untrustworthy.any()) or mode.peak.untrustworthy
                     or samples < molrg.MIN_VERDICT_SAMPLES)
        for form in mode.forms.values():
            for claim in form.claims:
                if claim.name in theorem1.SIMULATED_CLAIMS:
                    assert claim.undetermined == untrusted, (claim, untrusted)
            if untrusted:
                assert form.verdict != "holds"
            if form.verdict == "deviates":
                assert any(not c.holds and not c.undetermined for c in form.claims)


def test_the_cli_safety_net_makes_an_unaware_verdict_undetermined(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A command whose result does not judge trust itself (no ``JUDGES_TRUST``) and whose
    run raised an UntrustworthyWarning never ends in holds: undetermined, exit 4."""
    import json

    import molrg
    from verify import theorem1

    class Unaware:
        verdict = "holds"

        def render(self, *, table: bool = True) -> list[Any]:
            return ["verdict HOLDS"]

        def to_json(self) -> dict[str, Any]:
            return {}

        def plot(self, path: str) -> None:  # pragma: no cover - not asked for
            raise AssertionError

    def run(*args: Any, **kwargs: Any) -> Unaware:
        warnings.warn("Monte Carlo SNR untrustworthy (planted)", molrg.UntrustworthyWarning,
                      stacklevel=1)
        return Unaware()

    monkeypatch.setattr(theorem1, "run", run)
    path = tmp_path / "out.json"
    status, stdout, _stderr = run_cli(["theorem1", "--quiet", "--json", str(path)])
    assert status == 4
    assert "UNDETERMINED" in stdout
    assert json.loads(path.read_text())["verdict"] == "undetermined"
