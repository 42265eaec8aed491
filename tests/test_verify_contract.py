"""The rules of ``verify/`` (issue 19, item 7), measured from the source with :mod:`ast`:
commands are registered in one place, no command imports another, only ``derive``
imports SymPy, and every registered command is a :class:`verify.command.Command`."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VERIFY = ROOT / "verify"
SHARED = {"__init__", "__main__", "cli", "command", "commands", "claims", "paper", "parallel",
          "report", "schema", "theorem"}
"""The modules of ``verify/`` that are not commands (each command is one other module)."""
REGISTRY = "commands"
SYMPY_ALLOWED = {"derive"}


def _modules() -> dict[str, ast.Module]:
    return {p.stem: ast.parse(p.read_text(), filename=str(p)) for p in sorted(VERIFY.glob("*.py"))}


def _imports(tree: ast.Module) -> Iterator[str]:
    """Every module imported anywhere in ``tree`` (function-local imports too), with
    ``verify.`` spelled out for relative imports."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ("verify." + (node.module or "")).rstrip(".") if node.level else node.module
            if base is None:
                continue
            yield base
            yield from (f"{base}.{a.name}" for a in node.names)


def _command_modules() -> set[str]:
    return set(_modules()) - SHARED


def test_every_verify_module_is_shared_or_a_registered_command() -> None:
    from verify.commands import COMMANDS

    registered = {type(c).__module__.removeprefix("verify.") for c in COMMANDS}
    assert registered == _command_modules()
    assert len({c.name for c in COMMANDS}) == len(COMMANDS)


def test_no_command_imports_another_command() -> None:
    commands = _command_modules()
    bad = [(name, target) for name, tree in _modules().items() if name in commands
           for target in _imports(tree)
           if target.startswith("verify.") and target.split(".")[1] in commands - {name}]
    assert not bad, f"a command imports another (move what they share to a shared module): {bad}"


def test_commands_are_registered_in_one_place() -> None:
    """Only ``verify/commands.py`` imports the command modules (the CLI reads its list)."""
    commands = _command_modules()
    importers = {name for name, tree in _modules().items() if name not in commands
                 for target in _imports(tree)
                 if target.startswith("verify.") and target.split(".")[1] in commands}
    assert importers == {REGISTRY}
    defined = [name for name, tree in _modules().items() for node in tree.body
               if isinstance(node, ast.AnnAssign | ast.Assign)
               and "COMMANDS" in ast.unparse(node.targets[0] if isinstance(node, ast.Assign)
                                             else node.target)]
    assert defined == [REGISTRY]


def test_only_derive_imports_sympy() -> None:
    """SymPy, mpmath and ``molrg.symbolic`` (which imports SymPy) are ``derive``'s only;
    ``tests/test_verify_mixture_limits.py`` runs ``mixtures`` and checks ``sys.modules``."""
    bad = [(name, target) for name, tree in _modules().items() for target in _imports(tree)
           if (target.split(".")[0] in ("sympy", "mpmath")
               or target.startswith("molrg.symbolic"))
           and name not in SYMPY_ALLOWED]
    assert not bad


def test_the_contract_is_documented_where_it_lives() -> None:
    import verify

    assert "execute(args)" not in (verify.__doc__ or "")
    assert "verify.command" in (verify.__doc__ or "")
    assert not hasattr(__import__("verify.cli").cli, "Result")  # the dead protocol class
