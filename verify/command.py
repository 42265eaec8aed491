"""The contract of a ``python -m verify`` command.

A command is a subclass of :class:`Command` in its own module: a ``name``, a ``help``
line, an ``Options`` frozen dataclass and ``run(options, context) -> Result``.  Each option
is declared once, as a dataclass field made by :func:`option`: its default, help text,
flag, argument group, choices and parser of the command-line text.  From the fields the
CLI generates the argparse options (:meth:`Command.add_arguments`) and builds the options
(:meth:`Command.options`); the JSON ``arguments`` are the parsed command line of those
options (:func:`verify.parallel.run_arguments`).  Fields without :func:`option` metadata
are not on the command line (they keep their defaults).

Registration is one entry in :data:`verify.commands.COMMANDS`.  The CLI
(:mod:`verify.cli`) adds ``--json``, ``--plot``/``--style`` (when ``plots``), ``--quiet``,
``--exit-zero`` and, when ``scheduler`` is set, ``--scheduler``/``--workers``/``--resume``;
it maps the result's ``verdict`` to the exit status.  A command imports :mod:`molrg`'s
public API and the shared modules of this package (``report``, ``parallel``, ``claims``,
``paper``, ``command``), never another command, and never SymPy (``derive`` excepted).

Worked example: ``tests/test_contributing.py::test_toy_command`` (docs/contributing.md).
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Generic, Protocol, TypeVar, runtime_checkable

from . import parallel
from .parallel import Context

__all__ = ["Command", "Context", "Result", "option"]


@runtime_checkable
class Result(Protocol):
    """What :meth:`Command.run` returns.

    ``verdict``: ``"holds"``, ``"deviates"``, ``"undetermined"`` or ``"info"`` (checks no
    claim); ``to_json()``: the payload keys of the JSON envelope; ``render(table=...)``: the
    report's items (strings with rich markup, or rich renderables); a command whose
    ``plots`` is true also has ``plot(path)``.  Optional: ``JUDGES_TRUST = True`` when the
    verdict already accounts for untrustworthy Monte Carlo estimates, and ``failures`` (by
    task key) for a multi-setting command whose tasks may raise.
    """

    @property
    def verdict(self) -> str: ...

    def to_json(self) -> dict[str, Any]: ...

    def render(self, *, table: bool = True) -> list[Any]: ...


UNSET: Any = object()
"""``option(text=...)`` not given: the command-line default is the field's default."""


def option(default: Any = None, help: str = "", *, flag: str | None = None,
           dest: str | None = None, group: str | None = None,
           choices: Sequence[Any] | None = None, type: Callable[[str], Any] | None = None,
           parse: Callable[[Any], Any] | None = None, text: Any = UNSET,
           metavar: str | None = None, action: str | None = None,
           required: bool = False) -> Any:
    """A dataclass field that is also a command-line option.

    ``default``: the field's default (a tuple or other immutable value); ``help``: the help
    text (``%(default)s`` works); ``flag``: the option (default ``--`` and the field name
    with ``-`` for ``_``); ``dest``: the name in the parsed command line and the JSON
    ``arguments`` (default: the field name); ``group``: the argument group's title (groups
    appear in the order of their first field); ``choices``; ``type``: argparse's converter
    (default: the type of ``default``: ``int``, ``float`` or ``str``); ``parse``: turns the
    parsed command-line value into the field's value (for example comma-separated numbers
    into a tuple, raising :class:`molrg.ParameterError` -- exit 2); ``text``: the
    command-line default where it differs from the field's (the text ``parse`` reads;
    ``None`` too: an option absent from the command line); ``action``: ``"store_true"``
    for a flag; ``required``: the command line must give it.
    """
    meta = {"help": help, "flag": flag, "dest": dest, "group": group, "choices": choices,
            "type": type, "parse": parse, "text": text, "metavar": metavar, "action": action,
            "required": required}
    return dataclasses.field(default=default, metadata={"option": meta})


def options_of(options_type: type) -> list[tuple[dataclasses.Field[Any], dict[str, Any]]]:
    """The fields of ``options_type`` that are command-line options, with their metadata."""
    return [(f, f.metadata["option"]) for f in dataclasses.fields(options_type)
            if "option" in f.metadata]


def add_options(parser: argparse.ArgumentParser, options_type: type,
                extra: dict[str, tuple[str, dict[str, Any]]] | None = None) -> None:
    """One argparse option per :func:`option` field of ``options_type``, in field order;
    ``extra``: command-line-only flags (not options fields), ``{field: (flag, argparse
    keywords)}``, each added right after the option of that field, in its group."""
    extra = extra or {}
    groups: dict[str | None, Any] = {None: parser}
    for f, meta in options_of(options_type):
        title = meta["group"]
        if title not in groups:
            groups[title] = parser.add_argument_group(title)
        kwargs: dict[str, Any] = {"help": meta["help"],
                                  "dest": meta["dest"] or f.name}
        if meta["action"]:
            kwargs["action"] = meta["action"]
        else:
            default = _text_default(f, meta)
            kwargs["default"] = default
            converter = meta["type"] or next(
                (t for t in (bool, int, float, str) if isinstance(default, t)
                 and t is not bool), None)
            if converter not in (None, str) and meta["choices"] is None:
                kwargs["type"] = converter
            if meta["choices"] is not None:
                kwargs["choices"] = meta["choices"]
            if meta["metavar"]:
                kwargs["metavar"] = meta["metavar"]
            if meta["required"]:
                kwargs["required"] = True
        flag = meta["flag"] or "--" + f.name.replace("_", "-")
        groups[title].add_argument(flag, **kwargs)
        if f.name in extra:
            groups[title].add_argument(extra[f.name][0], **extra[f.name][1])


def _text_default(f: dataclasses.Field[Any], meta: dict[str, Any]) -> Any:
    """The command-line default of an option field."""
    return f.default if meta["text"] is UNSET else meta["text"]


def set_unchanged(args: argparse.Namespace, options_type: type,
                  values: dict[str, Any]) -> None:
    """Set each option of ``values`` (command-line values, by field) that ``args`` leaves
    at its default (what a ``--quick`` flag does)."""
    defaults = {f.name: _text_default(f, meta) for f, meta in options_of(options_type)}
    dests = {f.name: meta["dest"] or f.name for f, meta in options_of(options_type)}
    for name, value in values.items():
        if getattr(args, dests[name]) == defaults[name]:
            setattr(args, dests[name], value)


def option_values(options_type: type, args: argparse.Namespace) -> dict[str, Any]:
    """The option fields' values of a parsed command line (each through its ``parse``)."""
    values = {}
    for f, meta in options_of(options_type):
        value = getattr(args, meta["dest"] or f.name)
        values[f.name] = meta["parse"](value) if meta["parse"] else value
    return values


def changed_values(options_type: type, args: argparse.Namespace) -> dict[str, Any]:
    """The option fields' values of a parsed command line that differ from their defaults
    (what a ``quick(**changes)`` constructor keeps)."""
    defaults = {f.name: f.default for f in dataclasses.fields(options_type)}
    return {name: value for name, value in option_values(options_type, args).items()
            if value != defaults[name]}


def build_options(options_type: type, args: argparse.Namespace) -> Any:
    """``options_type`` from a parsed command line (each value through its ``parse``)."""
    return options_type(**option_values(options_type, args))


def quick_or_given(options_type: Any, args: argparse.Namespace) -> Any:
    """Under ``--quick`` (``args.quick``): ``options_type.quick(**changes)``, the options
    given on the command line overriding the quick ones; else the options given."""
    if args.quick:
        return options_type.quick(**changed_values(options_type, args))
    return build_options(options_type, args)


O = TypeVar("O")


class Command(Generic[O]):
    """A ``python -m verify`` command (subclass it; register an instance in
    :data:`verify.commands.COMMANDS`).

    Class attributes: ``name`` (the subcommand), ``help`` (one line for ``--help``),
    ``description`` (the subcommand's ``--help`` text; default: the module's docstring),
    ``Options`` (a frozen dataclass of :func:`option` fields), ``plots`` (offer ``--plot``
    and ``--style``), ``scheduler`` (the default of ``--scheduler``; ``None``: the command
    runs no tasks, no parallel options), ``resume`` (offer ``--resume``), ``partial``
    (the key of its finished tasks in the partial JSON: ``runs`` or ``results``),
    ``flags`` (command-line-only flags; override :meth:`options` to read them).
    """

    name: ClassVar[str]
    help: ClassVar[str]
    description: ClassVar[str | None] = None
    Options: ClassVar[type]
    plots: ClassVar[bool] = True
    scheduler: ClassVar[str | None] = None
    resume: ClassVar[bool] = True
    partial: ClassVar[str] = "runs"
    flags: ClassVar[dict[str, tuple[str, dict[str, Any]]]] = {}
    """Command-line-only flags (such as ``--quick``), not options fields: ``{field: (flag,
    argparse keywords)}``, each right after that field's option; :meth:`options` reads
    them."""

    def run(self, options: O, context: Context) -> Result:
        """Compute the result (callable from Python: ``run(Options(...), Context())``)."""
        raise NotImplementedError

    # -- the command line (override only for options the fields cannot say) -----------
    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """The command's options (from ``Options``) and the parallel ones."""
        add_options(parser, self.Options, self.flags)
        if self.scheduler is not None:
            parallel.add_arguments(parser, resume=self.resume, default=self.scheduler)

    def options(self, args: argparse.Namespace) -> O:
        """The options of a parsed command line."""
        return build_options(self.Options, args)  # type: ignore[no-any-return]

    def execute(self, args: argparse.Namespace) -> Result:
        """Run from a parsed command line: options, then the context, then :meth:`run`."""
        options = self.options(args)
        if self.scheduler is None:
            from .report import Progress

            with Progress(enabled=not args.quiet) as progress:
                return self.run(options, Context(progress=progress))
        with parallel.session(args, self.partial_payload(options)) as context:
            return self.run(options, context)

    def partial_payload(self, options: O) -> Callable[[Any], dict[str, Any]]:
        """The partial-JSON payload of a running multi-setting command."""
        return parallel.partial_runs(self.name, self.partial)
