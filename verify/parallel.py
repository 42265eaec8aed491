"""One place that maps independent tasks serially or on Dask (``--scheduler``).

Every multi-setting command (``map``, ``sweep``, ``survey``, ``memorization``,
``mixtures``) builds a list of :class:`Task` objects and calls :func:`map_tasks`:

* ``serial`` (default): in this process, in order; Dask is not imported.
* ``local``: a :class:`dask.distributed.LocalCluster` of ``--workers`` single-threaded
  processes on this machine.
* ``tcp://host:port`` (any address): an existing Dask scheduler (docs/remote.md); the
  worker count is read from it.

On Dask, one line on stderr names the scheduler, its worker count and the dashboard link
(bokeh, in the ``distributed`` extra); before any work every worker must run the same
Python, molrg sources and library versions as this process (:func:`check_versions`, exit 2
otherwise); each task runs with one BLAS thread; a Ctrl-C prints one line (the local
workers ignore SIGINT, this process closes them).

Reproducibility: each task carries its own seed, spawned from the run's seed by
:meth:`numpy.random.SeedSequence.spawn` in task order, so results are identical whatever
the scheduler and the number of workers.  Robustness: a task that raises is reported with
its setting and does not lose the others (``MapResult.failures``); ``on_result`` is called
after every finished task (commands use it to write partial JSON), and ``done`` lets a
resumed run skip settings already finished (``--resume``).
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from molrg import ParameterError
from molrg.validation import check_int

__all__ = ["SCHEDULERS", "MapResult", "Task", "add_arguments", "map_tasks", "resume_state",
           "spawn_seeds"]

SCHEDULERS = ("serial", "local", "auto")
"""Scheduler words; anything of the form ``tcp://host:port`` (or ``tls://``) is an address.
``auto``: ``local`` with one worker per core when Dask is installed, else ``serial`` (the
default of ``verify map`` only, whose default grid is sized for every core)."""


@dataclass(frozen=True)
class Task:
    """One independent unit of work: a JSON-able ``key`` and ``params``, and its seed."""

    key: str
    params: dict[str, Any]
    seed: int = 0


@dataclass
class MapResult:
    """Results by task key (in task order), failures by key (setting and error)."""

    results: dict[str, Any] = field(default_factory=dict)
    failures: dict[str, dict[str, Any]] = field(default_factory=dict)
    scheduler: str = "serial"
    workers: int = 1


def spawn_seeds(seed: int, count: int) -> list[int]:
    """``count`` independent 63-bit seeds spawned from ``seed`` (task order)."""
    children = np.random.SeedSequence(seed).spawn(count)
    return [int(c.generate_state(1, np.uint64)[0] >> np.uint64(1)) for c in children]


def check_scheduler(scheduler: str, workers: int | None) -> tuple[str, int]:
    """Validate ``--scheduler`` and ``--workers``."""
    if not isinstance(scheduler, str) or not (
            scheduler in SCHEDULERS or scheduler.startswith(("tcp://", "tls://", "inproc://"))):
        raise ParameterError(f"scheduler={scheduler!r} is not valid; valid: 'serial', 'local', "
                             "'auto' or a Dask scheduler address such as 'tcp://host:8786'")
    if scheduler == "auto":
        import importlib.util
        import os

        have_dask = importlib.util.find_spec("distributed") is not None
        cores = os.cpu_count() or 1
        scheduler = "local" if have_dask and cores > 1 else "serial"
        if workers is None:
            workers = cores
    workers = 2 if workers is None else check_int("workers", workers, low=1, high=1024)
    if scheduler != "serial":
        try:
            import dask.distributed  # noqa: F401
        except ImportError:  # pragma: no cover - depends on the install
            raise ParameterError(f"scheduler={scheduler!r} needs Dask: pip install "
                                 "'molrg[distributed]'") from None
    return scheduler, workers


def _run_one(fn: Callable[[Task], Any], task: Task) -> tuple[str, bool, Any]:
    try:
        return task.key, True, fn(task)
    except Exception as exc:  # reported with its setting
        return task.key, False, {"params": task.params, "error": f"{type(exc).__name__}: {exc}",
                                 "traceback": traceback.format_exc()}


def map_tasks(fn: Callable[[Task], Any], tasks: Sequence[Task], *, scheduler: str = "serial",
              workers: int | None = None,
              progress: Callable[[int, int], None] | None = None,
              done: dict[str, Any] | None = None,
              on_result: Callable[[MapResult], None] | None = None) -> MapResult:
    """Run ``fn(task)`` for every task not already in ``done``; return results in task order.

    ``fn`` must be a module-level function (it is pickled for Dask workers).
    """
    scheduler, workers = check_scheduler(scheduler, workers)
    keys = [t.key for t in tasks]
    if len(set(keys)) != len(keys):
        raise ParameterError("task keys must be unique")
    out = MapResult(scheduler=scheduler, workers=1 if scheduler == "serial" else workers)
    finished = {k: v for k, v in (done or {}).items() if k in set(keys)}
    todo = [t for t in tasks if t.key not in finished]
    total, count = len(tasks), len(finished)
    collected: dict[str, Any] = dict(finished)

    def record(key: str, ok: bool, value: Any) -> None:
        nonlocal count
        count += 1
        if ok:
            collected[key] = value
        else:
            out.failures[key] = value
        out.results = {k: collected[k] for k in keys if k in collected}
        if progress is not None:
            progress(count, total)
        if on_result is not None:
            on_result(out)

    if progress is not None:
        progress(count, total)
    if scheduler == "serial":
        for task in todo:
            record(*_run_one(fn, task))
    else:
        out.workers = _map_dask(fn, todo, scheduler, workers, record)
    out.results = {k: collected[k] for k in keys if k in collected}
    return out


def _map_dask(fn: Callable[[Task], Any], todo: Iterable[Task], scheduler: str, workers: int,
              record: Callable[[str, bool, Any], None]) -> int:
    """Run ``todo`` on Dask; return the number of workers that ran them (read from the
    cluster).  Prints one line to stderr: the scheduler, its workers and the dashboard link."""
    from dask.distributed import as_completed

    todo = list(todo)
    if not todo:
        return workers
    client, cluster = _connect(scheduler, workers)
    try:
        count = _cluster_workers(client, scheduler)
        check_versions(client, scheduler)
        print(f"dask: {scheduler} scheduler, {count} worker(s), {_dashboard(client)}",
              file=sys.stderr, flush=True)
        futures = client.map(_run_one_on_worker, [fn] * len(todo), todo, pure=False)
        for future in as_completed(futures):
            record(*future.result())
        return count
    except KeyboardInterrupt:
        # one line (the CLI's "interrupted"); futures are cancelled with the client and the
        # local workers, which ignore SIGINT (see _connect), are closed below
        _silence_dask_logs()
        raise
    finally:
        # a failed or interrupted shutdown step is not reported: the run's outcome is
        with suppress(KeyboardInterrupt, Exception):
            client.close()
        if cluster is not None:
            with suppress(KeyboardInterrupt, Exception):
                cluster.close()


CONNECT_TIMEOUT = "10s"
"""How long to try reaching a ``tcp://`` scheduler before exit 2."""
WORKER_WAIT = 30.0
"""Seconds to wait for the first worker of a scheduler that has none yet."""


def _connect(scheduler: str, workers: int) -> tuple[Any, Any]:
    """A client (and the LocalCluster it owns, for ``local``), or a ParameterError."""
    import dask
    from dask.distributed import Client, LocalCluster

    if scheduler != "local":
        try:
            return Client(scheduler, timeout=CONNECT_TIMEOUT), None
        except (OSError, TimeoutError) as exc:
            raise ParameterError(
                f"scheduler={scheduler!r} cannot be reached ({type(exc).__name__}: {exc}); "
                "valid: the address of a running scheduler, e.g. started with `dask scheduler` "
                "(docs/remote.md)") from None
    # Dask's workers start with MALLOC_TRIM_THRESHOLD_=65536, which makes glibc return
    # freed NumPy buffers to the OS at once: every large temporary is then a fresh mmap
    # and page faults.  Measured on the map: tasks ran 1.4x slower inside the workers.
    # Single-threaded BLAS (one worker per core) is kept.
    environ = {"OMP_NUM_THREADS": 1, "MKL_NUM_THREADS": 1, "OPENBLAS_NUM_THREADS": 1}
    dashboard = ":8787" if _have_bokeh() else None  # another free port if 8787 is taken
    cluster = None
    interrupted: list[int] = []
    try:
        with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}), \
                _workers_ignore_sigint(), _deferred_sigint(interrupted), \
                warnings.catch_warnings():
            # the link printed says which port the dashboard got
            warnings.filterwarnings("ignore", message="Port .* is already in use")
            # silence_logs: a worker that heartbeats while the cluster shuts down logs a
            # CommClosedError traceback at ERROR level; the results are already in
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=dashboard, silence_logs=logging.CRITICAL)
        if interrupted:
            raise KeyboardInterrupt
        return Client(cluster), cluster
    except BaseException:  # a Ctrl-C during the start
        if cluster is not None:
            _silence_dask_logs()
            with suppress(KeyboardInterrupt, Exception):
                cluster.close()
        raise


@contextmanager
def _workers_ignore_sigint() -> Iterator[None]:
    """Spawn the local workers with SIGINT ignored.

    A Ctrl-C reaches the terminal's whole process group, and each worker printed some 30
    lines of traceback.  Meanwhile this process keeps its own handler (a Ctrl-C during the
    cluster's start interrupts it as usual).  The workers are started through a two-line
    ``sh`` wrapper of the Python executable, ``trap '' INT; exec python "$@"``: an ignored
    signal stays ignored through ``exec``, and Python then installs no KeyboardInterrupt
    handler.  Where there is no ``sh`` (Windows), nothing changes.
    """
    import multiprocessing.spawn as mp_spawn

    wrapper = _sigint_ignoring_python()
    if wrapper is None:
        yield
        return
    previous = mp_spawn.get_executable()
    mp_spawn.set_executable(wrapper)
    try:
        yield
    finally:
        mp_spawn.set_executable(previous)


@contextmanager
def _deferred_sigint(interrupted: list[int]) -> Iterator[None]:
    """A Ctrl-C in the body is recorded in ``interrupted``, not raised: interrupting the
    LocalCluster's start left its threads and processes half made (tracebacks at exit, or a
    hang); the caller closes the cluster once it is up and raises KeyboardInterrupt."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, lambda *_: interrupted.append(1))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


_WRAPPER: list[str] = []


def _sigint_ignoring_python() -> str | None:
    """Path of the ``sh`` wrapper of :data:`sys.executable` that ignores SIGINT (made once
    per process, removed at exit); None where ``/bin/sh`` is missing."""
    import atexit
    import os
    import shlex
    import tempfile

    if _WRAPPER:
        return _WRAPPER[0]
    if os.name != "posix" or not os.path.exists("/bin/sh") or not sys.executable:
        return None
    fd, path = tempfile.mkstemp(prefix="molrg-worker-python-", suffix=".sh")
    with os.fdopen(fd, "w") as f:
        f.write(f"#!/bin/sh\ntrap '' INT\nexec {shlex.quote(sys.executable)} \"$@\"\n")
    os.chmod(path, 0o700)

    def remove() -> None:
        with suppress(OSError):
            os.remove(path)

    atexit.register(remove)
    _WRAPPER.append(path)
    return path


def _have_bokeh() -> bool:
    import importlib.util

    return importlib.util.find_spec("bokeh") is not None


def _dashboard(client: Any) -> str:
    """``dashboard http://...`` or why there is none."""
    link = None
    try:
        link = client.dashboard_link if client.scheduler_info().get("services", {}).get(
            "dashboard") else None
    except Exception:  # a scheduler that does not report its services
        link = None
    if link:
        return f"dashboard {link}"
    if not _have_bokeh():
        return "no dashboard (bokeh is not installed: pip install 'molrg[distributed]')"
    return "no dashboard (the scheduler runs none)"


def _cluster_workers(client: Any, scheduler: str) -> int:
    """The number of workers the scheduler has (waiting up to :data:`WORKER_WAIT` seconds for
    a first one); a ParameterError when there is none."""
    count = len(client.scheduler_info().get("workers", {}))
    if count == 0:
        try:
            client.wait_for_workers(1, timeout=WORKER_WAIT)
        except (TimeoutError, OSError):
            raise ParameterError(
                f"scheduler={scheduler!r} has no workers after {WORKER_WAIT:g} s; valid: a "
                f"scheduler with workers, e.g. started with `dask worker {scheduler}` "
                "(docs/remote.md)") from None
        count = len(client.scheduler_info().get("workers", {}))
    return count


VERSIONED = ("molrg", "numpy", "scipy", "sympy", "dask", "distributed", "cloudpickle")


def environment() -> dict[str, str]:
    """What must match between this process and every worker for identical results: the
    Python version (``major.minor``), the versions of :data:`VERSIONED` and a digest of the
    ``molrg`` and ``verify`` sources (two checkouts of one version can differ)."""
    import hashlib
    import importlib
    import platform
    from importlib import metadata
    from pathlib import Path

    out = {"python": ".".join(platform.python_version_tuple()[:2])}
    for name in VERSIONED:  # without importing what is not imported yet (sympy: ~1 s)
        module = sys.modules.get(name)
        try:
            out[name] = str(module.__version__) if module is not None else metadata.version(name)
        except (AttributeError, metadata.PackageNotFoundError):
            out[name] = "missing"
    digest = hashlib.sha256()
    for package in ("molrg", "verify"):
        root = Path(importlib.import_module(package).__file__ or "").parent
        for path in sorted(root.rglob("*.py")):
            digest.update(path.relative_to(root.parent).as_posix().encode())
            digest.update(path.read_bytes())
    out["molrg sources"] = digest.hexdigest()[:12]
    return out


def check_versions(client: Any, scheduler: str) -> None:
    """The equivalent of ``client.get_versions(check=True)`` for what decides molrg's
    results: :func:`environment` on every worker must equal this process's, else a
    ParameterError (exit 2) with a table of the differences.

    (Dask's own check only warns, and knows nothing of molrg.)
    """
    mine = environment()
    try:
        theirs = client.run(_worker_environment)
    except (ImportError, AttributeError) as exc:  # raised on a worker
        raise ParameterError(
            f"scheduler={scheduler!r}: a worker cannot import molrg's verify package "
            f"({type(exc).__name__}: {exc}); valid: workers running the same molrg as this "
            "process (docs/remote.md)") from None
    rows = [f"  {name}: here {mine[name]}, worker {addr} {env.get(name, 'missing')}"
            for addr, env in sorted(theirs.items()) for name in mine
            if env.get(name) != mine[name]]
    if rows:
        raise ParameterError(
            f"scheduler={scheduler!r}: the workers do not run the same software as this "
            "process (results would not be reproducible):\n" + "\n".join(rows[:20])
            + ("\n  ..." if len(rows) > 20 else "")
            + "\nvalid: the same Python, molrg and library versions on every worker "
            "(docs/remote.md)")


def _worker_environment() -> dict[str, str]:
    """:func:`environment` as the worker computes it (pickled by reference)."""
    return environment()


def _run_one_on_worker(fn: Callable[[Task], Any], task: Task) -> tuple[str, bool, Any]:
    """:func:`_run_one` with BLAS limited to one thread: a worker process per core (or a
    remote worker started without the nanny's environment) must not start a BLAS thread
    per core as well."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):  # ~1 ms a task
        return _run_one(fn, task)


def _silence_dask_logs() -> None:
    for name in ("distributed", "tornado", "asyncio"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


@dataclass(frozen=True)
class Context:
    """What a command's ``run`` takes from its command line besides its options: the
    scheduler and workers of its tasks, the progress display, the finished results of a
    resumed run and the partial-JSON callback (see :func:`session`).  The defaults run
    in-process, silently, from scratch (a call from Python)."""

    scheduler: str = "serial"
    workers: int | None = None
    progress: Any = None
    done: dict[str, Any] | None = None
    on_result: Callable[[Any], None] | None = None

    def phase(self, name: str) -> Any:
        """The progress callback of phase ``name`` (a no-op without a display)."""
        if self.progress is None:
            from .report import Progress

            return Progress(enabled=False).phase(name)
        return self.progress.phase(name)

    def map(self, fn: Callable[[Task], Any], tasks: Sequence[Task], phase: str) -> MapResult:
        """:func:`map_tasks` in this context: its scheduler and workers, the progress of
        ``phase``, skipping the finished tasks of a resumed run, reporting each result."""
        return map_tasks(fn, tasks, scheduler=self.scheduler, workers=self.workers,
                         progress=self.phase(phase), done=self.done, on_result=self.on_result)


def partial_runs(name: str, key: str = "runs",
                 **extra: Any) -> Callable[[Any], dict[str, Any]]:
    """The partial-JSON payload of command ``name``: its finished ``results`` under ``key``
    (``runs`` or ``results``, as in the final JSON), the failures and ``extra`` fields."""
    return lambda r: {"command": name, "partial": True, **extra, key: r.results,
                      "failures": r.failures}


def _partial_document(args: argparse.Namespace, payload: dict[str, Any]) -> dict[str, Any]:
    """A partial payload in the common envelope (verdict ``null``, ``partial: true``)."""
    from .report import envelope

    body = {k: v for k, v in payload.items() if k not in ("command", "partial")}
    return envelope(payload.get("command", args.command), None, body,
                    arguments=run_arguments(args), partial=True)


@contextmanager
def session(args: argparse.Namespace,
            payload: Callable[[Any], dict[str, Any]]) -> Iterator[Context]:
    """``with session(args, partial_runs(name)) as context: return run(options, context)``.

    Validates ``--scheduler``/``--workers``, reads a ``--resume`` file, and opens the
    progress display (off with ``--quiet``) for the duration of the run.
    """
    from .report import Progress

    check_scheduler(args.scheduler, args.workers)
    done, on_result = resume_state(args)
    callback = on_result(payload)
    try:
        with Progress(enabled=not args.quiet) as progress:
            yield Context(args.scheduler, args.workers, progress, done, callback)
    except KeyboardInterrupt:  # Ctrl-C: the finished settings are kept for --resume
        if callback is not None:
            callback.flush()
        raise


def add_arguments(parser: argparse.ArgumentParser, *, resume: bool = True,
                  default: str = "serial") -> None:
    """The shared ``--scheduler``, ``--workers`` (and ``--resume``) options."""
    g = parser.add_argument_group("parallel execution")
    g.add_argument("--scheduler", default=default,
                   help=f"serial (in-process), local (a Dask LocalCluster on this machine), "
                   "auto (local with one worker per core if Dask is installed, else serial) "
                   f"or a Dask scheduler address such as tcp://host:8786 (default: {default})")
    g.add_argument("--workers", type=int, default=None,
                   help="worker processes for --scheduler local (default: 2); a tcp:// "
                   "scheduler's workers are counted from the cluster")
    if resume:
        g.add_argument("--resume", action="store_true",
                       help="skip settings already finished in the --json file of an "
                       "interrupted or failed run")


PARTIAL_EVERY = 30.0
"""Seconds between two partial JSON writes of a running multi-setting command."""

RUN_INDEPENDENT = ("json", "plot", "quiet", "exit_zero", "resume", "scheduler", "workers",
                   "handler", "option_names", "cache", "style")
"""Arguments that do not change a run's results (left out of :func:`run_arguments`)."""


def run_arguments(args: argparse.Namespace) -> dict[str, Any]:
    """The command and the options that determine a run's results, as JSON values: written
    into every JSON file, and required to match for ``--resume``."""
    import json

    out = {k: v for k, v in sorted(vars(args).items()) if k not in RUN_INDEPENDENT}
    return json.loads(json.dumps(out, default=str))


def stored_results(path: str, data: dict[str, Any]) -> dict[str, Any]:
    """The finished task results of a stored run (its ``runs`` or ``results``), validated
    as strictly as the arguments: each must match the command's published schema
    (verify/schemas/), so a damaged file is refused (exit 2) instead of crashing later."""
    from . import schema

    command = data.get("command")
    key = "results" if command in ("map", "survey") else "runs"
    done = data.get(key, {})
    if data.get("format", report_format()) != report_format():
        raise ParameterError(f"--json={path!r} cannot be resumed: format "
                             f"{data.get('format')!r} is not a molrg result")
    problems = schema.check_task_results(command, key, done)
    if problems:
        raise ParameterError(f"--json={path!r} cannot be resumed: its stored results are "
                             f"malformed ({problems[0]}); valid: the --json file of an "
                             "interrupted run of the same command line, unmodified")
    return done


def report_format() -> str:
    from .report import FORMAT

    return FORMAT


def resume_state(args: argparse.Namespace) -> tuple[dict[str, Any] | None, Any]:
    """``(done, on_result factory)`` for ``--resume`` and partial JSON writes.

    ``done``: the finished results of the ``--json`` file of an earlier run (its ``runs`` or
    ``results``), when ``--resume``.  The factory turns ``payload(MapResult) -> dict`` into an
    ``on_result`` callback writing partial JSON after every task (None without ``--json``).
    """
    import json
    from pathlib import Path

    from .report import write_json

    done = None
    if getattr(args, "resume", False):
        if not args.json:
            raise ParameterError("--resume needs --json PATH (the file of the earlier run)")
        path = Path(args.json)
        if path.exists():
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError) as exc:
                raise ParameterError(f"--json={args.json!r} cannot be resumed: {exc}") from None
            if not isinstance(data, dict) or data.get("arguments") != run_arguments(args):
                raise ParameterError(
                    f"--json={args.json!r} was not written by an interrupted run of this "
                    "command with these options (its results would be reused for other "
                    "settings); valid: --resume with the --json file of the same command line")
            done = stored_results(args.json, data)

    def factory(payload: Any) -> Any:
        if not args.json:
            return None

        import time

        last = [0.0]
        pending: list[MapResult] = []

        def write(result: MapResult) -> None:
            # at most every PARTIAL_EVERY seconds (a large map rewrites megabytes each time);
            # the command writes the final JSON itself
            pending[:] = [result]
            now = time.monotonic()
            if now - last[0] >= PARTIAL_EVERY:
                flush()
                last[0] = time.monotonic()

        def flush() -> None:
            """Write the latest unwritten partial results (on Ctrl-C)."""
            if pending and args.json != "-":
                write_json(args.json, _partial_document(args, payload(pending.pop())))

        write.flush = flush  # type: ignore[attr-defined]
        return write

    return done, factory
